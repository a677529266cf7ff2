"""VICReg variance + covariance terms: criteria (1) and (2), maximize information in s_x and s_y.

Collapse (every input mapped to the same point, or to a low-dimensional set of embeddings) is how a
joint-embedding model can minimize the prediction error (3) while carrying no information. VICReg
(Bardes, Ponce, LeCun 2022) keeps the information up with two batch statistics:

- variance: every feature keeps a standard deviation of at least `gamma` over the batch (a hinge,
  so it only pushes up), which rules out complete collapse;
- covariance: the off-diagonal covariances are pushed to zero, which decorrelates the features and
  rules out dimensional collapse (all information squeezed into a few directions).

The invariance term of VICReg is played here by the JEPA prediction loss (criterion 3), whose
weight is 1. The paper uses invariance : variance : covariance = 25 : 25 : 1; keeping those ratios
with invariance at 1 gives the defaults var_weight=1.0 and cov_weight=0.04.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from hjepa.distributed import gather_with_grad
from hjepa.errors import ConfigError, ShapeError


class VICReg(nn.Module):
    """Variance-covariance regularizer on embeddings z of shape [..., D].

    loss = var_weight * mean_d relu(gamma - sqrt(var_d + eps))
         + cov_weight * sum_{i != j} C_ij^2 / D
    with var / C the unbiased variance / covariance over rows (see `gather_rows`).
    metrics: "vicreg_var" and "vicreg_cov" (unweighted terms), "vicreg_std" (mean feature std).
    """

    def __init__(
        self,
        var_weight: float = 1.0,
        cov_weight: float = 0.04,
        gamma: float = 1.0,
        eps: float = 1e-4,
    ):
        super().__init__()
        if var_weight < 0 or cov_weight < 0 or gamma <= 0 or eps <= 0:
            raise ConfigError(
                "vicreg: var_weight and cov_weight must be >= 0, gamma and eps > 0; got "
                f"var_weight={var_weight}, cov_weight={cov_weight}, gamma={gamma}, eps={eps}"
            )
        self.var_weight = var_weight
        self.cov_weight = cov_weight
        self.gamma = gamma
        self.eps = eps

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, dict]:
        with torch.autocast(device_type=z.device.type, enabled=False):
            rows = gather_rows(z)
            centered = rows - rows.mean(dim=0)
            std = torch.sqrt(centered.var(dim=0) + self.eps)
            var_term = F.relu(self.gamma - std).mean()
            cov_term = off_diagonal_square_sum(centered) / rows.shape[1]
            loss = self.var_weight * var_term + self.cov_weight * cov_term
        metrics = {
            "vicreg_var": var_term.detach(),
            "vicreg_cov": cov_term.detach(),
            "vicreg_std": std.detach().mean(),
        }
        return loss, metrics

    def extra_repr(self) -> str:
        return (
            f"var_weight={self.var_weight}, cov_weight={self.cov_weight}, "
            f"gamma={self.gamma}, eps={self.eps}"
        )


def gather_rows(z: torch.Tensor) -> torch.Tensor:
    """Turn embeddings [..., D] into the global batch of rows [N, D] that statistics run over.

    Leading dimensions (samples, tokens) are flattened, half precision is upcast to float32
    (float64 is kept), and rows are concatenated over DDP ranks with gradient, so every rank sees
    the statistics of the whole batch. At least two rows are needed in total.
    """
    if z.ndim < 2:
        raise ShapeError(f"regularizer input must be [..., D], got shape {tuple(z.shape)}")
    rows = z.reshape(-1, z.shape[-1])
    if rows.dtype in (torch.float16, torch.bfloat16):
        rows = rows.float()
    rows = gather_with_grad(rows)
    if rows.shape[0] < 2:
        raise ShapeError(f"regularizer needs at least 2 rows in total, got {rows.shape[0]}")
    return rows


def off_diagonal_square_sum(centered: torch.Tensor) -> torch.Tensor:
    """Sum of squared off-diagonal entries of the unbiased covariance of centered rows [N, D]."""
    cov = centered.T @ centered / (centered.shape[0] - 1)
    return cov.pow(2).sum() - cov.diagonal().pow(2).sum()

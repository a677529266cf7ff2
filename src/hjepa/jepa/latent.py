"""Latent variable z: criterion (4), minimize the information in z.

Some of the outcome s_y cannot be determined from s_x alone (which of several futures happens). A
latent z fed to the predictor, ŝ_y = Pred(s_x, z), lets the predictor represent that choice. But a
z that carries unrestricted information would let the predictor copy s_y through z and make the
prediction error (3) zero for free, so the information in z must be minimized.

Choice of penalty (variational information bottleneck): at training time z is drawn from an
amortized posterior q(z | s_x, s_y) = N(mu, diag sigma^2), whose mean and log-variance come from a
small MLP over concat(s_x, s_y), by reparameterization z = mu + sigma * eps. The penalty is
KL(q(z | s_x, s_y) || N(0, I)) per sample in nats, averaged over the batch; its expectation is an
upper bound on the mutual information I(z; s_y | s_x) that z can carry about s_y beyond s_x.
At inference (no s_y) z is drawn from the prior N(0, I), or set to 0 (its mean), by `sample_prior`.
"""

import torch
import torch.nn as nn

from hjepa.errors import ConfigError, ShapeError, check_tensor

# Log-variance is clamped to exp(+-10): keeps sigma and the KL finite early in training.
_LOGVAR_LIMIT = 10.0


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) in nats, summed over the last dim: shape [...]."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(dim=-1)


class LatentVariable(nn.Module):
    """Amortized Gaussian posterior over z with a KL-to-prior information penalty (criterion 4).

    forward(s_x [B, context_dim], s_y [B, target_dim]) -> (z [B, latent_dim], loss, metrics):
    loss = mean over the batch of KL(q(z | s_x, s_y) || N(0, I)); metrics: "z_kl" (same value) and
    "z_std" (mean posterior std). In training mode z is sampled; in eval mode z is the posterior
    mean. The output layer starts at zero, so at initialization q equals the prior (KL = 0).
    Tokens must be pooled to vectors by the caller.
    """

    def __init__(self, context_dim: int, target_dim: int, latent_dim: int, hidden: int = 256):
        super().__init__()
        for name, value in (
            ("context_dim", context_dim),
            ("target_dim", target_dim),
            ("latent_dim", latent_dim),
            ("hidden", hidden),
        ):
            if value < 1:
                raise ConfigError(f"latent: {name} must be >= 1, got {value}")
        self.context_dim = context_dim
        self.target_dim = target_dim
        self.latent_dim = latent_dim
        self.posterior_net = nn.Sequential(
            nn.Linear(context_dim + target_dim, hidden),
            nn.GELU(),
            nn.Linear(hidden, 2 * latent_dim),
        )
        nn.init.zeros_(self.posterior_net[-1].weight)
        nn.init.zeros_(self.posterior_net[-1].bias)

    def posterior(self, s_x: torch.Tensor, s_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z | s_x, s_y), each [B, latent_dim]."""
        check_tensor("s_x", s_x, ndim=2, last_dim=self.context_dim)
        check_tensor("s_y", s_y, ndim=2, last_dim=self.target_dim)
        if s_x.shape[0] != s_y.shape[0]:
            raise ShapeError(
                f"latent: s_x and s_y batch sizes differ ({s_x.shape[0]} vs {s_y.shape[0]})"
            )
        mu, logvar = self.posterior_net(torch.cat([s_x, s_y], dim=-1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-_LOGVAR_LIMIT, _LOGVAR_LIMIT)

    def forward(
        self, s_x: torch.Tensor, s_y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, dict]:
        mu, logvar = self.posterior(s_x, s_y)
        std = torch.exp(0.5 * logvar)
        z = mu + std * torch.randn_like(mu) if self.training else mu
        loss = gaussian_kl(mu, logvar).mean()
        return z, loss, {"z_kl": loss.detach(), "z_std": std.detach().mean()}

    def sample_prior(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        zero: bool = False,
    ) -> torch.Tensor:
        """z [batch_size, latent_dim] for inference without s_y: from N(0, I), or 0 if `zero`.
        Drawn on the module's device and dtype (a generator must live on that device)."""
        weight = self.posterior_net[0].weight
        shape = (batch_size, self.latent_dim)
        if zero:
            return weight.new_zeros(shape)
        return torch.randn(shape, generator=generator, device=weight.device, dtype=weight.dtype)

    def extra_repr(self) -> str:
        return (
            f"context_dim={self.context_dim}, target_dim={self.target_dim}, "
            f"latent_dim={self.latent_dim}"
        )

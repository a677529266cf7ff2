"""Is the representation collapsing? Per-dimension spread and effective rank (RankMe).

RankMe (Garrido et al., 2023): the exponential of the entropy of the normalised singular values
of an embedding matrix [N, D]; it ranges from 1 (all rows on one line) to min(N, D).
"""

from dataclasses import dataclass

import torch


def rankme(z: torch.Tensor, eps: float = 1e-7) -> float:
    z = z.detach().float().reshape(-1, z.shape[-1])
    s = torch.linalg.svdvals(z)
    p = s / (s.sum() + eps) + eps
    return float(torch.exp(-(p * p.log()).sum()))


def relative_std(z: torch.Tensor, eps: float = 1e-8) -> float:
    """Mean over dimensions of the batch std, divided by the RMS of the features: scale-free, ~1
    for well-spread features and 0 when every sample maps to the same point."""
    z = z.detach().float().reshape(-1, z.shape[-1])
    return float(z.std(dim=0).mean() / (z.pow(2).mean().sqrt() + eps))


@dataclass
class CollapseReport:
    relative_std: float
    rankme: float
    dim: int
    collapsed: bool

    def metrics(self) -> dict:
        return {"emb_rel_std": self.relative_std, "emb_rankme": self.rankme}

    def message(self, step: int) -> str:
        return (
            f"representation collapse at step {step}: relative std {self.relative_std:.4f}, "
            f"effective rank {self.rankme:.2f} of {self.dim} dims. Every input maps to (nearly) "
            "the same embedding; add a regularizer (objective.regularizer=vicreg|sigreg) or an "
            "EMA target (objective.target=ema)."
        )


def check_collapse(z: torch.Tensor, min_std: float, min_rank_fraction: float) -> CollapseReport:
    std, rank, dim = relative_std(z), rankme(z), z.shape[-1]
    collapsed = std < min_std or rank < min_rank_fraction * min(dim, z.reshape(-1, dim).shape[0])
    return CollapseReport(std, rank, dim, collapsed)

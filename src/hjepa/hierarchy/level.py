"""One H-JEPA level: a JEPA over the latents of the level below.

    h_t     = Enc(s_t)                       s: the level below's state, h: this level's (coarser)
    z       = q(a_t .. a_t+d-1)              the macro-action of the d primitive actions between
    ĥ_t+d   = Pred(h_t, z)                   predicts d env steps ahead, d drawn per sample
    L = D(ĥ, sg(h)) over one-step and open-loop macro-steps        criterion (3)
      + w_reg · VICReg(h)                                          criteria (1)(2)
      + w_kl · KL(q(z | chunk) ‖ N(0, I))                          criterion (4)

The regularizer spreads the states out while the level learns, so the prediction error is
also logged relative to the targets' variance (`relative_pred_loss`, scale-free).

The encoder is an MLP (learned), a linear projection, or the identity (ablations; the identity
keeps the level below's size and needs no regularizer). Training samples are sequences of
`sequence` + 1 states of the level below, consecutive ones `gap` env steps apart, with the action
chunks in between (zero-padded to `gap[1]`, `lengths` valid); see `hierarchy/data.py`.
"""

import torch
from torch import nn

from hjepa.errors import ConfigError, ShapeError
from hjepa.hierarchy.macro import MacroActionEncoder
from hjepa.jepa.losses import prediction_loss
from hjepa.jepa.regularizers import build_regularizer
from hjepa.nets.mlp import MLP
from hjepa.world.predictors import build_predictor

ENCODERS = ("mlp", "linear", "identity")


def build_level_encoder(kind: str, in_dim: int, dim: int, hidden: int, depth: int) -> nn.Module:
    if kind not in ENCODERS:
        raise ConfigError(f"hierarchy level encoder: unknown {kind!r} (known: {ENCODERS})")
    if kind == "identity":
        return nn.Identity()
    if kind == "linear":
        return nn.Linear(in_dim, dim)
    return MLP(in_dim, hidden, dim, depth=depth)


class Level(nn.Module):
    def __init__(
        self,
        in_dim: int,
        action_dim: int,
        encoder: str = "mlp",
        dim: int = 16,
        hidden: int = 128,
        depth: int = 2,
        macro_dim: int = 4,
        gap: tuple[int, int] = (4, 12),
        sequence: int = 2,
        reg_weight: float = 1.0,
        kl_weight: float = 0.001,
    ):
        super().__init__()
        low, high = (int(g) for g in gap)
        if not 1 <= low <= high:
            raise ConfigError(f"hierarchy level gap {gap}: need 1 <= low <= high (env steps)")
        if int(sequence) < 1:
            raise ConfigError(f"hierarchy level sequence must be >= 1 macro-step, got {sequence}")
        self.in_dim, self.gap, self.sequence = in_dim, (low, high), int(sequence)
        self.dim = in_dim if encoder == "identity" else int(dim)
        self.encoder = build_level_encoder(encoder, in_dim, self.dim, hidden, depth)
        self.macro = MacroActionEncoder(action_dim, macro_dim, high, hidden)
        self.predictor = build_predictor("mlp", self.dim, macro_dim, hidden, depth + 1)
        learned = encoder != "identity" and reg_weight > 0
        self.regularizer = build_regularizer("vicreg") if learned else None
        self.reg_weight, self.kl_weight = float(reg_weight), float(kl_weight)

    @property
    def macro_dim(self) -> int:
        return self.macro.macro_dim

    def encode(self, lower: torch.Tensor) -> torch.Tensor:
        """The level below's states [..., in_dim] -> this level's [..., dim]."""
        if lower.shape[-1] != self.in_dim:
            raise ShapeError(f"level encoder: expected [..., {self.in_dim}], got {lower.shape}")
        return self.encoder(lower)

    def rollout(self, h0: torch.Tensor, macros: torch.Tensor) -> torch.Tensor:
        """Open loop: h0 [B, dim], macro-actions [B, H, m] -> predicted states [B, H, dim]."""
        return self.predictor.rollout(h0, macros)

    def forward(self, lower: torch.Tensor, chunks: torch.Tensor, lengths: torch.Tensor):
        """(loss, metrics) on states of the level below [B, K + 1, in_dim], action chunks
        [B, K, L, A] and their lengths [B, K]."""
        b, k = chunks.shape[:2]
        if lower.shape[:2] != (b, k + 1) or lengths.shape != (b, k):
            raise ShapeError(
                f"level batch: expected states [B, K+1, D], chunks [B, K, L, A], lengths [B, K]; "
                f"got {tuple(lower.shape)}, {tuple(chunks.shape)}, {tuple(lengths.shape)}"
            )
        h = self.encode(lower)
        z, kl, _ = self.macro(chunks.flatten(0, 1), lengths.flatten())
        z = z.reshape(b, k, -1)
        target = h.detach()
        one_step, _ = prediction_loss(self.predictor(h[:, :-1], z), target[:, 1:], "l2")
        rolled, _ = prediction_loss(self.rollout(h[:, 0], z), target[:, 1:], "l2")
        loss = (one_step + rolled) / 2 + self.kl_weight * kl.mean()
        spread = target[:, 1:].flatten(0, 1).var(0).mean().clamp_min(1e-8)
        metrics = {"pred_loss": one_step.detach(), "rollout_loss": rolled.detach()}
        metrics["relative_pred_loss"] = (one_step / spread).detach()  # scale-free, 1 = no skill
        metrics["macro_kl"] = kl.mean().detach()
        if self.regularizer is not None:
            reg, reg_metrics = self.regularizer(h.flatten(0, 1))
            loss = loss + self.reg_weight * reg
            metrics.update(reg_metrics)
        return loss, metrics

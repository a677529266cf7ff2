"""The JEPA wiring, for any modality that turns its input into tokens (I-JEPA, V-JEPA, TS-JEPA).

    s_x = enc(x[context])                 criterion (1): information in s_x (regularizer)
    s_y = target(x)[targets]              criterion (2): information in s_y (EMA / stop-grad / reg.)
    ŝ_y = pred(s_x, positions, z)         the latent z carries what s_x cannot determine
    L   = D(ŝ_y, s_y)                     criterion (3): prediction error
        + w_reg · R(s_x) [+ R(s_y)]       R = VICReg | SIGReg, on s_y too when it has a gradient
        + w_z · KL(q(z | s_x, s_y) ‖ N(0, I))   criterion (4): information in z

Batches are dicts: `batch[input_key]` holds the input ([B, C, H, W] for images), and
`context_idx` [B, K] / `target_idx` [B, M] the token indices drawn by a masker.
"""

import torch
from torch import nn

from hjepa.errors import ShapeError
from hjepa.jepa.latent import LatentVariable
from hjepa.jepa.losses import prediction_loss
from hjepa.jepa.regularizers import build_regularizer
from hjepa.jepa.targets import build_target
from hjepa.nets.transformer import gather_tokens


class SelfSupervisedModel(nn.Module):
    """What the trainer needs of any model: `forward(batch) -> (loss, metrics)`, plus these."""

    input_key = "image"

    @torch.no_grad()
    def representations(self, batch: dict) -> torch.Tensor:
        """Pooled encoder output on the whole input, [B, D]: what downstream tasks use."""
        return self.encoder.forward_features(batch[self.input_key]).mean(dim=1)

    def update_target(self, step: int, total_steps: int) -> dict:
        """Called after every optimizer step; returns metrics to log."""
        return {}


class MaskedJEPA(SelfSupervisedModel):
    def __init__(
        self,
        encoder: nn.Module,
        predictor: nn.Module,
        target: str = "ema",
        loss: str = "smooth_l1",
        target_layernorm: bool = False,
        regularizer: str = "none",
        reg_weight: float = 1.0,
        reg_kwargs: dict | None = None,
        latent_dim: int = 0,
        latent_weight: float = 1e-3,
        momentum: tuple[float, float] = (0.996, 1.0),
        input_key: str = "image",
    ):
        super().__init__()
        self.encoder, self.predictor = encoder, predictor
        self.target = build_target(
            target, encoder, momentum_start=momentum[0], momentum_end=momentum[1]
        )
        self.regularizer = build_regularizer(regularizer, **(reg_kwargs or {}))
        dim = encoder.num_features
        self.latent = LatentVariable(dim, dim, latent_dim) if latent_dim > 0 else None
        self.loss_kind, self.target_layernorm = loss, target_layernorm
        self.reg_weight, self.latent_weight = reg_weight, latent_weight
        self.input_key = input_key

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        x, ctx_idx, tgt_idx = self._inputs(batch)
        s_x = self.encoder.forward_features(x, keep=ctx_idx)
        s_y = gather_tokens(self.target(x), tgt_idx)
        z, z_kl, metrics = self._latent(s_x, s_y)
        pred = self.predictor(s_x, ctx_idx, tgt_idx, z)
        loss, pred_metrics = prediction_loss(pred, s_y, self.loss_kind, self.target_layernorm)
        metrics.update(pred_metrics)
        if self.latent is not None:
            loss = loss + self.latent_weight * z_kl
        if self.regularizer is not None:
            reg, reg_metrics = self._regularize(s_x, s_y)
            loss = loss + self.reg_weight * reg
            metrics.update(reg_metrics)
        return loss, metrics

    def update_target(self, step: int, total_steps: int) -> dict:
        return self.target.update(self.encoder, step, total_steps)

    def _inputs(self, batch: dict):
        missing = [k for k in (self.input_key, "context_idx", "target_idx") if k not in batch]
        if missing:
            raise ShapeError(f"batch is missing {', '.join(missing)} (has {', '.join(batch)})")
        return batch[self.input_key], batch["context_idx"], batch["target_idx"]

    def _latent(self, s_x, s_y):
        if self.latent is None:
            return None, None, {}
        z, z_kl, metrics = self.latent(s_x.mean(dim=1), s_y.detach().mean(dim=1))
        return z, z_kl, metrics

    def _regularize(self, s_x, s_y):
        reg, metrics = self.regularizer(s_x)
        metrics = {f"{k}_x": v for k, v in metrics.items()}
        if s_y.requires_grad:
            reg_y, metrics_y = self.regularizer(s_y)
            reg = (reg + reg_y) / 2
            metrics.update({f"{k}_y": v for k, v in metrics_y.items()})
        return reg, metrics

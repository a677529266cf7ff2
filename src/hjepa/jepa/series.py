"""TS-JEPA and its masked-reconstruction twin: the same series encoder, masks and predictor; the
loss lives in representation space (TS-JEPA) or in value space (reconstruction).

    patches  = tokenizer(series)                      1-D conv over each patch, + positions
    context  = ~30 % of the valid patches, targets = the rest (`mask.mask_ratio`, default 0.7)
    TS-JEPA:        L = |pred(enc(context)) - LayerNorm(ema_enc(series))[targets]|_1
    reconstruction: L = |decode(pred(enc(context))) - series[targets]|^2

Batches hold `series` [B, C, T] (NaN after a series' end) and `mask_noise` [B, N]: the random
scores `masks_from_noise` turns into context and target indices among each sample's valid
patches, so padding never enters the context, the targets or the loss.
"""

import torch
import torch.nn.functional as F
from torch import nn

from hjepa.errors import ShapeError
from hjepa.jepa.masks import masks_from_noise
from hjepa.jepa.model import MaskedJEPA, SelfSupervisedModel
from hjepa.nets.series import series_patches, valid_patches
from hjepa.nets.transformer import gather_tokens


class SeriesInputs:
    """What both series models share: masks from the batch's noise, pooled representations."""

    input_key = "series"
    mask_ratio = 0.7

    def _inputs(self, batch: dict):
        missing = [k for k in ("series", "mask_noise") if k not in batch]
        if missing:
            raise ShapeError(f"batch is missing {', '.join(missing)} (has {', '.join(batch)})")
        x = batch["series"]
        self.encoder.check_series(x)
        valid = valid_patches(x, self.encoder.patch_size)
        context, target = masks_from_noise(batch["mask_noise"], valid, self.mask_ratio)
        return x, self.encoder.per_row(context), self.encoder.per_row(target)

    @torch.no_grad()
    def representations(self, batch: dict) -> torch.Tensor:
        """Pooled encoder output over each series' valid patches, [B, F]."""
        x = batch[self.input_key]
        return self.encoder.pool(self.encoder.forward_features(x), x)


class SeriesJEPA(SeriesInputs, MaskedJEPA):
    def __init__(self, encoder, predictor, mask_ratio: float = 0.7, **jepa):
        super().__init__(encoder, predictor, input_key="series", **jepa)
        self.mask_ratio = mask_ratio

    def _regularize(self, s_x, s_y):
        """The regularizer sees each series' pooled context, not its tokens: tokens that differ
        only by their position would satisfy it while every series looked the same."""
        return super()._regularize(s_x.mean(dim=1), s_y.mean(dim=1))

    @torch.no_grad()
    def token_errors(self, x, context, target) -> torch.Tensor:
        """Mean absolute prediction error [B', M] of each target patch's representation (the
        anomaly score: a patch the context does not explain is hard to predict)."""
        s_y = gather_tokens(self.target(x), target)
        if self.target_layernorm:
            s_y = F.layer_norm(s_y, s_y.shape[-1:])
        z = None if self.latent is None else self.latent.sample_prior(len(context), zero=True)
        pred = self.predictor(self.encoder.forward_features(x, keep=context), context, target, z)
        return (pred - s_y).abs().mean(-1)


class MaskedSeriesReconstruction(SeriesInputs, SelfSupervisedModel):
    def __init__(self, encoder, predictor, mask_ratio: float = 0.7):
        super().__init__()
        self.encoder, self.predictor, self.mask_ratio = encoder, predictor, mask_ratio
        values_per_token = encoder.patch_size * encoder.in_chans // encoder.rows_per_sample()
        self.decoder = nn.Linear(encoder.num_features, values_per_token)

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        loss = self.token_errors(*self._inputs(batch)).mean()
        return loss, {"value_loss": loss.detach()}

    def token_errors(self, x, context, target) -> torch.Tensor:
        """Mean squared error [B', M] of each target patch's reconstructed values."""
        s_x = self.encoder.forward_features(x, keep=context)
        values = self.decoder(self.predictor(s_x, context, target))
        patches = series_patches(x, self.encoder.patch_size, self.encoder.rows_per_sample())
        return (values - gather_tokens(patches, target)).pow(2).mean(-1)

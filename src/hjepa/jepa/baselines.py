"""The seed's comparison architectures, built from the same encoder and predictor as the JEPA so
that a comparison changes one thing: where the loss lives.

- `MaskedPixelModel` — (a) deterministic generative: predict the *pixels* of the target tokens
  from the context. With multi-block masks it is the generative twin of I-JEPA; with random masks
  at a high ratio it is masked reconstruction (MAE-style, per-patch normalised pixel targets).
  It cannot collapse, but it must model every pixel detail.
- `Autoencoder` — (c): encode the whole input, decode it back from the pooled code. With enough
  capacity the identity shortcut makes the code useless; the pooled bottleneck is what stops it.
"""

import torch
import torch.nn.functional as F

from hjepa.jepa.model import SelfSupervisedModel
from hjepa.nets.transformer import gather_tokens


class MaskedPixelModel(SelfSupervisedModel):
    """`to_patches(x) -> [B, N, pixels per token]` cuts the input into the encoder's tokens'
    pixels (`patchify` for images, `patchify_video` for clips); `input_key` names the input."""

    def __init__(
        self, encoder, predictor, decoder, to_patches, normalize_pixels=True, input_key="image"
    ):
        super().__init__()
        self.encoder, self.predictor, self.decoder = encoder, predictor, decoder
        self.to_patches, self.normalize_pixels = to_patches, normalize_pixels
        self.input_key = input_key

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        x, ctx_idx, tgt_idx = batch[self.input_key], batch["context_idx"], batch["target_idx"]
        s_x = self.encoder.forward_features(x, keep=ctx_idx)
        pixels = self.decoder(self.predictor(s_x, ctx_idx, tgt_idx))
        target = gather_tokens(self.to_patches(x), tgt_idx)
        if self.normalize_pixels:
            target = F.layer_norm(target, target.shape[-1:])
        loss = F.mse_loss(pixels, target)
        return loss, {"pixel_loss": loss.detach()}


class Autoencoder(SelfSupervisedModel):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        x = batch["image"]
        code = self.encoder.forward_features(x).mean(dim=1)
        loss = F.mse_loss(self.decoder(code), x)
        return loss, {"pixel_loss": loss.detach()}

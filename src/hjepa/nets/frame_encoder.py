"""A CPU-sized frame encoder that keeps *where* things are.

    frames [B, C, H, W] -> average-pool by `pool` -> `len(channels)` x (Conv3x3 stride 2 ->
    GroupNorm -> GELU) -> flatten -> Linear -> [B, embed_dim]

Flattening (instead of global average pooling) keeps the spatial layout in the features, which a
world model needs to locate an agent; pooling the input first cuts the cost by `pool**2` on
frames whose content is smooth (a Gaussian dot, thick walls). The normalization matters: without
it the embeddings of such sparse frames start out nearly identical (collapsed at initialization).
"""

import torch
from torch import nn

from hjepa.errors import ConfigError, ShapeError, check_tensor
from hjepa.nets.convnet import check_channels, conv_stage
from hjepa.nets.transformer import init_weights


class FrameEncoder(nn.Module):
    def __init__(
        self,
        in_chans: int = 2,
        img_size: int = 64,
        pool: int = 2,
        channels: tuple[int, ...] = (16, 32, 32),
        embed_dim: int = 32,
    ):
        super().__init__()
        channels = check_channels(channels)
        reduced = img_size // (pool * 2 ** len(channels))
        if img_size % pool or reduced < 1:
            raise ConfigError(
                f"img_size {img_size} does not fit pool {pool} and {len(channels)} stride-2 stages"
            )
        self.in_chans, self.img_size, self.num_features = in_chans, img_size, embed_dim
        pairs = zip((in_chans, *channels[:-1]), channels, strict=True)
        self.body = nn.Sequential(
            nn.AvgPool2d(pool) if pool > 1 else nn.Identity(),
            *(conv_stage(a, b, 2) for a, b in pairs),
            nn.Flatten(),
            nn.Linear(channels[-1] * reduced * reduced, embed_dim),
        )
        self.apply(init_weights)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Frames [..., C, H, W] (any leading dims) -> [..., embed_dim]."""
        check_tensor("frames", x)
        expected = (self.in_chans, self.img_size, self.img_size)
        if x.ndim < 4 or tuple(x.shape[-3:]) != expected:
            raise ShapeError(f"frames: expected [..., {expected}], got shape {tuple(x.shape)}")
        lead = x.shape[:-3]
        return self.body(x.reshape(-1, *expected)).reshape(*lead, self.num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)

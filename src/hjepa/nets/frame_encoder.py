"""A CPU-sized frame encoder that keeps *where* things are.

    frames [B, C, H, W] -> average-pool by `pool` -> `len(channels)` x (Conv3x3 stride 2 ->
    GroupNorm -> GELU) -> flatten -> Linear -> [B, embed_dim]

Flattening (instead of global average pooling) keeps the spatial layout in the features, which a
world model needs to locate an agent; pooling the input first cuts the cost by `pool**2` on
frames whose content is smooth (a Gaussian dot, thick walls). The normalization matters: without
it the embeddings of such sparse frames start out nearly identical (collapsed at initialization).

With `map_channels` > 0 the state is the feature map itself: a 1x1 convolution instead of the
Linear layer, flattened to [B, map_channels * h * w] (`feature_shape` = (map_channels, h, w)).
Each cell then describes mostly what lies under it (GroupNorm's statistics span the map), so
one object (an agent) cannot take the whole state; the conv predictor (world/predictors.py)
steps such states as maps.
"""

import torch
from torch import nn

from hjepa.errors import ConfigError, ShapeError, check_tensor
from hjepa.nets.convnet import check_channels, conv_stage
from hjepa.nets.transformer import init_weights
from hjepa.nets.vit import VisionTransformer


def as_float_frames(x: torch.Tensor) -> torch.Tensor:
    """uint8 frames (0..255) -> float32 in [0, 1]; float frames pass through."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


class FrameEncoder(nn.Module):
    def __init__(
        self,
        in_chans: int = 2,
        img_size: int = 64,
        pool: int = 2,
        channels: tuple[int, ...] = (16, 32, 32),
        embed_dim: int = 32,
        map_channels: int = 0,
    ):
        super().__init__()
        channels = check_channels(channels)
        reduced = img_size // (pool * 2 ** len(channels))
        if img_size % pool or reduced < 1:
            raise ConfigError(
                f"img_size {img_size} does not fit pool {pool} and {len(channels)} stride-2 stages"
            )
        if map_channels:
            self.feature_shape = (map_channels, reduced, reduced)
            embed_dim = map_channels * reduced * reduced
            head = (nn.Conv2d(channels[-1], map_channels, 1), nn.Flatten())
        else:
            head = (nn.Flatten(), nn.Linear(channels[-1] * reduced**2, embed_dim))
        self.in_chans, self.img_size, self.num_features = in_chans, img_size, embed_dim
        pairs = zip((in_chans, *channels[:-1]), channels, strict=True)
        self.body = nn.Sequential(
            nn.AvgPool2d(pool) if pool > 1 else nn.Identity(),
            *(conv_stage(a, b, 2) for a, b in pairs),
            *head,
        )
        self.apply(init_weights)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Frames [..., C, H, W] (any leading dims; uint8 is scaled to [0, 1]) -> [..., D]."""
        if x.is_floating_point():
            check_tensor("frames", x)
        x = as_float_frames(x)
        expected = (self.in_chans, self.img_size, self.img_size)
        if x.ndim < 4 or tuple(x.shape[-3:]) != expected:
            raise ShapeError(f"frames: expected [..., {expected}], got shape {tuple(x.shape)}")
        lead = x.shape[:-3]
        return self.body(x.reshape(-1, *expected)).reshape(*lead, self.num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)


class PerChannelEncoder(nn.Module):
    """One FrameEncoder per input channel, their outputs concatenated ([..., D], D split evenly).

    Each part of the state can only describe its own channel (say, the agent or the walls), so a
    regularizer that asks every dimension to vary makes the walls' part encode the layout — which
    a shared encoder may skip when the agent explains enough of the variance.
    """

    first_sees_all = False  # SceneAgentEncoder: the first part reads every channel

    def __init__(
        self,
        in_chans: int = 2,
        img_size: int = 64,
        pool: int = 2,
        channels: tuple[int, ...] = (16, 32, 32),
        embed_dim: int = 64,
    ):
        super().__init__()
        if embed_dim % in_chans:
            raise ConfigError(f"embed_dim {embed_dim} does not split over {in_chans} channels")
        part = embed_dim // in_chans
        first = in_chans if self.first_sees_all else 1
        self.parts = nn.ModuleList(
            FrameEncoder(first if i == 0 else 1, img_size, pool, channels, part)
            for i in range(in_chans)
        )
        self.in_chans, self.img_size, self.num_features = in_chans, img_size, embed_dim

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Frames [..., C, H, W] -> [..., D]."""
        inputs = list(x.split(1, dim=-3))
        if self.first_sees_all:
            inputs[0] = x
        return torch.cat([enc(c) for enc, c in zip(self.parts, inputs, strict=True)], dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)


class SceneAgentEncoder(PerChannelEncoder):
    """A PerChannelEncoder whose first part (the agent's) reads the whole frame.

    The agent's part can then say where the agent is *relative to the walls* (touching one,
    in a doorway), which a predictor needs to stop a move at a wall drawn anywhere; reading
    only the agent's channel, it knows the agent's position alone, and the predictor would
    have to compare two learned codes to find a contact. The other parts still see only their
    own channel, so the layout stays encoded.
    """

    first_sees_all = True


class PooledViTEncoder(nn.Module):
    """The ViT as a frame encoder: frames [..., C, H, W] -> the mean of its tokens [..., D]."""

    def __init__(
        self,
        in_chans: int = 2,
        img_size: int = 64,
        patch_size: int = 8,
        embed_dim: int = 64,
        depth: int = 2,
        num_heads: int = 2,
    ):
        super().__init__()
        self.vit = VisionTransformer(img_size, patch_size, in_chans, embed_dim, depth, num_heads)
        self.in_chans, self.img_size, self.num_features = in_chans, img_size, embed_dim

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Frames [..., C, H, W] (uint8 is scaled to [0, 1]) -> [..., D]."""
        lead = x.shape[:-3]
        frames = as_float_frames(x.reshape(-1, *x.shape[-3:]))
        return self.vit.forward_features(frames).mean(dim=1).reshape(*lead, self.num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)

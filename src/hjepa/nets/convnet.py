"""Small convolutional encoder and decoder. Frames are [B, C, H, W]; vectors are [B, D]."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from hjepa.errors import ConfigError, ShapeError, check_tensor
from hjepa.nets.transformer import init_weights


def _group_norm(channels: int, max_groups: int = 8) -> nn.GroupNorm:
    """GroupNorm with the largest group count <= max_groups that divides `channels`."""
    return nn.GroupNorm(math.gcd(channels, max_groups), channels)


def conv_stage(c_in: int, c_out: int, stride: int, dilation: int = 1) -> nn.Sequential:
    """Conv3x3 (padded to keep the size at stride 1) -> GroupNorm -> GELU."""
    conv = nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation)
    return nn.Sequential(conv, _group_norm(c_out), nn.GELU())


def check_channels(channels) -> tuple[int, ...]:
    channels = tuple(channels)
    if not channels or not all(isinstance(c, int) and c > 0 for c in channels):
        raise ConfigError(f"channels must be a non-empty list of positive ints, got {channels!r}")
    return channels


class ConvEncoder(nn.Module):
    """Strided CNN: frames [B, C, H, W] -> [B, embed_dim].

    Each stage is Conv3x3(stride 2) -> GroupNorm -> GELU, halving the resolution; then global
    average pooling and a Linear layer.
    """

    def __init__(
        self,
        in_chans: int,
        img_size: int,
        channels: tuple[int, ...] = (32, 64, 128),
        embed_dim: int = 64,
    ):
        super().__init__()
        channels = check_channels(channels)
        if img_size < 2 ** len(channels):
            raise ConfigError(f"img_size {img_size} too small for {len(channels)} stride-2 stages")
        self.in_chans, self.img_size = in_chans, img_size
        self.num_features = embed_dim
        pairs = zip((in_chans, *channels[:-1]), channels, strict=True)
        self.stages = nn.Sequential(*(conv_stage(a, b, 2) for a, b in pairs))
        self.head = nn.Linear(channels[-1], embed_dim)
        self.apply(init_weights)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Frames [B, C, H, W] -> [B, embed_dim]."""
        check_tensor("frames", x, ndim=4)
        expected = (self.in_chans, self.img_size, self.img_size)
        if tuple(x.shape[1:]) != expected:
            raise ShapeError(f"frames: expected [B, {expected}], got shape {tuple(x.shape)}")
        return self.head(self.stages(x).mean(dim=(2, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)


class ConvDecoder(nn.Module):
    """Vector [B, embed_dim] -> frames [B, out_chans, img_size, img_size].

    A Linear layer makes a [channels[0], s, s] map (s = img_size / 2**len(channels)); each stage
    upsamples x2 (nearest) then Conv3x3 -> GroupNorm -> GELU; a final Conv3x3 gives the pixels.
    """

    def __init__(
        self,
        embed_dim: int,
        out_chans: int,
        img_size: int,
        channels: tuple[int, ...] = (128, 64, 32),
    ):
        super().__init__()
        channels = check_channels(channels)
        factor = 2 ** len(channels)
        if img_size % factor:
            raise ConfigError(f"img_size {img_size} must be divisible by {factor}")
        self.embed_dim, self.out_chans, self.img_size = embed_dim, out_chans, img_size
        self.num_features = embed_dim
        self.base = img_size // factor
        self.channels = channels
        self.fc = nn.Linear(embed_dim, channels[0] * self.base * self.base)
        pairs = zip(channels, (*channels[1:], channels[-1]), strict=True)
        self.stages = nn.ModuleList(conv_stage(a, b, 1) for a, b in pairs)
        self.out = nn.Conv2d(channels[-1], out_chans, 3, 1, 1)
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """[B, embed_dim] -> frames [B, out_chans, img_size, img_size]."""
        check_tensor("latent", z, ndim=2, last_dim=self.embed_dim)
        x = self.fc(z).reshape(z.shape[0], self.channels[0], self.base, self.base)
        for stage in self.stages:
            x = stage(F.interpolate(x, scale_factor=2.0, mode="nearest"))
        return self.out(x)

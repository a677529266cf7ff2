"""Generic transformer building blocks.

Tensor layouts used throughout `hjepa.nets`:
    frames  [B, C, H, W]   (batch, channels, height, width)
    video   [B, C, T, H, W] (batch, channels, frames, height, width)
    tokens  [B, N, D]      (batch, tokens, feature dim)
    indices [B, K]         (batch, selected token positions; dtype long)
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from hjepa.errors import ConfigError, ShapeError


class Attention(nn.Module):
    """Multi-head self-attention over tokens [B, N, D] via `F.scaled_dot_product_attention`;
    an optional `attend` [B, N] (bool) says which tokens may be attended to (padding: False).
    `causal`: each token attends to itself and the tokens before it only (then no `attend`:
    right padding needs none)."""

    def __init__(self, dim: int, heads: int, causal: bool = False):
        super().__init__()
        if dim % heads != 0:
            raise ConfigError(f"attention dim {dim} is not divisible by heads {heads}")
        self.heads, self.causal = heads, causal
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, attend: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        mask = None if attend is None else attend[:, None, None, :]
        out = F.scaled_dot_product_attention(
            qkv[0], qkv[1], qkv[2], attn_mask=mask, is_causal=self.causal
        )
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class FeedForward(nn.Module):
    """Two-layer GELU MLP applied per token."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x)). Tokens [B, N, D];
    `attend` [B, N] and `causal` as for `Attention`."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, causal: bool = False):
        super().__init__()
        if mlp_ratio <= 0:
            raise ConfigError(f"mlp_ratio must be positive, got {mlp_ratio}")
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, causal)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = FeedForward(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, attend: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), attend)
        return x + self.mlp(self.norm2(x))


def init_weights(module: nn.Module) -> None:
    """ViT init: trunc-normal(0.02) Linear/Conv2d/Conv3d weights, zero biases, unit LayerNorm
    weights."""
    if isinstance(module, (nn.Linear, nn.Conv2d, nn.Conv3d)):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm) and module.elementwise_affine:
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def rescale_residual_projections(blocks: nn.ModuleList) -> None:
    """Divide each block's residual-branch output weights by sqrt(2 * layer) (as in I-JEPA)."""
    for layer, block in enumerate(blocks, start=1):
        block.attn.proj.weight.data.div_(math.sqrt(2.0 * layer))
        block.mlp.fc2.weight.data.div_(math.sqrt(2.0 * layer))


def sincos_pos_embed(grid_size: tuple[int, ...], dim: int) -> torch.Tensor:
    """Fixed sin-cos embedding of a row-major grid of any rank -> [prod(grid_size), dim].

    The features are split into one equal part per grid axis, in axis order (for a 2-D grid:
    first half the row, second half the column; for a video grid (t, h, w): time, row, column);
    dim must be a positive multiple of 2 * len(grid_size).
    """
    n = len(grid_size)
    if n < 1 or dim <= 0 or dim % (2 * n) != 0:
        raise ConfigError(
            f"{n}-D sin-cos embedding needs a positive dim divisible by {2 * n}, got {dim}"
        )
    axes = torch.meshgrid(
        *(torch.arange(size, dtype=torch.float64) for size in grid_size), indexing="ij"
    )
    return torch.cat([_sincos(axis.flatten(), dim // n) for axis in axes], dim=1).float()


def sincos_pos_embed_1d(length: int, dim: int) -> torch.Tensor:
    """Fixed sin-cos embedding of positions 0..length-1 -> [length, dim] (dim must be even)."""
    return sincos_pos_embed((length,), dim)


def sincos_pos_embed_2d(grid_h: int, grid_w: int, dim: int) -> torch.Tensor:
    """Fixed sin-cos embedding of a row-major (grid_h, grid_w) grid -> [grid_h * grid_w, dim]
    (see `sincos_pos_embed`; dim must be a positive multiple of 4)."""
    return sincos_pos_embed((grid_h, grid_w), dim)


def _sincos(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """[L] positions -> [L, dim] = [sin(pos * w_k), cos(pos * w_k)], w_k = 10000^(-2k/dim)."""
    freqs = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64) / (dim / 2.0))
    angles = positions[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def gather_tokens(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Select tokens per sample: x [B, N, D], idx [B, K] (long) -> [B, K, D]."""
    return torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def check_indices(name: str, idx: torch.Tensor, batch: int, num_tokens: int) -> None:
    """Raise ShapeError unless idx is a long tensor [batch, K] with values in [0, num_tokens)."""
    if not isinstance(idx, torch.Tensor) or idx.ndim != 2:
        shape = tuple(idx.shape) if isinstance(idx, torch.Tensor) else type(idx).__name__
        raise ShapeError(f"{name}: expected a [B, K] index tensor, got {shape}")
    if idx.dtype != torch.long:
        raise ShapeError(f"{name}: expected dtype torch.long, got {idx.dtype}")
    if idx.shape[0] != batch:
        raise ShapeError(f"{name}: batch size {idx.shape[0]} does not match the tokens' {batch}")
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= num_tokens):
        raise ShapeError(
            f"{name}: indices must lie in [0, {num_tokens}), "
            f"got range [{int(idx.min())}, {int(idx.max())}]"
        )

"""Transformer over patches of a time series: the TS-JEPA encoder.

Layouts: series [B, C, T] (channels, time steps), tokens [B, N, D] with N = T // patch_size,
index tensors [B, K] (long). Steps after a series' end are NaN: a patch is a token only if all
its values are finite (`valid_patches`), padding tokens are never attended to and never pooled.

Channel modes:
- "mixing": one token per patch over all channels (a Conv1d over C channels);
- "independent": every channel is a univariate series of its own (one tokenizer, shared
  weights), tokens [B * C, N, D] with channel c of sample b at row b * C + c; pooled features
  concatenate the channels' [B, C * D].
"""

import torch
from torch import nn

from hjepa.errors import ConfigError, ShapeError
from hjepa.nets.transformer import (
    Block,
    check_indices,
    gather_tokens,
    init_weights,
    rescale_residual_projections,
    sincos_pos_embed_1d,
)

CHANNEL_MODES = ("mixing", "independent")


def valid_patches(series: torch.Tensor, patch_size: int) -> torch.Tensor:
    """bool [B, T // patch_size]: True where every value of the patch, in all channels, is finite.

    `series` is [B, C, T]; steps past the last whole patch are ignored.
    """
    if series.ndim != 3:
        raise ShapeError(f"series: expected [B, C, T], got shape {tuple(series.shape)}")
    if isinstance(patch_size, bool) or not isinstance(patch_size, int) or patch_size < 1:
        raise ConfigError(f"valid_patches: patch_size must be an int >= 1, got {patch_size!r}")
    b, c, t = series.shape
    p = t // patch_size
    patches = series[..., : p * patch_size].reshape(b, c, p, patch_size)
    return patches.isfinite().all(dim=3).all(dim=1)


class SeriesTransformer(nn.Module):
    """Series [B, C, T] -> tokens [B', N, D] (B' = B, or B * C for independent channels).

    A strided Conv1d cuts the series into patches and embeds each (the 1-D convolutional
    tokenizer); a fixed sin-cos embedding gives each patch its position; with `keep` [B', K]
    only those patches enter the blocks, so a context encoder pays for visible patches only.
    """

    def __init__(
        self,
        max_patches: int = 64,
        patch_size: int = 8,
        in_chans: int = 1,
        embed_dim: int = 128,
        depth: int = 4,
        num_heads: int = 4,
        channel_mode: str = "mixing",
        mlp_ratio: float = 4.0,
    ):
        super().__init__()
        if channel_mode not in CHANNEL_MODES:
            raise ConfigError(f"channel_mode must be one of {CHANNEL_MODES}, got {channel_mode!r}")
        if depth < 1 or max_patches < 1 or patch_size < 1:
            raise ConfigError("depth, max_patches and patch_size must be >= 1")
        self.max_patches, self.patch_size, self.in_chans = max_patches, patch_size, in_chans
        self.channel_mode = channel_mode
        self.num_patches, self.grid_size = max_patches, (1, max_patches)
        self.num_features = self.embed_dim = embed_dim
        per_token = in_chans if channel_mode == "mixing" else 1
        self.patch_embed = nn.Conv1d(per_token, embed_dim, patch_size, stride=patch_size)
        pos = sincos_pos_embed_1d(max_patches, embed_dim).unsqueeze(0)
        self.register_buffer("pos_embed", pos, persistent=False)
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim)
        self.apply(init_weights)
        nn.init.trunc_normal_(self.patch_embed.weight, std=0.02)
        rescale_residual_projections(self.blocks)

    @property
    def max_length(self) -> int:
        return self.max_patches * self.patch_size

    def rows_per_sample(self) -> int:
        """Token rows per series: C for independent channels, else 1."""
        return self.in_chans if self.channel_mode == "independent" else 1

    def per_row(self, per_sample: torch.Tensor) -> torch.Tensor:
        """Per-sample tensors [B, ...] (indices, masks) repeated for each token row [B', ...]."""
        return per_sample.repeat_interleave(self.rows_per_sample(), dim=0)

    def check_series(self, x: torch.Tensor) -> None:
        """ShapeError unless x is [B, in_chans, max_length] with no infinite values (NaN marks
        the steps after a series' end)."""
        if not isinstance(x, torch.Tensor) or x.ndim != 3:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ShapeError(f"series: expected [B, C, T], got {shape}")
        if bool(x.isinf().any()):
            raise ShapeError("series: contains infinite values")
        if x.shape[1] != self.in_chans:
            raise ShapeError(
                f"series: the run was trained on {self.in_chans} channel(s), got "
                f"{x.shape[1]} (shape {tuple(x.shape)})"
            )
        if x.shape[2] != self.max_length:
            raise ShapeError(
                f"series: expected {self.max_length} steps (max_patches {self.max_patches} x "
                f"patch_size {self.patch_size}, NaN after a series' end), got {x.shape[2]}"
            )

    def tokens(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(position-embedded patch tokens [B', N, D], valid [B', N]) before the blocks."""
        self.check_series(x)
        valid = self.per_row(valid_patches(x, self.patch_size))
        rows = x.reshape(-1, 1, x.shape[-1]) if self.channel_mode == "independent" else x
        tokens = self.patch_embed(torch.nan_to_num(rows, nan=0.0)).transpose(1, 2)
        return tokens + self.pos_embed.to(tokens.dtype), valid

    def forward_features(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """Series [B, C, T] -> tokens [B', N, D]; with keep [B', K] (valid patches of each
        token row, see `per_row`), only those: [B', K, D]."""
        tokens, valid = self.tokens(x)
        attend = None if bool(valid.all()) else valid
        if keep is not None:
            check_indices("keep", keep, tokens.shape[0], self.num_patches)
            if not bool(valid.gather(1, keep).all()):
                raise ShapeError("keep: selects padding patches (steps after a series' end)")
            tokens, attend = gather_tokens(tokens, keep), None
        for block in self.blocks:
            tokens = block(tokens, attend)
        return self.norm(tokens)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_features(x, keep)

    def pool(self, tokens: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Tokens [B', N, D] of series x [B, C, T] -> features [B, F]: the mean over valid
        patches, channels concatenated for independent channels."""
        valid = self.per_row(valid_patches(x, self.patch_size)).to(tokens.dtype)
        mean = (tokens * valid[..., None]).sum(1) / valid.sum(1, keepdim=True)
        return mean.reshape(x.shape[0], -1)


def series_patches(x: torch.Tensor, patch_size: int, rows_per_sample: int) -> torch.Tensor:
    """Series [B, C, T] -> patch values [B', N, patch_size * C / rows]: for token row r, the
    values of each patch (time, then channel), NaN kept where the series has ended."""
    b, c, t = x.shape
    rows = x.reshape(b * rows_per_sample, c // rows_per_sample, t)
    n = t // patch_size
    patches = rows[..., : n * patch_size].reshape(rows.shape[0], rows.shape[1], n, patch_size)
    return patches.permute(0, 2, 3, 1).reshape(rows.shape[0], n, -1)

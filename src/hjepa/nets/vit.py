"""Vision Transformer encoder, token predictor, and patch pixel helpers.

Layouts: frames [B, C, H, W], tokens [B, N, D], index tensors [B, K] (long). Tokens are numbered
row-major over the patch grid: token t sits at grid row t // grid_w, column t % grid_w. The trunk
(`PatchTransformer`) and the predictor also serve grids of other ranks (video: `video_vit`).
"""

import abc
import math

import torch
from torch import nn

from hjepa.errors import ConfigError, ShapeError, check_tensor
from hjepa.nets.transformer import (
    Block,
    check_indices,
    gather_tokens,
    init_weights,
    rescale_residual_projections,
    sincos_pos_embed,
)


def as_grid(value, name: str, ndim: int | None = None) -> tuple[int, ...]:
    """An int (a square 2-D grid) or a list/tuple of positive ints -> a tuple of them, of length
    `ndim` when given; ConfigError otherwise."""
    grid = (value, value) if isinstance(value, int) else value
    grid = tuple(grid) if isinstance(grid, (list, tuple)) else ()
    ok = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in grid)
    if not grid or not ok or (ndim is not None and len(grid) != ndim):
        what = "a pair of them" if ndim == 2 else "a list of them"
        raise ConfigError(f"{name} must be a positive int or {what}, got {value!r}")
    return grid


class PatchTransformer(nn.Module, abc.ABC):
    """The trunk the image and video ViTs share: input -> patch tokens [B, N, D] -> blocks -> norm.

    `patch_embed` is a strided convolution whose output grid is `grid_size` (2-D for images,
    (t, h, w) for video); its tokens are numbered row-major over that grid and get a fixed sin-cos
    position embedding. When `keep` is given, tokens are subsampled *before* the blocks, so a
    context encoder only pays for visible tokens. There is no class token. Subclasses check their
    input in `check_input`.
    """

    def __init__(
        self,
        patch_embed: nn.Module,
        grid_size: tuple[int, ...],
        embed_dim: int,
        depth: int,
        num_heads: int,
        mlp_ratio: float,
    ):
        super().__init__()
        if depth < 1:
            raise ConfigError(f"depth must be >= 1, got {depth}")
        self.grid_size = grid_size
        self.num_patches = math.prod(grid_size)
        self.num_features = self.embed_dim = embed_dim
        self.patch_embed = patch_embed
        pos = sincos_pos_embed(grid_size, embed_dim).unsqueeze(0)
        self.register_buffer("pos_embed", pos, persistent=False)
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim)
        self.apply(init_weights)
        rescale_residual_projections(self.blocks)

    @abc.abstractmethod
    def check_input(self, x: torch.Tensor) -> None:
        """ShapeError unless x is an input this encoder was built for."""

    def patch_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Input -> position-embedded patch tokens [B, N, D] (before the blocks)."""
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)
        return tokens + self.pos_embed.to(tokens.dtype)

    def forward_features(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """Input -> tokens [B, N, D]; with keep [B, K], only those: [B, K, D]."""
        self.check_input(x)
        tokens = self.patch_tokens(x)
        if keep is not None:
            check_indices("keep", keep, x.shape[0], self.num_patches)
            tokens = gather_tokens(tokens, keep)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_features(x, keep)

    def last_layers(self, x: torch.Tensor, count: int) -> torch.Tensor:
        """Input -> the outputs of the last `count` blocks, each through the final norm,
        concatenated: [B, N, count * D] (count 1 is `forward_features`)."""
        if not 1 <= count <= len(self.blocks):
            raise ConfigError(f"last layers: need 1..{len(self.blocks)} blocks, got {count}")
        self.check_input(x)
        tokens, outputs = self.patch_tokens(x), []
        for block in self.blocks:
            tokens = block(tokens)
            outputs.append(self.norm(tokens))
        return torch.cat(outputs[-count:], dim=-1)


class VisionTransformer(PatchTransformer):
    """ViT encoder: frames [B, C, H, W] -> tokens [B, N, D] (or [B, K, D] with `keep`).

    Patches come from a strided Conv2d and get a fixed 2-D sin-cos position embedding (see
    `PatchTransformer`).
    """

    def __init__(
        self,
        img_size: int | tuple[int, int] = 64,
        patch_size: int = 8,
        in_chans: int = 3,
        embed_dim: int = 192,
        depth: int = 6,
        num_heads: int = 3,
        mlp_ratio: float = 4.0,
    ):
        img_size = as_grid(img_size, "img_size", ndim=2)
        if any(s % patch_size for s in img_size):
            raise ConfigError(f"img_size {img_size} is not divisible by patch {patch_size}")
        grid_size = (img_size[0] // patch_size, img_size[1] // patch_size)
        patch_embed = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size)
        super().__init__(patch_embed, grid_size, embed_dim, depth, num_heads, mlp_ratio)
        self.img_size, self.patch_size, self.in_chans = img_size, patch_size, in_chans

    def check_input(self, x: torch.Tensor) -> None:
        """ShapeError unless x is frames [B, in_chans, *img_size] with finite values."""
        check_tensor("frames", x, ndim=4)
        if x.shape[1] != self.in_chans:
            raise ShapeError(
                f"frames: expected {self.in_chans} channels, got shape {tuple(x.shape)}"
            )
        if tuple(x.shape[2:]) != self.img_size:
            raise ShapeError(
                f"frames: expected spatial size {self.img_size}, got shape {tuple(x.shape)}"
            )


class TokenPredictor(nn.Module):
    """I-JEPA predictor: from context tokens, predict the representations at target positions.

    Context tokens [B, K, in_dim] are projected to the narrower `pred_dim` and tagged with the
    position embedding of their grid index; M mask tokens (one learned vector plus the position
    embedding of each target index) are appended; an optional latent z [B, latent_dim] is
    projected and added to every mask token. After the blocks, the mask-token outputs are
    normalized and projected back to in_dim: [B, M, in_dim].

    `grid_size` is the encoder's token grid: (rows, cols) for images, (t, h, w) for video (an
    int means a square 2-D grid); the position embedding is the sin-cos one of that grid, so
    pred_dim must be a multiple of 2 * len(grid_size).
    """

    def __init__(
        self,
        num_patches: int,
        grid_size: int | tuple[int, ...],
        in_dim: int,
        pred_dim: int = 96,
        depth: int = 2,
        num_heads: int = 3,
        latent_dim: int = 0,
        mlp_ratio: float = 4.0,
    ):
        super().__init__()
        self.grid_size = as_grid(grid_size, "grid_size")
        if math.prod(self.grid_size) != num_patches:
            raise ConfigError(
                f"num_patches {num_patches} != the {math.prod(self.grid_size)} tokens of grid "
                f"{self.grid_size}"
            )
        if depth < 1 or latent_dim < 0:
            raise ConfigError(f"need depth >= 1 and latent_dim >= 0, got {depth}, {latent_dim}")
        self.num_patches = num_patches
        self.num_features = self.in_dim = in_dim
        self.pred_dim = pred_dim
        self.latent_dim = latent_dim
        self.in_proj = nn.Linear(in_dim, pred_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, pred_dim))
        pos = sincos_pos_embed(self.grid_size, pred_dim).unsqueeze(0)
        self.register_buffer("pos_embed", pos, persistent=False)
        self.latent_proj = nn.Linear(latent_dim, pred_dim) if latent_dim > 0 else None
        self.blocks = nn.ModuleList(Block(pred_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(pred_dim)
        self.out_proj = nn.Linear(pred_dim, in_dim)
        self.apply(init_weights)
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        rescale_residual_projections(self.blocks)

    def _check_inputs(self, ctx, ctx_idx, tgt_idx, z) -> None:
        check_tensor("ctx", ctx, ndim=3, last_dim=self.in_dim)
        batch = ctx.shape[0]
        check_indices("ctx_idx", ctx_idx, batch, self.num_patches)
        check_indices("tgt_idx", tgt_idx, batch, self.num_patches)
        if ctx_idx.shape[1] != ctx.shape[1]:
            raise ShapeError(f"ctx_idx has {ctx_idx.shape[1]} indices for {ctx.shape[1]} tokens")
        if self.latent_proj is None:
            if z is not None:
                raise ShapeError("z given but this predictor was built with latent_dim=0")
            return
        if z is None:
            raise ShapeError(f"z [B, {self.latent_dim}] is required (latent_dim > 0)")
        check_tensor("z", z, ndim=2, last_dim=self.latent_dim)
        if z.shape[0] != batch:
            raise ShapeError(f"z: batch size {z.shape[0]} does not match ctx's {batch}")

    def forward(
        self,
        ctx: torch.Tensor,
        ctx_idx: torch.Tensor,
        tgt_idx: torch.Tensor,
        z: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """ctx [B, K, in_dim], ctx_idx [B, K], tgt_idx [B, M], z [B, latent] -> [B, M, in_dim]."""
        self._check_inputs(ctx, ctx_idx, tgt_idx, z)
        batch, num_ctx = ctx.shape[:2]
        pos = self.pos_embed.expand(batch, -1, -1).to(ctx.dtype)
        x = self.in_proj(ctx) + gather_tokens(pos, ctx_idx)
        masks = self.mask_token.to(ctx.dtype) + gather_tokens(pos, tgt_idx)
        if self.latent_proj is not None:
            masks = masks + self.latent_proj(z).unsqueeze(1)
        x = torch.cat([x, masks], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.out_proj(self.norm(x[:, num_ctx:]))


class PatchDecoder(nn.Module):
    """Linear head: tokens [B, M, in_dim] -> pixels per patch [B, M, patch_size**2 * out_chans].

    The pixel layout per patch matches `patchify` (row, column, channel).
    """

    def __init__(self, in_dim: int, patch_size: int, out_chans: int = 3):
        super().__init__()
        self.num_features = in_dim
        self.patch_size = patch_size
        self.out_chans = out_chans
        self.proj = nn.Linear(in_dim, patch_size * patch_size * out_chans)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("tokens", x, ndim=3, last_dim=self.num_features)
        return self.proj(x)


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """Frames [B, C, H, W] -> [B, N, patch*patch*C], patches row-major, pixels (row, col, chan)."""
    check_tensor("images", images, ndim=4)
    b, c, h, w = images.shape
    if h % patch or w % patch:
        raise ShapeError(f"images: size {(h, w)} is not divisible by patch {patch}")
    gh, gw = h // patch, w // patch
    x = images.reshape(b, c, gh, patch, gw, patch).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(b, gh * gw, patch * patch * c)


def unpatchify(
    patches: torch.Tensor,
    patch: int,
    channels: int,
    grid_size: int | tuple[int, int] | None = None,
) -> torch.Tensor:
    """Inverse of `patchify`: [B, N, patch*patch*C] -> frames [B, C, H, W].

    `grid_size` (rows, cols of patches) defaults to a square grid.
    """
    check_tensor("patches", patches, ndim=3, last_dim=patch * patch * channels)
    b, n, _ = patches.shape
    if grid_size is None:
        side = round(n**0.5)
        grid_size = (side, side)
    gh, gw = as_grid(grid_size, "grid_size", ndim=2)
    if gh * gw != n:
        raise ShapeError(f"patches: {n} patches do not fill a {gh}x{gw} grid")
    x = patches.reshape(b, gh, gw, patch, patch, channels).permute(0, 5, 1, 3, 2, 4)
    return x.reshape(b, channels, gh * patch, gw * patch)

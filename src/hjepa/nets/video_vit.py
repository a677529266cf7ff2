"""Video Vision Transformer: the V-JEPA encoder.

Layouts: video [B, C, T, H, W], tokens [B, N, D], index tensors [B, K] (long). A tubelet of
`tubelet` frames x `patch_size` x `patch_size` pixels becomes one token; the token grid is
(T', H', W') = (T / tubelet, H / patch_size, W / patch_size) and tokens are numbered row-major over
it: token n sits at time n // (H' W'), row (n // W') % H', column n % W'.
"""

import torch
from torch import nn

from hjepa.errors import ConfigError, ShapeError, check_tensor
from hjepa.nets.vit import PatchTransformer, as_grid


class VideoVisionTransformer(PatchTransformer):
    """ViT encoder for clips: video [B, C, T, H, W] -> tokens [B, N, D] (or [B, K, D] with `keep`).

    Tubelets come from a strided Conv3d and get a fixed 3-D sin-cos position embedding (time,
    row, column each take a third of the features, so embed_dim must be a multiple of 6); the
    rest is the image ViT's trunk (see `PatchTransformer`): `keep` subsamples tokens before the
    blocks, there is no class token.

    Arguments: img_size (an int or (H, W)) and num_frames T of the clips; patch_size and
    tubelet, the tubelet's spatial side and length, which must divide them; in_chans; embed_dim,
    depth, num_heads, mlp_ratio of the transformer.
    """

    def __init__(
        self,
        img_size: int | tuple[int, int] = 32,
        num_frames: int = 8,
        patch_size: int = 4,
        tubelet: int = 2,
        in_chans: int = 3,
        embed_dim: int = 192,
        depth: int = 6,
        num_heads: int = 3,
        mlp_ratio: float = 4.0,
    ):
        img_size = as_grid(img_size, "img_size", ndim=2)
        sizes = {"num_frames": num_frames, "patch_size": patch_size, "tubelet": tubelet}
        for name, value in {**sizes, "in_chans": in_chans}.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
        if num_frames % tubelet or any(s % patch_size for s in img_size):
            raise ConfigError(
                f"clips of {num_frames} frames of {img_size} pixels do not split into tubelets "
                f"of {tubelet} frames x {patch_size} x {patch_size} pixels"
            )
        grid_size = (num_frames // tubelet, img_size[0] // patch_size, img_size[1] // patch_size)
        kernel = (tubelet, patch_size, patch_size)
        patch_embed = nn.Conv3d(in_chans, embed_dim, kernel, stride=kernel)
        super().__init__(patch_embed, grid_size, embed_dim, depth, num_heads, mlp_ratio)
        self.img_size, self.num_frames, self.in_chans = img_size, num_frames, in_chans
        self.patch_size, self.tubelet = patch_size, tubelet

    def check_input(self, x: torch.Tensor) -> None:
        """ShapeError unless x is video [B, in_chans, num_frames, *img_size] with finite values."""
        check_tensor("video", x, ndim=5)
        expected = (self.in_chans, self.num_frames, *self.img_size)
        if tuple(x.shape[1:]) != expected:
            raise ShapeError(
                f"video: expected [B, C, T, H, W] with (C, T, H, W) = {expected}, "
                f"got shape {tuple(x.shape)}"
            )


def patchify_video(clips: torch.Tensor, tubelet: int, patch: int) -> torch.Tensor:
    """Clips [B, C, T, H, W] -> [B, N, tubelet*patch*patch*C]: the pixels of each token, tokens
    row-major over (t, h, w) as the encoder numbers them, pixels (frame, row, col, channel)."""
    check_tensor("video", clips, ndim=5)
    b, c, t, h, w = clips.shape
    if t % tubelet or h % patch or w % patch:
        raise ShapeError(
            f"video: {t} frames of {(h, w)} do not split into tubelets of {tubelet} x {patch}"
        )
    x = clips.reshape(b, c, t // tubelet, tubelet, h // patch, patch, w // patch, patch)
    x = x.permute(0, 2, 4, 6, 3, 5, 7, 1)
    return x.reshape(b, (t // tubelet) * (h // patch) * (w // patch), tubelet * patch * patch * c)

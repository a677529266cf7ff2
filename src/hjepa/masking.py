"""The per-batch masks a config names: which tokens each sample's context and targets are.

`build_masks(cfg)` is `(global_batch_size, generator) -> dict` of index tensors (or of noise a
model turns into them), drawn in the data loader so that masks are reproducible under DDP and
resumption.
"""

from functools import partial

import torch

from hjepa.config import Config
from hjepa.experiment import SERIES_KINDS, VIDEO_KINDS
from hjepa.jepa.masks import MultiBlockMasker, mask_noise, random_token_mask
from hjepa.jepa.video_masks import FutureFrameMasker, TubeMasker


def build_masks(cfg: Config):
    """`(global_batch_size, generator) -> {"context_idx", "target_idx"}` (time series:
    `{"mask_noise"}`, made into indices by the model), or None."""
    if cfg.model.kind == "language_model":
        return _tube_noise
    if cfg.model.kind in SERIES_KINDS:
        noise = partial(mask_noise, num_tokens=cfg.model.max_patches, block=cfg.mask.block)
        return partial(_noise_as_dict, noise)
    grid = cfg.data.image_size // cfg.model.patch_size
    if cfg.model.kind in VIDEO_KINDS:
        return partial(_as_dict, _video_masker(cfg, grid).sample)
    if cfg.model.kind in ("ijepa", "generative"):
        masker = MultiBlockMasker(
            grid_size=(grid, grid),
            num_targets=cfg.mask.num_targets,
            target_scale=cfg.mask.target_scale,
            target_aspect=cfg.mask.target_aspect,
            context_scale=cfg.mask.context_scale,
        )
        return partial(_as_dict, masker.sample)
    if cfg.model.kind == "mae":
        sample = partial(random_token_mask, num_tokens=grid * grid, mask_ratio=cfg.mask.mask_ratio)
        return partial(_as_dict, sample)
    return None


def _video_masker(cfg: Config, grid: int):
    """V-JEPA's tube masks (mask.video=tube) or the future-frame split (future)."""
    grid_size = (cfg.data.frames // cfg.model.tubelet, grid, grid)
    if cfg.mask.video == "future":
        return FutureFrameMasker(grid_size, context_frames=cfg.mask.context_frames)
    return TubeMasker(grid_size)


def _tube_noise(batch_size, generator) -> dict:
    """Uniform noise [B, 3] that `jepa/language.py` turns into the STP positions s < r < t."""
    return {"stp_noise": torch.rand(batch_size, 3, generator=generator)}


def _noise_as_dict(noise, batch_size, generator) -> dict:
    return {"mask_noise": noise(batch_size, generator=generator)}


def _as_dict(sample, batch_size, generator) -> dict:
    context_idx, target_idx = sample(batch_size, generator=generator)
    return {"context_idx": context_idx, "target_idx": target_idx}

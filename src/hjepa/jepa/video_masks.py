"""Token masks for video (V-JEPA): tubes through all time steps, and past frames -> future ones.

Tokens are numbered row-major over the (T', H', W') token grid of a video encoder (see
`hjepa.nets.video_vit`): spatial cell s = row * W' + col at time step t is token t * H' * W' + s;
a tube is one cell at every time step. Index tensors are [B, K] long and sorted. All randomness
comes from the `torch.Generator` passed in, so equal seeds give equal masks.
"""

import torch

from hjepa.errors import ConfigError
from hjepa.jepa.masks import MultiBlockMasker
from hjepa.nets.vit import as_grid


def _check_batch(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be an int >= 1, got {batch_size!r}")


def tube_tokens(cells: torch.Tensor, frames: int, cells_per_frame: int) -> torch.Tensor:
    """Sorted spatial cells [B, k] -> the tokens of their tubes through `frames` time steps,
    [B, frames * k], sorted (time step by time step)."""
    offsets = torch.arange(frames).view(1, frames, 1) * cells_per_frame
    return (offsets + cells.unsqueeze(1)).reshape(cells.shape[0], -1)


class TubeMasker:
    """V-JEPA multi-block masking: targets are tubes, spatial blocks repeated at every time step.

    `sample(B, generator)` returns (context_idx [B, K], target_idx [B, M]), both sorted:

    * Two mask groups as in V-JEPA: `small_blocks` blocks of spatial area fraction `small_scale`
      (short-range; V-JEPA: 8 of 0.15) and `large_blocks` blocks of `large_scale` (long-range;
      V-JEPA: 2 of 0.7). Each call picks one group for the whole batch, uniformly among the
      groups with at least one block (`sample_group` takes the group's index, 0 = small).
    * The group's blocks are placed like I-JEPA's targets (`MultiBlockMasker` on the H' x W'
      grid): one block shape per call, area fraction drawn from the group's scale range, aspect
      h/w log-uniform in `aspect`; each sample places its blocks independently (they may
      overlap) and re-places them while fewer than `min_context` spatial cells stay uncovered.
    * Targets are the tokens of the union of the tubes; the context is every other token.
    * To stack the batch, each sample's target cells and context cells are trimmed to the
      batch's fewest by random selection of whole cells (as the I-JEPA collator trims tokens),
      so every target tube keeps all T' time steps: M = T' x (fewest target cells), K = T' x
      (fewest context cells).
    """

    def __init__(
        self,
        grid_size: tuple[int, int, int] = (4, 8, 8),
        small_blocks: int = 8,
        small_scale: tuple[float, float] = (0.15, 0.15),
        large_blocks: int = 2,
        large_scale: tuple[float, float] = (0.7, 0.7),
        aspect: tuple[float, float] = (0.75, 1.5),
        min_context: int = 2,
    ):
        self.grid_size = as_grid(grid_size, "grid_size", ndim=3)
        self.num_tokens = self.grid_size[0] * self.grid_size[1] * self.grid_size[2]
        counts = {"small_blocks": small_blocks, "large_blocks": large_blocks}
        for name, count in counts.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ConfigError(f"{name} must be an int >= 0, got {count!r}")
        if small_blocks + large_blocks == 0:
            raise ConfigError("TubeMasker needs small_blocks or large_blocks >= 1, got 0 and 0")
        groups = [(small_blocks, small_scale), (large_blocks, large_scale)]
        self.groups = {
            g: MultiBlockMasker(
                self.grid_size[1:],
                num_targets=blocks,
                target_scale=scale,
                target_aspect=aspect,
                min_context=min_context,
            )
            for g, (blocks, scale) in enumerate(groups)
            if blocks > 0
        }

    def sample(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (context_idx [B, K], target_idx [B, M]) of a randomly picked group; see class doc."""
        active = list(self.groups)
        pick = int(torch.randint(len(active), (), generator=generator))
        return self.sample_group(batch_size, active[pick], generator)

    def sample_group(
        self, batch_size: int, group: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Masks of mask group `group` (0: small blocks, 1: large blocks); see class doc."""
        _check_batch(batch_size)
        if group not in self.groups:
            raise ConfigError(f"mask group must be one of {list(self.groups)}, got {group!r}")
        # the spatial blocks are I-JEPA target blocks: MultiBlockMasker places, redraws and trims
        blocks = self.groups[group]
        shape = blocks.sample_target_shape(generator)
        is_target = blocks._union(blocks._place_targets(batch_size, shape, generator))
        context = blocks._trim_to_min(~is_target, generator)
        target = blocks._trim_to_min(is_target, generator)
        frames, cells = self.grid_size[0], blocks.num_tokens
        return tube_tokens(context, frames, cells), tube_tokens(target, frames, cells)


class FutureFrameMasker:
    """Predict the future: the context is every token of the first `context_frames` time steps
    of the token grid, the targets every token of the others.

    `sample(B, generator)` -> (context_idx [B, context_frames * H' * W'], target_idx
    [B, (T' - context_frames) * H' * W']), the same for every sample; `generator` is unused (the
    split has no randomness) and accepted so that maskers are interchangeable.
    """

    def __init__(self, grid_size: tuple[int, int, int] = (4, 8, 8), context_frames: int = 2):
        self.grid_size = as_grid(grid_size, "grid_size", ndim=3)
        frames = self.grid_size[0]
        if isinstance(context_frames, bool) or not isinstance(context_frames, int):
            raise ConfigError(f"context_frames must be an int, got {context_frames!r}")
        if not 1 <= context_frames < frames:
            raise ConfigError(
                f"context_frames must leave context and future frames: 1 <= context_frames < "
                f"{frames} (the token grid's time steps), got {context_frames}"
            )
        self.context_frames = context_frames
        self.num_tokens = frames * self.grid_size[1] * self.grid_size[2]

    def sample(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (context_idx [B, K], target_idx [B, M]); see class doc."""
        _check_batch(batch_size)
        split = self.context_frames * self.grid_size[1] * self.grid_size[2]
        tokens = torch.arange(self.num_tokens).expand(batch_size, -1)
        return tokens[:, :split].clone(), tokens[:, split:].clone()

"""Token masking strategies for JEPA training.

Tokens are numbered row-major on a (grid_h, grid_w) grid. Index tensors are [B, K] long. All
randomness comes from the `torch.Generator` passed in, so equal seeds give equal masks.
"""

import math

import torch

from hjepa.errors import ConfigError, ShapeError


def _check_range(name: str, pair, low: float, high: float) -> tuple[float, float]:
    lo, hi = (float(v) for v in pair)
    if not (low < lo <= hi <= high):
        raise ConfigError(f"{name} must satisfy {low} < min <= max <= {high}, got {pair!r}")
    return lo, hi


def _uniform(lo: float, hi: float, generator: torch.Generator) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=generator))


class MultiBlockMasker:
    """I-JEPA multi-block masking: several rectangular target blocks and one large context block.

    `sample(B, generator)` returns (context_idx [B, K], target_idx [B, num_targets * h * w]):

    * One target block shape (h, w) is drawn per call, with area fraction from `target_scale`
      and aspect ratio h/w log-uniform in `target_aspect`; all samples share it so the batch
      stacks. Each sample places `num_targets` blocks of that shape independently (they may
      overlap; a sample's blocks are re-placed if they leave fewer than `min_context` tokens
      uncovered); target_idx concatenates them in block order, each block row-major, duplicates
      kept. `split_targets` reshapes it to [B, num_targets, h * w].
    * A square context block (area fraction from `context_scale`, drawn once per call) is placed
      per sample; its tokens minus the union of that sample's targets form the context.
    * If a sample's context has fewer than `min_context` tokens, it is replaced by a random
      subset of its non-target tokens of size max(min_context, round(context scale * #non-target))
      (capped at #non-target), i.e. a scattered context with the block's density.
    * Contexts are then trimmed to the smallest count in the batch by random selection (as the
      I-JEPA collator does) and returned sorted.
    """

    def __init__(
        self,
        grid_size: tuple[int, int] = (8, 8),
        num_targets: int = 4,
        target_scale: tuple[float, float] = (0.15, 0.2),
        target_aspect: tuple[float, float] = (0.75, 1.5),
        context_scale: tuple[float, float] = (0.85, 1.0),
        min_context: int = 4,
    ):
        self.grid_size = (int(grid_size[0]), int(grid_size[1]))
        self.num_tokens = self.grid_size[0] * self.grid_size[1]
        if min(self.grid_size) < 1 or num_targets < 1 or min_context < 1:
            raise ConfigError(
                f"need a non-empty grid, num_targets >= 1 and min_context >= 1; got "
                f"{grid_size}, {num_targets}, {min_context}"
            )
        self.num_targets = num_targets
        self.target_scale = _check_range("target_scale", target_scale, 0.0, 1.0)
        self.target_aspect = _check_range("target_aspect", target_aspect, 0.0, math.inf)
        self.context_scale = _check_range("context_scale", context_scale, 0.0, 1.0)
        self.min_context = min_context
        self.max_redraws = 20
        largest = max(h * w for h, w in self._extreme_shapes())
        if self.num_tokens - largest < min_context:
            raise ConfigError(
                f"a target block of up to {largest} tokens leaves fewer than "
                f"min_context={min_context} of the {self.num_tokens} grid tokens for context"
            )

    def _block_shape(self, scale: float, aspect: float) -> tuple[int, int]:
        """(h, w) with h*w ~ scale * N and h/w ~ aspect, clamped to the grid."""
        area = scale * self.num_tokens
        h = min(max(round(math.sqrt(area * aspect)), 1), self.grid_size[0])
        w = min(max(round(math.sqrt(area / aspect)), 1), self.grid_size[1])
        return h, w

    def _extreme_shapes(self) -> list[tuple[int, int]]:
        """Target shapes at the largest scale for the extreme aspects (and 1 if in range)."""
        lo, hi = self.target_aspect
        aspects = [lo, hi] + ([1.0] if lo <= 1.0 <= hi else [])
        return [self._block_shape(self.target_scale[1], a) for a in aspects]

    def sample_target_shape(self, generator: torch.Generator) -> tuple[int, int]:
        """Draw the (h, w) shared by all target blocks of one call."""
        scale = _uniform(*self.target_scale, generator)
        log_lo, log_hi = (math.log(a) for a in self.target_aspect)
        aspect = math.exp(_uniform(log_lo, log_hi, generator))
        return self._block_shape(scale, aspect)

    def _place_blocks(self, batch: int, count: int, hw, generator) -> torch.Tensor:
        """Random block positions -> token indices [B, count, h*w], each block row-major."""
        (h, w), (gh, gw) = hw, self.grid_size
        tops = torch.randint(0, gh - h + 1, (batch, count, 1, 1), generator=generator)
        lefts = torch.randint(0, gw - w + 1, (batch, count, 1, 1), generator=generator)
        rows = tops + torch.arange(h).view(1, 1, h, 1)
        cols = lefts + torch.arange(w).view(1, 1, 1, w)
        return (rows * gw + cols).reshape(batch, count, h * w)

    def sample(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (context_idx [B, K] sorted, target_idx [B, num_targets * h * w]); see class doc."""
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        target_hw = self.sample_target_shape(generator)
        target_idx = self._place_targets(batch_size, target_hw, generator)
        is_target = self._union(target_idx)

        ctx_scale = _uniform(*self.context_scale, generator)
        ctx_hw = self._block_shape(ctx_scale, 1.0)
        ctx_block = self._place_blocks(batch_size, 1, ctx_hw, generator).reshape(batch_size, -1)
        is_context = torch.zeros_like(is_target).scatter_(1, ctx_block, True) & ~is_target
        self._fill_small_contexts(is_context, is_target, ctx_scale, generator)
        return self._trim_to_min(is_context, generator), target_idx

    def _union(self, target_idx: torch.Tensor) -> torch.Tensor:
        """[B, T] indices -> [B, N] bool, True at every index present."""
        is_target = torch.zeros(target_idx.shape[0], self.num_tokens, dtype=torch.bool)
        return is_target.scatter_(1, target_idx, True)

    def _place_targets(self, batch: int, hw: tuple[int, int], generator) -> torch.Tensor:
        """Target indices [B, num_targets * h * w]; re-place a sample's blocks while they leave
        fewer than min_context tokens uncovered (at most `max_redraws` times)."""
        free_needed = self.num_tokens - self.min_context
        target_idx = self._place_blocks(batch, self.num_targets, hw, generator).reshape(batch, -1)
        for _ in range(self.max_redraws):
            bad = torch.nonzero(self._union(target_idx).sum(1) > free_needed).flatten()
            if len(bad) == 0:
                return target_idx
            redrawn = self._place_blocks(len(bad), self.num_targets, hw, generator)
            target_idx[bad] = redrawn.reshape(len(bad), -1)
        raise ConfigError(
            f"{self.num_targets} target blocks of shape {hw} keep covering all but fewer than "
            f"min_context={self.min_context} of {self.num_tokens} tokens; use fewer/smaller targets"
        )

    def _fill_small_contexts(self, is_context, is_target, ctx_scale, generator) -> None:
        """In place: contexts under min_context become a random subset of non-target tokens."""
        for i in torch.nonzero(is_context.sum(1) < self.min_context).flatten().tolist():
            free = torch.nonzero(~is_target[i]).flatten()
            size = min(len(free), max(self.min_context, round(ctx_scale * len(free))))
            chosen = free[torch.randperm(len(free), generator=generator)[:size]]
            is_context[i] = False
            is_context[i, chosen] = True

    def _trim_to_min(self, is_context: torch.Tensor, generator) -> torch.Tensor:
        """Random subset of each row's True positions, all of the batch-minimum size, sorted."""
        keep = int(is_context.sum(1).min())
        scores = torch.rand(is_context.shape, generator=generator)
        scores[~is_context] = 2.0  # never chosen before every context token is
        chosen = scores.argsort(dim=1)[:, :keep]
        return chosen.sort(dim=1).values

    def split_targets(self, target_idx: torch.Tensor) -> torch.Tensor:
        """target_idx [B, num_targets * M] -> [B, num_targets, M] (one row per target block)."""
        return target_idx.reshape(target_idx.shape[0], self.num_targets, -1)


def num_target_tokens(target_idx: torch.Tensor, num_targets: int) -> int:
    """Tokens per target block M in a [B, num_targets * M] target index tensor."""
    total = target_idx.shape[1]
    if total % num_targets:
        raise ConfigError(f"{total} target indices do not split into {num_targets} blocks")
    return total // num_targets


def random_token_mask(
    batch_size: int, num_tokens: int, mask_ratio: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """MAE-style random masking with a fixed count per sample.

    Returns (keep_idx [B, K], masked_idx [B, M]), both sorted, K + M = num_tokens,
    M = round(mask_ratio * num_tokens); each row of the two together is a permutation of
    0..num_tokens-1.
    """
    num_masked = round(mask_ratio * num_tokens)
    if batch_size < 1 or not (1 <= num_masked <= num_tokens - 1):
        raise ConfigError(
            f"mask_ratio {mask_ratio} of {num_tokens} tokens must mask at least one token and "
            f"keep at least one (batch_size {batch_size} must be >= 1)"
        )
    order = torch.rand(batch_size, num_tokens, generator=generator).argsort(dim=1)
    keep = order[:, : num_tokens - num_masked].sort(dim=1).values
    masked = order[:, num_tokens - num_masked :].sort(dim=1).values
    return keep, masked


def mask_noise(
    batch_size: int, num_tokens: int, generator: torch.Generator, block: int = 1
) -> torch.Tensor:
    """Random scores [B, N] that order tokens for `masks_from_noise`. With `block` > 1 the
    tokens of each run of `block` neighbours (at a random offset per sample) share a score, so
    the tokens a mask takes come in contiguous blocks."""
    if block < 1:
        raise ConfigError(f"mask block must be >= 1 token, got {block}")
    if block == 1:
        return torch.rand(batch_size, num_tokens, generator=generator)
    blocks = torch.rand(batch_size, num_tokens // block + 2, generator=generator)
    offset = torch.randint(block, (batch_size, 1), generator=generator)
    which = (torch.arange(num_tokens) + offset) // block
    within = torch.arange(num_tokens) / (num_tokens * blocks.shape[1])  # keeps a block's order
    return blocks.gather(1, which) + within


def masks_from_noise(
    noise: torch.Tensor, valid: torch.Tensor, mask_ratio: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Context and target indices [B, K], [B, M] (sorted) among each sample's valid tokens.

    With n the fewest valid tokens of any sample in the batch, M = round(mask_ratio * n)
    (at least 1, at most n - 1) and K = n - M: every sample's M lowest-scored valid tokens are
    its targets, the next K its context. Padding (valid False) is never drawn.
    """
    if noise.shape != valid.shape:
        raise ShapeError(f"mask noise {tuple(noise.shape)} and valid {tuple(valid.shape)} differ")
    fewest = int(valid.sum(1).min())
    if fewest < 2:
        raise ConfigError(
            f"a series in the batch has {fewest} whole patch(es); masking needs at least 2 "
            "(use a smaller model.patch_size)"
        )
    num_masked = min(max(round(mask_ratio * fewest), 1), fewest - 1)
    order = noise.masked_fill(~valid, float("inf")).argsort(dim=1)
    target = order[:, :num_masked].sort(dim=1).values
    context = order[:, num_masked:fewest].sort(dim=1).values
    return context, target

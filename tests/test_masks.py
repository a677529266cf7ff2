"""Tests for hjepa.jepa.masks: I-JEPA multi-block masks and random token masks."""

import pytest
import torch

from hjepa.errors import ConfigError
from hjepa.jepa.masks import MultiBlockMasker, num_target_tokens, random_token_mask


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_same_seed_same_masks_different_seed_different_masks():
    masker = MultiBlockMasker()
    a, b, c = (masker.sample(8, gen(s)) for s in (1, 1, 2))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not (torch.equal(a[1], c[1]) and torch.equal(a[0], c[0]))


@pytest.mark.parametrize("grid", [(8, 8), (6, 10), (14, 14)])
def test_shapes_ranges_disjointness_and_sorting(grid):
    masker = MultiBlockMasker(grid_size=grid)
    n = grid[0] * grid[1]
    g = gen()
    for _ in range(10):
        ctx, tgt = masker.sample(16, g)
        assert ctx.dtype == tgt.dtype == torch.long
        assert ctx.shape[0] == tgt.shape[0] == 16
        assert ctx.shape[1] >= masker.min_context
        assert tgt.shape[1] % masker.num_targets == 0
        assert int(ctx.min()) >= 0 and int(ctx.max()) < n
        assert int(tgt.min()) >= 0 and int(tgt.max()) < n
        assert torch.all(ctx[:, 1:] > ctx[:, :-1])  # sorted, no duplicates
        for c, t in zip(ctx.tolist(), tgt.tolist(), strict=True):
            assert not set(c) & set(t)


def test_target_blocks_are_rectangles_of_one_shared_shape():
    grid_w = 10
    masker = MultiBlockMasker(grid_size=(6, grid_w), num_targets=3)
    g = gen(3)
    for _ in range(10):
        _, tgt = masker.sample(5, g)
        blocks = masker.split_targets(tgt)
        m = num_target_tokens(tgt, 3)
        assert blocks.shape == (5, 3, m)
        shapes = set()
        for block in blocks.reshape(-1, m):
            rows, cols = block // grid_w, block % grid_w
            h = int(rows.max() - rows.min()) + 1
            w = int(cols.max() - cols.min()) + 1
            assert h * w == m == len(set(block.tolist()))  # fills its bounding box exactly
            # row-major order inside the block
            assert torch.equal(block, (rows * grid_w + cols).sort().values)
            shapes.add((h, w))
        assert len(shapes) == 1


@pytest.mark.parametrize("num_targets", [2, 3])
def test_small_grids_keep_min_context(num_targets):
    """2 targets: the 2x2 context block always falls below min_context and is topped up;
    3 targets: non-overlapping 2x2 blocks leave 4 < 5 free tokens and must be re-placed."""
    masker = MultiBlockMasker(
        grid_size=(4, 4),
        num_targets=num_targets,
        target_scale=(0.25, 0.25),
        target_aspect=(1.0, 1.0),
        context_scale=(0.3, 0.3),
        min_context=5,
    )
    ctx, tgt = masker.sample(32, gen())
    assert tgt.shape == (32, 4 * num_targets)
    assert ctx.shape[1] >= 5
    for c, t in zip(ctx.tolist(), tgt.tolist(), strict=True):
        assert not set(c) & set(t)


def test_invalid_configs_raise():
    with pytest.raises(ConfigError):
        MultiBlockMasker(target_scale=(0.3, 0.2))
    with pytest.raises(ConfigError, match="min_context"):
        MultiBlockMasker(grid_size=(4, 4), target_scale=(0.9, 1.0), min_context=4)


def test_random_token_mask_partitions_tokens_deterministically():
    keep, masked = random_token_mask(4, 20, 0.75, gen(5))
    assert keep.shape == (4, 5) and masked.shape == (4, 15)
    both = torch.cat([keep, masked], dim=1).sort(dim=1).values
    assert torch.equal(both, torch.arange(20).expand(4, -1))
    assert torch.all(keep[:, 1:] > keep[:, :-1])
    again = random_token_mask(4, 20, 0.75, gen(5))
    assert torch.equal(again[0], keep) and torch.equal(again[1], masked)
    assert not torch.equal(keep[0], keep[1]) or not torch.equal(keep[1], keep[2])
    with pytest.raises(ConfigError):
        random_token_mask(2, 4, 0.99, gen())

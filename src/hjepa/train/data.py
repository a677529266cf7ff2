"""Batches that are the same however many processes share them, and after a resume.

Global batch `g` (= the training step) is a fixed set of dataset indices: epoch `g // per_epoch`
is a seeded permutation, cut into global batches of `batch_size * world` indices. Rank `r` takes
every `world`-th index of it, so the ranks' batches together are exactly the single-process
batch. Per-batch randomness (masks) is drawn for the whole global batch from a generator seeded by
`(seed, g)` and sliced the same way, so it too matches the single-process run.
"""

from collections.abc import Callable, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from hjepa.errors import ConfigError


class GlobalBatchSampler(Sampler):
    """Yields, for steps `start..stop-1`, this rank's list of `(index, step)` keys."""

    def __init__(self, num_samples, batch_size, world, rank, seed, start, stop):
        self.per_epoch = num_samples // (batch_size * world)
        if self.per_epoch == 0:
            raise ConfigError(
                f"data.num_samples={num_samples} is smaller than one global batch "
                f"({batch_size} x {world} processes)"
            )
        self.num_samples, self.batch_size = num_samples, batch_size
        self.world, self.rank, self.seed = world, rank, seed
        self.start, self.stop = start, stop

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch, perm = None, None
        global_size = self.batch_size * self.world
        for step in range(self.start, self.stop):
            if step // self.per_epoch != epoch:
                epoch = step // self.per_epoch
                gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
                perm = torch.randperm(self.num_samples, generator=gen)
            offset = (step % self.per_epoch) * global_size
            chunk = perm[offset : offset + global_size][self.rank :: self.world]
            yield [(int(i), step) for i in chunk]


class KeyedDataset(Dataset):
    """Wraps a dataset of dicts so `(index, step)` keys reach the collator."""

    def __init__(self, base: Dataset):
        self.base = base

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        index, step = key
        return {**self.base[index], "step": step}


class StepCollator:
    """Stacks samples and adds per-step random extras drawn for the whole global batch.

    `extras(global_batch_size, generator) -> dict of tensors [global_batch, ...]`, e.g. masks.
    """

    def __init__(self, extras: Callable | None, seed: int, world: int, rank: int):
        self.extras, self.seed, self.world, self.rank = extras, seed, world, rank

    def __call__(self, samples: list[dict]) -> dict:
        batch = default_collate(samples)
        step = int(batch.pop("step")[0])
        if self.extras is not None:
            gen = torch.Generator().manual_seed(self.seed * 7_919 + step)
            drawn = self.extras(len(samples) * self.world, gen)
            batch.update({k: v[self.rank :: self.world] for k, v in drawn.items()})
        return batch


def make_loader(dataset, extras, batch_size, world, rank, seed, start, stop, workers=0):
    sampler = GlobalBatchSampler(len(dataset), batch_size, world, rank, seed, start, stop)
    collate = StepCollator(extras, seed, world, rank)
    return DataLoader(
        KeyedDataset(dataset),
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=workers,
        persistent_workers=False,
    )

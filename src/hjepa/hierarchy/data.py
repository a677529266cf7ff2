"""Training samples for the levels above the world model, drawn from encoded episodes.

The trajectory store's training episodes are encoded once by the frozen level-1 world model
(latents [T, D], actions [T - 1, A]). Item `i` of `LatentSequences` holds, for every level above
level 1, one sequence in one episode: `sequence` + 1 level-1 latents at times t_0 < t_1 < ...,
each gap t_j+1 - t_j drawn uniformly from that level's `gap` range, and the primitive action
chunks between them (zero-padded to the longest gap, `lengths` valid). Item `i` depends only on
`(seed, i)`, so batches are the same after a resume and under any number of processes.
"""

import numpy as np
import torch
from torch.utils.data import Dataset

from hjepa.errors import ConfigError


class LatentSequences(Dataset):
    def __init__(self, episodes: list, gaps: list, sequences: list, seed: int = 0):
        """`episodes`: (latents [T, D], actions [T - 1, A]) pairs; per level above 1: its gap
        range (low, high) in env steps and its number of macro-steps per sample."""
        if not episodes:
            raise ConfigError("hierarchy training needs at least one encoded episode")
        self.latents = [np.asarray(e[0], dtype=np.float32) for e in episodes]
        self.actions = [np.asarray(e[1], dtype=np.float32) for e in episodes]
        self.gaps, self.sequences, self.seed = list(gaps), list(sequences), int(seed)
        lengths = np.array([len(a) for a in self.actions])  # env steps per episode
        self.eligible = []
        for (low, high), k in zip(self.gaps, self.sequences, strict=True):
            if not 1 <= low <= high:
                raise ConfigError(f"hierarchy gap range ({low}, {high}) is empty")
            fits = np.flatnonzero(lengths >= k * high)
            if not len(fits):
                raise ConfigError(
                    f"hierarchy gap range ({low}, {high}) x {k} macro-steps needs episodes of "
                    f"{k * high} steps; the store's longest has {int(lengths.max())}. Shorten the "
                    "gap or the sequence, or collect longer episodes"
                )
            self.eligible.append(fits)
        self.size = int(lengths.sum())

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict:
        rng = np.random.default_rng((self.seed, int(index)))
        item = {"index": int(index)}
        for level, (gap, k, fits) in enumerate(
            zip(self.gaps, self.sequences, self.eligible, strict=True), start=2
        ):
            states, chunks, lengths = self._sample(rng, gap, k, fits)
            item[f"level{level}_states"] = states
            item[f"level{level}_chunks"] = chunks
            item[f"level{level}_lengths"] = lengths
        return item

    def _sample(self, rng, gap, k: int, fits):
        episode = int(fits[rng.integers(len(fits))])
        latents, actions = self.latents[episode], self.actions[episode]
        steps = rng.integers(gap[0], gap[1] + 1, size=k)
        start = int(rng.integers(len(actions) - int(steps.sum()) + 1))
        times = start + np.concatenate([[0], np.cumsum(steps)])
        offsets = np.arange(gap[1])
        valid = offsets[None, :] < steps[:, None]  # [k, longest gap]
        index = np.minimum(times[:-1, None] + offsets[None, :], len(actions) - 1)
        chunks = np.where(valid[..., None], actions[index], 0.0).astype(np.float32)
        states = torch.from_numpy(latents[times])
        return states, torch.from_numpy(chunks), torch.from_numpy(steps)

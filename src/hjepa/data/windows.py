"""Fixed-length windows of consecutive frames, for training world models on a trajectory store.

A window is `num_frames` frames taken every `frame_skip` steps, all inside one episode. Windows
are numbered episode by episode; finding window `i` is one binary search over the cumulative
window counts, and reading it is one memory-map slice per array (no loop over frames).
"""

import numpy as np
import torch
from torch.utils.data import Dataset

from hjepa.data.store import TrajectoryStore
from hjepa.errors import ConfigError


def split_episodes(
    num_episodes: int, held_out_fraction: float, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Split episode indices `0..num_episodes-1` into disjoint sorted (train, held-out) lists.

    The held-out share is `round(num_episodes * held_out_fraction)`, at least one episode when the
    fraction is positive and there are two or more episodes; the split depends only on the seed.
    """
    if not 0.0 <= held_out_fraction < 1.0:
        raise ConfigError(f"held_out_fraction must be in [0, 1), got {held_out_fraction}")
    held = int(round(num_episodes * held_out_fraction))
    if held_out_fraction > 0 and num_episodes >= 2:
        held = min(max(held, 1), num_episodes - 1)
    order = np.random.default_rng(seed).permutation(num_episodes)
    return sorted(order[held:].tolist()), sorted(order[:held].tolist())


class WindowDataset(Dataset):
    """All windows of `num_frames` frames, `frame_skip` steps apart, lying inside one episode.

    Item `i` is a dict: `obs` uint8 [T, C, H, W] as stored (models scale it; moving bytes is 4x
    cheaper than moving floats), `actions` float32 [T-1, A] (with
    `frame_skip > 1`, the sum of the `frame_skip` actions between two kept frames: the net
    commanded displacement), `states` float32 [T, S], `index` (the int `i`).
    `episodes` restricts the windows to those episode numbers (for train/held-out splits).

    Works with DataLoader workers (fork or spawn): each worker opens its own memory maps. Each
    process checks a shard's checksums on its first access; call `store.verify()` once before
    making the DataLoader and the workers inherit that instead of each reading the whole store.
    """

    def __init__(
        self,
        store: TrajectoryStore | str,
        num_frames: int = 17,
        frame_skip: int = 1,
        episodes: list[int] | None = None,
    ):
        if num_frames < 1 or frame_skip < 1:
            raise ConfigError(
                f"num_frames and frame_skip must be >= 1, got {num_frames} and {frame_skip}"
            )
        self.store = store if isinstance(store, TrajectoryStore) else TrajectoryStore(store)
        self.num_frames, self.frame_skip = num_frames, frame_skip
        self.span = (num_frames - 1) * frame_skip + 1
        self.episodes = self._episode_list(episodes)
        lengths = self.store.episode_lengths[self.episodes]
        counts = np.maximum(lengths - self.span + 1, 0)
        self._cumulative = np.cumsum(counts)

    def _episode_list(self, episodes) -> np.ndarray:
        n = len(self.store)
        if episodes is None:
            return np.arange(n, dtype=np.int64)
        chosen = np.asarray(list(episodes), dtype=np.int64)
        if chosen.size and (chosen.min() < 0 or chosen.max() >= n):
            raise ConfigError(f"episode indices must lie in [0, {n}), got {chosen.min()}..")
        return chosen

    def __len__(self) -> int:
        return int(self._cumulative[-1]) if self._cumulative.size else 0

    def locate(self, index: int) -> tuple[int, int]:
        """(episode number, first frame within the episode) of window `index`."""
        if not 0 <= index < len(self):
            raise IndexError(f"window {index} out of range for {len(self)} windows")
        slot = int(np.searchsorted(self._cumulative, index, side="right"))
        before = int(self._cumulative[slot - 1]) if slot else 0
        return int(self.episodes[slot]), index - before

    def __getitem__(self, index: int) -> dict:
        index = int(index)
        episode, start = self.locate(index)
        stop = start + self.span
        views = self.store.frames(episode, start, stop, self.frame_skip)
        obs = torch.from_numpy(np.array(views["obs"]))
        actions = self.store.frames(episode, start, stop - 1)["actions"]
        actions = np.asarray(actions, dtype=np.float32)
        if self.frame_skip > 1:
            shape = (self.num_frames - 1, self.frame_skip, self.store.action_dim)
            actions = actions.reshape(shape).sum(axis=1)
        return {
            "obs": obs,
            "actions": torch.from_numpy(np.array(actions, dtype=np.float32)),
            "states": torch.from_numpy(np.array(views["states"], dtype=np.float32)),
            "index": index,
        }

"""Reading a trajectory store: episodes as memory-mapped views (format in `hjepa.data.format`).

The store's writer and errors are importable from here too, as the public face of the store.
"""

import hashlib
import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hjepa.data.facts import EnvFacts
from hjepa.data.format import ARRAYS, CorruptShardError, StoreError, as_json, read_meta
from hjepa.data.shards import file_crc32
from hjepa.data.writer import TrajectoryWriter
from hjepa.errors import ConfigError

__all__ = ["CorruptShardError", "StoreError", "TrajectoryStore", "TrajectoryWriter"]


@dataclass
class _Shard:
    name: str
    record: dict
    episode_starts: np.ndarray


class TrajectoryStore:
    """Reads a store written by `TrajectoryWriter`; episodes come back as memory-mapped views.

    Opening checks meta.json and that every shard's files exist with their recorded sizes.
    Checksums are verified on the first access to each shard (`verify_checksums=False` skips
    that) or all at once with `verify()`. With `skip_corrupt=True` every shard is verified on
    opening and the bad ones are dropped with a warning naming them; otherwise a bad shard raises
    CorruptShardError (size problems on opening, checksum problems on access).

    The store pickles without its memory maps (they reopen lazily), so it can go to DataLoader
    worker processes.
    """

    def __init__(
        self,
        path,
        skip_corrupt: bool = False,
        verify_checksums: bool = True,
        in_memory: bool = False,
    ):
        self.path = Path(path)
        self.meta = read_meta(self.path)
        self.verify_checksums, self.in_memory = verify_checksums, in_memory
        self.skipped: list[str] = []
        shards = []
        for record in self.meta["shards"]:
            try:
                shards.append(self._open_shard(record, full=skip_corrupt))
            except CorruptShardError as exc:
                if not skip_corrupt:
                    raise
                self.skipped.append(str(exc))
        if self.skipped:
            warnings.warn(
                f"trajectory store {self.path}: skipped {len(self.skipped)} corrupt shard(s): "
                + "; ".join(self.skipped),
                stacklevel=2,
            )
        self._shards = shards
        self._verified = set(range(len(shards))) if skip_corrupt else set()
        self._build_index()
        self._arrays: dict[int, dict[str, np.ndarray]] = {}
        self._pid = os.getpid()

    # -- opening and checking

    def _open_shard(self, record: dict, full: bool) -> _Shard:
        name = record["name"]
        folder = self.path / name
        for file, expected in record["files"].items():
            file_path = folder / file
            if not file_path.is_file():
                raise CorruptShardError(f"{folder}: {file} is missing")
            size = file_path.stat().st_size
            if size != expected["bytes"]:
                raise CorruptShardError(
                    f"{folder}: {file} has {size} bytes, expected {expected['bytes']} (truncated?)"
                )
        if full:
            self._check_crc(name, record)
        try:
            starts = np.load(folder / "episode_starts.npy")
        except (OSError, ValueError) as exc:
            raise CorruptShardError(f"{folder}: episode_starts.npy is unreadable ({exc})") from exc
        valid = (
            starts.ndim == 1
            and starts.size == record["episodes"]
            and starts.size > 0
            and starts[0] == 0
            and bool(np.all(np.diff(starts) > 0))
            and starts[-1] < record["frames"]
        )
        if not valid:
            raise CorruptShardError(f"{folder}: episode_starts.npy does not match meta.json")
        return _Shard(name, record, starts.astype(np.int64))

    def _check_crc(self, name: str, record: dict) -> None:
        for file, expected in record["files"].items():
            crc = file_crc32(self.path / name / file)
            if crc != expected["crc32"]:
                raise CorruptShardError(
                    f"{self.path / name}: {file} fails its checksum "
                    f"(crc32 {crc}, expected {expected['crc32']}): the file is corrupt"
                )

    def verify(self) -> None:
        """Check every shard's checksums now; CorruptShardError naming every bad shard."""
        problems = []
        for index, shard in enumerate(self._shards):
            try:
                self._check_crc(shard.name, shard.record)
                self._verified.add(index)
            except CorruptShardError as exc:
                problems.append(str(exc))
        if problems:
            raise CorruptShardError("; ".join(problems))

    def _build_index(self) -> None:
        """Per episode: shard number, first frame within the shard, length (O(1) look-up)."""
        shard_ids, starts, lengths = [], [], []
        for index, shard in enumerate(self._shards):
            ends = np.append(shard.episode_starts[1:], shard.record["frames"])
            shard_ids.append(np.full(shard.episode_starts.size, index, dtype=np.int64))
            starts.append(shard.episode_starts)
            lengths.append(ends - shard.episode_starts)
        empty = np.zeros(0, dtype=np.int64)
        self._episode_shard = np.concatenate(shard_ids) if shard_ids else empty
        self._episode_start = np.concatenate(starts) if starts else empty
        self.episode_lengths = np.concatenate(lengths) if lengths else empty

    # -- description

    def __len__(self) -> int:
        return int(self._episode_shard.size)

    @property
    def num_frames(self) -> int:
        return int(self.episode_lengths.sum())

    @property
    def num_shards(self) -> int:
        return len(self._shards)

    @property
    def env_id(self) -> str:
        return self.meta["env_id"]

    @property
    def env_kwargs(self) -> dict:
        return dict(self.meta.get("env_kwargs", {}))

    @property
    def observation_shape(self) -> tuple[int, ...]:
        return tuple(self.meta["observation"]["shape"])

    @property
    def action_dim(self) -> int:
        return int(self.meta["action_dim"])

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(self.meta.get("state_names", ()))

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the env id and every shard file's size and checksum: equal fingerprints,
        the same data."""
        content = [self.env_id, [shard.record["files"] for shard in self._shards]]
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    @property
    def facts(self) -> EnvFacts:
        """What the store records of its env: state, position and layout names, units."""
        return EnvFacts.from_meta(self.meta)

    def __repr__(self) -> str:
        return (
            f"TrajectoryStore({str(self.path)!r}, env={self.env_id!r}, episodes={len(self)}, "
            f"frames={self.num_frames}, shards={self.num_shards})"
        )

    def check_env(self, env_id: str, env_kwargs: Mapping | None = None) -> None:
        """ConfigError unless this store was collected in `env_id` (and `env_kwargs`, if given)."""
        if env_id != self.env_id:
            raise ConfigError(
                f"trajectory store {self.path} was collected in {self.env_id!r}, "
                f"but {env_id!r} was asked for; collect data for {env_id!r} or point to its store"
            )
        if env_kwargs is not None and as_json(env_kwargs) != self.env_kwargs:
            raise ConfigError(
                f"trajectory store {self.path} was collected with env kwargs {self.env_kwargs}, "
                f"but {dict(env_kwargs)} was asked for"
            )

    # -- access

    def shard_arrays(self, index: int) -> dict[str, np.ndarray]:
        """Memory maps of shard `index` (checksums verified on first access), or the arrays
        read into memory with `in_memory=True`: training reads random windows all over the
        store, and memory-mapped pages can be evicted and faulted back in again and again."""
        if os.getpid() != self._pid:  # a forked worker: open its own maps
            self._arrays, self._pid = {}, os.getpid()
        arrays = self._arrays.get(index)
        if arrays is None:
            shard = self._shards[index]
            if self.verify_checksums and index not in self._verified:
                self._check_crc(shard.name, shard.record)
                self._verified.add(index)
            folder = self.path / shard.name
            try:
                mode = None if self.in_memory else "r"
                arrays = {
                    name: np.load(folder / f"{name}.npy", mmap_mode=mode) for name in ARRAYS[:3]
                }
            except (OSError, ValueError) as exc:
                raise CorruptShardError(f"{folder}: unreadable ({exc})") from exc
            self._arrays[index] = arrays
        return arrays

    def shard_episode_starts(self, index: int) -> np.ndarray:
        """Frame offsets of the episodes of shard `index` within that shard."""
        return self._shards[index].episode_starts

    def locate(self, episode: int) -> tuple[int, int, int]:
        """(shard index, first frame within the shard, length) of episode number `episode`."""
        n = len(self)
        if not -n <= episode < n:
            raise IndexError(f"episode {episode} out of range for a store of {n} episodes")
        episode %= n
        return (
            int(self._episode_shard[episode]),
            int(self._episode_start[episode]),
            int(self.episode_lengths[episode]),
        )

    def frames(self, episode: int, start: int = 0, stop: int | None = None, step: int = 1) -> dict:
        """Memory-mapped views of frames `start:stop:step` of one episode (obs, actions, states)."""
        shard, first, length = self.locate(episode)
        begin, end, stride = slice(start, stop, step).indices(length)
        arrays = self.shard_arrays(shard)
        window = slice(first + begin, first + end, stride)
        return {name: arrays[name][window] for name in ARRAYS[:3]}

    def episode(self, episode: int) -> dict:
        """The whole episode as memory-mapped views: obs, actions, states."""
        return self.frames(episode)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_arrays"] = {}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._pid = os.getpid()

"""Trajectories on disk: one folder, episode-contiguous shards of raw memory-mappable `.npy` files.

Layout of a store folder::

    meta.json              format version, env, shapes, policy, seed, versions, list of shards
    shard_00000/obs.npy             uint8   [F, C, H, W]
    shard_00000/actions.npy         float32 [F, A]  action at frame f leads to frame f+1;
                                                    the last frame of an episode has NaN
    shard_00000/states.npy          float32 [F, S]
    shard_00000/episode_starts.npy  int64   [E]     frame offset of each episode in the shard

Episodes never cross shards and may have different lengths. A shard is written into a temporary
folder and renamed into place, then `meta.json` is replaced atomically, so a killed writer never
leaves a shard that `meta.json` lists but that is half written. Every file's byte size and CRC-32
is recorded: opening a store checks sizes (a truncated shard is found at once), checksums are
checked on the first access to a shard or all at once with `TrajectoryStore.verify()`.
"""

import datetime
import io
import json
import os
import shutil
import uuid
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from hjepa import __version__
from hjepa.errors import ConfigError, HjepaError, ShapeError
from hjepa.io import write_json_atomic

FORMAT = "hjepa-trajectories"
FORMAT_VERSION = 1
META = "meta.json"
ARRAYS = ("obs", "actions", "states", "episode_starts")
CHUNK = 1 << 22


class StoreError(HjepaError, OSError):
    """A trajectory store is missing, unreadable, or cannot be written where asked."""


class CorruptShardError(StoreError):
    """A shard of a trajectory store is missing a file, truncated, or fails its checksum."""


# ----------------------------------------------------------------------------- writing


def shard_name(index: int) -> str:
    """Folder name of shard number `index`."""
    return f"shard_{index:05d}"


def check_shard_arrays(obs, actions, states, episode_starts, obs_shape=None, action_dim=None):
    """Raise ShapeError unless the four arrays form a valid shard; return them as numpy arrays."""
    obs, actions = np.asarray(obs), np.asarray(actions)
    states, starts = np.asarray(states), np.asarray(episode_starts)
    frames = obs.shape[0] if obs.ndim else 0
    if obs.dtype != np.uint8 or obs.ndim < 2 or frames == 0:
        raise ShapeError(f"obs: expected uint8 [F, ...] with F > 0, got {obs.dtype} {obs.shape}")
    if obs_shape is not None and tuple(obs.shape[1:]) != tuple(obs_shape):
        raise ShapeError(f"obs: expected frames of shape {tuple(obs_shape)}, got {obs.shape[1:]}")
    if actions.ndim != 2 or actions.shape[0] != frames:
        raise ShapeError(f"actions: expected [{frames}, A], got {actions.shape}")
    if action_dim is not None and actions.shape[1] != action_dim:
        raise ShapeError(f"actions: expected last dimension {action_dim}, got {actions.shape}")
    if states.ndim != 2 or states.shape[0] != frames:
        raise ShapeError(f"states: expected [{frames}, S], got {states.shape}")
    if starts.ndim != 1 or starts.size == 0 or starts.dtype.kind not in "iu":
        raise ShapeError(f"episode_starts: expected a non-empty integer vector, got {starts}")
    if starts[0] != 0 or np.any(np.diff(starts) <= 0) or starts[-1] >= frames:
        raise ShapeError(f"episode_starts must start at 0, increase, and stay below {frames}")
    actions, states = actions.astype(np.float32, copy=False), states.astype(np.float32, copy=False)
    return obs, actions, states, starts


def write_shard_files(folder: Path, obs, actions, states, episode_starts) -> dict:
    """Write one shard's `.npy` files into `folder` (created); return its meta.json record.

    The record holds the episode and frame counts and, per file, the byte size and CRC-32. This is
    a plain function so worker processes can write shards in parallel; the writer then renames the
    folder into place with `TrajectoryWriter.commit_shard`.
    """
    obs, actions, states, starts = check_shard_arrays(obs, actions, states, episode_starts)
    arrays = {
        "obs": np.ascontiguousarray(obs),
        "actions": np.ascontiguousarray(actions),
        "states": np.ascontiguousarray(states),
        "episode_starts": np.ascontiguousarray(starts, dtype=np.int64),
    }
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=False)
    files = {f"{name}.npy": _save_npy(folder / f"{name}.npy", arr) for name, arr in arrays.items()}
    return {"episodes": int(starts.size), "frames": int(obs.shape[0]), "files": files}


def _save_npy(path: Path, array: np.ndarray) -> dict:
    """Save `array` as a `.npy` file; return its byte size and CRC-32 (computed while writing)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    head = header.getvalue()
    body = memoryview(array.reshape(-1).view(np.uint8)) if array.size else b""
    with open(path, "wb") as f:
        f.write(head)
        f.write(body)
    crc = zlib.crc32(body, zlib.crc32(head))
    return {"bytes": len(head) + len(body), "crc32": f"{crc:08x}"}


def file_crc32(path: Path) -> str:
    """CRC-32 of a file, read in chunks, as 8 hex digits."""
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            crc = zlib.crc32(chunk, crc)
    return f"{crc:08x}"


def library_versions() -> dict:
    """Versions of hjepa and the libraries that shape the data (None when not installed)."""
    versions = {"hjepa": __version__, "numpy": np.__version__}
    for name in ("torch", "gymnasium"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def as_json(value):
    """`value` as it reads back from meta.json (tuples become lists, unknown types strings)."""
    return json.loads(json.dumps(value, default=str))


def _now() -> str:
    return datetime.datetime.now().isoformat(timespec="seconds")


def read_meta(path: Path) -> dict:
    """Read and sanity-check `meta.json` of the store at `path`; StoreError when missing or bad."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"no trajectory store at {path} (path does not exist)")
    if not (path / META).is_file():
        raise StoreError(f"{path} is not a trajectory store (no {META})")
    try:
        meta = json.loads((path / META).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(f"{path / META} is unreadable ({exc})") from exc
    required = ("format_version", "env_id", "observation", "action_dim", "shards")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise StoreError(f"{path / META} is not an hjepa trajectory store description")
    missing = [key for key in required if key not in meta]
    if missing:
        raise StoreError(f"{path / META} lacks the keys {missing}")
    if meta["format_version"] > FORMAT_VERSION:
        raise StoreError(
            f"{path} has store format {meta['format_version']}; this hjepa reads up to "
            f"{FORMAT_VERSION} (upgrade hjepa)"
        )
    return meta


class TrajectoryWriter:
    """Creates a trajectory store, or with `append=True` adds shards to an existing one.

    Each `add_shard` writes one shard atomically and then rewrites `meta.json` atomically. Only one
    writer may work on a store at a time.
    """

    def __init__(
        self,
        path,
        env_id: str,
        env_kwargs: Mapping | None = None,
        observation_shape: Sequence[int] | None = None,
        action_dim: int = 2,
        state_names: Sequence[str] = (),
        policy: str | None = None,
        policy_kwargs: Mapping | None = None,
        seed: int | None = None,
        append: bool = False,
    ):
        self.path = Path(path)
        fields = {
            "env_id": env_id,
            "env_kwargs": as_json(env_kwargs or {}),
            "observation": {
                "shape": None if observation_shape is None else [int(s) for s in observation_shape],
                "dtype": "uint8",
            },
            "action_dim": int(action_dim),
            "state_names": list(state_names),
        }
        if append and self.path.is_dir() and any(self.path.iterdir()):
            self.meta = self._open_existing(fields)
        else:
            self.meta = self._create(fields, policy, policy_kwargs, seed)

    def _create(self, fields: dict, policy, policy_kwargs, seed) -> dict:
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise StoreError(
                f"{self.path} already exists and is not empty; pass append=True to add episodes "
                "to a store there, or choose a new path"
            )
        if fields["observation"]["shape"] is None:
            raise ConfigError("observation_shape is required to create a trajectory store")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create trajectory store at {self.path} ({exc})") from exc
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            **fields,
            "policy": {"name": policy, "kwargs": as_json(policy_kwargs or {})},
            "seed": seed,
            "versions": library_versions(),
            "created": _now(),
            "updated": _now(),
            "num_episodes": 0,
            "num_frames": 0,
            "shards": [],
        }
        write_json_atomic(self.path / META, meta, indent=1)
        return meta

    def _open_existing(self, fields: dict) -> dict:
        meta = read_meta(self.path)
        shape = fields["observation"]["shape"]
        checks = {
            "env id": (meta["env_id"], fields["env_id"]),
            "env kwargs": (meta.get("env_kwargs", {}), fields["env_kwargs"]),
            "observation shape": (
                meta["observation"]["shape"],
                shape or meta["observation"]["shape"],
            ),
            "action dim": (meta["action_dim"], fields["action_dim"]),
        }
        for what, (have, new) in checks.items():
            if have != new:
                raise ConfigError(
                    f"cannot append to {self.path}: the store has {what} {have!r}, "
                    f"the new data has {new!r}"
                )
        if fields["state_names"] and fields["state_names"] != meta.get("state_names"):
            raise ConfigError(
                f"cannot append to {self.path}: the store has state names "
                f"{meta.get('state_names')}, the new data has {fields['state_names']}"
            )
        return meta

    @property
    def num_shards(self) -> int:
        return len(self.meta["shards"])

    @property
    def observation_shape(self) -> tuple[int, ...]:
        return tuple(self.meta["observation"]["shape"])

    def temp_folder(self) -> Path:
        """A fresh temporary folder name inside the store (not created) to write a shard into."""
        return self.path / f".tmp_{uuid.uuid4().hex}"

    def add_shard(self, obs, actions, states, episode_starts, info: Mapping | None = None) -> str:
        """Write one shard (arrays as described in the module docstring); return its name.

        `info` (JSON-serialisable) is recorded with the shard, e.g. the seed it was collected with.
        """
        check_shard_arrays(
            obs, actions, states, episode_starts, self.observation_shape, self.meta["action_dim"]
        )
        tmp = self.temp_folder()
        try:
            record = write_shard_files(tmp, obs, actions, states, episode_starts)
            return self.commit_shard(tmp, record, info)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def commit_shard(self, folder: Path, record: dict, info: Mapping | None = None) -> str:
        """Rename a shard folder written by `write_shard_files` into place and update meta.json."""
        self._check_written(Path(folder))
        name = shard_name(self.num_shards)
        target = self.path / name
        if target.exists():
            raise StoreError(f"{target} exists but meta.json does not list it; remove it first")
        os.replace(folder, target)
        entry = {"name": name, **record, "info": dict(info or {})}
        self.meta["shards"].append(entry)
        self.meta["num_episodes"] += record["episodes"]
        self.meta["num_frames"] += record["frames"]
        self.meta["updated"] = _now()
        write_json_atomic(self.path / META, self.meta, indent=1)
        return name

    def _check_written(self, folder: Path) -> None:
        """ShapeError unless the shard in `folder` has this store's frame shape and action dim."""
        obs = np.load(folder / "obs.npy", mmap_mode="r")
        actions = np.load(folder / "actions.npy", mmap_mode="r")
        if obs.shape[1:] != self.observation_shape or actions.shape[1] != self.meta["action_dim"]:
            raise ShapeError(
                f"shard {folder}: frames {obs.shape[1:]} and action dim {actions.shape[1]} do not "
                f"match the store's {self.observation_shape} and {self.meta['action_dim']}"
            )


# ----------------------------------------------------------------------------- reading


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

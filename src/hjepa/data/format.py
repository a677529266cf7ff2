"""The trajectory store format: one folder, episode-contiguous shards of memory-mappable `.npy`
files, described by `meta.json`.

Layout of a store folder::

    meta.json              format version, env and its facts (state, position and layout names,
                           units), shapes, policy, seed, versions, list of shards
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

This module: the format's constants, errors and `meta.json` reading. Shard files are written and
checked in `hjepa.data.shards`, stores created and grown by `hjepa.data.writer`, read by
`hjepa.data.store`.
"""

import datetime
import json
from importlib import metadata
from pathlib import Path

import numpy as np

from hjepa import __version__
from hjepa.errors import HjepaError

FORMAT = "hjepa-trajectories"
FORMAT_VERSION = 1
META = "meta.json"
ARRAYS = ("obs", "actions", "states", "episode_starts")
SHARD_FIELDS = {"name": str, "episodes": int, "frames": int, "files": dict}  # of a shard entry


class StoreError(HjepaError, OSError):
    """A trajectory store is missing, unreadable, or cannot be written where asked."""


class CorruptShardError(StoreError):
    """A shard of a trajectory store is missing a file, truncated, or fails its checksum."""


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


def now() -> str:
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
    _check_shard_entries(path / META, meta["shards"])
    return meta


def _check_shard_entries(where: Path, shards) -> None:
    """StoreError unless every shard entry has its name, counts, and each file's size and CRC."""
    if not isinstance(shards, list):
        raise StoreError(f"{where}: 'shards' must be a list, got {shards!r}")
    for i, shard in enumerate(shards):
        fields = isinstance(shard, dict) and all(
            isinstance(shard.get(key), kind) for key, kind in SHARD_FIELDS.items()
        )
        if not fields or not all(
            isinstance(f, dict) and {"bytes", "crc32"} <= f.keys() for f in shard["files"].values()
        ):
            raise StoreError(
                f"{where}: shard entry {i} is malformed (needs {', '.join(SHARD_FIELDS)}, and "
                "each file's bytes and crc32)"
            )

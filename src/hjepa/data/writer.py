"""Creating a trajectory store and adding shards to it (format in `hjepa.data.format`)."""

import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hjepa.data.facts import EnvFacts
from hjepa.data.format import (
    FORMAT,
    FORMAT_VERSION,
    META,
    StoreError,
    as_json,
    library_versions,
    now,
    read_meta,
)
from hjepa.data.shards import check_shard_arrays, shard_name, write_shard_files
from hjepa.errors import ConfigError, ShapeError
from hjepa.io import write_json_atomic


class TrajectoryWriter:
    """Creates a trajectory store, or with `append=True` adds shards to an existing one.

    Each `add_shard` writes one shard atomically and then rewrites `meta.json` atomically. Only one
    writer may work on a store at a time. `facts` (the env's state names, position and layout
    names, units) are recorded next to the env id; appending checks them against those the store
    records (a store written before it recorded position and layout names gets them added).
    """

    def __init__(
        self,
        path,
        env_id: str,
        env_kwargs: Mapping | None = None,
        observation_shape: Sequence[int] | None = None,
        action_dim: int = 2,
        facts: EnvFacts | None = None,
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
        }
        if append and self.path.is_dir() and any(self.path.iterdir()):
            self.meta = self._open_existing(fields, facts)
        else:
            fields.update((facts or EnvFacts()).as_meta())
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
            "created": now(),
            "updated": now(),
            "num_episodes": 0,
            "num_frames": 0,
            "shards": [],
        }
        write_json_atomic(self.path / META, meta, indent=1)
        return meta

    def _open_existing(self, fields: dict, facts: EnvFacts | None) -> dict:
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
        for key, value in (facts.as_meta() if facts else {}).items():
            checks[key.replace("_", " ")] = (meta.setdefault(key, value), value)
        for what, (have, new) in checks.items():
            if have != new:
                raise ConfigError(
                    f"cannot append to {self.path}: the store has {what} {have!r}, "
                    f"the new data has {new!r}"
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
        self.meta["updated"] = now()
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

"""A run's data: the trajectory store training collects (or continues, after an interrupted
collection), and where it lives, recorded in the run folder when training starts, so that
resuming, evaluating and planning find that data from any working directory and never collect
new data in its place.

Training's store is `data.path`, or `<train.run_dir>/data/<train.name>` (the run's own store).
It must hold the episodes the config's data section asks for: a missing one is collected, an
interrupted collection is continued, any other store is refused naming the fixes, and
`--overwrite` collects the run's own store anew.

`<run>/data.json` names the run's source: the store (with its fingerprint) or, for a hierarchy,
the level-1 run it is built on. Each is recorded by its path relative to the run folder and by
its absolute path. Looking a source up tries the relative path first (a tree of runs and data
moved as a whole), then the absolute one (a run folder copied elsewhere on its own). A store
whose fingerprint differs from the recorded one is refused: it is not the data the run was
trained on.
"""

import json
import os
import shutil
from pathlib import Path

from hjepa.config import Config
from hjepa.data.format import META, StoreError
from hjepa.data.store import TrajectoryStore
from hjepa.envs.collect import collect
from hjepa.errors import ConfigError, ForeignStoreError
from hjepa.io import write_json_atomic
from hjepa.lock import exclusive

RECORD = "data.json"


def store_path(cfg: Config) -> Path:
    """Where training finds (or collects) its store, relative to the working directory."""
    return Path(cfg.data.path) if cfg.data.path else own_store_path(cfg)


def own_store_path(cfg: Config) -> Path:
    return Path(cfg.train.run_dir) / "data" / cfg.train.name


def prepare_store(cfg: Config, overwrite: bool = False) -> TrajectoryStore:
    """Training's store, holding what `cfg.data` asks for (see the module docstring)."""
    d, path = cfg.data, store_path(cfg)
    with exclusive(path, "trajectory store"):
        if not _holds_config_size(path, cfg):
            try:
                _collect(cfg, path)
            except ForeignStoreError:
                if not (overwrite and path == own_store_path(cfg)):
                    _check_store_size(TrajectoryStore(path), cfg)
                    raise
                shutil.rmtree(path)
                _collect(cfg, path)
    store = TrajectoryStore(path, in_memory=d.in_memory)
    store.check_env(d.env, d.env_kwargs)
    if store.action_dim != cfg.world.action_dim:
        raise ConfigError(
            f"world.action_dim={cfg.world.action_dim} but the store at {path} has "
            f"{store.action_dim}-d actions"
        )
    return store


def _collect(cfg: Config, path: Path) -> None:
    """Collect the store the config describes, or continue its interrupted collection."""
    d = cfg.data
    collect(
        d.env,
        path,
        episodes=d.episodes,
        steps_per_episode=d.episode_steps,
        policy=d.policy,
        seed=cfg.train.seed,
        env_kwargs=d.env_kwargs,
        progress=cfg.train.progress,
        resume=True,
    )


def _holds_config_size(path: Path, cfg: Config) -> bool:
    if not (path / META).is_file():
        return False
    try:
        _check_store_size(TrajectoryStore(path, verify_checksums=False), cfg)
    except ForeignStoreError:
        return False
    return True


def _check_store_size(store: TrajectoryStore, cfg: Config) -> None:
    """ForeignStoreError unless the store holds the data.episodes episodes of at most
    data.episode_steps steps the config asks for."""
    d, episodes = cfg.data, len(store)
    longest = int(store.episode_lengths.max()) - 1 if episodes else 0
    if episodes == d.episodes and longest <= d.episode_steps:
        return
    own = " (or train with --overwrite)" if store.path == own_store_path(cfg) else ""
    raise ForeignStoreError(
        f"the trajectory store {store.path} holds {episodes} episodes of up to {longest} steps, "
        f"but the config asks for data.episodes={d.episodes} of data.episode_steps="
        f"{d.episode_steps}: delete {store.path} to collect it again{own}, or set "
        f"data.episodes={episodes} data.episode_steps={longest} to train on it as it is"
    )


def record_store(run_dir: Path, store: TrajectoryStore) -> None:
    """Record `store` as the data of the run in `run_dir`."""
    entry = {**_locations(run_dir, store.path), "fingerprint": store.fingerprint}
    write_json_atomic(run_dir / RECORD, {"store": entry})


def record_base_run(run_dir: Path, base_run: Path) -> None:
    """Record `base_run` as the level-1 run of the hierarchy in `run_dir`."""
    write_json_atomic(run_dir / RECORD, {"base_run": _locations(run_dir, base_run)})


def run_store(run_dir: Path, cfg: Config) -> TrajectoryStore:
    """The store the run in `run_dir` was trained on, opened; StoreError if it is gone or holds
    other data. A run recorded before runs kept this record finds its store at
    `store_path(cfg)`; it is not collected either."""
    entry = _read(run_dir).get("store")
    if entry is None:
        path = store_path(cfg)
        if not (path / META).is_file():
            raise StoreError(
                f"the trajectory store of the run {run_dir} is missing: not at {path.absolute()} "
                "(the run records no other place). It is not collected again in its place: "
                "run from the folder the run was trained in, or set data.path"
            )
        return TrajectoryStore(path, in_memory=cfg.data.in_memory)
    path = _find(run_dir, entry, "trajectory store", lambda p: (p / META).is_file())
    store = TrajectoryStore(path, in_memory=cfg.data.in_memory)
    if store.fingerprint != entry["fingerprint"]:
        raise StoreError(
            f"the trajectory store at {path} is not the data the run {run_dir} was trained on "
            f"(its fingerprint differs from the one in {run_dir / RECORD}); restore that store"
        )
    return store


def recorded_base_run(run_dir: Path) -> Path | None:
    """The level-1 run folder of the hierarchy in `run_dir` (None when not recorded)."""
    entry = _read(run_dir).get("base_run")
    if entry is None:
        return None
    return _find(run_dir, entry, "level-1 run", lambda p: (p / "checkpoints").is_dir())


def _locations(run_dir: Path, source: Path) -> dict:
    absolute = Path(source).resolve()
    return {"relative": os.path.relpath(absolute, run_dir.resolve()), "absolute": str(absolute)}


def _read(run_dir: Path) -> dict:
    path = Path(run_dir) / RECORD
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}, the record of the run's data, is unreadable ({exc})") from None
    if not isinstance(record, dict):
        raise ConfigError(f"{path} is not a run data record (expected a JSON object)")
    return record


def _find(run_dir: Path, entry: dict, what: str, exists) -> Path:
    relative = Path(os.path.normpath(Path(run_dir) / entry["relative"]))
    candidates = [relative, Path(entry["absolute"])]
    for path in candidates:
        if exists(path):
            return path
    tried = " or ".join(str(p) for p in candidates)
    raise StoreError(
        f"the {what} of the run {run_dir} is missing: not at {tried} (as recorded in "
        f"{Path(run_dir) / RECORD}). It is not collected again in its place: restore it there"
    )

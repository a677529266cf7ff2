"""Collect trajectories into a trajectory store, in parallel: one driver for every kind of env.

The work is cut into shards of `shard_episodes` episodes. Shard number `k` of a store is
collected with its own generator `shard_rng(seed, k)`, so the data depend on the seed and these
sizes but not on how many worker processes share the work, and appending to a store continues the
sequence of shard seeds. Workers write their shard's files themselves (no arrays travel between
processes); this process renames them into place in shard order through `TrajectoryWriter`.

How one shard's episodes are produced is the env's episode source: the vectorized arena
simulators of `SIM_REGISTRY` (`collect_sim`, `envs_per_worker` envs at a time) or, for any other
id, a Gymnasium env made in each worker (`collect_gym`, one env at a time).
"""

import math
import multiprocessing
import shutil
import sys
import time
import uuid
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
from tqdm import tqdm

from hjepa.data.format import META, as_json, read_meta
from hjepa.data.shards import write_shard_files
from hjepa.data.store import TrajectoryStore, TrajectoryWriter
from hjepa.envs import SIM_REGISTRY, collect_gym, collect_sim
from hjepa.envs.collect_sim import run_episodes
from hjepa.envs.shard_task import EpisodeSource, ShardTask, shard_rng
from hjepa.errors import ConfigError, ForeignStoreError, HjepaError
from hjepa.lock import exclusive

__all__ = [
    "collect",
    "collect_shard",
    "door_crossing_fraction",
    "episode_source",
    "run_episodes",
    "shard_rng",
    "workers_used",
]

SHARD_EPISODES = 256


def episode_source(env_id: str) -> EpisodeSource:
    """The simulators' source for an id of `SIM_REGISTRY`, else the Gymnasium one."""
    return collect_sim.SOURCE if env_id in SIM_REGISTRY else collect_gym.SOURCE


def collect_shard(task: ShardTask) -> dict:
    """Collect one shard and write its files into `task.folder`; return the shard record."""
    rng = shard_rng(task.seed, task.seed_index)
    arrays = episode_source(task.env_id).shard_arrays(task, rng)
    return write_shard_files(Path(task.folder), **arrays)


def workers_used(workers: int, episodes: int, shard_episodes: int = SHARD_EPISODES) -> int:
    """How many worker processes collect `episodes` episodes: no more than there are shards."""
    return min(workers, math.ceil(episodes / shard_episodes))


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _tasks(writer: TrajectoryWriter, common: dict, episodes: int, per_shard: int):
    """One task per shard; shard numbers (and so seeds) continue those already in the store."""
    tasks, token, first_index = [], uuid.uuid4().hex[:12], writer.num_shards
    for j, first in enumerate(range(0, episodes, per_shard)):
        index = first_index + j
        folder = str(writer.path / f".tmp_{token}_{index:05d}")
        size = min(per_shard, episodes - first)
        tasks.append(ShardTask(**common, seed_index=index, episodes=size, folder=folder))
    return tasks


def _pool_context():
    """Fork on Linux: workers start at once and need not re-import the main script (the `hjepa`
    command's imports torch, seconds per worker). Spawn elsewhere."""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def _results(tasks: list[ShardTask], workers: int):
    """Shard records in shard order, collected in this process or by `workers` processes.

    On any error the pending shards are cancelled and the running ones waited for, so no worker
    writes into the store folder after this returns.
    """
    if workers == 1:
        yield from map(collect_shard, tasks)
        return
    with ProcessPoolExecutor(workers, mp_context=_pool_context()) as pool:
        try:
            with warnings.catch_warnings():  # Python >= 3.12 warns on fork with threads alive
                warnings.filterwarnings("ignore", ".*fork", DeprecationWarning)
                results = pool.map(collect_shard, tasks)
            yield from results
        except BrokenProcessPool as exc:
            raise HjepaError(
                "a collection worker process died (out of memory? or, run from a script, the "
                "workers cannot re-import it: guard its code with if __name__ == '__main__')"
            ) from exc
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def collect(
    env_id: str,
    out_path,
    episodes: int,
    steps_per_episode: int,
    policy: str | None = None,
    seed: int = 0,
    workers: int = 2,
    envs_per_worker: int = 128,
    shard_episodes: int = SHARD_EPISODES,
    env_kwargs: dict | None = None,
    policy_kwargs: dict | None = None,
    append: bool = False,
    progress: bool = True,
    resume: bool = False,
) -> TrajectoryStore:
    """Collect `episodes` episodes of `steps_per_episode` steps in `env_id` into a store.

    `env_id` names an arena simulator of `SIM_REGISTRY` or a Gymnasium env (registered, or
    `package.module:EnvId`). Each episode has up to `steps_per_episode + 1` frames (the last with
    a NaN action; a Gymnasium episode ends early when the env terminates or truncates). `policy`
    is a `load_policy` spec built with `policy_kwargs` (the built-in ones get the sim's
    `max_norm`); by default "random_walk" for the simulators, "random" (uniform in the action
    space) for Gymnasium envs. `workers` processes collect shards of `shard_episodes` episodes,
    `envs_per_worker` simulator environments at a time (a Gymnasium env runs one at a time). The
    same seed, `shard_episodes` and `envs_per_worker` give byte-identical data for any `workers`.
    With `append=True` the episodes are added to the store at `out_path` (created if absent) as
    new shards whose seeds continue its sequence. The store records the env's facts (state,
    position and layout names, units). With `resume=True` a collection with the same settings
    that was interrupted at `out_path` is continued, making the store it would have made;
    ForeignStoreError if the store there holds other data. A progress bar shows frames/s unless
    `progress=False`. Only one process at a time may collect into a store (LockedError).
    Returns the opened store.
    """
    _check_sizes(
        episodes=episodes,
        steps_per_episode=steps_per_episode,
        workers=workers,
        envs_per_worker=envs_per_worker,
        shard_episodes=shard_episodes,
    )
    source = episode_source(env_id)
    policy = source.default_policy if policy is None else policy
    env_kwargs = dict(env_kwargs or {})
    probe = source.probe(env_id, env_kwargs, policy, dict(policy_kwargs or {}))
    common = {
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "policy": policy,
        "policy_kwargs": probe.policy_kwargs,
        "seed": seed,
        "steps": steps_per_episode,
        "envs_per_batch": envs_per_worker if source.vectorized else 1,
    }
    out = Path(out_path)
    with exclusive(out, "trajectory store"):
        if resume:
            episodes = _episodes_left(out, common, episodes, shard_episodes)
            append = True
        if episodes > 0:
            new_folder = not out.exists()
            writer = _writer(out, probe, common, append)
            tasks = _tasks(writer, common, episodes, shard_episodes)
            pool = workers_used(workers, episodes, shard_episodes)
            _collect_into(writer, tasks, pool, progress, new_folder)
    return TrajectoryStore(out)


def _writer(out: Path, probe, common: dict, append: bool) -> TrajectoryWriter:
    return TrajectoryWriter(
        out,
        common["env_id"],
        common["env_kwargs"],
        observation_shape=probe.observation_shape,
        action_dim=probe.action_dim,
        facts=probe.facts,
        policy=common["policy"],
        policy_kwargs=probe.policy_kwargs,
        seed=common["seed"],
        append=append,
    )


def _collect_into(writer, tasks, workers: int, progress: bool, new_folder: bool) -> None:
    try:
        _write_all(writer, tasks, workers, progress, f"collect {tasks[0].env_id}")
    except BaseException:
        _discard_if_empty(writer, tasks, new_folder)
        raise
    finally:
        _remove_temporary(tasks)


def _episodes_left(out: Path, common: dict, episodes: int, shard_episodes: int) -> int:
    """Episodes an interrupted collection with these settings left to collect into `out` (all
    of them where there is no store yet); ConfigError if the store there holds other data.
    Removes the temporary folders of shards the interruption left unfinished."""
    for folder in out.glob(".tmp_*"):
        shutil.rmtree(folder, ignore_errors=True)
    if not (out / META).is_file():
        return episodes
    meta = read_meta(out)
    settings = {k: as_json(v) for k, v in common.items() if k not in ("env_id", "env_kwargs")}
    shards = meta["shards"]
    same = all(all(s["info"].get(k) == v for k, v in settings.items()) for s in shards)
    done = int(meta["num_episodes"])
    whole = all(s["episodes"] == shard_episodes for s in shards)
    if same and (done == episodes or (done < episodes and whole)):
        return episodes - done
    raise ForeignStoreError(
        f"the trajectory store {out} holds {done} episodes that are not the start of this "
        f"collection of {episodes} (other settings: seed, policy, steps or shard size); delete "
        "it to collect again, or choose another folder"
    )


def _remove_temporary(tasks: list[ShardTask]) -> None:
    for task in tasks:
        shutil.rmtree(task.folder, ignore_errors=True)


def _discard_if_empty(writer, tasks: list[ShardTask], new_folder: bool) -> None:
    """After a failed collection, remove a store left without a shard (and its folder, if this
    call created it)."""
    if writer.num_shards > 0:
        return
    _remove_temporary(tasks)
    (writer.path / META).unlink(missing_ok=True)
    if new_folder and not any(writer.path.iterdir()):
        writer.path.rmdir()


def _write_all(writer, tasks: list[ShardTask], workers: int, progress: bool, desc: str) -> None:
    total = sum(task.episodes * (task.steps + 1) for task in tasks)
    start = time.perf_counter()
    with tqdm(total=total, unit="frame", unit_scale=True, disable=not progress, desc=desc) as bar:
        for task, record in zip(tasks, _results(tasks, workers), strict=True):
            writer.commit_shard(Path(task.folder), record, task.info())
            bar.update(record["frames"])
            rate = bar.n / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix_str(f"{rate:,.0f} frames/s")


def door_crossing_fraction(store: TrajectoryStore) -> float | None:
    """Fraction of episodes that visit both rooms (None without x and wall_x states).

    An agent is in the right room when x >= wall_x + 0.5 (the wall's centre line).
    """
    names = store.state_names
    if "x" not in names or "wall_x" not in names or len(store) == 0:
        return None
    ix, iw = names.index("x"), names.index("wall_x")
    crossed = 0
    for shard in range(store.num_shards):
        states = np.asarray(store.shard_arrays(shard)["states"])
        side = (states[:, ix] >= states[:, iw] + 0.5).astype(np.int8)
        starts = store.shard_episode_starts(shard)
        both = np.maximum.reduceat(side, starts) != np.minimum.reduceat(side, starts)
        crossed += int(both.sum())
    return crossed / len(store)

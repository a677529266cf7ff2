"""Collect trajectories from the vectorized simulators into a trajectory store, in parallel.

(Gymnasium envs without a simulator, such as `hjepa/PendulumGoal-v0`, go to `collect_gym`.)

The work is cut into shards of `shard_episodes` episodes. Shard number `k` of a store is
collected with its own generator, seeded by `(seed, k)`, running `envs_per_worker` environments
at a time; so the data depend on the seed and these sizes but not on how many worker processes
share the work, and appending to a store continues the sequence of shard seeds. Workers write
their shard's files themselves (no arrays travel between processes); the parent renames them
into place in shard order through `TrajectoryWriter`.

Actions are clipped to the simulator's `max_norm` before stepping; the clipped action is stored.
"""

import json
import multiprocessing
import shutil
import sys
import time
import uuid
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from hjepa.data.store import TrajectoryStore, TrajectoryWriter, write_shard_files
from hjepa.envs import SIM_REGISTRY, make_sim
from hjepa.envs.policies import BUILTIN, load_policy
from hjepa.errors import ConfigError, HjepaError

_CACHE: dict[str, object] = {}  # per process: simulators and shard buffers, reused


@dataclass(frozen=True)
class ShardTask:
    """Everything a worker needs to collect one shard, independent of the other shards."""

    env_id: str
    env_kwargs: dict
    policy: str
    policy_kwargs: dict
    seed: int
    seed_index: int
    episodes: int
    steps: int
    envs_per_batch: int
    folder: str = field(compare=False)

    def info(self) -> dict:
        """What meta.json records about how this shard was collected."""
        record = asdict(self)
        del record["folder"], record["env_id"], record["env_kwargs"], record["episodes"]
        return record


def shard_rng(seed: int, seed_index: int) -> np.random.Generator:
    """The generator of shard `seed_index` of a collection seeded with `seed`."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(seed_index)]))


def _sim(env_id: str, env_kwargs: dict, num_envs: int):
    """A simulator of `num_envs` envs, built once per process and reused."""
    key = json.dumps([env_id, env_kwargs, num_envs], sort_keys=True, default=str)
    if key not in _CACHE:
        _CACHE[key] = make_sim(env_id, num_envs, **env_kwargs)
    return _CACHE[key]


def _clip_norm(actions: np.ndarray, max_norm: float) -> np.ndarray:
    norm = np.linalg.norm(actions, axis=1, keepdims=True)
    scale = np.minimum(1.0, max_norm / np.maximum(norm, 1e-12))
    return (actions * scale).astype(np.float32, copy=False)


def episode_buffers(episodes: int, steps: int, sim) -> dict:
    """Arrays [episodes, steps + 1, ...] for obs, actions and states of `sim`'s env."""
    frames = (episodes, steps + 1)
    return {
        "obs": np.empty((*frames, *sim.observation_shape), dtype=np.uint8),
        "actions": np.empty((*frames, sim.action_dim), dtype=np.float32),
        "states": np.empty((*frames, len(sim.state_names)), dtype=np.float32),
    }


def run_episodes(
    sim, policy, rng: np.random.Generator, steps: int, out: dict | None = None, options=None
):
    """Run `sim.num_envs` episodes of `steps` steps; arrays shaped [N, steps + 1, ...].

    `options` are passed to `sim.reset` (e.g. one layout for every env).
    Fills and returns `out` (from `episode_buffers`) or fresh arrays. The action at the last
    frame of each episode is NaN (no action follows it).
    """
    n = sim.num_envs
    out = episode_buffers(n, steps, sim) if out is None else out
    obs_buf, action_buf, state_buf = out["obs"], out["actions"], out["states"]
    obs, states = sim.reset(seed=int(rng.integers(2**63 - 1)), options=options)
    policy.reset(n, rng)
    for t in range(steps):
        obs_buf[:, t], state_buf[:, t] = obs, states
        actions = _clip_norm(policy(obs, states, rng), sim.max_norm)
        action_buf[:, t] = actions
        obs, states = sim.step(actions)
    obs_buf[:, steps], state_buf[:, steps] = obs, states
    action_buf[:, steps] = np.nan
    return out


def _shard_buffers(task: ShardTask, sim) -> dict:
    """Buffers for a shard, reused from shard to shard in a process (no fresh page faults)."""
    shapes = [sim.observation_shape, sim.action_dim, len(sim.state_names)]
    key = json.dumps(["buffers", task.episodes, task.steps, *shapes])
    if key not in _CACHE:
        for old in [k for k in _CACHE if k.startswith('["buffers"')]:
            del _CACHE[old]
        _CACHE[key] = episode_buffers(task.episodes, task.steps, sim)
    return _CACHE[key]


def collect_shard(task: ShardTask) -> dict:
    """Collect one shard and write its files into `task.folder`; return the shard record."""
    rng = shard_rng(task.seed, task.seed_index)
    policy = load_policy(task.policy, **task.policy_kwargs)
    buffers = None
    for first in range(0, task.episodes, task.envs_per_batch):
        n = min(task.envs_per_batch, task.episodes - first)
        sim = _sim(task.env_id, task.env_kwargs, n)
        if buffers is None:
            buffers = _shard_buffers(task, sim)
        batch = {name: array[first : first + n] for name, array in buffers.items()}
        run_episodes(sim, policy, rng, task.steps, batch)
    arrays = {name: array.reshape(-1, *array.shape[2:]) for name, array in buffers.items()}
    starts = np.arange(task.episodes, dtype=np.int64) * (task.steps + 1)
    return write_shard_files(Path(task.folder), episode_starts=starts, **arrays)


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _policy_kwargs(policy: str, policy_kwargs: dict | None, max_norm: float) -> dict:
    kwargs = dict(policy_kwargs or {})
    if policy in BUILTIN:
        kwargs.setdefault("max_norm", float(max_norm))
    load_policy(policy, **kwargs)  # fail early, in this process, with a clear error
    return kwargs


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
    command's imports torch, seconds per worker); they only run numpy. Spawn elsewhere."""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def _results(tasks: list[ShardTask], workers: int):
    """Shard records in shard order, collected in this process or by `workers` processes.

    On any error the pending shards are cancelled and the running ones waited for, so no worker
    writes into the store folder after this returns.
    """
    workers = min(workers, len(tasks))
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
    policy: str = "random_walk",
    seed: int = 0,
    workers: int = 2,
    envs_per_worker: int = 128,
    shard_episodes: int = 256,
    env_kwargs: dict | None = None,
    policy_kwargs: dict | None = None,
    append: bool = False,
    progress: bool = True,
) -> TrajectoryStore:
    """Collect `episodes` episodes of `steps_per_episode` steps in `env_id` into a store.

    Each episode has `steps_per_episode + 1` frames (the last with a NaN action). `policy` is a
    `load_policy` spec built with `policy_kwargs` (the built-in ones get the sim's `max_norm`).
    `workers` processes collect shards of `shard_episodes` episodes, `envs_per_worker`
    environments at a time. The same seed, `shard_episodes` and `envs_per_worker` give
    byte-identical data for any `workers`. With `append=True` the episodes are added to the store
    at `out_path` (created if absent) as new shards whose seeds continue its sequence. A progress
    bar shows frames/s unless `progress=False`. Returns the opened store.

    An `env_id` with no simulator in `SIM_REGISTRY` is a Gymnasium env: collected by
    `hjepa.envs.collect_gym.collect_gym` in this process (`workers` and `envs_per_worker` unused).
    """
    if env_id not in SIM_REGISTRY:
        from hjepa.envs.collect_gym import collect_gym  # imports this module

        return collect_gym(
            env_id,
            out_path,
            episodes,
            steps_per_episode,
            policy=policy,
            seed=seed,
            shard_episodes=shard_episodes,
            env_kwargs=env_kwargs,
            policy_kwargs=policy_kwargs,
            append=append,
            progress=progress,
        )
    _check_sizes(
        episodes=episodes,
        steps_per_episode=steps_per_episode,
        workers=workers,
        envs_per_worker=envs_per_worker,
        shard_episodes=shard_episodes,
    )
    env_kwargs = dict(env_kwargs or {})
    probe = make_sim(env_id, 1, **env_kwargs)
    kwargs = _policy_kwargs(policy, policy_kwargs, probe.max_norm)
    out = Path(out_path)
    new_folder = not out.exists()
    new_store = not (append and out.is_dir() and any(out.iterdir()))
    writer = TrajectoryWriter(
        out_path,
        env_id,
        env_kwargs,
        observation_shape=probe.observation_shape,
        action_dim=probe.action_dim,
        state_names=probe.state_names,
        policy=policy,
        policy_kwargs=kwargs,
        seed=seed,
        append=append,
    )
    common = {
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "policy": policy,
        "policy_kwargs": kwargs,
        "seed": seed,
        "steps": steps_per_episode,
        "envs_per_batch": envs_per_worker,
    }
    tasks = _tasks(writer, common, episodes, shard_episodes)
    try:
        _write_all(writer, tasks, workers, progress, f"collect {env_id}")
    except BaseException:
        _discard_if_empty(writer, tasks, new_store, new_folder)
        raise
    finally:
        for task in tasks:
            shutil.rmtree(task.folder, ignore_errors=True)
    return TrajectoryStore(out_path)


def _discard_if_empty(writer, tasks, new_store: bool, new_folder: bool) -> None:
    """After a failed collection, remove a store this call created if no shard made it in."""
    if not new_store or writer.num_shards > 0:
        return
    for task in tasks:
        shutil.rmtree(task.folder, ignore_errors=True)
    (writer.path / "meta.json").unlink(missing_ok=True)
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

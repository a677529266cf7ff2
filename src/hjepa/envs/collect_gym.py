"""Collect trajectories from a Gymnasium pixel env (e.g. `hjepa/PendulumGoal-v0`) into a store.

For envs with no vectorized simulator in `hjepa.envs.SIM_REGISTRY`; `hjepa.envs.collect.collect`
dispatches here. One env in this process runs episodes of uniform random actions (policy
"random": each action uniform in the env's Box action space, independently per step), reset
without options (the env draws its own start). The store has the same format as the
simulators' stores: obs uint8 [T + 1, C, H, W] (the env's observation), actions float32
[T + 1, A] with NaN at the last frame, states float32 [T + 1, S] from `info["state"]` (S = 0
when the env gives none), named by the env's `state_names` attribute when it has one. An
episode ends early when the env terminates or truncates (e.g. at its time limit), so episodes
may be shorter than `steps_per_episode`.

Seeding follows `collect`: shard number `k` is collected with the generator
`shard_rng(seed, k)`, which draws each episode's reset seed and its actions; appending continues
the sequence of shard seeds. Torch runs on one thread meanwhile: the pixel adapter resizes one
small frame at a time, which is faster on one thread (and much faster on a busy machine).
"""

import time
from pathlib import Path

import gymnasium
import numpy as np
from gymnasium import spaces
from tqdm import tqdm

from hjepa.data.store import TrajectoryStore, TrajectoryWriter
from hjepa.envs import SIM_REGISTRY
from hjepa.envs.collect import _check_sizes, _discard_if_empty, shard_rng
from hjepa.errors import ConfigError
from hjepa.plugins import import_env_module
from hjepa.runtime import torch_threads

POLICIES = ("random",)


def collect_gym(
    env_id: str,
    out_path,
    episodes: int,
    steps_per_episode: int,
    policy: str = "random",
    seed: int = 0,
    shard_episodes: int = 256,
    env_kwargs: dict | None = None,
    policy_kwargs: dict | None = None,
    append: bool = False,
    progress: bool = True,
) -> TrajectoryStore:
    """Collect `episodes` episodes of up to `steps_per_episode` steps of `env_id` into a store.

    Shards hold `shard_episodes` episodes. With `append=True` the episodes are added to the store
    at `out_path` (created if absent). Returns the opened store.
    """
    _check_sizes(
        episodes=episodes, steps_per_episode=steps_per_episode, shard_episodes=shard_episodes
    )
    _check_env_id(env_id)
    _check_policy(policy, policy_kwargs)
    env_kwargs, out = dict(env_kwargs or {}), Path(out_path)
    new_folder = not out.exists()
    new_store = not (append and out.is_dir() and any(out.iterdir()))
    env = make_env(env_id, env_kwargs)
    try:
        with torch_threads(1):
            probe = _probe(env)
            writer = TrajectoryWriter(
                out, env_id, env_kwargs, policy=policy, seed=seed, append=append, **probe
            )
            try:
                _collect_shards(
                    writer, env, episodes, steps_per_episode, seed, shard_episodes, progress
                )
            except BaseException:
                _discard_if_empty(writer, [], new_store, new_folder)
                raise
    finally:
        env.close()
    return TrajectoryStore(out)


def make_env(env_id: str, env_kwargs: dict) -> gymnasium.Env:
    """`gymnasium.make(env_id, **env_kwargs)`, checked: uint8 [C, H, W] images, Box actions."""
    _check_env_id(env_id)
    try:
        env = gymnasium.make(env_id, **env_kwargs)
    except gymnasium.error.Error as exc:
        raise ConfigError(f"cannot make Gymnasium env {env_id!r} ({exc})") from exc
    obs, act = env.observation_space, env.action_space
    if not (isinstance(obs, spaces.Box) and obs.dtype == np.uint8 and len(obs.shape) == 3):
        env.close()
        raise ConfigError(
            f"{env_id}: observations must be uint8 images [C, H, W] (wrap the env in "
            f"hjepa.envs.pixels.PixelObservation), got {obs}"
        )
    bounded = (
        isinstance(act, spaces.Box) and np.isfinite(act.low).all() and np.isfinite(act.high).all()
    )
    if not (bounded and len(act.shape) == 1):
        env.close()
        raise ConfigError(f"{env_id}: actions must be a bounded 1-d Box, got {act}")
    return env


def _check_env_id(env_id: str) -> None:
    if import_env_module(env_id) not in gymnasium.registry:
        raise ConfigError(
            f"unknown env id {env_id!r}: neither an hjepa simulator ({sorted(SIM_REGISTRY)}) "
            "nor a registered Gymnasium env"
        )


def _check_policy(policy: str, policy_kwargs: dict | None) -> None:
    if policy not in POLICIES:
        raise ConfigError(
            f"policy {policy!r} cannot drive a Gymnasium env; use one of {list(POLICIES)} "
            "(uniform random actions)"
        )
    if policy_kwargs:
        raise ConfigError(f"policy {policy!r} takes no arguments, got {policy_kwargs}")


def _probe(env: gymnasium.Env) -> dict:
    """What the store records of the env: frame shape, action dim, state names."""
    _, info = env.reset(seed=0)
    dim = int(np.asarray(info.get("state", np.zeros(0))).size)
    try:
        names = tuple(env.get_wrapper_attr("state_names"))
    except AttributeError:
        names = ()
    if len(names) != dim:
        names = tuple(f"state_{i}" for i in range(dim))
    return {
        "observation_shape": env.observation_space.shape,
        "action_dim": env.action_space.shape[0],
        "state_names": names,
    }


def _collect_shards(writer, env, episodes, steps, seed, per_shard, progress) -> None:
    """Collect and commit shards of `per_shard` episodes until `episodes` are written."""
    total, start = episodes * (steps + 1), time.perf_counter()
    desc = f"collect {writer.meta['env_id']}"
    with tqdm(total=total, unit="frame", unit_scale=True, disable=not progress, desc=desc) as bar:
        for first in range(0, episodes, per_shard):
            index = writer.num_shards
            rng = shard_rng(seed, index)
            runs = [run_episode(env, rng, steps) for _ in range(min(per_shard, episodes - first))]
            arrays = _concatenate(runs)
            info = {"policy": "random", "seed": seed, "seed_index": index, "steps": steps}
            writer.add_shard(**arrays, info=info)
            bar.update(len(arrays["obs"]))
            rate = bar.n / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix_str(f"{rate:,.0f} frames/s")


def run_episode(env: gymnasium.Env, rng: np.random.Generator, steps: int) -> dict:
    """One episode of uniform random actions: obs [T + 1, ...], actions [T + 1, A] (last NaN),
    states [T + 1, S]; T <= `steps` (shorter when the env terminates or truncates)."""
    space = env.action_space
    obs, info = env.reset(seed=int(rng.integers(2**63 - 1)))
    frames, actions, states = [obs], [], [_state(info)]
    for _ in range(steps):
        action = rng.uniform(space.low, space.high).astype(space.dtype)
        obs, _, terminated, truncated, info = env.step(action)
        frames.append(obs)
        actions.append(action.astype(np.float32))
        states.append(_state(info))
        if terminated or truncated:
            break
    actions.append(np.full(space.shape, np.nan, dtype=np.float32))
    return {"obs": np.stack(frames), "actions": np.stack(actions), "states": np.stack(states)}


def _state(info: dict) -> np.ndarray:
    return np.asarray(info.get("state", np.zeros(0)), dtype=np.float32).reshape(-1)


def _concatenate(runs: list[dict]) -> dict:
    """Episodes joined into one shard's arrays, with their start frames."""
    lengths = np.array([len(run["obs"]) for run in runs], dtype=np.int64)
    arrays = {
        key: np.concatenate([run[key] for run in runs]) for key in ("obs", "actions", "states")
    }
    arrays["episode_starts"] = np.cumsum(lengths) - lengths
    return arrays

"""Episodes of Gymnasium pixel envs (e.g. `hjepa/PendulumGoal-v0`) for the collection driver
`hjepa.envs.collect`: envs with no vectorized simulator in `hjepa.envs.SIM_REGISTRY`, given by a
registered id or Gymnasium's `package.module:EnvId` form (the module is imported first).

Each worker process makes its own env for a shard, runs the shard's episodes one at a time and
closes it. An episode is reset with a seed drawn from the shard's generator and without options
(the env draws its own start); the policy gets obs [1, ...] and states [1, S] and returns actions
[1, A] inside the env's Box action space. Policy "random" (the default) draws each action
uniformly in the Box, independently per step; "package.module:callable" names a user policy (see
`hjepa.envs.policies`). The store has the same format as the simulators' stores: obs uint8
[T + 1, C, H, W] (the env's observation), actions float32 [T + 1, A] with NaN at the last frame,
states float32 [T + 1, S] from `info["state"]` (S = 0 when the env gives none). An episode ends
early when the env terminates or truncates (e.g. at its time limit), so episodes may be shorter
than `steps_per_episode`. Torch runs on one thread meanwhile: the pixel adapter resizes one small
frame at a time, which is faster on one thread (and much faster on a busy machine).
"""

import gymnasium
import numpy as np
from gymnasium import spaces

from hjepa.envs import SIM_REGISTRY
from hjepa.envs.goal import env_facts
from hjepa.envs.policies import BUILTIN, BoxUniform, CheckedPolicy, load_policy
from hjepa.envs.shard_task import EnvProbe, EpisodeSource, ShardTask
from hjepa.errors import ConfigError
from hjepa.plugins import import_env_module
from hjepa.runtime import torch_threads


def make_env(env_id: str, env_kwargs: dict) -> gymnasium.Env:
    """`gymnasium.make(env_id, **env_kwargs)`, checked: uint8 [C, H, W] images, Box actions."""
    bare_id = import_env_module(env_id)
    if bare_id not in gymnasium.registry:
        raise ConfigError(
            f"unknown env id {env_id!r}: neither an hjepa simulator ({sorted(SIM_REGISTRY)}) "
            "nor a registered Gymnasium env (give 'package.module:EnvId' to import the module "
            "that registers it)"
        )
    try:
        env = gymnasium.make(bare_id, **env_kwargs)
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


def env_policy(spec: str, kwargs: dict, env: gymnasium.Env) -> CheckedPolicy:
    """The policy `spec` for `env`, checked to return actions [1, A] inside its action space."""
    space = env.action_space
    bounds = (space.low, space.high)
    if spec == "random":
        if kwargs:
            raise ConfigError(f"policy 'random' takes no arguments for a Gymnasium env: {kwargs}")
        return CheckedPolicy(BoxUniform(*bounds), spec, space.shape[0], bounds)
    if spec in BUILTIN:
        raise ConfigError(
            f"policy {spec!r} drives hjepa's arena simulators ({sorted(SIM_REGISTRY)}) only; "
            "a Gymnasium env takes 'random' (uniform in its action space) or "
            "'package.module:callable'"
        )
    return load_policy(spec, space.shape[0], bounds, **kwargs)


def probe(env_id: str, env_kwargs: dict, policy: str, policy_kwargs: dict) -> EnvProbe:
    """Make the env (closed again), check the policy, read the facts after one reset."""
    with torch_threads(1):
        env = make_env(env_id, env_kwargs)
        try:
            env_policy(policy, policy_kwargs, env)
            _, info = env.reset(seed=0)
            facts = env_facts(env, _state(info).size)
            shape, action_dim = env.observation_space.shape, env.action_space.shape[0]
        finally:
            env.close()
    return EnvProbe(shape, action_dim, facts, dict(policy_kwargs))


def shard_arrays(task: ShardTask, rng: np.random.Generator) -> dict:
    """The shard's episodes, one after the other in one env made for the shard."""
    with torch_threads(1):
        env = make_env(task.env_id, task.env_kwargs)
        try:
            policy = env_policy(task.policy, task.policy_kwargs, env)
            runs = [run_episode(env, policy, rng, task.steps) for _ in range(task.episodes)]
        finally:
            env.close()
    return _concatenate(runs)


def run_episode(env: gymnasium.Env, policy, rng: np.random.Generator, steps: int) -> dict:
    """One episode: obs [T + 1, ...], actions [T + 1, A] (last NaN), states [T + 1, S];
    T <= `steps` (shorter when the env terminates or truncates)."""
    space = env.action_space
    obs, info = env.reset(seed=int(rng.integers(2**63 - 1)))
    policy.reset(1, rng)
    frames, actions, states = [obs], [], [_state(info)]
    for _ in range(steps):
        action = policy(obs[None], states[-1][None], rng)[0]
        obs, _, terminated, truncated, info = env.step(action.astype(space.dtype))
        frames.append(obs)
        actions.append(action)
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


SOURCE = EpisodeSource("random", vectorized=False, probe=probe, shard_arrays=shard_arrays)

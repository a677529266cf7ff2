"""Episodes of the vectorized arena simulators (`hjepa.envs.SIM_REGISTRY`) for the collection
driver `hjepa.envs.collect`: a shard's episodes run `envs_per_batch` environments at a time.

Actions are clipped to the simulator's `max_norm` before stepping; the clipped action is stored.
"""

import json

import numpy as np

from hjepa.data.facts import EnvFacts
from hjepa.envs import make_sim
from hjepa.envs.policies import BUILTIN, load_policy
from hjepa.envs.shard_task import EnvProbe, EpisodeSource, ShardTask

_CACHE: dict[str, object] = {}  # per process: simulators and shard buffers, reused


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


def shard_arrays(task: ShardTask, rng: np.random.Generator) -> dict:
    """The shard's episodes, `task.envs_per_batch` at a time, as one shard's arrays."""
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
    arrays["episode_starts"] = np.arange(task.episodes, dtype=np.int64) * (task.steps + 1)
    return arrays


def sim_facts(sim) -> EnvFacts:
    """The goal-env protocol's facts of an arena simulator."""
    return EnvFacts(sim.state_names, sim.position_names, sim.layout_names, sim.units)


def probe(env_id: str, env_kwargs: dict, policy: str, policy_kwargs: dict) -> EnvProbe:
    """The simulator's shapes and facts; the built-in policies get its `max_norm` by default."""
    sim = make_sim(env_id, 1, **env_kwargs)
    kwargs = dict(policy_kwargs)
    if policy in BUILTIN:
        kwargs.setdefault("max_norm", float(sim.max_norm))
    load_policy(policy, **kwargs)  # fail early, in this process, with a clear error
    return EnvProbe(sim.observation_shape, sim.action_dim, sim_facts(sim), kwargs)


SOURCE = EpisodeSource("random_walk", vectorized=True, probe=probe, shard_arrays=shard_arrays)

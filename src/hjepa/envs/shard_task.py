"""One shard of a collection: the task a worker gets, the generator it draws from, and what an
episode source (`collect_sim` for the arena simulators, `collect_gym` for Gymnasium envs) tells
the collection driver (`hjepa.envs.collect`)."""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from hjepa.data.facts import EnvFacts


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


@dataclass(frozen=True)
class EnvProbe:
    """What the store records of an env before collecting: frame shape, action dim, the env's
    facts, and the policy's arguments as the episodes will use them."""

    observation_shape: tuple[int, ...]
    action_dim: int
    facts: EnvFacts
    policy_kwargs: dict


@dataclass(frozen=True)
class EpisodeSource:
    """How one kind of env produces a shard's episodes.

    `probe(env_id, env_kwargs, policy, policy_kwargs) -> EnvProbe` runs in the collecting process
    and fails early (ConfigError) on a bad env or policy; it leaves no env open.
    `shard_arrays(task, rng) -> dict` runs in a worker: obs, actions, states and episode_starts of
    the shard's `task.episodes` episodes, every random draw from `rng`.
    `vectorized`: runs `envs_per_worker` envs at a time (else one).
    """

    default_policy: str
    vectorized: bool
    probe: Callable[[str, dict, str, dict], EnvProbe]
    shard_arrays: Callable[[ShardTask, np.random.Generator], dict]

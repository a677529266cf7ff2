"""Simulated environments: vectorized point-agent arenas and Gymnasium adapters.

This package knows nothing of models, planners or agents. Two entry points:

- `make_sim(env_id, num_envs, **kwargs)`: the vectorized simulator (`ArenaSim`) for an env id,
  stepping `num_envs` environments at once in numpy (the fast path for data collection).
- `gymnasium.make(env_id)`: a single-environment `gymnasium.Env` over the same simulator
  (registered on import of `hjepa.envs`, episodes truncated at 200 steps).

Known ids: `hjepa/TwoRooms-v0` (fixed centre wall), `hjepa/TwoRoomsRandomWall-v0` (wall and door
drawn per reset), `hjepa/Maze-v0` (3x3 rooms joined by doors, any R x C with `rooms`).

Task sets (`hjepa.envs.tasks`, registered on import): Two-Rooms' start/goal pairs in different
rooms (`hjepa.envs.two_rooms`) for both of its ids; the maze's start/goal pairs in bands of
shortest-path length, 25-50 to 200+ env steps (`hjepa.envs.maze_tasks`), for `hjepa/Maze-v0`.

External envs (Gymnasium only, no vectorized simulator): `hjepa/PendulumGoal-v0`, Pendulum-v1 as
a goal-reaching pixel env (`hjepa.envs.pendulum_goal`, registered on import); `hjepa/PushT-v0`,
gym-pusht's Push-T (`hjepa.envs.pusht`, extra `hjepa[pusht]`; registered on import, its task
set in `hjepa.envs.pusht_tasks`, its scripted data policy in `hjepa.envs.pusht_policy`). Any
other Gymnasium env becomes one with a `GoalSpec` (`hjepa.envs.goal_pixels`; examples in
`examples/`).
"""

from collections.abc import Callable
from functools import partial

import gymnasium

from hjepa.envs import maze_tasks, pendulum_goal, pusht_tasks, two_rooms  # registering modules
from hjepa.envs.arena import ArenaSim
from hjepa.envs.maze import MazeSim
from hjepa.envs.tasks import register_tasks
from hjepa.envs.two_rooms import TwoRoomsSim
from hjepa.errors import ConfigError

MAX_EPISODE_STEPS = 200

# env id -> (simulator class, keyword arguments fixed by that id)
SIM_REGISTRY: dict[str, tuple[Callable[..., ArenaSim], dict]] = {
    "hjepa/TwoRooms-v0": (TwoRoomsSim, {"random_wall": False}),
    "hjepa/TwoRoomsRandomWall-v0": (TwoRoomsSim, {"random_wall": True}),
    "hjepa/Maze-v0": (MazeSim, {}),
}

PENDULUM_GOAL_ID = pendulum_goal.PENDULUM_ID
PUSHT_ID = pusht_tasks.PUSHT_ID


def make_sim(env_id: str, num_envs: int = 1, **kwargs) -> ArenaSim:
    """The vectorized simulator of `env_id` with `num_envs` environments; `kwargs` override."""
    if env_id not in SIM_REGISTRY:
        known = ", ".join(sorted(SIM_REGISTRY))
        raise ConfigError(f"unknown env id {env_id!r}; known ids: {known}")
    cls, fixed = SIM_REGISTRY[env_id]
    try:
        return cls(num_envs=num_envs, **{**fixed, **kwargs})
    except TypeError as err:  # an argument the simulator does not take
        raise ConfigError(f"env kwargs of {env_id} {kwargs}: {err}") from None


def _register_all() -> None:
    """Register every id of SIM_REGISTRY with Gymnasium (idempotent)."""
    for env_id in SIM_REGISTRY:
        if env_id in gymnasium.registry:
            continue
        gymnasium.register(
            id=env_id,
            entry_point="hjepa.envs.gym_env:ArenaEnv",
            kwargs={"sim_factory": env_id},
            max_episode_steps=MAX_EPISODE_STEPS,
        )


def _register_task_sets() -> None:
    """Two-Rooms' task set for both of its ids (`hjepa.envs.two_rooms.sample_tasks`), the
    maze's for its id (`hjepa.envs.maze_tasks.sample_tasks`)."""
    modules = {TwoRoomsSim: two_rooms, MazeSim: maze_tasks}
    for env_id, (cls, fixed) in SIM_REGISTRY.items():
        module = modules[cls]
        sample = partial(_with_fixed_kwargs, module.sample_tasks, fixed)
        register_tasks(env_id, sample, module.TASK_PROTOCOL, module.task_plane())


def _with_fixed_kwargs(sample, fixed: dict, episodes: int, seed: int, env_kwargs: dict):
    return sample(episodes, seed, {**env_kwargs, **fixed})


_register_all()
_register_task_sets()

__all__ = [
    "ArenaSim",
    "MazeSim",
    "TwoRoomsSim",
    "SIM_REGISTRY",
    "PENDULUM_GOAL_ID",
    "PUSHT_ID",
    "make_sim",
    "MAX_EPISODE_STEPS",
]

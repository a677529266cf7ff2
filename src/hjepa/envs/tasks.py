"""Fixed, seeded start/goal sets for goal-reaching evaluation (the protocol written down).

Two-Rooms (PLDM / EB-JEPA protocol): the layout is drawn as the env would draw it (fixed centre
wall, or wall x and door y uniform within the paddings), the start room is left or right with
equal odds, the start is uniform over the free pixels of that room and the goal uniform over the
free pixels of the *other* room. Success: the agent ends within `GOAL_RADIUS` (4.5 px) of the goal
within the step budget (200 steps), i.e. the env reports `terminated`.

Each task is the `options` dict to pass to `env.reset(seed=..., options=...)`; the same `seed`
gives the same tasks on every machine.
"""

import numpy as np

from hjepa.envs import SIM_REGISTRY, make_sim
from hjepa.envs.two_rooms import TwoRoomsSim, sample_free_position
from hjepa.errors import ConfigError


def goal_tasks(env_id: str, episodes: int, seed: int, **env_kwargs) -> list[dict]:
    """`episodes` reset options {"wall_x", "door_y", "start", "goal"} for `env_id`."""
    if int(episodes) < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}")
    sim = make_sim(env_id, 1, **env_kwargs)
    if not isinstance(sim, TwoRoomsSim):
        known = sorted(k for k, (cls, _) in SIM_REGISTRY.items() if cls is TwoRoomsSim)
        raise ConfigError(f"no goal-reaching task set for {env_id!r}; known: {known}")
    rng = np.random.default_rng(seed)
    sim.rng = rng
    tasks = []
    for _ in range(int(episodes)):
        wall_x, door_y = sim.draw_layout()
        room = int(rng.integers(2))
        start = sample_free_position(rng, wall_x, door_y, sim.size, room)[0]
        goal = sample_free_position(rng, wall_x, door_y, sim.size, 1 - room)[0]
        tasks.append(
            {
                "wall_x": int(wall_x[0]),
                "door_y": int(door_y[0]),
                "start": tuple(float(v) for v in start),
                "goal": tuple(float(v) for v in goal),
            }
        )
    return tasks

"""Fixed, seeded start/goal sets for goal-reaching evaluation (the protocol written down).

Two-Rooms (PLDM / EB-JEPA protocol): the layout is drawn as the env would draw it (fixed centre
wall, or wall x and door y uniform within the paddings), the start room is left or right with
equal odds, the start is uniform over the free pixels of that room and the goal uniform over the
free pixels of the *other* room. Success: the agent ends within `GOAL_RADIUS` (4.5 px) of the goal
within the step budget (200 steps), i.e. the env reports `terminated`.

Pendulum (`hjepa/PendulumGoal-v0`, states (theta, theta_dot), theta = 0 upright): the start
angle is uniform in [-pi, pi] and its velocity uniform in [-1, 1] rad/s (Pendulum-v1's own
start distribution); the goal angle is uniform over the angles at least 1 rad (wrapped) from
the start (start + an offset uniform in [1, 2 pi - 1], wrapped to [-pi, pi)), with velocity 0.
Success: at some step of the budget (200 steps) the pendulum's angle is within 0.2 rad (wrapped)
of the goal angle while it is nearly still (|theta_dot| < 1 rad/s, as in the goal image);
swinging through the goal angle does not count. The env reports `terminated`.

Each task is the `options` dict to pass to `env.reset(seed=..., options=...)`; the same `seed`
gives the same tasks on every machine.
"""

import numpy as np

from hjepa.envs import PENDULUM_GOAL_ID, SIM_REGISTRY, make_sim
from hjepa.envs.two_rooms import TwoRoomsSim, sample_free_position
from hjepa.errors import ConfigError

PENDULUM_MIN_GAP = 1.0  # rad, between start and goal angles
PROTOCOLS = {  # one line per task family, for reports
    PENDULUM_GOAL_ID: "pendulum: goal angle >= 1 rad from the start; success = within 0.2 rad "
    "of it at under 1 rad/s",
}
TWO_ROOMS_PROTOCOL = "start and goal in different rooms; success = within 4.5 px of the goal"


def protocol(env_id: str) -> str:
    """The task set and success criterion of `env_id` in one line (module doc for details)."""
    return PROTOCOLS.get(env_id, TWO_ROOMS_PROTOCOL)


def plot_plane(env_id: str, size: int) -> dict:
    """Where `info["agent_pos"]` lives, for trajectory plots: axis limits and labels, and
    `wraps` (the x span after which a path jumps back, or None)."""
    if env_id == PENDULUM_GOAL_ID:
        return {
            "xlim": (-np.pi, np.pi),
            "ylim": (-8.0, 8.0),
            "xlabel": "theta (rad, 0 = up)",
            "ylabel": "theta_dot (rad/s)",
            "wraps": 2 * np.pi,
        }
    return {"xlim": (0, size), "ylim": (size, 0), "xlabel": "", "ylabel": "", "wraps": None}


def goal_tasks(env_id: str, episodes: int, seed: int, **env_kwargs) -> list[dict]:
    """`episodes` reset options for `env_id`: {"wall_x", "door_y", "start", "goal"} for
    Two-Rooms, {"start", "goal"} for the pendulum."""
    if int(episodes) < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}")
    if env_id == PENDULUM_GOAL_ID:
        return pendulum_tasks(int(episodes), seed)
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


def pendulum_tasks(episodes: int, seed: int) -> list[dict]:
    """`episodes` options {"start": (theta, theta_dot), "goal": (theta_g, 0.0)} (module doc)."""
    rng = np.random.default_rng(seed)
    tasks = []
    for _ in range(episodes):
        theta = rng.uniform(-np.pi, np.pi)
        theta_dot = rng.uniform(-1.0, 1.0)
        offset = rng.uniform(PENDULUM_MIN_GAP, 2 * np.pi - PENDULUM_MIN_GAP)
        goal = (theta + offset + np.pi) % (2 * np.pi) - np.pi
        tasks.append({"start": (float(theta), float(theta_dot)), "goal": (float(goal), 0.0)})
    return tasks

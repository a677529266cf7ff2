"""MountainCarContinuous-v0 as a goal-reaching pixel env: drive the car to a position and stop.

A plug-in in user style (hjepa does not ship it): importing this module registers
`MountainCarGoal-v0` and its task set, so `gymnasium.make("examples.mountain_car_goal:
MountainCarGoal-v0")` and configs with `env: examples.mountain_car_goal:MountainCarGoal-v0` work
from the repository root.

- observations: uint8 [2, 64, 64], two stacked grayscale frames of Gymnasium's drawing (the
  600 x 400 frame squeezed to 64 x 64), oldest first, one frame per action; actions: the force
  in [-1, 1], each applied for `action_repeat` (4) simulator steps.
- states (position, velocity): position in [-1.2, 0.6] m, velocity in [-0.07, 0.07] m per
  simulator step. Without a "start" the car starts anywhere, position uniform in [-1.2, 0.5],
  velocity uniform in [-0.03, 0.03] (wider than Gymnasium's own starts, which random forces
  barely move from the valley floor, so collected data cover the track).
- success: within `tolerance` (0.05 m) of the goal position at under `speed_tolerance`
  (0.005 m per step), i.e. stopped there, as the goal image shows (two equal frames).
- the flag is moved off-screen and never ends an episode: the goal image is the only goal.
"""

from __future__ import annotations

import numpy as np
from gymnasium.envs.classic_control.continuous_mountain_car import Continuous_MountainCarEnv

from hjepa.envs.goal_pixels import GoalPixels, GoalSpec, register_goal_env
from hjepa.envs.tasks import PlotPlane

ENV_ID = "MountainCarGoal-v0"
TOLERANCE = 0.05  # m
SPEED_TOLERANCE = 0.005  # m per simulator step
START_POSITIONS = (-1.2, 0.5)
START_SPEED = 0.03
GOAL_POSITIONS = (-1.1, 0.5)
MIN_GAP = 0.4  # m between start and goal positions
OFF_SCREEN = 0.61  # flag position beyond the track's end (0.6): never drawn, never reached


class SpreadStartMountainCar(Continuous_MountainCarEnv):
    """Mountain car starting anywhere on the track (module docstring), flag off-screen."""

    def __init__(self, render_mode: str | None = "rgb_array"):
        super().__init__(render_mode=render_mode)
        self.goal_position = OFF_SCREEN

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        position = self.np_random.uniform(*START_POSITIONS)
        velocity = self.np_random.uniform(-START_SPEED, START_SPEED)
        self.state = np.array([position, velocity], dtype=np.float32)
        return self.state.copy(), {}


def mountain_car_spec(tolerance: float, speed_tolerance: float) -> GoalSpec:
    def set_state(env, state) -> None:
        env.state = np.array(state, dtype=np.float32)

    def check(state) -> str | None:
        if not (-1.2 <= state[0] <= 0.6 and abs(state[1]) <= 0.07):
            return f"position must be in [-1.2, 0.6], |velocity| <= 0.07, got {tuple(state)}"
        return None

    return GoalSpec(
        goal_names=("position", "velocity"),
        state_names=("position", "velocity"),
        get_state=lambda env: np.array(env.state, dtype=np.float64),
        set_state=set_state,
        distance=lambda s, g: float(abs(s[0] - g[0])),
        reached=lambda s, g: abs(s[0] - g[0]) < tolerance and abs(s[1]) < speed_tolerance,
        agent_pos=lambda s: (float(s[0]), float(s[1])),
        position_names=("position",),
        units="m",
        check=check,
    )


def make_mountain_car_goal(
    render_mode: str | None = None,
    action_repeat: int = 4,
    tolerance: float = TOLERANCE,
    speed_tolerance: float = SPEED_TOLERANCE,
) -> GoalPixels:
    """The goal env (module docstring)."""
    spec = mountain_car_spec(float(tolerance), float(speed_tolerance))
    pixels = {"size": 64, "grayscale": True, "frame_stack": 2, "action_repeat": action_repeat}
    return GoalPixels(SpreadStartMountainCar(), spec, render_mode, **pixels)


PROTOCOL = (
    f"start at rest, position uniform in [-1.0, 0.3] m; goal position uniform in "
    f"[{GOAL_POSITIONS[0]}, {GOAL_POSITIONS[1]}] m, >= {MIN_GAP} m away, at rest; success = "
    f"within {TOLERANCE} m of it at under {SPEED_TOLERANCE} m/step (stopped), 200 actions of 4 "
    "simulator steps"
)


def sample_tasks(episodes: int, seed: int, env_kwargs: dict) -> list[dict]:
    """`episodes` options {"start": (x, 0), "goal": (x_g, 0)} with |x - x_g| >= MIN_GAP."""
    rng = np.random.default_rng(seed)
    tasks = []
    while len(tasks) < episodes:
        start, goal = rng.uniform(-1.0, 0.3), rng.uniform(*GOAL_POSITIONS)
        if abs(start - goal) >= MIN_GAP:
            tasks.append({"start": (float(start), 0.0), "goal": (float(goal), 0.0)})
    return tasks


register_goal_env(
    ENV_ID,
    make_mountain_car_goal,
    sample_tasks,
    PROTOCOL,
    PlotPlane(xlim=(-1.2, 0.6), ylim=(-0.07, 0.07), xlabel="position (m)", ylabel="velocity"),
)

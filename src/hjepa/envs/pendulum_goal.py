"""Pendulum-v1 as a goal-reaching pixel env: `hjepa/PendulumGoal-v0` (a `GoalPixels` spec).

`PendulumGoal` (registered as `hjepa/PendulumGoal-v0`, truncated at 200 steps) is Gymnasium's
`Pendulum-v1` seen through the pixel adapter (`PixelObservation`): observations are uint8
[2, 64, 64], two stacked grayscale frames (oldest first, so the swing's velocity is visible),
actions are the torque normalized to [-1, 1] (the env's [-2, 2] N m). Protocol
(`hjepa.envs.goal_pixels`, states (theta, theta_dot)):

- `reset(options={"start": (theta, theta_dot), "goal": (theta_g, theta_dot_g)})` (theta = 0 is
  upright, radians, counter-clockwise; theta_dot in rad/s, at most 8 in magnitude, the env's
  speed limit). Without "start" the env draws its own (theta uniform in [-pi, pi], theta_dot
  uniform in [-1, 1]).
- distance: the wrapped angle difference |theta - theta_g| in [0, pi] ("rad"). The goal is
  reached when the distance is below `tolerance` (0.2 rad) *and* the pendulum is nearly still
  there, |theta_dot| < `speed_tolerance` (1 rad/s), as in the goal image (two equal frames):
  swinging through the goal angle does not count.
- `info["agent_pos"]`: (theta wrapped to [-pi, pi), theta_dot), the phase-space point that
  trajectory plots draw; `info["state"]`: float32 (cos theta, sin theta, theta_dot), the env's
  vector observation, whose (cos, sin) columns locate the tip (`position_names`).

Rendering: the pendulum is drawn at `render_size` (128) pixels, then area-averaged to 64, and
Pendulum's torque arrow is hidden, so frames show the pendulum alone (goal images carry no
torque either).
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium.envs.classic_control.pendulum import PendulumEnv

from hjepa.envs.goal_pixels import GoalPixels, GoalSpec, register_goal_env
from hjepa.envs.tasks import PlotPlane
from hjepa.errors import ConfigError

PENDULUM_ID = "hjepa/PendulumGoal-v0"
TOLERANCE = 0.2  # rad
SPEED_TOLERANCE = 1.0  # rad/s
RENDER_SIZE = 128


def angle_difference(a, b):
    """Wrapped difference a - b of angles, in [-pi, pi)."""
    return (np.asarray(a) - np.asarray(b) + np.pi) % (2 * np.pi) - np.pi


def pendulum_spec(tolerance: float, speed_tolerance: float, max_speed: float) -> GoalSpec:
    """States (theta, theta_dot); reached within `tolerance` rad at under `speed_tolerance`."""

    def distance(state, goal) -> float:
        return float(abs(angle_difference(state[0], goal[0])))

    def set_state(env, state) -> None:
        env.state = np.array(state, dtype=np.float64)

    def check(state) -> str | None:
        if abs(state[1]) > max_speed:
            return f"theta_dot {state[1]} exceeds the speed limit {max_speed}"
        return None

    return GoalSpec(
        goal_names=("theta", "theta_dot"),
        state_names=("cos_theta", "sin_theta", "theta_dot"),
        get_state=lambda env: np.array(env.state, dtype=np.float64),
        set_state=set_state,
        distance=distance,
        reached=lambda s, g: distance(s, g) < tolerance and abs(s[1]) < speed_tolerance,
        agent_pos=lambda s: (float(angle_difference(s[0], 0.0)), float(s[1])),
        observe=lambda s: np.array([np.cos(s[0]), np.sin(s[0]), s[1]]),
        position_names=("cos_theta", "sin_theta"),
        units="rad",
        check=check,
    )


class _NoTorqueArrow(gymnasium.Wrapper):
    """Pendulum draws the last torque as an arrow: forgotten after every step, before the frame
    is drawn."""

    def step(self, action):
        result = self.env.step(action)
        self.env.unwrapped.last_u = None
        return result


class PendulumGoal(GoalPixels):
    """Pendulum-v1 as a goal-reaching pixel env (protocol in the module docstring)."""

    def __init__(
        self,
        render_mode: str | None = None,
        size: int = 64,
        frame_stack: int = 2,
        tolerance: float = TOLERANCE,
        speed_tolerance: float = SPEED_TOLERANCE,
        render_size: int = RENDER_SIZE,
    ):
        if not (float(tolerance) > 0 and float(speed_tolerance) > 0):
            raise ConfigError(f"tolerances must be positive, got {tolerance}, {speed_tolerance}")
        if int(render_size) < int(size):
            raise ConfigError(f"render_size ({render_size}) must be at least size ({size})")
        pendulum = PendulumEnv(render_mode="rgb_array")
        pendulum.screen_dim = int(render_size)  # read by Pendulum's renderer
        spec = pendulum_spec(float(tolerance), float(speed_tolerance), pendulum.max_speed)
        pixels = {"size": size, "grayscale": True, "frame_stack": frame_stack}
        super().__init__(_NoTorqueArrow(pendulum), spec, render_mode, **pixels)


# -- the goal-reaching task set of hjepa/PendulumGoal-v0

MIN_GAP = 1.0  # rad, between start and goal angles
TASK_PROTOCOL = (
    "start angle uniform, start velocity uniform in [-1, 1] rad/s; goal angle >= 1 rad from the "
    "start, velocity 0; success = within 0.2 rad of the goal angle at under 1 rad/s"
)


def sample_tasks(episodes: int, seed: int, env_kwargs: dict) -> list[dict]:
    """`episodes` options {"start": (theta, theta_dot), "goal": (theta_g, 0.0)}: the start as
    Pendulum-v1 draws it, the goal angle uniform over the angles at least `MIN_GAP` (wrapped)
    from the start angle."""
    rng = np.random.default_rng(seed)
    tasks = []
    for _ in range(episodes):
        theta = rng.uniform(-np.pi, np.pi)
        theta_dot = rng.uniform(-1.0, 1.0)
        offset = rng.uniform(MIN_GAP, 2 * np.pi - MIN_GAP)
        goal = (theta + offset + np.pi) % (2 * np.pi) - np.pi
        tasks.append({"start": (float(theta), float(theta_dot)), "goal": (float(goal), 0.0)})
    return tasks


register_goal_env(
    PENDULUM_ID,
    f"{__name__}:PendulumGoal",
    sample_tasks,
    TASK_PROTOCOL,
    PlotPlane(
        xlim=(-np.pi, np.pi),
        ylim=(-8.0, 8.0),
        xlabel="theta (rad, 0 = up)",
        ylabel="theta_dot (rad/s)",
        wraps=2 * np.pi,
    ),
)

"""Goal-reaching pixel environments over Gymnasium classic-control envs (Pendulum-v1).

`PendulumGoal` (registered as `hjepa/PendulumGoal-v0`, truncated at 200 steps) is Gymnasium's
`Pendulum-v1` seen through the pixel adapter (`PixelObservation`): observations are uint8
[2, 64, 64], two stacked grayscale frames (oldest first, so the swing's velocity is visible),
actions are the torque normalized to [-1, 1] (the env's [-2, 2] N m). Protocol:

- `reset(options={"start": (theta, theta_dot), "goal": (theta_g, theta_dot_g)})` sets the
  pendulum's state (theta = 0 is upright, radians, counter-clockwise; theta_dot in rad/s, at most
  8 in magnitude, the env's speed limit). Without "start" the env draws its own (theta uniform
  in [-pi, pi], theta_dot uniform in [-1, 1]). Options may hold only these two keys.
- with a goal, `info["goal_obs"]` is the observation of the goal state (its frame rendered with
  the goal state set, repeated `frame_stack` times, as a reset there would give; the true state
  is restored afterwards), `info["goal"]` the goal state and `info["distance"]` the distance.
- distance: the wrapped angle difference |theta - theta_g| in [0, pi]. Every step reports
  `terminated=True` when the distance is below `tolerance` (0.2 rad) *and* the pendulum is
  nearly still there, |theta_dot| < `speed_tolerance` (1 rad/s), as in the goal image (two equal
  frames): swinging through the goal angle does not count. Reward = minus the distance.
- without a goal: the env's own reward, never terminated (data collection).
- `info["agent_pos"]`: (theta wrapped to [-pi, pi), theta_dot), the phase-space point that
  trajectory plots draw (as the arenas' agent position);
- `info["state"]`: float32 (cos theta, sin theta, theta_dot), the env's vector observation;
  `state_names` names its columns.

Rendering: the pendulum is drawn at `render_size` (128) pixels, then area-averaged to 64, and
Pendulum's torque arrow is hidden, so frames show the pendulum alone (goal images carry no
torque either). The wrapped env always renders `rgb_array` frames for the observations;
`render()` returns the latest frame (uint8 [render_size, render_size, 3]) when the env was made
with `render_mode="rgb_array"`, and None with `render_mode=None`.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium.envs.classic_control.pendulum import PendulumEnv

from hjepa.envs.pixels import PixelObservation
from hjepa.envs.tasks import PlotPlane, register_tasks
from hjepa.errors import ConfigError

TOLERANCE = 0.2  # rad
SPEED_TOLERANCE = 1.0  # rad/s
RENDER_SIZE = 128
OPTION_KEYS = ("start", "goal")


def angle_difference(a, b):
    """Wrapped difference a - b of angles, in [-pi, pi)."""
    return (np.asarray(a) - np.asarray(b) + np.pi) % (2 * np.pi) - np.pi


class _SetState(gymnasium.Wrapper):
    """Below the pixel adapter: puts the pendulum in `options["start"]` on reset (before the
    first frame is rendered) and hides the torque arrow after every step."""

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        start = (options or {}).get("start")
        obs, info = self.env.reset(seed=seed)
        if start is not None:
            self.env.unwrapped.state = np.array(start, dtype=np.float64)
            obs = self.env.unwrapped._get_obs()
        return obs, info

    def step(self, action):
        result = self.env.step(action)
        self.env.unwrapped.last_u = None  # Pendulum draws the last torque as an arrow
        return result


class PendulumGoal(gymnasium.Wrapper):
    """Pendulum-v1 as a goal-reaching pixel env (protocol in the module docstring)."""

    state_names = ("cos_theta", "sin_theta", "theta_dot")

    def __init__(
        self,
        render_mode: str | None = None,
        size: int = 64,
        frame_stack: int = 2,
        tolerance: float = TOLERANCE,
        speed_tolerance: float = SPEED_TOLERANCE,
        render_size: int = RENDER_SIZE,
    ):
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if not (float(tolerance) > 0 and float(speed_tolerance) > 0):
            raise ConfigError(f"tolerances must be positive, got {tolerance}, {speed_tolerance}")
        if int(render_size) < int(size):
            raise ConfigError(f"render_size ({render_size}) must be at least size ({size})")
        pendulum = PendulumEnv(render_mode="rgb_array")
        pendulum.screen_dim = int(render_size)  # read by Pendulum's renderer
        pixels = PixelObservation(
            _SetState(pendulum), size, grayscale=True, frame_stack=frame_stack
        )
        super().__init__(pixels)
        self._render_mode = render_mode
        self.tolerance, self.speed_tolerance = float(tolerance), float(speed_tolerance)
        self.goal: np.ndarray | None = None

    @property
    def render_mode(self) -> str | None:
        return self._render_mode

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode; options "start" and "goal" as (theta, theta_dot)."""
        start, goal = self._parse_options(options)
        obs, info = self.env.reset(seed=seed, options={"start": start})
        self.goal = goal
        info["agent_pos"] = self.phase_point()
        if goal is not None:
            info["goal"] = tuple(float(v) for v in goal)
            info["goal_pos"] = (float(angle_difference(goal[0], 0.0)), float(goal[1]))
            info["goal_obs"] = self._goal_obs(goal)
            info["distance"] = self.distance()
        return obs, info

    def step(self, action):
        """Apply a normalized torque in [-1, 1]: (obs, reward, terminated, truncated, info)."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["agent_pos"] = self.phase_point()
        if self.goal is not None:
            info["distance"] = self.distance()
            still = abs(float(self.unwrapped.state[1])) < self.speed_tolerance
            reward = -info["distance"]
            terminated = info["distance"] < self.tolerance and still
        return obs, float(reward), bool(terminated), bool(truncated), info

    def render(self):
        """The latest rgb frame uint8 [render_size, render_size, 3], or None without a mode."""
        if self._render_mode != "rgb_array":
            return None
        return self.env.render()

    def phase_point(self) -> tuple[float, float]:
        """(theta wrapped to [-pi, pi), theta_dot): where trajectory plots draw the pendulum."""
        theta, theta_dot = self.unwrapped.state
        return float(angle_difference(theta, 0.0)), float(theta_dot)

    def distance(self) -> float:
        """Wrapped angle distance (rad) from the pendulum to the goal; velocity ignored."""
        if self.goal is None:
            raise ConfigError("no goal: reset with options={'goal': (theta, theta_dot)}")
        return float(abs(angle_difference(self.unwrapped.state[0], self.goal[0])))

    def _goal_obs(self, goal: np.ndarray) -> np.ndarray:
        """The observation a reset at `goal` would give; the pendulum's state is restored."""
        pendulum, pixels = self.unwrapped, self.env
        saved = np.array(pendulum.state, copy=True)
        try:
            pendulum.state = goal.copy()
            frame = pixels._frame()  # the adapter's own rendering: same pipeline as observations
        finally:
            pendulum.state = saved
        return np.concatenate([frame] * pixels.frame_stack, axis=0)

    def _parse_options(self, options) -> tuple[np.ndarray | None, np.ndarray | None]:
        if options is None:
            return None, None
        if not isinstance(options, dict):
            raise ConfigError(f"options must be a dict, got {type(options).__name__}")
        unknown = sorted(set(options) - set(OPTION_KEYS))
        if unknown:
            raise ConfigError(f"options: unknown keys {unknown}; known: {list(OPTION_KEYS)}")
        return tuple(self._check_state(options.get(key), key) for key in OPTION_KEYS)

    def _check_state(self, value, name: str) -> np.ndarray | None:
        if value is None:
            return None
        try:
            state = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            state = None
        if state is None or state.shape != (2,) or not np.isfinite(state).all():
            raise ConfigError(
                f"options[{name!r}]: expected finite (theta, theta_dot), got {value!r}"
            )
        max_speed = self.unwrapped.max_speed
        if abs(state[1]) > max_speed:
            raise ConfigError(
                f"options[{name!r}]: theta_dot {state[1]} exceeds the speed limit {max_speed}"
            )
        return state


# -- the goal-reaching task set of hjepa/PendulumGoal-v0

PENDULUM_ID = "hjepa/PendulumGoal-v0"
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


register_tasks(
    PENDULUM_ID,
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

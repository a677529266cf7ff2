"""Any Gymnasium env as a goal-reaching pixel env: a `GoalSpec` says what its states and goals are.

To run an env hjepa does not ship through `hjepa collect / train / eval / plan`, write a
`GoalSpec` for it (a handful of functions over the env's settable state), wrap the env in
`GoalPixels` and register the id with its task set:

    SPEC = GoalSpec(goal_names=("position", "velocity"), state_names=("position", "velocity"),
                    get_state=..., set_state=..., distance=..., reached=..., agent_pos=...)

    def make(render_mode=None):
        car = Continuous_MountainCarEnv(render_mode="rgb_array")
        return GoalPixels(car, SPEC, render_mode, size=64, grayscale=True, frame_stack=2)

    register_goal_env("MountainCarGoal-v0", make, sample_tasks, "one line: tasks + success")

(`examples/mountain_car_goal.py` and `examples/reacher_goal.py` in the repository are complete
plug-ins; `hjepa.envs.pendulum_goal` is hjepa's own.) The wrapped env must render `rgb_array`
frames; `GoalPixels` puts `hjepa.envs.pixels.PixelObservation` over it (keyword arguments go
there: size, grayscale, frame_stack, action_repeat, camera) and follows the goal-env protocol
(`hjepa.envs.goal`):

- `reset(options={"start": s, "goal": g})`, both optional, both states in the order of the spec's
  `goal_names`, checked (shape, finite, the spec's own `check`): the env resets as it likes, then
  is put in `s` (before its first frame is drawn). With a goal, the reset info carries
  `"goal"`, `"goal_pos"` (`agent_pos(g)`), `"goal_obs"` (`render_state(g)`) and `"distance"`.
- `step`: with a goal, reward = minus the distance, `terminated` exactly when
  `reached(state, goal)`, and an episode the wrapped env ends by itself without reaching the
  goal is `truncated` (over, not a success); without a goal, the env's own reward and ends.
- every info: `"state"` = `observe(state)` (float32, columns `state_names`), `"agent_pos"`, and
  with a goal `"distance"` (in `units`).
- `render_state(state)`: sets the state, draws the observation through the pixel adapter's
  public `render_observation()` (as a reset there would show it), then restores the state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium
import numpy as np

from hjepa.envs.pixels import PixelObservation
from hjepa.envs.tasks import PlotPlane, register_tasks
from hjepa.errors import ConfigError

OPTION_KEYS = ("start", "goal")
MAX_EPISODE_STEPS = 200


@dataclass(frozen=True)
class GoalSpec:
    """What a goal-reaching task is on one env. A *state* is the env's settable state: float64
    numbers named by `goal_names` (starts and goals are states too).

    - `get_state(env) -> state` and `set_state(env, state)` read and write it on the unwrapped
      env (setting must be visible to the env's next `render()`);
    - `distance(state, goal) -> float` in `units`; `reached(state, goal) -> bool`: success;
    - `agent_pos(state) -> (x, y)`: where trajectory plots draw the agent;
    - `observe(state) -> vector`: the probed `info["state"]`, columns `state_names`
      (default: the state itself); `position_names`: the columns of it that locate the agent;
    - `check(state) -> str | None`: what is wrong with a start or goal (e.g. a speed beyond
      the env's limit), or None when it is fine.
    """

    goal_names: tuple[str, ...]
    state_names: tuple[str, ...]
    get_state: Callable[[gymnasium.Env], np.ndarray]
    set_state: Callable[[gymnasium.Env, np.ndarray], None]
    distance: Callable[[np.ndarray, np.ndarray], float]
    reached: Callable[[np.ndarray, np.ndarray], bool]
    agent_pos: Callable[[np.ndarray], tuple[float, float]]
    observe: Callable[[np.ndarray], np.ndarray] | None = None
    position_names: tuple[str, ...] = ()
    units: str = "units"
    check: Callable[[np.ndarray], str | None] | None = None

    def check_state(self, value, name: str) -> np.ndarray:
        """`value` as a state (float64 [len(goal_names)]); ConfigError naming `name` if not."""
        try:
            state = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            state = None
        if state is None or state.shape != (len(self.goal_names),):
            raise ConfigError(f"{name}: expected a state {self.goal_names}, got {value!r}")
        if not np.isfinite(state).all():
            raise ConfigError(f"{name}: state must be finite, got {value!r}")
        problem = self.check(state) if self.check is not None else None
        if problem:
            raise ConfigError(f"{name}: {problem}")
        return state


class _StartState(gymnasium.Wrapper):
    """Below the pixel adapter: after the env's own reset, puts it in `options["start"]`, so the
    first frame already shows the start."""

    def __init__(self, env: gymnasium.Env, goal_spec: GoalSpec):
        super().__init__(env)
        self.goal_spec = goal_spec

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed)
        start = (options or {}).get("start")
        if start is not None:
            self.goal_spec.set_state(self.env.unwrapped, start)
        return obs, info


class GoalPixels(gymnasium.Wrapper):
    """`env` (rendering `rgb_array` frames) as a goal-reaching pixel env described by
    `goal_spec` (module docstring). `render_mode`: what this env's `render()` gives (None or
    "rgb_array", the wrapped env's latest frame); `pixel_options` go to `PixelObservation`."""

    def __init__(
        self,
        env: gymnasium.Env,
        goal_spec: GoalSpec,
        render_mode: str | None = None,
        **pixel_options,
    ):
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if not isinstance(goal_spec, GoalSpec):
            raise ConfigError(f"goal_spec must be a GoalSpec, got {type(goal_spec).__name__}")
        pixels = PixelObservation(_StartState(env, goal_spec), **pixel_options)
        super().__init__(pixels)
        self.pixels = pixels
        self.goal_spec = goal_spec
        self._render_mode = render_mode
        self.goal: np.ndarray | None = None

    @property
    def render_mode(self) -> str | None:
        return self._render_mode

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(self.goal_spec.state_names)

    @property
    def position_names(self) -> tuple[str, ...]:
        return tuple(self.goal_spec.position_names)

    @property
    def layout_names(self) -> tuple[str, ...]:
        return ()

    @property
    def units(self) -> str:
        return self.goal_spec.units

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode; options "start" and "goal" (states), both optional."""
        start, goal = self._parse_options(options)
        obs, info = self.env.reset(seed=seed, options={"start": start})
        self.goal = goal
        info = self._with_facts(info)
        if goal is not None:
            info["goal"] = tuple(float(v) for v in goal)
            info["goal_pos"] = _point(self.goal_spec.agent_pos(goal))
            info["goal_obs"] = self.render_state(goal)
        return obs, info

    def step(self, action):
        """(obs, reward, terminated, truncated, info); with a goal, terminated = reached."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = self._with_facts(info)
        if self.goal is not None:
            ended = terminated or truncated
            reward = -info["distance"]
            terminated = bool(self.goal_spec.reached(self.state(), self.goal))
            truncated = truncated or (ended and not terminated)
        return obs, float(reward), bool(terminated), bool(truncated), info

    def render(self):
        """The wrapped env's latest frame with `render_mode="rgb_array"`, else None."""
        if self._render_mode != "rgb_array":
            return None
        return self.env.render()

    def state(self) -> np.ndarray:
        """The env's current state (`goal_names` columns)."""
        return np.asarray(self.goal_spec.get_state(self.unwrapped), dtype=np.float64)

    def render_state(self, state) -> np.ndarray:
        """The observation a reset in `state` would give; the running episode is untouched."""
        state = self.goal_spec.check_state(state, "render_state")
        saved = self.state().copy()
        try:
            self.goal_spec.set_state(self.unwrapped, state)
            return self.pixels.render_observation()
        finally:
            self.goal_spec.set_state(self.unwrapped, saved)

    def _with_facts(self, info: dict) -> dict:
        state = self.state()
        observe = self.goal_spec.observe
        vector = state if observe is None else observe(state)
        info = {**info, "state": np.asarray(vector, dtype=np.float32).reshape(-1)}
        info["agent_pos"] = _point(self.goal_spec.agent_pos(state))
        if self.goal is not None:
            info["distance"] = float(self.goal_spec.distance(state, self.goal))
        return info

    def _parse_options(self, options) -> tuple[np.ndarray | None, np.ndarray | None]:
        if options is None:
            return None, None
        if not isinstance(options, dict):
            raise ConfigError(f"options must be a dict, got {type(options).__name__}")
        unknown = sorted(set(options) - set(OPTION_KEYS))
        if unknown:
            raise ConfigError(f"options: unknown keys {unknown}; known: {list(OPTION_KEYS)}")
        return tuple(
            None if options.get(key) is None else self.goal_spec.check_state(options[key], key)
            for key in OPTION_KEYS
        )


def _point(xy) -> tuple[float, float]:
    x, y = xy
    return float(x), float(y)


def register_goal_env(
    env_id: str,
    entry_point: str | Callable[..., gymnasium.Env],
    sample: Callable[[int, int, dict], list[dict]],
    protocol: str,
    plane: PlotPlane | None = None,
    max_episode_steps: int = MAX_EPISODE_STEPS,
    **kwargs,
) -> None:
    """Register `env_id` with Gymnasium (unless it already is; episodes truncated at
    `max_episode_steps`, `kwargs` passed to `entry_point`) and its task set
    (`hjepa.envs.tasks.register_tasks`) in one call: what a plug-in module does on import."""
    if env_id not in gymnasium.registry:
        gymnasium.register(
            id=env_id,
            entry_point=entry_point,
            max_episode_steps=int(max_episode_steps),
            kwargs=kwargs,
        )
    register_tasks(env_id, sample, protocol, plane)

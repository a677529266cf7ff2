"""Gymnasium API over one instance of a vectorized arena simulator.

`ArenaEnv` wraps a simulator with `num_envs == 1` (built from an env id of
`hjepa.envs.SIM_REGISTRY` or any factory) as a standard `gymnasium.Env`:

- observation: uint8 (2, size, size), channels (agent, walls);
- action: float32 (dx, dy) in the box [-max_norm, max_norm]^2; inside the box but with norm above
  `max_norm` it is projected onto the norm ball; outside the box, NaN/Inf or a wrong shape raise
  `ActionError`;
- reward 0.0, never terminated, unless `reset(options={"goal": (x, y)})` set a goal: then the
  reward is minus the distance to it and the episode terminates within `goal_radius` (4.5 px);
- truncation comes from the registration (`max_episode_steps=200`, a `TimeLimit` wrapper);
- `info`: "state" (float32 [S], columns "state_names"), "agent_pos" (x, y), and with a goal
  "goal", "distance" and "goal_obs" (the observation with the agent at the goal, in this
  episode's layout: a goal image for agents).

It follows the goal-env protocol (`hjepa.envs.goal`): positions and distances in "px", the
layout columns of the state name the walls, `render_state` draws any position.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium
import numpy as np
from gymnasium import spaces

from hjepa.envs.arena import GOAL_RADIUS, ArenaSim
from hjepa.errors import ActionError, ConfigError


class ArenaEnv(gymnasium.Env):
    """A single arena as a Gymnasium environment.

    `sim_factory`: an env id known to `hjepa.envs.make_sim` (then `sim_kwargs` are passed on)
    or a callable returning an `ArenaSim` with one env.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(
        self,
        sim_factory: str | Callable[[], ArenaSim],
        render_mode: str | None = None,
        goal_radius: float = GOAL_RADIUS,
        **sim_kwargs,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.sim = _build_sim(sim_factory, sim_kwargs)
        self.render_mode = render_mode
        self.goal_radius = float(goal_radius)
        self.goal: np.ndarray | None = None
        shape = self.sim.observation_shape
        self.observation_space = spaces.Box(0, 255, shape, np.uint8)
        bound = np.float32(self.sim.max_norm)
        self.action_space = spaces.Box(-bound, bound, (self.sim.action_dim,), np.float32)
        self.max_action_norm = float(self.sim.max_norm)  # longer moves are scaled down to it

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode; options: "goal" (x, y) plus any option of the simulator."""
        super().reset(seed=seed)
        sim_options = dict(options or {})
        goal = sim_options.pop("goal", None)
        self.goal = None if goal is None else _check_goal(goal)
        self.sim.rng = self.np_random  # one generator: seeded by gymnasium, used by the sim
        obs, states = self.sim.reset(options=sim_options)
        info = self._info(states[0])
        if self.goal is not None:
            info["goal_obs"] = self.sim.observe_at(self.goal, "options['goal']")[0]
            info["goal_pos"] = (float(self.goal[0]), float(self.goal[1]))
        return obs[0], info

    def step(self, action):
        """Move the agent by `action` (dx, dy): (obs, reward, terminated, truncated, info)."""
        action = np.asarray(action)
        if action.shape != (self.sim.action_dim,):
            raise ActionError(
                f"action: expected shape ({self.sim.action_dim},), got {action.shape}"
            )
        obs, states = self.sim.step(action[None])
        info = self._info(states[0])
        reward, terminated = 0.0, False
        if self.goal is not None:
            reward = -info["distance"]
            terminated = info["distance"] <= self.goal_radius
        return obs[0], float(reward), bool(terminated), False, info

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.sim.state_names

    @property
    def position_names(self) -> tuple[str, ...]:
        return self.sim.position_names

    @property
    def layout_names(self) -> tuple[str, ...]:
        return self.sim.layout_names

    @property
    def units(self) -> str:
        return self.sim.units

    def render_state(self, state) -> np.ndarray:
        """The observation with the agent at `state`'s (x, y) in this episode's layout."""
        position = _check_goal(np.asarray(state, dtype=np.float32)[:2])
        return self.sim.observe_at(position)[0]

    def render(self):
        """The rgb_array view uint8 (size, size, 3), or None without a render mode."""
        if self.render_mode != "rgb_array":
            return None
        return self.sim.render_rgb()[0]

    def _info(self, state: np.ndarray) -> dict:
        info = {"state": state, "agent_pos": (float(state[0]), float(state[1]))}
        if self.goal is not None:
            info["goal"] = (float(self.goal[0]), float(self.goal[1]))
            info["distance"] = float(np.hypot(*(state[:2] - self.goal)))
        return info


def _check_goal(goal) -> np.ndarray:
    try:
        arr = np.asarray(goal, dtype=np.float32)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (2,) or not np.isfinite(arr).all():
        raise ConfigError(f"options['goal']: expected a finite (x, y), got {goal!r}")
    return arr


def _build_sim(sim_factory, sim_kwargs: dict) -> ArenaSim:
    if isinstance(sim_factory, str):
        from hjepa.envs import make_sim  # the registry lives in the package

        sim = make_sim(sim_factory, 1, **sim_kwargs)
    elif callable(sim_factory):
        sim = sim_factory(**sim_kwargs)
    else:
        raise ConfigError(f"sim_factory must be an env id or a callable, got {sim_factory!r}")
    if sim.num_envs != 1:
        raise ConfigError(f"ArenaEnv needs a simulator with num_envs=1, got {sim.num_envs}")
    return sim

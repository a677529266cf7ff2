"""The goal-env protocol: everything hjepa reads of a goal-reaching environment.

Any Gymnasium env that follows it runs through `hjepa collect / train / eval / plan`; hjepa's
own envs (`hjepa/TwoRooms-v0`, ..., `hjepa/PendulumGoal-v0`) and any Gymnasium env wrapped by
`hjepa.envs.goal_pixels.GoalPixels` with a `GoalSpec` (e.g. `examples/mountain_car_goal.py`,
`examples/reacher_goal.py`) follow it and nothing else. The contract:

- observations: uint8 images [C, H, W] (wrap a vector or Dict env in
  `hjepa.envs.pixels.PixelObservation`); actions: a bounded 1-d Box.
- `reset(seed=..., options={"goal": g, ...})`: `g` is a goal *state* (as the env defines it;
  further option keys, such as a start state or a layout, are the env's own). With a goal, the
  reset info carries `"goal_obs"`, the observation the env would show in the goal state (what
  the agent is asked to reach), and `"distance"`, the distance to the goal in `units`.
- `step`: `terminated=True` means the goal is reached (success); `truncated` is the time limit.
  With a goal, every info carries `"distance"`.
- every info carries `"state"`, float32 [S]: the true state, columns named by `state_names`
  (used to probe what the world model's latents know; an env without it gives an empty
  `state_names`, and evaluation then says it cannot probe);
- `"agent_pos"` (x, y) in every info, and `"goal_pos"` in the reset info with a goal: where
  trajectory plots draw the agent and the goal (only needed for plots);
- attributes (on the env or any wrapper, read with `env.get_wrapper_attr`):
  `state_names`, `position_names` (the state columns that locate the agent, probed together;
  default none), `layout_names` (state columns fixed within an episode that describe the
  layout, such as wall positions: episodes with equal values share a layout; default none, for
  an env whose episodes all share one layout),
  `units` (of positions and distances, e.g. "px", "rad", "m"; default "units").
- `render_state(state) -> observation`: the observation the env would show in `state`, without
  changing the running episode (how goal images are made).

Task sets (the seeded start/goal pairs `hjepa plan` runs and the success criterion written
down for reports) are registered per env id in `hjepa.envs.tasks`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import gymnasium
import numpy as np

from hjepa.data.facts import EnvFacts


@runtime_checkable
class GoalEnv(Protocol):
    """The attributes and methods of the contract above (reset / step as in Gymnasium)."""

    state_names: tuple[str, ...]

    def reset(self, *, seed: int | None = None, options: dict | None = None): ...

    def step(self, action): ...

    def render_state(self, state) -> np.ndarray: ...


def env_facts(env: gymnasium.Env, state_dim: int | None = None) -> EnvFacts:
    """The protocol's attributes of `env` (defaults where it has none), checked against the
    `state_dim` numbers its infos carry when given: names that do not fit become state_<i>."""
    names = tuple(_attr(env, "state_names", ()))
    if state_dim is not None and len(names) != state_dim:
        names = tuple(f"state_{i}" for i in range(state_dim))
    position = tuple(n for n in _attr(env, "position_names", ()) if n in names)
    layout = tuple(n for n in _attr(env, "layout_names", ()) if n in names)
    return EnvFacts(names, position, layout, str(_attr(env, "units", "units")))


def _attr(env: gymnasium.Env, name: str, default):
    try:
        return env.get_wrapper_attr(name)
    except AttributeError:
        return default

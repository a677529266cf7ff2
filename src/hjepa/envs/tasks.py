"""Task sets: the fixed, seeded start/goal pairs an agent is evaluated on, one per env id.

A task set is registered beside its env (`register_tasks(env_id, sample, protocol, plane)`):

- `sample(episodes, seed, env_kwargs) -> list[dict]`: `episodes` reset options, each with a
  "goal" (and whatever else the env's reset takes: a start state, a layout); the same seed gives
  the same tasks on every machine;
- `protocol`: one line for reports, the task distribution and the success criterion;
- `plane`: how trajectory plots draw an episode (`PlotPlane`; default: axes fitted to the
  paths, labelled by the env's position names).

`hjepa plan` looks the task set up (`task_set`) before it trains or loads anything. A user's env
registers its own from a plug-in module (`hjepa --import my_pkg ...`, or the env id's
`my_pkg:MyEnv-v0` form, which imports `my_pkg` first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hjepa.errors import ConfigError
from hjepa.plugins import import_env_module


@dataclass(frozen=True)
class PlotPlane:
    """Axes of the plane `info["agent_pos"]` lives in; `wraps`: the x span after which a path
    jumps back (an angle), or None; `background(task) -> image`: drawn under an episode's path
    over the axes' extent (e.g. its walls), or None."""

    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    xlabel: str = ""
    ylabel: str = ""
    wraps: float | None = None
    background: Callable[[dict], np.ndarray] | None = None


@dataclass(frozen=True)
class TaskSet:
    sample: Callable[[int, int, dict], list[dict]]
    protocol: str
    plane: PlotPlane | None = None


_TASK_SETS: dict[str, TaskSet] = {}


def register_tasks(
    env_id: str,
    sample: Callable[[int, int, dict], list[dict]],
    protocol: str,
    plane: PlotPlane | None = None,
) -> None:
    """Register (or replace) the task set of `env_id` (module doc)."""
    if not callable(sample):
        raise ConfigError(f"register_tasks({env_id!r}): sample must be callable")
    if not protocol or not isinstance(protocol, str):
        raise ConfigError(f"register_tasks({env_id!r}): protocol must be a non-empty string")
    _TASK_SETS[env_id] = TaskSet(sample, protocol, plane)


def registered() -> list[str]:
    """Env ids with a task set."""
    return sorted(_TASK_SETS)


def task_set(env_id: str) -> TaskSet:
    """The task set of `env_id` (its plug-in module imported first for `module:EnvId` ids);
    ConfigError naming the fix when there is none."""
    bare = import_env_module(env_id)
    if bare not in _TASK_SETS:
        raise ConfigError(
            f"no task set for env {bare!r}, so there is nothing to plan towards. Register one "
            "beside the env with hjepa.envs.tasks.register_tasks(env_id, sample, protocol) in a "
            "module loaded with `hjepa --import MODULE ...` (or give the env as MODULE:EnvId). "
            f"Envs with a task set: {', '.join(registered())}"
        )
    return _TASK_SETS[bare]


def goal_tasks(env_id: str, episodes: int, seed: int, env_kwargs: dict | None = None) -> list:
    """`episodes` reset options of `env_id`'s task set, each with a "goal"."""
    if int(episodes) < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}")
    tasks = task_set(env_id).sample(int(episodes), int(seed), dict(env_kwargs or {}))
    if len(tasks) != int(episodes) or not all(isinstance(t, dict) and "goal" in t for t in tasks):
        raise ConfigError(
            f"the task set of {env_id!r} must return {episodes} reset-option dicts with a 'goal'"
        )
    return tasks

"""Planners by name, and the options each one takes (read off its constructor)."""

import inspect

from hjepa.errors import ConfigError
from hjepa.plan.cem import CEMPlanner
from hjepa.plan.gradient import GradientPlanner
from hjepa.plan.mppi import MPPIPlanner

PLANNERS = {"gradient": GradientPlanner, "cem": CEMPlanner, "mppi": MPPIPlanner}


def planner_options(kind: str) -> tuple[str, ...]:
    """The keyword arguments of planner `kind`, e.g. ("horizon", "iterations", ...)."""
    _check_kind(kind)
    parameters = inspect.signature(PLANNERS[kind].__init__).parameters
    return tuple(name for name in parameters if name != "self")


def build_planner(kind: str, **kwargs):
    """A planner by name: 'gradient', 'cem' or 'mppi', with its keyword arguments."""
    _check_kind(kind)
    try:
        return PLANNERS[kind](**kwargs)
    except TypeError as err:
        raise ConfigError(f"planner {kind!r}: {err}") from None


def _check_kind(kind: str) -> None:
    if kind not in PLANNERS:
        raise ConfigError(f"unknown planner {kind!r}; choose from {sorted(PLANNERS)}")

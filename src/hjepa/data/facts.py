"""What a trajectory store records of its env (the goal-env protocol's attributes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class EnvFacts:
    """The env's state columns, which of them locate the agent and describe the layout, and the
    units of positions and distances (see `hjepa.envs.goal`)."""

    state_names: tuple[str, ...] = ()
    position_names: tuple[str, ...] = ()
    layout_names: tuple[str, ...] = ()
    units: str = "units"

    def as_meta(self) -> dict:
        """The facts as meta.json keys (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self).items()}

    @classmethod
    def from_meta(cls, meta: Mapping) -> EnvFacts:
        """The facts of a meta.json; a store written before they were recorded has only state
        names (no position or layout names, units "units")."""
        return cls(
            tuple(meta.get("state_names", ())),
            tuple(meta.get("position_names", ())),
            tuple(meta.get("layout_names", ())),
            str(meta.get("units", "units")),
        )

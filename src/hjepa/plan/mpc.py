"""Receding-horizon control: execute the first k actions of a plan, then replan from the state
reached, warm-started from the rest of the previous plan."""

import torch

from hjepa.errors import ConfigError


def shift_plan(actions: torch.Tensor, k: int) -> torch.Tensor:
    """Drop the first `k` actions of plans [B, H, A] and repeat the last one k times at the end."""
    if not 0 <= k <= actions.shape[1]:
        raise ConfigError(f"cannot shift a {actions.shape[1]}-step plan by {k}")
    if k == 0:
        return actions
    tail = actions[:, -1:].expand(-1, k, -1)
    return torch.cat([actions[:, k:], tail], dim=1)


class RecedingHorizon:
    """Wraps a planner: `act(model, state, goal)` returns one action [B, A] per call, replanning
    every `execute` calls. `reset()` forgets the plan (call it at each episode start)."""

    def __init__(self, planner, execute: int = 1):
        if not 1 <= int(execute) <= planner.horizon:
            raise ConfigError(f"execute must be in [1, horizon={planner.horizon}], got {execute}")
        self.planner, self.execute = planner, int(execute)
        self.reset()

    def reset(self) -> None:
        self.plan, self.cursor, self.last_info = None, 0, {}

    @property
    def will_replan(self) -> bool:
        return self.plan is None or self.cursor >= self.execute

    def act(self, model, state: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        if self.will_replan:
            warm = None if self.plan is None else shift_plan(self.plan, self.cursor)
            self.plan, self.last_info = self.planner.plan(model, state, goal, warm)
            self.cursor = 0
        action = self.plan[:, self.cursor]
        self.cursor += 1
        return action

"""What a planner optimizes: the `PlanningModel` protocol and the planners' shared parts."""

from typing import Protocol

import torch

from hjepa.errors import ConfigError, ShapeError


class PlanningModel(Protocol):
    action_dim: int
    max_action: float  # actions live in the box [-max_action, max_action]^action_dim

    def cost(self, state: torch.Tensor, goal: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Cost [B, N] of N candidate action sequences [B, N, H, A] from each state to its goal."""
        ...


class SequencePlanner:
    """Shared parts of the planners: horizon, budget checks, warm start and the bound."""

    def __init__(self, horizon: int, iterations: int):
        if int(horizon) < 1:
            raise ConfigError(f"planner horizon must be >= 1, got {horizon}")
        if int(iterations) < 1:
            raise ConfigError(f"planner budget must be >= 1 iteration, got {iterations}")
        self.horizon, self.iterations = int(horizon), int(iterations)

    def initial_plan(self, model: PlanningModel, batch: int, warm_start, device) -> torch.Tensor:
        """The warm start [B, H, A] checked and clipped to the bounds, or zeros."""
        shape = (batch, self.horizon, model.action_dim)
        if warm_start is None:
            return torch.zeros(shape, device=device)
        if tuple(warm_start.shape) != shape:
            raise ShapeError(f"warm_start: expected shape {shape}, got {tuple(warm_start.shape)}")
        return warm_start.to(device).clamp(-model.max_action, model.max_action)


def check_positive(**options) -> None:
    """ConfigError naming the first planner option that is not > 0 (NaN included)."""
    for name, value in options.items():
        if not value > 0:
            raise ConfigError(f"planner {name} must be > 0, got {value}")


def best_of(actions: torch.Tensor, costs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The lowest-cost sequence per batch element: actions [B, N, H, A], costs [B, N] ->
    ([B, H, A], [B])."""
    best = costs.argmin(dim=1)
    rows = torch.arange(len(best), device=best.device)
    return actions[rows, best], costs[rows, best]


def keep_best(best, best_cost, actions, costs):
    """Best-so-far plans [B, H, A] and costs [B], updated with candidates [B, N, H, A], [B, N]."""
    candidate, candidate_cost = best_of(actions, costs)
    better = candidate_cost < best_cost
    best = torch.where(better[:, None, None], candidate, best)
    return best, torch.where(better, candidate_cost, best_cost)


def sample_around(mean, std, samples: int, bound: float, generator) -> torch.Tensor:
    """`samples` Gaussian perturbations [B, N, H, A] of plans [B, H, A], clipped to the bounds;
    the first is the mean itself, so the current plan is always a candidate."""
    noise = torch.randn((mean.shape[0], samples, *mean.shape[1:]), generator=generator)
    out = (mean[:, None] + std * noise.to(mean.device)).clamp(-bound, bound)
    out[:, 0] = mean
    return out

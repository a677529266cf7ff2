"""Cross-entropy method: sample around a Gaussian, refit it to the elite samples, repeat."""

import torch

from hjepa.errors import ConfigError
from hjepa.plan.problem import (
    PlanningModel,
    SequencePlanner,
    check_positive,
    keep_best,
    sample_around,
)


class CEMPlanner(SequencePlanner):
    def __init__(
        self,
        horizon: int = 8,
        iterations: int = 3,
        samples: int = 128,
        elites: int = 16,
        std: float = 0.5,
        seed: int = 0,
    ):
        super().__init__(horizon, iterations)
        check_positive(samples=samples, elites=elites, std=std)
        if elites > samples:
            raise ConfigError(f"planner elites ({elites}) must be <= samples ({samples})")
        self.samples, self.elites = max(int(samples), 2), int(elites)
        self.std = float(std)
        self.generator = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def plan(self, model: PlanningModel, state, goal, warm_start=None):
        bound = model.max_action
        mean = self.initial_plan(model, state.shape[0], warm_start, state.device)
        std = torch.full_like(mean, self.std * bound)
        # the mean is the first candidate of the first round: no separate evaluation
        best, best_cost = mean, torch.full(mean.shape[:1], float("inf"), device=mean.device)
        for _ in range(self.iterations):
            samples = sample_around(mean, std[:, None], self.samples, bound, self.generator)
            cost = model.cost(state, goal, samples)
            elite_idx = cost.topk(self.elites, dim=1, largest=False).indices
            elites = samples.gather(1, elite_idx[..., None, None].expand(-1, -1, *mean.shape[1:]))
            mean, std = elites.mean(1), elites.std(1, unbiased=False) + 1e-3 * bound
            best, best_cost = keep_best(best, best_cost, samples, cost)
        evaluations = self.iterations * self.samples
        return best, {"cost": best_cost, "evaluations": evaluations}

"""Model-predictive path integral: perturb the plan, average the perturbations weighted by
exp(-cost / temperature), repeat. The temperature is relative to each batch element's cost
spread, so one setting works across cost scales."""

import torch

from hjepa.plan.problem import (
    PlanningModel,
    SequencePlanner,
    check_positive,
    keep_best,
    sample_around,
)


class MPPIPlanner(SequencePlanner):
    def __init__(
        self,
        horizon: int = 8,
        iterations: int = 3,
        samples: int = 128,
        std: float = 0.5,
        temperature: float = 0.1,
        seed: int = 0,
    ):
        super().__init__(horizon, iterations)
        check_positive(samples=samples, std=std, temperature=temperature)
        self.samples, self.std, self.temperature = (
            max(int(samples), 2),
            float(std),
            float(temperature),
        )
        self.generator = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def plan(self, model: PlanningModel, state, goal, warm_start=None):
        bound = model.max_action
        mean = self.initial_plan(model, state.shape[0], warm_start, state.device)
        # the mean is the first candidate of the first round: no separate evaluation
        best, best_cost = mean, torch.full(mean.shape[:1], float("inf"), device=mean.device)
        for _ in range(self.iterations):
            samples = sample_around(mean, self.std * bound, self.samples, bound, self.generator)
            cost = model.cost(state, goal, samples)
            spread = cost.max(1, keepdim=True).values - cost.min(1, keepdim=True).values
            weights = torch.softmax(-cost / (self.temperature * spread.clamp_min(1e-8)), dim=1)
            mean = (weights[..., None, None] * samples).sum(1)
            best, best_cost = keep_best(best, best_cost, samples, cost)
        evaluations = self.iterations * self.samples
        return best, {"cost": best_cost, "evaluations": evaluations}

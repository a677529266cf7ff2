"""Cross-entropy method: sample around a Gaussian, refit it to the elite samples, repeat."""

import torch

from hjepa.plan.problem import PlanningModel, SequencePlanner, best_of


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
        self.samples, self.elites = max(int(samples), 2), max(int(elites), 1)
        self.std = float(std)
        self.generator = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def plan(self, model: PlanningModel, state, goal, warm_start=None):
        bound, batch = model.max_action, state.shape[0]
        mean = self.initial_plan(model, batch, warm_start, state.device)
        std = torch.full_like(mean, self.std * bound)
        best, best_cost = mean, model.cost(state, goal, mean[:, None])[:, 0]
        for _ in range(self.iterations):
            noise = torch.randn((batch, self.samples, *mean.shape[1:]), generator=self.generator)
            samples = (mean[:, None] + std[:, None] * noise.to(state.device)).clamp(-bound, bound)
            samples[:, 0] = mean  # keep the current mean among the candidates
            cost = model.cost(state, goal, samples)
            elite_idx = cost.topk(self.elites, dim=1, largest=False).indices
            elites = samples.gather(1, elite_idx[..., None, None].expand(-1, -1, *mean.shape[1:]))
            mean, std = elites.mean(1), elites.std(1, unbiased=False) + 1e-3 * bound
            candidate, candidate_cost = best_of(samples, cost)
            better = candidate_cost < best_cost
            best = torch.where(better[:, None, None], candidate, best)
            best_cost = torch.where(better, candidate_cost, best_cost)
        evaluations = 1 + self.iterations * self.samples
        return best, {"cost": best_cost, "evaluations": evaluations}

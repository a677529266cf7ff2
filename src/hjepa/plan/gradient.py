"""Mode-2 by gradient descent: optimize the action sequence through the differentiable model.

Restart 0 starts from the warm start; the others from uniform random sequences in the bounds.
Each iteration takes one Adam step on the summed cost of all restarts and projects the actions
back onto the box. The best sequence seen (lowest cost at any iteration) is returned.
"""

import torch

from hjepa.plan.problem import PlanningModel, SequencePlanner, check_positive, keep_best


class GradientPlanner(SequencePlanner):
    def __init__(
        self, horizon: int = 8, iterations: int = 10, restarts: int = 4, lr: float = 0.5, seed=0
    ):
        super().__init__(horizon, iterations)
        check_positive(restarts=restarts, lr=lr)
        self.restarts, self.lr = int(restarts), float(lr)
        self.generator = torch.Generator().manual_seed(seed)

    def plan(self, model: PlanningModel, state, goal, warm_start=None):
        bound, batch = model.max_action, state.shape[0]
        start = self.initial_plan(model, batch, warm_start, state.device)
        noise = torch.rand(
            (batch, self.restarts - 1, *start.shape[1:]), generator=self.generator
        ).to(state.device)
        actions = torch.cat([start[:, None], (2 * noise - 1) * bound], dim=1).requires_grad_()
        opt = torch.optim.Adam([actions], lr=self.lr * bound)
        best, best_cost = start, torch.full((batch,), float("inf"), device=state.device)
        for _ in range(self.iterations):
            cost = model.cost(state, goal, actions)
            best, best_cost = keep_best(best, best_cost, actions.detach(), cost.detach())
            opt.zero_grad(set_to_none=True)
            cost.sum().backward()
            opt.step()
            with torch.no_grad():
                actions.clamp_(-bound, bound)
        with torch.no_grad():
            best, best_cost = keep_best(best, best_cost, actions, model.cost(state, goal, actions))
        evaluations = self.restarts * (self.iterations + 1)
        return best, {"cost": best_cost, "evaluations": evaluations}

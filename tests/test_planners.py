"""Planners on an analytic problem whose optimum is known in closed form."""

import pytest
import torch

from hjepa.errors import ConfigError, ShapeError
from hjepa.plan import RecedingHorizon, build_planner, shift_plan


class LinearQuadratic:
    """s_t+1 = s_t + a_t; cost = |s_H - g|^2 + lam * sum_t |a_t|^2.

    All optimal actions are equal: a* = (g - s_0) / (H + lam) (when inside the bounds).
    """

    action_dim, max_action, lam = 2, 1.0, 0.5

    def cost(self, state, goal, actions):
        final = state[:, None] + actions.sum(2)
        return (final - goal[:, None]).pow(2).sum(-1) + self.lam * actions.pow(2).sum((-1, -2))


PLANNERS = {
    "gradient": dict(iterations=100, restarts=2, lr=0.05),
    "cem": dict(iterations=30, samples=256, elites=16),
    "mppi": dict(iterations=40, samples=256, temperature=0.05, std=0.3),
}


@pytest.mark.parametrize("kind", sorted(PLANNERS))
def test_planner_finds_the_analytic_optimum(kind):
    model, horizon = LinearQuadratic(), 4
    state = torch.tensor([[0.0, 0.0], [1.0, -1.0]])
    goal = torch.tensor([[2.0, -1.0], [-0.5, 1.0]])
    planner = build_planner(kind, horizon=horizon, **PLANNERS[kind])
    actions, info = planner.plan(model, state, goal)
    optimum = ((goal - state) / (horizon + model.lam))[:, None].expand(-1, horizon, -1)
    assert actions.shape == (2, horizon, 2)
    assert torch.allclose(actions, optimum, atol=0.06), (actions, optimum)
    assert info["cost"].shape == (2,)


@pytest.mark.parametrize("kind", sorted(PLANNERS))
def test_actions_always_inside_the_bounds(kind):
    model = LinearQuadratic()
    state, goal = torch.zeros(3, 2), torch.tensor([[50.0, -50.0], [0.0, 80.0], [-9.0, 9.0]])
    planner = build_planner(kind, horizon=3, **PLANNERS[kind])
    warm = torch.full((3, 3, 2), 7.0)  # out of bounds on purpose: clipped, not trusted
    actions, _ = planner.plan(model, state, goal, warm)
    assert actions.abs().max() <= model.max_action + 1e-6
    # far goals: the optimum saturates the box in the goal's direction
    assert torch.allclose(actions[0, :, 0], torch.ones(3), atol=0.05)
    assert torch.allclose(actions[1, :, 1], torch.ones(3), atol=0.05)


def test_shift_plan_drops_executed_actions_and_repeats_the_last():
    plan = torch.arange(10.0).reshape(1, 5, 2)
    shifted = shift_plan(plan, 2)
    assert shifted[0, :3].tolist() == plan[0, 2:].tolist()
    assert shifted[0, 3:].tolist() == [[8.0, 9.0], [8.0, 9.0]]
    assert torch.equal(shift_plan(plan, 0), plan)
    with pytest.raises(ConfigError):
        shift_plan(plan, 6)


class Recorder:
    horizon = 4

    def __init__(self):
        self.warm_starts = []

    def plan(self, model, state, goal, warm_start=None):
        self.warm_starts.append(warm_start)
        base = 10.0 * len(self.warm_starts)
        return (base + torch.arange(4.0)).reshape(1, 4, 1), {}


def test_receding_horizon_replans_every_k_steps_from_the_shifted_plan():
    planner = Recorder()
    mpc = RecedingHorizon(planner, execute=2)
    taken = [mpc.act(None, torch.zeros(1, 1), torch.zeros(1, 1)).item() for _ in range(5)]
    assert taken == [10.0, 11.0, 20.0, 21.0, 30.0]
    assert planner.warm_starts[0] is None
    assert planner.warm_starts[1][0, :, 0].tolist() == [12.0, 13.0, 13.0, 13.0]


def test_bad_planner_settings_are_named():
    with pytest.raises(ConfigError, match="budget"):
        build_planner("cem", iterations=0)
    with pytest.raises(ConfigError, match="unknown planner"):
        build_planner("rrt")
    with pytest.raises(ConfigError, match="planner 'mppi'"):
        build_planner("mppi", elites=3)
    with pytest.raises(ShapeError, match="warm_start"):
        build_planner("cem", horizon=3).plan(
            LinearQuadratic(), torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(1, 5, 2)
        )

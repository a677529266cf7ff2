"""Mode-2 planners: choose an action sequence by minimizing a cost through a model.

Every planner follows one protocol,

    planner.plan(model, state, goal, warm_start=None) -> (actions [B, H, A], info)

where `model` is a `PlanningModel` (see `problem.py`): anything with `action_dim`, a symmetric box
bound `max_action`, and `cost(state [B, ...], goal [B, ...], actions [B, N, H, A]) -> [B, N]`
scoring N candidate sequences per batch element. `warm_start` [B, H, A] seeds the search (the
shifted previous plan, see `shift_plan`); returned actions always lie inside the bounds.

- `GradientPlanner` (`gradient.py`): backpropagate the cost through the rolled-out predictor,
  Adam with projection onto the bounds, several restarts; the seed's Mode-2.
- `CEMPlanner` (`cem.py`) and `MPPIPlanner` (`mppi.py`): sampling baselines.
- `RecedingHorizon` (`mpc.py`): execute k actions, replan, warm-start from the shifted plan.
"""

from hjepa.plan.cem import CEMPlanner
from hjepa.plan.gradient import GradientPlanner
from hjepa.plan.mpc import RecedingHorizon, shift_plan
from hjepa.plan.mppi import MPPIPlanner
from hjepa.plan.problem import PlanningModel
from hjepa.plan.registry import PLANNERS, build_planner, planner_options

__all__ = [
    "CEMPlanner",
    "GradientPlanner",
    "MPPIPlanner",
    "PLANNERS",
    "PlanningModel",
    "RecedingHorizon",
    "build_planner",
    "planner_options",
    "shift_plan",
]

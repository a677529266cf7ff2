"""The planners on Push-T with a perfect model: what they reach on the task set when every
imagined rollout runs in the simulator itself and the cost is the true error to the goal.

    python benchmarks/pusht_oracle.py [--episodes N] [--gaps 25] [--planners mppi,cem]
                                      [--horizons 8,16] [--iterations 2] [--sim-steps 1024]
                                      [--pusher-weights 1,0.1]

Same tasks as `benchmarks/pusht.py` (seed 0, the first N of each gap), same receding-horizon
control (replan after every action, warm start). Every plan simulates the same number of steps
(`--sim-steps`), so a longer horizon means fewer samples: samples = sim steps / (horizon x
iterations). Tasks are split over 2 worker processes. The cost of a candidate is the sum over
its steps of (block position error^2 + w x pusher position error^2) / (20 px)^2 + (angle error /
20 deg)^2: with w = 1, the success test's two errors in units of their tolerances; a smaller
pusher weight w lets a plan leave the pusher's goal to push the block. No world model is
involved, so each row bounds what the planner, its budget and this cost can do on these tasks:
a learned model can only lose to it (unless its learned cost plans further ahead than the
horizon). Rollouts are sequential simulator steps (~0.8 ms each), so "plan ms" is the
simulator's, not a budget to compare.
Table `pusht_oracle`.
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch

from common import save
from external import ci_text
from hjepa.envs.pusht import (
    ANGLE_TOLERANCE,
    POSITION_TOLERANCE,
    PUSHT_ID,
    angle_error,
    get_state,
    reached,
    set_state,
    simulator_class,
    to_workspace,
)
from hjepa.envs.tasks import goal_tasks
from hjepa.eval.planning import wilson_interval
from hjepa.plan.mpc import RecedingHorizon
from hjepa.plan.registry import build_planner


def goal_error(state, goal, pusher_weight: float) -> float:
    """The success test's errors in units of their tolerances, squared and summed, the
    pusher's position error weighted by `pusher_weight`."""
    error = (np.asarray(state)[:4] - np.asarray(goal)[:4]) ** 2
    position = (pusher_weight * error[:2].sum() + error[2:].sum()) / POSITION_TOLERANCE**2
    return float(position + (angle_error(state, goal) / ANGLE_TOLERANCE) ** 2)


class SimulatorModel:
    """The `PlanningModel` whose rollouts are the simulator's: states are true states [B, 7]."""

    action_dim, max_action = 2, 1.0

    def __init__(self, pusher_weight: float):
        self.sim = simulator_class()(obs_type="state")
        self.sim.reset(seed=0)
        self.pusher_weight = pusher_weight

    def cost(self, state: torch.Tensor, goal: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        costs = torch.zeros(actions.shape[:2])
        for b, n in np.ndindex(*actions.shape[:2]):
            set_state(self.sim, state[b].numpy())
            for action in actions[b, n].numpy():
                self.sim.step(to_workspace(action))
                costs[b, n] += goal_error(get_state(self.sim), goal[b].numpy(), self.pusher_weight)
        return costs


def run_task(task: dict, controller: RecedingHorizon, model: SimulatorModel) -> tuple[bool, list]:
    """(success within the budget, ms per plan) of one task."""
    env = simulator_class()(obs_type="state")
    env.reset(seed=0)
    set_state(env, task["start"])
    goal = torch.tensor([task["goal"]], dtype=torch.float64)
    controller.reset()
    plan_ms = []
    try:
        for _ in range(task["budget"]):
            state = torch.tensor(get_state(env))[None]
            start = time.perf_counter()
            action = controller.act(model, state, goal)[0].numpy()
            plan_ms.append(1000 * (time.perf_counter() - start))
            env.step(to_workspace(action))
            if reached(get_state(env), task["goal"]):
                return True, plan_ms
        return False, plan_ms
    finally:
        env.close()


def run_tasks(kind: str, sizes: dict, weight: float, tasks: list) -> list[tuple[str, bool, list]]:
    """(band, success, ms per plan) of each task, with one planner and simulator."""
    controller = RecedingHorizon(build_planner(kind, **sizes), execute=1)
    model, out = SimulatorModel(weight), []
    for task in tasks:
        success, times = run_task(task, controller, model)
        out.append((task["band"], success, times))
        print(f"{kind} {sizes}: {task['band']} {'reached' if success else 'missed'}", flush=True)
    return out


def planner_row(kind: str, horizon: int, weight: float, tasks: list, gaps: list, args) -> dict:
    samples = max(args.sim_steps // (horizon * args.iterations), 2)
    sizes = dict(horizon=horizon, iterations=args.iterations, samples=samples)
    halves = [tasks[0::2], tasks[1::2]]
    with ProcessPoolExecutor(2) as pool:
        parts = pool.map(run_tasks, [kind] * 2, [sizes] * 2, [weight] * 2, halves)
        results = [r for part in parts for r in part]
    hits, plan_ms = {}, [ms for _, _, times in results for ms in times]
    for band, success, _ in results:
        hits.setdefault(band, []).append(success)
    row = {"planner (simulator rollouts, true cost)": kind.upper(), "pusher weight w": weight}
    for gap in gaps:
        results = hits[f"d={gap}"]
        row[f"d={gap} success %"] = 100 * float(np.mean(results))
        row[f"d={gap} 95 % CI"] = ci_text(wilson_interval(sum(results), len(results)))
    row.update(
        {"episodes per d": args.episodes, **sizes, "plan ms (median)": float(np.median(plan_ms))}
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=30, help="tasks per gap")
    parser.add_argument("--gaps", default="25")
    parser.add_argument("--planners", default="mppi,cem")
    parser.add_argument("--horizons", default="8,16")
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--sim-steps", type=int, default=1024, help="simulated steps per plan")
    parser.add_argument("--pusher-weights", default="1,0.1")
    args = parser.parse_args()
    gaps = [int(g) for g in args.gaps.split(",")]
    tasks = goal_tasks(PUSHT_ID, args.episodes * len(gaps), 0, {"gaps": gaps})
    rows = [
        planner_row(kind, int(horizon), float(weight), tasks, gaps, args)
        for kind in args.planners.split(",")
        for horizon in args.horizons.split(",")
        for weight in args.pusher_weights.split(",")
    ]
    save("pusht_oracle", rows, notes=" ".join(__doc__.split("\n\n")[2].split()))


if __name__ == "__main__":
    main()

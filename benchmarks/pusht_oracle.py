"""The planners on Push-T with a perfect model, and with dynamics learned from true states:
what they reach on the task set when the cost is the true error to the goal.

    python benchmarks/pusht_oracle.py [--episodes N] [--gaps 25] [--planners mppi,cem]
                                      [--horizons 8,16] [--iterations 2] [--sim-steps 1024]
                                      [--pusher-weights 1,0.1] [--models simulator,learned]
                                      [--run RUN] [--learn-steps 10000]

Same tasks as `benchmarks/pusht.py` (seed 0, the first N of each gap), same receding-horizon
control (replan after every action, warm start). Every plan simulates the same number of steps
(`--sim-steps`), so a longer horizon means fewer samples: samples = sim steps / (horizon x
iterations). Tasks are split over 2 worker processes. The cost of a candidate is the sum over
its steps of (block position error^2 + w x pusher position error^2) / (20 px)^2 + (angle error /
20 deg)^2: with w = 1, the success test's two errors in units of their tolerances; a smaller
pusher weight w lets a plan leave the pusher's goal to push the block. With model
"simulator" no world model is involved, so each row bounds what the planner, its budget and
this cost can do on these tasks: a learned model can only lose to it (unless its learned cost
plans further ahead than the horizon). Rollouts are sequential simulator steps (~0.8 ms
each), so "plan ms" is the simulator's, not a budget to compare.

Model "learned" replaces the simulator by `StateDynamics`, an MLP fitted to the true states
(pusher and block pose and the pusher's velocity, no pixels) and actions of the training
episodes of RUN's store: the pixel world model's own data and split. It steps residually and
trains on 8-step open-loop rollouts (`--learn-steps` Adam steps, 256 windows each). Same tasks,
planner sizes and cost, on its predicted states. Between the two models lies what learning the
block's dynamics from this data costs; between "learned" and `benchmarks/pusht.py` lies what
seeing the scene through pixels costs. The footer gives its open-loop block error on RUN's
held-out episodes against a model that leaves the block where it is.
Table `pusht_oracle`.
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from common import ROOT, save
from external import ci_text
from hjepa.envs.pusht import (
    ANGLE_TOLERANCE,
    POSITION_TOLERANCE,
    PUSHT_ID,
    get_state,
    reached,
    set_state,
    simulator_class,
    to_workspace,
)
from hjepa.envs.tasks import goal_tasks
from hjepa.eval.planning import wilson_interval
from hjepa.experiment import episode_split, load_run
from hjepa.nets.mlp import MLP
from hjepa.plan.mpc import RecedingHorizon
from hjepa.plan.registry import build_planner
from hjepa.run_data import run_store

ROLLOUT, BATCH, ERROR_HORIZONS = 8, 256, (1, 2, 4, 8, 16)
# STATE_NAMES columns (pusher x, y, block x, y, cos, sin, pusher vx, vy) scaled to about unit size
SHIFT = torch.tensor([256.0, 256.0, 256.0, 256.0, 0.0, 0.0, 0.0, 0.0])
SCALE = torch.tensor([128.0, 128.0, 128.0, 128.0, 1.0, 1.0, 400.0, 400.0])


def goal_cost(states: torch.Tensor, goal: torch.Tensor, pusher_weight: float) -> torch.Tensor:
    """The success test's errors in units of their tolerances, squared and summed, the pusher's
    position error weighted by `pusher_weight`: states [..., 5+] (pusher x, y, block x, y,
    angle) against goals [5+] broadcast over them."""
    error = (states[..., :4] - goal[..., :4]) ** 2
    position = (
        pusher_weight * error[..., :2].sum(-1) + error[..., 2:].sum(-1)
    ) / POSITION_TOLERANCE**2
    angle = torch.remainder(states[..., 4] - goal[..., 4] + np.pi, 2 * np.pi) - np.pi
    return position + (angle / ANGLE_TOLERANCE) ** 2


class SimulatorModel:
    """The `PlanningModel` whose rollouts are the simulator's: states are true states [B, 7]."""

    action_dim, max_action = 2, 1.0

    def __init__(self, pusher_weight: float):
        self.sim = simulator_class()(obs_type="state")
        self.sim.reset(seed=0)
        self.pusher_weight = pusher_weight

    def cost(self, state: torch.Tensor, goal: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        visited = np.zeros((*actions.shape[:3], 7))
        for b, n in np.ndindex(*actions.shape[:2]):
            set_state(self.sim, state[b].numpy())
            for t, action in enumerate(actions[b, n].numpy()):
                self.sim.step(to_workspace(action))
                visited[b, n, t] = get_state(self.sim)
        goals = goal[:, None, None]
        return goal_cost(torch.from_numpy(visited), goals, self.pusher_weight).sum(-1).float()


class StateDynamics(nn.Module):
    """The next scaled state from a scaled state [..., 8] and an action [..., 2]: a residual
    MLP step whose (cos, sin) output is renormalized."""

    def __init__(self, hidden: int = 512):
        super().__init__()
        self.net = MLP(10, hidden, 8, depth=4, norm=False)

    def forward(self, x: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        y = x + self.net(torch.cat([x, action], -1))
        return torch.cat([y[..., :4], nn.functional.normalize(y[..., 4:6], dim=-1), y[..., 6:]], -1)

    def rollout(self, x: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Scaled states [..., H, 8] after each of the actions [..., H, 2]."""
        out = []
        for t in range(actions.shape[-2]):
            x = self(x, actions[..., t, :])
            out.append(x)
        return torch.stack(out, -2)


def goal_state(scaled: torch.Tensor) -> torch.Tensor:
    """(pusher x, y, block x, y, angle) [..., 5] of scaled states [..., 8]."""
    state = scaled * SCALE + SHIFT
    return torch.cat([state[..., :4], torch.atan2(state[..., 5:6], state[..., 4:5])], -1)


def scaled_state(state: torch.Tensor) -> torch.Tensor:
    """Scaled states [..., 8] of simulator states [..., 7] (`get_state`)."""
    angle = state[..., 4:5]
    columns = [state[..., :4], torch.cos(angle), torch.sin(angle), state[..., 5:7]]
    return (torch.cat(columns, -1).float() - SHIFT) / SCALE


class LearnedModel:
    """The `PlanningModel` whose rollouts are a `StateDynamics`'s, from true states [B, 7]."""

    action_dim, max_action = 2, 1.0

    def __init__(self, weights: dict, pusher_weight: float):
        self.dynamics = StateDynamics().eval()
        self.dynamics.load_state_dict(weights)
        self.pusher_weight = pusher_weight

    @torch.no_grad()
    def cost(self, state: torch.Tensor, goal: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        start = scaled_state(state)[:, None].expand(*actions.shape[:2], 8)
        states = goal_state(self.dynamics.rollout(start, actions.float()))
        return goal_cost(states, goal[:, None, None].float(), self.pusher_weight).sum(-1)


def episodes_of(store, episodes: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled states [E, T, 8] and actions [E, T, 2] of these store episodes."""
    data = [store.episode(e) for e in episodes]
    states = torch.tensor(np.stack([d["states"] for d in data]))
    return (states - SHIFT) / SCALE, torch.tensor(np.stack([d["actions"] for d in data]))


def learn_dynamics(states: torch.Tensor, actions: torch.Tensor, steps: int) -> StateDynamics:
    """A `StateDynamics` fitted to 8-step open-loop rollouts of random training windows."""
    torch.manual_seed(0)
    model = StateDynamics()
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in tqdm(range(steps), desc="learning the dynamics from true states"):
        episodes = torch.randint(len(states), (BATCH,))
        index = torch.randint(states.shape[1] - ROLLOUT, (BATCH,))[:, None] + torch.arange(
            ROLLOUT + 1
        )
        window, acts = states[episodes[:, None], index], actions[episodes[:, None], index]
        predicted = model.rollout(window[:, 0], acts[:, :ROLLOUT])
        loss = ((predicted - window[:, 1:])[..., :6] ** 2).sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
    return model.eval()


@torch.no_grad()
def block_errors(model: StateDynamics, states: torch.Tensor, actions: torch.Tensor) -> dict:
    """Median open-loop block position error (px) of the model, and of leaving the block
    where it is, after each of `ERROR_HORIZONS` steps from every start of held-out episodes."""
    longest = max(ERROR_HORIZONS)
    starts = states.shape[1] - longest
    windows = torch.stack([states[:, i : i + longest + 1] for i in range(starts)], 1).flatten(0, 1)
    acts = torch.stack([actions[:, i : i + longest] for i in range(starts)], 1).flatten(0, 1)
    predicted = goal_state(model.rollout(windows[:, 0], acts))[..., 2:4]
    truth = goal_state(windows)[..., 2:4]
    return {
        h: (
            float((predicted[:, h - 1] - truth[:, h]).norm(dim=-1).median()),
            float((truth[:, 0] - truth[:, h]).norm(dim=-1).median()),
        )
        for h in ERROR_HORIZONS
    }


def run_task(task: dict, controller: RecedingHorizon, model) -> tuple[bool, list]:
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


def run_tasks(kind, sizes, weight, weights, tasks) -> list[tuple[str, bool, list]]:
    """(band, success, ms per plan) of each task, with one planner and model: the simulator,
    or a `StateDynamics` with these `weights`."""
    torch.set_num_threads(1)
    controller = RecedingHorizon(build_planner(kind, **sizes), execute=1)
    model = SimulatorModel(weight) if weights is None else LearnedModel(weights, weight)
    out = []
    for task in tasks:
        success, times = run_task(task, controller, model)
        out.append((task["band"], success, times))
        print(f"{kind} {sizes}: {task['band']} {'reached' if success else 'missed'}", flush=True)
    return out


def planner_row(kind, horizon, weight, weights, tasks, gaps, args) -> dict:
    samples = max(args.sim_steps // (horizon * args.iterations), 2)
    sizes = dict(horizon=horizon, iterations=args.iterations, samples=samples)
    halves = [tasks[0::2], tasks[1::2]]
    with ProcessPoolExecutor(2) as pool:
        parts = pool.map(run_tasks, [kind] * 2, [sizes] * 2, [weight] * 2, [weights] * 2, halves)
        results = [r for part in parts for r in part]
    hits, plan_ms = {}, [ms for _, _, times in results for ms in times]
    for band, success, _ in results:
        hits.setdefault(band, []).append(success)
    model = "simulator" if weights is None else "learned from true states"
    row = {"model": model, "planner (true cost)": kind.upper(), "pusher weight w": weight}
    for gap in gaps:
        results = hits[f"d={gap}"]
        row[f"d={gap} success %"] = 100 * float(np.mean(results))
        row[f"d={gap} 95 % CI"] = ci_text(wilson_interval(sum(results), len(results)))
    row.update(
        {"episodes per d": args.episodes, **sizes, "plan ms (median)": float(np.median(plan_ms))}
    )
    return row


def learned_weights(args) -> tuple[dict, dict]:
    """The weights of a `StateDynamics` learned from RUN's training episodes, and its
    `block_errors` on RUN's held-out ones."""
    cfg, _ = load_run(args.run)
    store = run_store(Path(args.run), cfg)
    train, held_out = episode_split(cfg, store)
    started = time.perf_counter()
    model = learn_dynamics(*episodes_of(store, train), args.learn_steps)
    minutes = (time.perf_counter() - started) / 60
    errors = block_errors(model, *episodes_of(store, held_out))
    return model.state_dict(), {"block error by horizon": errors, "learning minutes": minutes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=30, help="tasks per gap")
    parser.add_argument("--gaps", default="25")
    parser.add_argument("--planners", default="mppi,cem")
    parser.add_argument("--horizons", default="8,16")
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--sim-steps", type=int, default=1024, help="simulated steps per plan")
    parser.add_argument("--pusher-weights", default="1,0.1")
    parser.add_argument("--models", default="simulator,learned")
    parser.add_argument("--run", default=str(ROOT / "runs" / "benchmarks" / "pusht"))
    parser.add_argument("--learn-steps", type=int, default=10000)
    args = parser.parse_args()
    gaps = [int(g) for g in args.gaps.split(",")]
    tasks = goal_tasks(PUSHT_ID, args.episodes * len(gaps), 0, {"gaps": gaps})
    models = {"simulator": (None, {})}
    if "learned" in args.models.split(","):
        models["learned"] = learned_weights(args)
    rows = [
        planner_row(kind, int(horizon), float(weight), models[name][0], tasks, gaps, args)
        for name in args.models.split(",")
        for kind in args.planners.split(",")
        for horizon in args.horizons.split(",")
        for weight in args.pusher_weights.split(",")
    ]
    errors = models.get("learned", (None, {}))[1]
    footer = "" if not errors else learned_footer(errors)
    notes = "\n\n".join(" ".join(p.split()) for p in __doc__.split("\n\n")[2:4])
    save("pusht_oracle", rows, notes=notes, footer=footer, extra={"learned": errors})


def learned_footer(errors: dict) -> str:
    by_horizon = errors["block error by horizon"].items()
    cells = [f"{h} steps {model:.1f} / {still:.1f}" for h, (model, still) in by_horizon]
    return (
        "Model learned from true states, median open-loop block error on the held-out episodes "
        f"(px, learned / block left where it is): {'; '.join(cells)}. "
        f"Learned in {errors['learning minutes']:.1f} min."
    )


if __name__ == "__main__":
    main()

"""The same world-model and agent code on external Gymnasium envs, from nothing: Pendulum-v1
(`hjepa/PendulumGoal-v0`, shipped), and two user-style plug-ins hjepa does not ship,
MountainCarContinuous-v0 (`examples/mountain_car_goal.py`) and MuJoCo's Reacher-v5
(`examples/reacher_goal.py`, needs `hjepa[mujoco]`).

    python benchmarks/external.py [--only pendulum|mountain_car|reacher] [--episodes N]
                                  [--threads K] [--smoke] [--reuse]

Per env (run from the repository root):

1. World model: `configs/<env>.yaml` (its store is deleted first, so collection is timed too;
   `--reuse` plans with the run and probe numbers a previous benchmark left, times n/a),
   probed on held-out episodes: MLP-probe RMSE of every state column, and of the env's position
   columns after a 16-step open-loop rollout (`hjepa.eval.world_model`).
2. Agent (`configs/agent_<env>.yaml`): MPPI + critic on N seeded tasks (default 100) of the
   env's registered task set (its protocol is written into the table's notes); on the pendulum
   also MPPI on plain latent energy (|s - g|^2, no critic).
3. Baselines on the same tasks through the same env, no model: uniform random actions, and zero
   action where that is a policy at all (the pendulum and the car swing freely; a reacher at
   rest stays there): they show how much of the success the planner earns.

Tables: `planning_external` (pendulum), `planning_external_<env>` for the others (`--smoke`:
tiny sizes that only check the pipeline, tables `..._smoke`).
"""

import argparse
import json
import sys
from dataclasses import dataclass

import gymnasium
import numpy as np
import torch

from common import NO_CRITIC, ROOT, save
from hjepa.agent.config import AgentConfig
from hjepa.agent.configurator import Configurator
from hjepa.config import load_config
from hjepa.envs.tasks import goal_tasks, task_set
from hjepa.eval.planning import evaluate_agent, wilson_interval
from hjepa.eval.world_model import evaluate_run
from world_model import RUNS, train_from_nothing

sys.path.insert(0, str(ROOT))  # the plug-in modules of examples/

SMOKE_WORLD = [
    "data.episodes=12",
    "data.episode_steps=30",
    "train.steps=10",
    "train.batch_size=8",
    "optim.warmup_steps=2",
]
SMOKE_AGENT = ["critic.steps=20", "critic.batch=64", "task.max_steps=20"]


@dataclass(frozen=True)
class Bench:
    """One env of the benchmark: its configs, table, and which rows make sense on it."""

    name: str
    table: str
    what: str  # the env as the table's notes describe it
    zero_action: bool = True
    latent_energy_row: bool = False

    @property
    def world(self):
        return ROOT / "configs" / f"{self.name}.yaml"

    @property
    def agent(self):
        return ROOT / "configs" / f"agent_{self.name}.yaml"


BENCHES = {
    "pendulum": Bench(
        "pendulum",
        "planning_external",
        "Pendulum-v1 through the pixel adapter (2 stacked grayscale 64 x 64 frames, torque in "
        "[-1, 1])",
        latent_energy_row=True,
    ),
    "mountain_car": Bench(
        "mountain_car",
        "planning_external_mountain_car",
        "MountainCarContinuous-v0 as a plug-in goal env (examples/mountain_car_goal.py: 2 "
        "stacked grayscale 64 x 64 frames, force in [-1, 1] held for 4 simulator steps)",
    ),
    "reacher": Bench(
        "reacher",
        "planning_external_reacher",
        "MuJoCo Reacher-v5 as a plug-in goal env (examples/reacher_goal.py: 2 stacked grayscale "
        "64 x 64 top-down frames drawn with EGL, target hidden, 2 torques in [-1, 1])",
        zero_action=False,
    ),
}


def train_world_model(bench: Bench, overrides: list[str], windows: int) -> tuple[object, dict]:
    """Collect, train and probe the env's world model; (run folder, its numbers)."""
    _, result, collect_s, train_s = train_from_nothing(bench.world, overrides)
    ev = evaluate_run(result.run_dir, windows)
    return result.run_dir, world_numbers(ev, collect_s, train_s, len(result.collapse_steps))


def reuse_world_model(bench: Bench, overrides: list[str]) -> tuple[object, dict]:
    """The run and probe numbers a previous benchmark left (`--reuse`); its times are unknown."""
    run = RUNS / load_config(bench.world, overrides).train.name
    ev = json.loads((run / "eval" / "eval.json").read_text())
    collapses = json.loads((run / "summary.json").read_text())["collapse_warnings_at_steps"]
    return run, world_numbers(ev, float("nan"), float("nan"), len(collapses))


def world_numbers(ev: dict, collect_s: float, train_s: float, collapses: int) -> dict:
    probe = ev["probe_rmse"]["mlp"]
    return {
        "collect s": collect_s,
        "train s": train_s,
        **{f"MLP probe RMSE {name}": probe[name] for name in probe},
        "16-step rollout position RMSE": ev["rollout_position_rmse"][-1],
        "collapse warnings": collapses,
    }


def evaluate(bench: Bench, run, label: str, overrides: list[str], episodes: int) -> dict:
    """One agent on the task set: a table row."""
    cfg = load_config(bench.agent, [f"task.episodes={episodes}", *overrides], root=AgentConfig)
    configurator = Configurator(cfg, run, progress=False)
    out = run / "plan" / label.replace(" ", "_").replace(",", "").replace("+", "plus")
    s = evaluate_agent(configurator, out)
    return {
        "agent": label,
        "episodes": s["episodes"],
        "success %": 100 * s["success_rate"],
        "95 % CI": ci_text(s["success_ci95"]),
        "median steps": s["median_steps_successful"],
        "replan ms (median)": s["replan_ms_median"],
        "decision ms (median)": s["decision_ms_median"],
        "imagined steps / replan": s["imagined_steps_per_replan"],
    }


def baseline(env_id: str, label: str, policy, episodes: int, max_steps: int, seed=0) -> dict:
    """A model-free controller (`policy(rng, space) -> action`) on the same tasks and env."""
    env = gymnasium.make(env_id)
    rng = np.random.default_rng(seed)
    steps = []
    for i, options in enumerate(goal_tasks(env_id, episodes, seed)):
        env.reset(seed=seed + i, options=options)
        taken = steps_to_goal(env, lambda: policy(rng, env.action_space), max_steps)
        if taken is not None:
            steps.append(taken)
    env.close()
    return {
        "agent": label,
        "episodes": episodes,
        "success %": 100 * len(steps) / episodes,
        "95 % CI": ci_text(wilson_interval(len(steps), episodes)),
        "median steps": float(np.median(steps)) if steps else float("nan"),
    }


def steps_to_goal(env, act, max_steps: int) -> int | None:
    """Steps until the env terminates (the goal is reached), or None within `max_steps`."""
    for t in range(1, max_steps + 1):
        _, _, terminated, truncated, _ = env.step(act())
        if terminated:
            return t
        if truncated:
            return None
    return None


def ci_text(interval) -> str:
    """A 95 % interval (fractions) as '12.3 - 45.6' (percent)."""
    low, high = interval
    return f"{100 * low:.1f} - {100 * high:.1f}"


def _zero(rng, space) -> np.ndarray:
    return np.zeros(space.shape, dtype=space.dtype)


def _uniform(rng, space) -> np.ndarray:
    return rng.uniform(space.low, space.high).astype(space.dtype)


def run_bench(bench: Bench, episodes: int, smoke: bool, threads: int | None, reuse: bool) -> None:
    """World model, agents and baselines of one env; the table is saved after every row."""
    world = [f"train.name={bench.name}{'_smoke' if smoke else ''}"]
    world += SMOKE_WORLD if smoke else []
    world += [f"train.threads={threads}"] if threads else []
    agent = SMOKE_AGENT if smoke else []
    env_id = load_config(bench.world, []).data.env
    max_steps = load_config(bench.agent, agent, root=AgentConfig).task.max_steps
    if reuse:
        run, model = reuse_world_model(bench, world)
    else:
        run, model = train_world_model(bench, world, windows=60 if smoke else 1000)
    name = f"{bench.table}_smoke" if smoke else bench.table
    agents = [("MPPI + critic", [])]
    if bench.latent_energy_row:
        agents.append(("MPPI, latent energy", NO_CRITIC))
    rows = []
    for label, extra in agents:
        rows.append(evaluate(bench, run, label, [*agent, *extra], episodes))
        save(name, rows, notes(bench, env_id, model))
    policies = [("uniform random action (no model)", _uniform)]
    if bench.zero_action:
        policies.append(("zero action (no model)", _zero))
    for label, policy in policies:
        rows.append(baseline(env_id, label, policy, episodes, max_steps))
        save(name, rows, notes(bench, env_id, model))


def notes(bench: Bench, env_id: str, model: dict) -> str:
    world = "; ".join(f"{k} {v:.3g}" for k, v in model.items())
    return (
        f"{bench.what}; env id `{env_id}`. The world model trained from nothing with "
        f"`configs/{bench.name}.yaml`, the agent `configs/agent_{bench.name}.yaml`. Tasks (the "
        f"env's registered task set): {task_set(env_id).protocol}. The same seeded tasks in "
        f"every row. One episode at a time, fp32, CPU. World model: {world}. "
        "Reports: `runs/benchmarks/<run>/plan/<agent>/`."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHES), action="append")
    parser.add_argument("--episodes", type=int, help="tasks per row (default 100; smoke 3)")
    parser.add_argument("--threads", type=int, help="torch threads, training included")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the pipeline")
    parser.add_argument(
        "--reuse", action="store_true", help="plan with the world model a previous run left"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    episodes = args.episodes or (3 if args.smoke else 100)
    for key in args.only or BENCHES:
        run_bench(BENCHES[key], episodes, args.smoke, args.threads, args.reuse)


if __name__ == "__main__":
    main()

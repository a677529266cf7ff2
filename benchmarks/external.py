"""The same world-model and agent code on an external Gymnasium env: Pendulum-v1 through the
pixel adapter (`hjepa/PendulumGoal-v0`, `hjepa.envs.goal_pixels`), from nothing.

    python benchmarks/external.py [--episodes N] [--threads K] [--smoke]

1. World model: `configs/pendulum.yaml` (its store is deleted first, so collection is timed
   too), probed on held-out episodes: MLP-probe RMSE of the pendulum tip (cos theta, sin theta),
   in rod lengths, and of theta_dot (rad/s), and the tip error after a 16-step open-loop rollout.
2. Agent (`configs/agent_pendulum.yaml`): MPPI + critic, and MPPI on plain latent energy
   (|s - g|^2, no critic), on N seeded tasks (default 100).
3. Baselines on the same tasks through the same env, no model: zero torque (the pendulum swings
   freely) and uniform random torques: they show how much of the success the planner earns.

Protocol (`hjepa.envs.tasks`): start angle uniform, start velocity uniform in [-1, 1] rad/s, goal
angle uniform over the angles >= 1 rad (wrapped) away, 200-step budget; success = the angle is
within 0.2 rad of the goal angle at under 1 rad/s (the env terminates). Table:
`planning_external` (`--smoke`: tiny sizes that only check the pipeline, table
`planning_external_smoke`, run `pendulum_smoke`).
"""

import argparse

import gymnasium
import numpy as np
import torch

from common import ROOT, save
from hjepa.agent.config import AgentConfig
from hjepa.agent.configurator import Configurator
from hjepa.config import load_config
from hjepa.envs import PENDULUM_GOAL_ID
from hjepa.envs.tasks import goal_tasks
from hjepa.eval.planning import evaluate_agent, wilson_interval
from hjepa.eval.world_model import evaluate_run
from world_model import train_from_nothing

WORLD = ROOT / "configs" / "pendulum.yaml"
AGENT = ROOT / "configs" / "agent_pendulum.yaml"
NO_CRITIC = ["cost.critic_weight=0", "cost.energy_weight=1"]
SMOKE_WORLD = [
    "train.name=pendulum_smoke",
    "data.episodes=12",
    "data.episode_steps=30",
    "train.steps=10",
    "train.batch_size=8",
    "optim.warmup_steps=2",
]
SMOKE_AGENT = ["critic.steps=20", "critic.batch=64", "task.max_steps=20"]


def train_world_model(overrides: list[str], windows: int) -> tuple[object, dict]:
    """Collect, train and probe the Pendulum world model; (run folder, its numbers)."""
    _, result, collect_s, train_s = train_from_nothing(WORLD, overrides)
    ev = evaluate_run(result.run_dir, windows)
    probe = ev["probe_rmse"]["mlp"]
    return result.run_dir, {
        "collect s": collect_s,
        "train s": train_s,
        "tip probe RMSE (MLP, rod lengths)": ev["position_rmse_px"]["mlp"],
        "theta_dot probe RMSE (rad/s)": probe["theta_dot"],
        "16-step rollout tip RMSE": ev["rollout_position_rmse_px"][-1],
        "collapse warnings": len(result.collapse_steps),
    }


def evaluate(run, label: str, overrides: list[str], episodes: int) -> dict:
    """One agent on the task set: a table row."""
    cfg = load_config(AGENT, [f"task.episodes={episodes}", *overrides], root=AgentConfig)
    configurator = Configurator(cfg, run, progress=False)
    out = run / "plan" / label.replace(" ", "_").replace(",", "").replace("+", "plus")
    s = evaluate_agent(configurator, out)
    return {
        "agent": label,
        "episodes": s["episodes"],
        "success %": 100 * s["success_rate"],
        "95 % CI": _ci(s["success_ci95"]),
        "median steps": s["median_steps_successful"],
        "replan ms (median)": s["replan_ms_median"],
        "decision ms (median)": s["decision_ms_median"],
        "imagined steps / replan": s["imagined_steps_per_replan"],
    }


def baseline(label: str, torque, episodes: int, max_steps: int, seed: int = 0) -> dict:
    """A model-free controller (`torque(rng) -> action [1]`) on the same tasks and env."""
    env = gymnasium.make(PENDULUM_GOAL_ID)
    rng = np.random.default_rng(seed)
    steps = []
    for i, options in enumerate(goal_tasks(PENDULUM_GOAL_ID, episodes, seed)):
        env.reset(seed=seed + i, options=options)
        taken = _steps_to_goal(env, torque, rng, max_steps)
        if taken is not None:
            steps.append(taken)
    env.close()
    return {
        "agent": label,
        "episodes": episodes,
        "success %": 100 * len(steps) / episodes,
        "95 % CI": _ci(wilson_interval(len(steps), episodes)),
        "median steps": float(np.median(steps)) if steps else float("nan"),
    }


def _steps_to_goal(env, torque, rng, max_steps: int) -> int | None:
    """Steps until the env terminates (the goal is reached), or None within `max_steps`."""
    for t in range(1, max_steps + 1):
        _, _, terminated, truncated, _ = env.step(torque(rng))
        if terminated:
            return t
        if truncated:
            return None
    return None


def _ci(interval) -> str:
    low, high = interval
    return f"{100 * low:.1f} - {100 * high:.1f}"


def _zero(rng) -> np.ndarray:
    return np.zeros(1, dtype=np.float32)


def _uniform(rng) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, 1).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, help="tasks per row (default 100; smoke 3)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the pipeline")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    n = args.episodes or (3 if args.smoke else 100)
    world = SMOKE_WORLD if args.smoke else []
    agent = SMOKE_AGENT if args.smoke else []
    max_steps = load_config(AGENT, agent, root=AgentConfig).task.max_steps
    run, model = train_world_model(world, windows=60 if args.smoke else 2000)
    name = "planning_external_smoke" if args.smoke else "planning_external"
    rows = []
    for label, extra in (("MPPI + critic", []), ("MPPI, latent energy", NO_CRITIC)):
        rows.append(evaluate(run, label, [*agent, *extra], n))
        save(name, rows, notes(model))
    rows.append(baseline("zero torque (no model)", _zero, n, max_steps))
    rows.append(baseline("uniform random torque (no model)", _uniform, n, max_steps))
    save(name, rows, notes(model))


def notes(model: dict) -> str:
    world = "; ".join(f"{k} {v:.3g}" for k, v in model.items())
    return (
        "Pendulum-v1 through the pixel adapter (2 stacked grayscale 64 x 64 frames, torque in "
        "[-1, 1]); the world model trained from nothing with `configs/pendulum.yaml`, the agent "
        "`configs/agent_pendulum.yaml`. Tasks: start angle uniform, start velocity uniform in "
        "[-1, 1] rad/s, goal angle >= 1 rad (wrapped) away; success = within 0.2 rad of the goal "
        "angle at under 1 rad/s at some step of the 200-step budget (swinging through does not "
        "count). The same seeded tasks in every row. One episode at a "
        f"time, fp32, CPU. World model: {world}. Reports: `runs/benchmarks/<run>/plan/<agent>/`."
    )


if __name__ == "__main__":
    main()

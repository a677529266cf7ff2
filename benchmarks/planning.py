"""Two-Rooms goal reaching with the world models trained by `benchmarks/world_model.py`.

    python benchmarks/planning.py [--only main|compare|mode1] [--episodes N]
        [--wall fixed|random] [--variants walks,ablations,threads]

Protocol (`hjepa.envs.tasks`): start and goal in different rooms, 200-step budget, success =
within 4.5 px of the goal. The same seeded episodes for every row of a table.
- main: the agent presets (MPPI + critic; `configs/agent_two_rooms.yaml` on the fixed-wall and
  `configs/agent_two_rooms_random_wall.yaml` on the random-wall world model), 200 episodes
  each, their critics trained on the store's episodes only; then the `--variants` (default:
  all): `walks`, each preset with a critic that also learns from random walks in the simulator
  (extra environment interaction); `ablations`, without the memory correction of the world
  model and without the revisiting cost; `threads`, the fixed-wall preset with 2 torch threads
  instead of 1. `--wall` limits the table to one world model. Targets: >= 99 % (fixed),
  >= 98 % (random), median latency per replanning step <= 10 ms.
- compare (fixed wall): gradient descent vs CEM vs MPPI, each with the critic and with plain
  latent energy (|s - g|^2, no critic).
- latent (fixed wall): plain latent-energy planning (no critic) with each planner, on the
  fixed-wall world model and on the same preset trained with the step-distance term
  (`world.geodesic_weight`, from `benchmarks/world_model.py --only geodesic`), whose latent
  distance counts steps. Target (aim): >= 90 %.
- mode1 (fixed wall): the Mode-1 policy distilled from Mode-2 (`policy.episodes` Mode-2
  episodes on other seeds), against Mode-2 on the same episodes. Target: >= 90 % of Mode-2's
  success at >= 50x lower actor latency.
Latency: observation to action (encoder + actor), one episode at a time; `actor ms` leaves out
the encoder, which both modes share.
"""

import argparse
import os

from common import NO_CRITIC, ROOT, save
from hjepa.agent.config import AgentConfig
from hjepa.agent.configurator import Configurator
from hjepa.config import load_config
from hjepa.eval.planning import evaluate_agent

RUNS = ROOT / "runs" / "benchmarks"
CONFIGS = ROOT / "configs"
MODELS = {  # world model -> (run, agent preset)
    "fixed wall": (RUNS / "two_rooms", CONFIGS / "agent_two_rooms.yaml"),
    "random wall": (RUNS / "two_rooms_random_wall", CONFIGS / "agent_two_rooms_random_wall.yaml"),
    "fixed wall, step-distance latent": (
        RUNS / "two_rooms_geodesic",
        CONFIGS / "agent_two_rooms.yaml",
    ),
}
WALLS = ("fixed wall", "random wall")
WALKS = {  # the critic's extra environment interaction, as the presets had it before
    "fixed wall": ["critic.walks=400", "critic.walk_steps=200", "critic.walks_per_layout=20"],
    "random wall": ["critic.walks=72000", "critic.walk_steps=8", "critic.walks_per_layout=64"],
}
ABLATIONS = {  # the preset without one of its two uses of the short-term memory
    "no memory correction": ["memory.correction=false"],
    "no revisiting cost": ["cost.visit_weight=0"],
}


def evaluate(model: str, label: str, overrides: list[str], episodes: int, mode: int = 2) -> dict:
    run, preset = MODELS[model]
    cfg = load_config(preset, [f"task.episodes={episodes}", *overrides], root=AgentConfig)
    configurator = Configurator(cfg, run)
    out = run / "plan" / label.replace(" ", "_").replace(",", "")
    s = evaluate_agent(configurator, out, mode=mode)
    low, high = s["success_ci95"]
    return {
        "world model": model,
        "agent": label,
        "critic data": s["critic_data"],
        "episodes": s["episodes"],
        "success %": 100 * s["success_rate"],
        "95 % CI": f"{100 * low:.1f} - {100 * high:.1f}",
        "median steps": s["median_steps_successful"],
        "replan ms (median)": s["replan_ms_median"],
        "replan ms (p95)": s["replan_ms_p95"],
        "decision ms (median)": s["decision_ms_median"],
        "actor ms (median)": s["actor_ms_median"],
        "imagined steps / replan": s["imagined_steps_per_replan"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["main", "compare", "latent", "mode1"], action="append")
    parser.add_argument("--episodes", type=int, default=200, help="main and mode1 tables")
    parser.add_argument(
        "--wall", choices=["fixed", "random"], action="append", help="main table (default: both)"
    )
    parser.add_argument(
        "--variants",
        default="walks,ablations,threads",
        help="main table rows after the presets, comma-separated ('' for the presets only)",
    )
    parser.add_argument("--compare-episodes", type=int, default=100, help="compare table")
    args = parser.parse_args()
    tables = args.only or ["main", "compare", "latent", "mode1"]
    n = args.episodes
    if "main" in tables:
        walls = [f"{wall} wall" for wall in args.wall or ("fixed", "random")]
        main_table(n, walls, [v for v in args.variants.split(",") if v])
    if "compare" in tables:
        rows = []
        for kind in ("gradient", "cem", "mppi"):
            for critic, extra in (("critic", []), ("latent energy", NO_CRITIC)):
                label = f"{kind}, {critic}"
                overrides = [f"planner.kind={kind}", *extra]
                rows.append(evaluate("fixed wall", label, overrides, args.compare_episodes))
                save("planning_compare", rows, NOTES)
    if "latent" in tables:
        rows = []
        for kind in ("gradient", "cem", "mppi"):
            for model in ("fixed wall", "fixed wall, step-distance latent"):
                overrides = [f"planner.kind={kind}", *NO_CRITIC]
                label = f"{kind}, latent energy"
                rows.append(evaluate(model, label, overrides, args.compare_episodes))
                save("planning_latent", rows, NOTES)
    if "mode1" in tables:
        rows = []
        rows.append(evaluate("fixed wall", "Mode-2 (MPPI + critic)", [], n))
        rows.append(evaluate("fixed wall", "Mode-1 policy", [], n, mode=1))
        save("planning_mode1", rows, NOTES)


def main_table(episodes: int, walls: list[str], variants: list[str]) -> None:
    """The presets first, then the variants; saved after every row."""
    unknown = set(variants) - {"walks", "ablations", "threads"}
    if unknown:
        raise SystemExit(f"unknown --variants {sorted(unknown)}: walks, ablations, threads")
    rows_to_run = [("MPPI + critic", {model: [] for model in walls})]
    if "walks" in variants:
        rows_to_run.append(("MPPI + critic, + random walks", WALKS))
    if "ablations" in variants:
        for label, override in ABLATIONS.items():
            rows_to_run.append((f"MPPI + critic, {label}", {model: override for model in walls}))
    if "threads" in variants and "fixed wall" in walls:
        rows_to_run.append(("MPPI + critic, 2 threads", {"fixed wall": ["task.threads=2"]}))
    load_note = (
        f" Load average (1 min) when the table started: {os.getloadavg()[0]:.2f} (near 0 on an "
        f"idle machine; latencies measured under load are not comparable)."
    )
    rows = []
    for label, overrides in rows_to_run:
        for model in walls:
            if model in overrides:
                rows.append(evaluate(model, label, overrides[model], episodes))
                save("planning_main", rows, NOTES + load_note)


NOTES = (
    "2 CPU cores, fp32, one episode at a time; the agent acts with 1 "
    "torch thread unless a row says otherwise (`task.threads`). Start and goal in "
    "different rooms, 200-step budget, success = within 4.5 px of the goal; the same seeded "
    "episodes in every row. Reports: `runs/benchmarks/<model>/plan/<agent>/report.md`."
)


if __name__ == "__main__":
    main()

"""H-JEPA on the long-horizon maze: flat against hierarchical planning, by band of shortest path.

    python benchmarks/hierarchy.py [--only train|horizon|table|seeds] [--episodes N] [--reuse]
        [--rows a,b,c,d,e,f] [--critic-seeds 1,2]

- train: collect the maze store and train level 1 (`configs/maze.yaml`), the same preset with the
  step-distance latent (`world.geodesic_weight=3`, on the same store), and levels 2 and 3
  (`configs/maze_hierarchy.yaml`); wall times on this machine. `--reuse` keeps trained runs.
- horizon: probed position error against the horizon in env steps, per level, on held-out
  episodes (`hjepa.eval.hierarchy`); a plot, `benchmarks/results/hierarchy_horizon.png`.
- table: goal reaching on the maze task set (`hjepa.envs.maze_tasks`), N episodes per band
  (default 100), the same tasks in every row: (a) flat MPPI on latent energy; (b) flat MPPI with
  the learned distance-to-go (the critic, trained on the store only); (c) flat on the
  step-distance latent; (d) hierarchical, levels 2 + 1; (e) hierarchical, levels 3 + 2 + 1;
  (f) oracle subgoals: level 1 plans toward the level-2 state of the true shortest path's point
  `ORACLE_SPACING` steps ahead (re-chosen every 4 steps), the ceiling for what the levels above
  hand down. Success = within 4.5 px of the goal within the band's budget. Episodes of a band run
  as one batch (`hjepa.eval.batched`: the agents are memory-free, so this decides as single
  episodes would); latency comes from `LATENCY_EPISODES` single episodes of the longest band per
  row (`agent.run_episode`, 1 torch thread), as the median actor + encoder ms per env step.
- seeds (only when asked): rows (b) and (d) on the longest band with critics from other seeds.
"""

import argparse
import shutil
import time

import numpy as np
import torch

from common import RESULTS_DIR, ROOT, save
from hjepa.agent.agent import run_episode
from hjepa.agent.config import AgentConfig
from hjepa.agent.configurator import Configurator
from hjepa.config import load_config
from hjepa.envs import make_sim
from hjepa.envs.maze_tasks import BANDS, band_name, shortest_path, waypoints
from hjepa.eval.batched import run_batched
from hjepa.eval.hierarchy import evaluate_hierarchy
from hjepa.eval.planning import wilson_interval
from hjepa.runtime import torch_threads
from hjepa.train.trainer import train
from hjepa.viz.plots import plot_horizon_errors

RUNS = ROOT / "runs" / "benchmarks"
STORE = RUNS / "data" / "maze"
MAZE, GEODESIC, HIERARCHY = RUNS / "maze", RUNS / "maze_geodesic", RUNS / "maze_hierarchy"
FLAT, HIER = "configs/agent_maze.yaml", "configs/agent_maze_hierarchy.yaml"
ENERGY = ["cost.critic_weight=0", "cost.energy_weight=1", "cost.energy=sum"]
ROWS = {  # key -> (label, run, agent preset, overrides, levels of the preset kept)
    "a": ("(a) flat, latent energy", MAZE, FLAT, ENERGY, None),
    "b": ("(b) flat, learned distance-to-go", MAZE, FLAT, [], None),
    "c": ("(c) flat, step-distance latent", GEODESIC, FLAT, ENERGY, None),
    "d": ("(d) hierarchical, 2 levels", HIERARCHY, HIER, [], 1),
    "e": ("(e) hierarchical, 3 levels", HIERARCHY, HIER, [], 2),
    "f": ("(f) oracle subgoals", HIERARCHY, HIER, [], 1),
}
BUDGETS = {"25-50": 150, "50-100": 250, "100-200": 400, "200+": 600}  # env steps per episode
ORACLE_SPACING, ORACLE_EVERY = 6, 4
LATENCY_EPISODES = 10


def train_all(reuse: bool) -> list[dict]:
    """Level 1, its step-distance twin, and levels 2-3; one row of wall times each."""
    runs = [
        ("level 1 (world model), collection included", "configs/maze.yaml", MAZE, []),
        (
            "level 1, step-distance latent",
            "configs/maze.yaml",
            GEODESIC,
            ["world.geodesic_weight=3"],
        ),
        ("levels 2 + 3 (trained together)", "configs/maze_hierarchy.yaml", HIERARCHY, []),
    ]
    rows = []
    for label, preset, run, extra in runs:
        if reuse and (run / "checkpoints" / "last.pt").is_file():
            rows.append({"what": label, "seconds": "n/a (reused)"})
            continue
        shutil.rmtree(run, ignore_errors=True)
        where = [f"train.run_dir={RUNS}", f"train.name={run.name}", "train.threads=1"]
        where += [f"data.path={STORE}", f"hierarchy.base_run={MAZE}"]
        start = time.perf_counter()
        result = train(load_config(preset, [*where, *extra]), overwrite=True)
        rows.append(
            {
                "what": label,
                "seconds": round(time.perf_counter() - start, 1),
                "collapse warnings": len(result.collapse_steps),
            }
        )
    return rows


def agent(key: str, progress: bool = False, extra: tuple = ()):
    _, run, preset, overrides, levels = ROWS[key]
    cfg = load_config(preset, [*overrides, *extra], root=AgentConfig)
    cfg.levels = cfg.levels[:levels] if levels else []
    configurator = Configurator(cfg, run, progress=progress)
    return configurator, configurator.build()


def tasks_by_band(configurator, episodes: int) -> dict[str, list[dict]]:
    tasks = configurator.tasks(episodes * len(BANDS))
    grouped: dict[str, list[dict]] = {}
    for task in tasks:
        grouped.setdefault(task["band"], []).append(task)
    return grouped


class OracleLevel:
    """Stands in for level 2: hands down the level-2 state of the point ORACLE_SPACING px (=
    steps) ahead on each task's true shortest path, re-chosen every ORACLE_EVERY steps from
    the agent's true position (`observe(states)`, called before every decision)."""

    def __init__(self, configurator, tasks: list[dict]):
        kwargs = configurator.env_kwargs
        self.sim = make_sim(configurator.env_id, len(tasks), **kwargs)
        self.sim.reset(options={"start": np.array([t["start"] for t in tasks])})
        walls = self.sim.walls[0]
        self.paths = [waypoints(shortest_path(walls, t["start"], t["goal"]), 1.0) for t in tasks]
        self.hierarchy, self.subgoal, self.steps = configurator.hierarchy, None, 0

    def reset(self) -> None:
        self.subgoal, self.steps = None, 0

    def observe(self, states: np.ndarray) -> None:
        if self.steps % ORACLE_EVERY:
            return
        ahead = []
        for path, here in zip(self.paths, states[:, :2], strict=True):
            nearest = int(np.argmin(np.hypot(*(path - here).T)))
            ahead.append(path[min(nearest + ORACLE_SPACING, len(path) - 1)])
        frames = torch.as_tensor(self.sim.observe_at(np.array(ahead)))
        with torch.inference_mode():
            self.subgoal = self.hierarchy.lift(self.hierarchy.encode(frames), 1, 2)

    def target_below(self, hierarchy, state, target):
        self.steps += 1
        return self.subgoal, 0


def evaluate_row(key: str, episodes: int, seed: int = 0) -> dict:
    configurator, built = agent(key)
    row = {"row": ROWS[key][0]}
    kwargs = configurator.env_kwargs
    for band, tasks in tasks_by_band(configurator, episodes).items():
        sim = make_sim(configurator.env_id, len(tasks), **kwargs)
        observe = None
        if key == "f":
            oracle = OracleLevel(configurator, tasks)
            built.actor.uppers, observe = [oracle], oracle.observe
        with torch_threads(2):
            results = run_batched(built, sim, tasks, BUDGETS[band], seed, observe)
        successes = sum(r["success"] for r in results)
        low, high = wilson_interval(successes, len(results))
        row[f"{band} success"] = f"{successes / len(results):.0%} ({low:.0%}-{high:.0%})"
        row[f"{band} imagined/step"] = round(float(np.mean([r["imagined"] for r in results])))
    row["ms/step (longest band)"] = latency(configurator, built, key)
    return row


def seed_rows(seeds: list[int], episodes: int, keys=("b", "d")) -> list[dict]:
    """The longest band's success of rows `keys` with critics trained from other seeds
    (`critic.seed`: initial weights, training pairs, graph sources; same data and tasks)."""
    band, rows = band_name(BANDS[-1]), []
    for seed in seeds:
        for key in keys:
            configurator, built = agent(key, extra=(f"critic.seed={seed}",))
            tasks = tasks_by_band(configurator, episodes)[band]
            kwargs = configurator.env_kwargs
            sim = make_sim(configurator.env_id, len(tasks), **kwargs)
            with torch_threads(2):
                results = run_batched(built, sim, tasks, BUDGETS[band], 0)
            successes = sum(r["success"] for r in results)
            low, high = wilson_interval(successes, len(results))
            rate = f"{successes / len(results):.0%} ({low:.0%}-{high:.0%})"
            rows.append({"row": ROWS[key][0], "critic seed": seed, f"{band} success": rate})
    return rows


def latency(configurator, built, key: str) -> float | str:
    """Median decision ms per env step over single episodes of the longest band."""
    if key == "f":
        return "n/a (oracle)"
    tasks = tasks_by_band(configurator, LATENCY_EPISODES)
    longest = tasks[band_name(BANDS[-1])][:LATENCY_EPISODES]
    env = configurator.make_env()
    seconds = []
    with torch_threads(1):
        for i, task in enumerate(longest):
            result = run_episode(built, env, i, task, max_steps=200)
            seconds += result.decision_seconds
    return round(1e3 * float(np.median(seconds)), 2)


def horizon_table() -> list[dict]:
    result = evaluate_hierarchy(HIERARCHY)
    plot_horizon_errors(result, RESULTS_DIR / "hierarchy_horizon.png")
    rows = []
    for k, errors in result["levels"].items():
        row = {"level": k}
        for h, e in zip(result["horizons"], errors, strict=True):
            row[f"{h} steps ({result['units']})"] = "n/a" if e is None else round(e, 2)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["train", "horizon", "table", "seeds"])
    parser.add_argument("--episodes", type=int, default=100, help="episodes per band")
    parser.add_argument("--rows", default="a,b,c,d,e,f")
    parser.add_argument("--reuse", action="store_true", help="keep trained runs")
    parser.add_argument("--critic-seeds", default="1,2", help="seeds of the 'seeds' table")
    args = parser.parse_args()
    if args.only in (None, "train"):
        save("hierarchy_train", train_all(args.reuse), TRAIN_NOTES)
    if args.only in (None, "horizon"):
        save("hierarchy_horizon", horizon_table(), HORIZON_NOTES)
    if args.only in (None, "table"):
        rows = [evaluate_row(key, args.episodes) for key in args.rows.split(",")]
        save("hierarchy_maze", rows, TABLE_NOTES.format(episodes=args.episodes))
    if args.only == "seeds":
        seeds = [int(s) for s in args.critic_seeds.split(",")]
        save("hierarchy_seeds", seed_rows(seeds, args.episodes), SEED_NOTES)


TRAIN_NOTES = (
    "Wall time on this machine's 2 CPU cores, 1 torch thread, fp32; the maze store (1000 random "
    "walks of 128 steps) is collected inside the first row."
)
HORIZON_NOTES = (
    "Probed position error (px, RMS) of each level's prediction h env steps ahead, from held-out "
    "episodes (512 starts per horizon); level 1 chains the world model over the recorded actions, "
    "level k >= 2 chains ceil(h / its longest gap) macro-steps of the recorded action chunks; n/a "
    "where h cannot be cut into chunks inside the level's gap range. Plot: "
    "`benchmarks/results/hierarchy_horizon.png`."
)
TABLE_NOTES = (
    "hjepa/Maze-v0 as configs/maze.yaml builds it (4 x 4 rooms, 5 px doors, moves of at most "
    "0.8 px); the maze task set, {episodes} episodes per band of shortest-path length in env "
    "steps (8-connected grid geodesic / 0.8 px, rounded up); success within 4.5 px of the goal "
    "within the band's budget "
    f"({', '.join(f'{b}: {s}' for b, s in BUDGETS.items())} steps). Every row's models and critic "
    "learn from the same store (1000 random walks of 128 steps), no other environment interaction. "
    "The critics of (b) and (d)-(f) regress on shortest paths through the store's episodes "
    "stitched into a graph (`hjepa.agent.stitch`) and on their slopes between episode "
    "neighbours, half of them read on states the world model predicted; (d) and (e) hand down "
    "the stored state nearest to each planned subgoal (snap). "
    "Success with its 95 % Wilson interval; imagined/step: predictor evaluations per env step, "
    "every level together; ms/step: median decision time (encoder + all levels' planners) per env "
    "step over single episodes of the longest band, 1 torch thread."
)
SEED_NOTES = (
    "How much the longest band's success depends on the critic's training: rows (b) and (d) of "
    "hierarchy_maze with critics (and level critics) trained from other seeds (`critic.seed`: "
    "initial weights, training pairs, graph sources); the same store, models and tasks; seed 0 "
    "is the main table's."
)

if __name__ == "__main__":
    main()

"""Push-T from pixels on 2 CPU cores: collection, world model and planning, through the same
public path as any user's env (`hjepa/PushT-v0`, extra `hjepa[pusht]`).

    python benchmarks/pusht.py [--episodes N] [--gaps 25,50,75] [--planners cem,mppi,gradient]
                               [--all-gaps] [--smoke] [--reuse]

1. World model: `configs/pusht.yaml` from nothing (its store deleted first), so the wall time
   of collection (the scripted push policy, 2 worker processes) and of training is measured;
   the share of steps and of training windows in which the block moves; MLP-probe errors of
   the block's position (px) and angle (degrees, from the probed cos / sin) on held-out
   episodes, and the open-loop rollout error of the block position against the horizon
   (`hjepa.eval.world_model`; plot `results/pusht_rollout.png`).
2. Agents (`configs/agent_pusht.yaml`): each planner with plain latent energy |s - g|^2 and
   with the learned distance instead (the critic, trained on the store's episodes), on N tasks
   (default 100) of the first gap; `--all-gaps`: every agent on every gap. The first agent
   (the preset, CEM + latent energy) always runs every gap. Success with its 95 % Wilson
   interval, median ms per plan (one replanning step: encode, plan, return the first action;
   one episode at a time, 1 torch thread).
3. Uniform random pusher targets (no model) on the same tasks.

Table `pusht` (`--smoke`: tiny sizes that check the pipeline, table `pusht_smoke`); an episode
GIF of the first agent's first episodes, one per d (goal T outlined in red),
`results/pusht_episode.gif`, shown in BENCHMARKS.md.
"""

import argparse
import json
import shutil
from importlib.metadata import version

import gymnasium
import numpy as np

from common import NO_CRITIC, RESULTS_DIR, ROOT, save
from external import SMOKE_WORLD, ci_text, steps_to_goal
from hjepa.agent.config import AgentConfig
from hjepa.agent.configurator import Configurator
from hjepa.config import load_config
from hjepa.data.store import TrajectoryStore
from hjepa.envs.tasks import goal_tasks, task_set
from hjepa.eval.planning import evaluate_agent, wilson_interval
from hjepa.eval.world_model import evaluate_run
from hjepa.viz.plots import save_gif
from world_model import RUNS, train_from_nothing

WORLD = ROOT / "configs" / "pusht.yaml"
AGENT = ROOT / "configs" / "agent_pusht.yaml"
MOVED_PX = 1.0  # a step moves the block when its origin moves more than this,
MOVED_DEG = 1.0  # or it turns by more than this
SMOKE_AGENT = ["critic.steps=20", "critic.batch=64", "planner.samples=16"]
GIF_EPISODES = 3  # the first agent's first episodes: one per d when it runs every gap
COSTS = (  # the preset's cost first
    ("latent energy", NO_CRITIC),
    ("critic", ["cost.critic_weight=1", "cost.energy_weight=0"]),
)


def world_model(overrides: list[str], reuse: bool, smoke: bool) -> tuple[object, dict]:
    """Collect, train and probe the world model (or read what `--reuse` finds): (run, numbers)."""
    cfg = load_config(WORLD, [*overrides, f"train.run_dir={RUNS}", "train.progress=false"])
    run = RUNS / cfg.train.name
    if reuse and (run / "eval" / "eval.json").is_file():
        times = json.loads((run / "bench_times.json").read_text())
        ev = json.loads((run / "eval" / "eval.json").read_text())
    else:
        _, result, collect_s, train_s = train_from_nothing(WORLD, overrides)
        times = {"collect s": collect_s, "train s": train_s}
        (run / "bench_times.json").write_text(json.dumps(times))
        ev = evaluate_run(result.run_dir, *((60, 100) if smoke else (1000, 3000)))
    plot = f"{cfg.train.name}_rollout.png"  # pusht_rollout.png, pusht_smoke_rollout.png
    shutil.copy(run / "eval" / "rollout_error.png", RESULTS_DIR / plot)
    store = TrajectoryStore(RUNS / "data" / cfg.train.name)
    return run, {**times, **block_motion(store, cfg.data.frames), **probe_numbers(ev)}


def block_motion(store: TrajectoryStore, frames: int) -> dict:
    """Share of steps, and of training windows of `frames` frames, that move the block."""
    steps, windows = [], []
    names = store.facts.state_names
    x, y, c, s = (names.index(n) for n in ("block_x", "block_y", "block_cos", "block_sin"))
    for episode in range(len(store)):
        states = store.episode(episode)["states"]
        travel = np.hypot(*np.diff(states[:, [x, y]], axis=0).T)
        turn = np.abs(np.diff(np.unwrap(np.arctan2(states[:, s], states[:, c]))))
        moved = (travel > MOVED_PX) | (np.degrees(turn) > MOVED_DEG)
        steps.append(moved)
        windows += [moved[i : i + frames - 1].any() for i in range(len(moved) - frames + 2)]
    return {
        "steps moving the block %": 100 * float(np.concatenate(steps).mean()),
        f"{frames}-frame windows moving it %": 100 * float(np.mean(windows)),
    }


def probe_numbers(ev: dict) -> dict:
    """Block position (px) and angle (deg) errors of the MLP probe; rollout error."""
    rmse = ev["probe_rmse"]["mlp"]
    chord = float(np.hypot(rmse["block_cos"], rmse["block_sin"]))  # of the unit vector
    return {
        "probe block position RMSE px": float(np.hypot(rmse["block_x"], rmse["block_y"])),
        "probe block angle RMSE deg": float(np.degrees(2 * np.arcsin(min(1.0, chord / 2)))),
        "probe pusher position RMSE px": float(np.hypot(rmse["agent_x"], rmse["agent_y"])),
        "rollout block position RMSE px by step": [
            round(v, 1) for v in ev["rollout_position_rmse"]
        ],
    }


def agent_row(run, label: str, gaps, overrides, episodes: int, gif=None) -> dict:
    """One agent on `episodes` tasks per gap: a table row (success per gap); its first
    `GIF_EPISODES` episodes go to one GIF at `gif` when given."""
    cfg = load_config(
        AGENT,
        [f"task.episodes={episodes * len(gaps)}", f"task.env_kwargs.gaps={gaps}", *overrides],
        root=AgentConfig,
    )
    out = run / "plan" / label.replace(" ", "_").replace(",", "").replace("+", "plus")
    s = evaluate_agent(Configurator(cfg, run, progress=False), out, gifs=GIF_EPISODES)
    if gif is not None:
        join_gifs(sorted(out.glob("episode_*.gif")), gif)
    row = {"agent": label}
    for gap in gaps:
        row[f"d={gap} success %"] = 100 * s[f"success_d={gap}"]
        row[f"d={gap} 95 % CI"] = ci_text(s[f"success_d={gap}_ci95"])
    row["episodes per d"] = episodes
    row["plan ms (median)"] = s["replan_ms_median"]
    row["plan ms (p95)"] = s["replan_ms_p95"]
    row["imagined steps / plan"] = s["imagined_steps_per_replan"]
    return row


def join_gifs(parts: list, path) -> None:
    """The GIFs `parts` played one after the other, as one GIF at `path`."""
    from PIL import Image, ImageSequence

    frames = [
        np.asarray(frame.convert("RGB"))
        for part in parts
        for frame in ImageSequence.Iterator(Image.open(part))
    ]
    save_gif(frames, path, scale=1)


def random_row(gaps: list[int], episodes: int, env_id: str, seed: int = 0) -> dict:
    """Uniform random pusher targets on the same tasks (no model), each in its budget."""
    tasks = goal_tasks(env_id, episodes * len(gaps), seed, {"gaps": gaps})
    env = gymnasium.make(env_id)
    rng = np.random.default_rng(seed)
    hits: dict[str, list[bool]] = {}
    for i, task in enumerate(tasks):
        options = {key: task[key] for key in ("start", "goal")}
        env.reset(seed=seed + i, options=options)
        uniform = lambda: rng.uniform(-1.0, 1.0, 2).astype(np.float32)  # noqa: E731
        hits.setdefault(task["band"], []).append(steps_to_goal(env, uniform, task["budget"]))
    env.close()
    row = {"agent": "uniform random targets (no model)"}
    for gap in gaps:
        results = [h is not None for h in hits[f"d={gap}"]]
        row[f"d={gap} success %"] = 100 * float(np.mean(results))
        row[f"d={gap} 95 % CI"] = ci_text(wilson_interval(sum(results), len(results)))
    row["episodes per d"] = episodes
    return row


def notes(model: dict, env_id: str, gif) -> str:
    world = "; ".join(f"{k} {_fmt(v)}" for k, v in model.items())
    return (
        f"Push-T (gym-pusht {version('gym-pusht')}) through `{env_id}`: 2 stacked 96 x 96 RGB "
        "frames, the pusher's target point as the action. World model `configs/pusht.yaml` "
        "trained from nothing on the scripted push policy's episodes (no expert "
        "demonstrations), agent `configs/agent_pusht.yaml`."
        f" Tasks: {task_set(env_id).protocol}. The same seeded tasks "
        f"in every row. One episode at a time, CPU. World model: {world}. Protocol differences "
        "from the anchors (LeWM, PLDM, DINO-WM): their data are expert demonstrations and their "
        "start / goal pairs come from the demonstrations' held-out trajectories; ours come from "
        "the scripted policy's; success is checked after every step (the episode ends there)."
        " The first agent's first episodes, one per d (goal T outlined in red): "
        f"![Push-T episodes](benchmarks/results/{gif.name})"
    )


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, help="tasks per gap (default 100; smoke 2)")
    parser.add_argument("--gaps", default="25,50,75")
    parser.add_argument("--planners", default="cem,mppi,gradient")
    parser.add_argument("--all-gaps", action="store_true", help="every agent on every gap")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the pipeline")
    parser.add_argument("--reuse", action="store_true", help="plan with the last world model")
    args = parser.parse_args()
    gaps = [int(g) for g in args.gaps.split(",")]
    episodes = args.episodes or (2 if args.smoke else 100)
    world = ["train.name=pusht_smoke", *SMOKE_WORLD] if args.smoke else []
    agent = SMOKE_AGENT if args.smoke else []
    run, model = world_model(world, args.reuse, args.smoke)
    name = "pusht_smoke" if args.smoke else "pusht"
    env_id = load_config(WORLD, []).data.env
    gif = RESULTS_DIR / f"{name}_episode.gif"
    rows = []
    for planner in args.planners.split(","):
        for cost, extra in COSTS:
            label = f"{planner.upper() if planner != 'gradient' else 'gradient'} + {cost}"
            first = not rows
            row_gaps = gaps if (first or args.all_gaps) else gaps[:1]
            overrides = [f"planner.kind={planner}", *agent, *extra]
            row_gif = gif if first else None
            rows.append(agent_row(run, label, row_gaps, overrides, episodes, row_gif))
            save(name, rows, notes(model, env_id, gif))
    rows.append(random_row(gaps, episodes, env_id))
    save(name, rows, notes(model, env_id, gif))


if __name__ == "__main__":
    main()

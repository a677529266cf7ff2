"""The planning evaluation harness: a configured agent on a fixed, seeded start/goal set.

    evaluate_agent(configurator, out_dir) -> summary dict; writes to out_dir:
      episodes.json       every episode: task, success, steps, final distance, latencies
      summary.json        success rate with a 95 % Wilson interval, latency percentiles, compute
      report.md           the same as a table, with the protocol written down
      trajectories.png    paths of the first episodes over their layouts
      episode_<i>.gif     the first `gifs` episodes as the env renders them

Latency is the wall time of one replanning step (encode the observation, plan, return the first
action), measured per decision on one episode at a time; `actor_ms` leaves out the perception
(the encoder), which Mode-1 and Mode-2 share. The compute is the number of imagined predictor
steps per replan (candidate sequences x horizon) and per env step (every level's replans
together, for a hierarchical agent).
"""

import math
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from hjepa.agent.agent import run_episode
from hjepa.agent.learning import describe_critic_data
from hjepa.envs.goal import env_facts
from hjepa.envs.tasks import task_set
from hjepa.io import fresh_results_folder, write_json_atomic, write_text_atomic
from hjepa.runtime import torch_threads
from hjepa.viz.plots import plot_trajectories, save_gif

Z95 = 1.959964


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    """95 % Wilson score interval of a success rate."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + Z95**2 / (2 * trials)) / (1 + Z95**2 / trials)
    half = Z95 * math.sqrt(p * (1 - p) / trials + Z95**2 / (4 * trials**2)) / (1 + Z95**2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def evaluate_agent(configurator, out_dir: str | Path, mode: int | None = None, gifs: int = 2):
    """Run the task set with the configurator's agent; returns and saves the summary (earlier
    results in `out_dir` are kept, moved to `<out_dir>.<n>`)."""
    out_dir = fresh_results_folder(out_dir)
    agent = configurator.build(mode)
    env = configurator.make_env(render_mode="rgb_array")
    cfg = configurator.cfg
    tasks = configurator.tasks()
    episodes = []
    bar = tqdm(tasks, desc="episodes", disable=not configurator.progress)
    with torch_threads(cfg.task.threads):
        for i, options in enumerate(bar):
            frames = [] if i < gifs else None
            seed = cfg.task.seed + i
            result = run_episode(agent, env, seed, options, cfg.task.max_steps, frames)
            if frames:
                save_gif(frames, out_dir / f"episode_{i}.gif")
            episodes.append({"task": options, **result.as_dict()})
            every = cfg.critic.memory_every
            if every > 0 and (i + 1) % every == 0 and agent.cost.critic is not None:
                configurator.learn_from_memory(agent)
            bar.set_postfix(success=f"{np.mean([e['success'] for e in episodes]):.3f}")
    summary = summarize(episodes, agent)
    summary["planner"] = cfg.planner.kind if agent.actor.mode == 2 else "mode-1 policy"
    if cfg.levels and agent.actor.mode == 2:
        summary["planner"] += " under " + ", ".join(
            f"level {k} {level.planner.kind} every {level.every} steps"
            for k, level in enumerate(cfg.levels, start=2)
        )
    summary["critic_data"] = describe_critic_data(configurator)
    facts = env_facts(env)
    summary["units"] = facts.units
    write_json_atomic(out_dir / "episodes.json", episodes, indent=None)
    write_json_atomic(out_dir / "summary.json", summary)
    plane = task_set(configurator.env_id).plane
    labels = facts.position_names or ("agent_pos[0]", "agent_pos[1]")
    plot_trajectories(episodes[:16], out_dir / "trajectories.png", plane, labels)
    write_text_atomic(out_dir / "report.md", report(summary, configurator))
    return summary


def summarize(episodes: list[dict], agent) -> dict:
    successes = sum(e["success"] for e in episodes)
    low, high = wilson_interval(successes, len(episodes))
    replans = np.concatenate([e["replan_seconds"] for e in episodes]) * 1e3
    decisions = np.concatenate([e["decision_seconds"] for e in episodes]) * 1e3
    actor = np.concatenate([e["actor_seconds"] for e in episodes]) * 1e3
    steps = [e["steps"] for e in episodes if e["success"]]
    distances = [e["final_distance"] for e in episodes if np.isfinite(e["final_distance"])]
    return {
        "episodes": len(episodes),
        "success_rate": successes / len(episodes),
        "success_ci95": [low, high],
        **band_success(episodes),
        "median_steps_successful": float(np.median(steps)) if steps else float("nan"),
        "final_distance_median": float(np.median(distances)) if distances else float("nan"),
        "replans": int(len(replans)),
        "replan_ms_median": float(np.median(replans)) if len(replans) else float("nan"),
        "replan_ms_p95": float(np.percentile(replans, 95)) if len(replans) else float("nan"),
        "decision_ms_median": float(np.median(decisions)),
        "actor_ms_median": float(np.median(actor)),
        "imagined_steps_per_replan": agent.actor.compute_per_replan(),
        "imagined_steps_per_env_step": float(
            np.sum([sum(e["imagined_steps"]) for e in episodes])
            / max(1, sum(e["steps"] for e in episodes))
        ),
    }


def band_success(episodes: list[dict]) -> dict:
    """{"success_<band>": rate, "success_<band>_ci95": [low, high]} per task band (tasks with a
    "band", e.g. Push-T's "d=25"); empty when the tasks have none."""
    bands: dict[str, list[bool]] = {}
    for episode in episodes:
        band = episode["task"].get("band")
        if band is not None:
            bands.setdefault(str(band), []).append(bool(episode["success"]))
    out = {}
    for band, results in bands.items():
        out[f"success_{band}"] = sum(results) / len(results)
        out[f"success_{band}_ci95"] = list(wilson_interval(sum(results), len(results)))
    return out


def report(summary: dict, configurator) -> str:
    cfg = configurator.cfg
    rows = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in summary.items())
    return (
        f"# Planning evaluation\n\n"
        f"- world model: `{configurator.run_dir}`\n- env: `{configurator.env_id}`\n"
        f"- tasks: {cfg.task.episodes} episodes from seed {cfg.task.seed}; "
        f"{task_set(configurator.env_id).protocol} (the env's registered task set, "
        f"`hjepa.envs.tasks`; the env terminates on success); budget {cfg.task.max_steps} steps; "
        f"distances in {summary['units']}\n"
        f"- agent: mode {summary['planner']}, planner `{_fmt(vars(cfg.planner))}`, cost "
        f"`{_fmt(vars(cfg.cost))}`\n\n"
        f"| metric | value |\n|---|---|\n{rows}\n\n"
        f"![trajectories](trajectories.png)\n"
    )


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return str(value)

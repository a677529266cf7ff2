"""Many goal-reaching episodes at once, on a vectorized simulator of hjepa's arenas.

The agent's perception and actor take batches, so N tasks of one fixed layout run as one batch:
one encoder call and one planning call per env step for all N episodes, each with its own start,
goal and plan. A batch decides as N single episodes would (only the planners' random draws
differ: one generator serves the batch), except for the parts that read the agent's short-term
memory (the revisiting cost, the experience correction), which hold one episode: they are
refused here. Latency is not measured (a batched decision is not an episode's);
`agent.run_episode` measures it.
"""

import numpy as np
import torch

from hjepa.envs.gym_env import GOAL_RADIUS
from hjepa.errors import ConfigError


def run_batched(
    agent, sim, tasks: list[dict], max_steps: int, seed: int = 0, before_act=None
) -> list[dict]:
    """Run `tasks` ({"start", "goal"} each) together in `sim` (an `ArenaSim` with one env per
    task); per task: success (within `GOAL_RADIUS` of the goal), steps (to success, else the
    budget), final distance and the imagined predictor steps per env step. `before_act(states)`
    is called with the true states [N, S] before every decision (e.g. an oracle's)."""
    _check_memory_free(agent)
    if sim.num_envs != len(tasks):
        raise ConfigError(f"{len(tasks)} tasks need a simulator of {len(tasks)} envs")
    starts = np.array([t["start"] for t in tasks], dtype=np.float64)
    goals = np.array([t["goal"] for t in tasks], dtype=np.float64)
    obs, states = sim.reset(seed=seed, options={"start": starts})
    goal = agent.perceive(sim.observe_at(goals))
    agent.actor.reset(goal)
    done = np.zeros(len(tasks), bool)
    steps = np.full(len(tasks), max_steps)
    imagined = 0
    for t in range(max_steps):
        if before_act is not None:
            before_act(states)
        with torch.inference_mode():
            action, info = agent.actor.act(agent.perceive(obs), goal)
        imagined += info["imagined_steps"]
        moves = action.detach().cpu().numpy().astype(np.float32)
        moves[done] = 0.0
        obs, states = sim.step(moves)
        reached = ~done & (np.hypot(*(states[:, :2] - goals).T) <= GOAL_RADIUS)
        steps[reached], done = t + 1, done | reached
        if done.all():
            break
    distance = np.hypot(*(states[:, :2] - goals).T)
    per_step = imagined / (t + 1)
    return [
        {"success": bool(d), "steps": int(n), "final_distance": float(r), "imagined": per_step}
        for d, n, r in zip(done, steps, distance, strict=True)
    ]


def _check_memory_free(agent) -> None:
    if agent.actor.mode != 2:
        raise ConfigError("batched episodes run Mode-2 agents")
    if agent.cost.visit_weight or agent.actor.imagination.correction is not None:
        raise ConfigError(
            "batched episodes cannot use the short-term memory (one episode's): set "
            "cost.visit_weight=0 and memory.correction=false, or run episodes one at a time"
        )

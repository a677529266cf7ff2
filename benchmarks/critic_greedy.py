"""Where goal reaching fails: the critic, or the world model's predictions it reads?

    python benchmarks/critic_greedy.py [--episodes N]

For each Two-Rooms agent preset of `benchmarks/planning.py`, the same task set is run with a
one-step greedy actor over 16 directions of full-length moves, scoring each move by the critic's
distance to the goal at the state it leads to, read two ways:
- "true next state": the simulator makes each move and the encoder reads the frame it gives
  (a perfect world model: this measures the critic alone);
- "predicted next state": the world model predicts the latent of each move from the current
  latent (what a planner sees).
Same success criterion and 200-step budget as the planning benchmark. No planner is involved.
"""

import argparse

import numpy as np
import torch

from common import save
from hjepa.agent.config import AgentConfig
from hjepa.agent.configurator import Configurator
from hjepa.config import load_config
from hjepa.envs import make_sim
from hjepa.envs.gym_env import GOAL_RADIUS
from planning import MODELS

DIRECTIONS = 16


def layouts_and_positions(tasks: list[dict]) -> dict:
    return {key: np.array([t[key] for t in tasks]) for key in ("wall_x", "door_y", "start", "goal")}


@torch.no_grad()
def greedy_success(configurator, critic, predicted: bool, tasks: list[dict], steps: int):
    """Fraction of tasks the greedy critic actor solves (see the module doc)."""
    wm, env_id, n = configurator.world_model, configurator.env_id, len(tasks)
    t = layouts_and_positions(tasks)
    layout = {"wall_x": t["wall_x"], "door_y": t["door_y"]}
    goal_obs, _ = make_sim(env_id, n).reset(options={**layout, "start": t["goal"]})
    goals = wm.encode(torch.from_numpy(goal_obs)).repeat_interleave(DIRECTIONS, 0)
    angles = np.arange(DIRECTIONS) * 2 * np.pi / DIRECTIONS
    tried = make_sim(env_id, n * DIRECTIONS)
    moves = tried.max_norm * 0.999 * np.stack([np.cos(angles), np.sin(angles)], 1)
    moves = np.tile(moves, (n, 1)).astype(np.float32)
    repeated = {k: np.repeat(v, DIRECTIONS) for k, v in layout.items()}
    pos, done = t["start"].astype(np.float64), np.zeros(n, bool)
    for _ in range(steps):
        start_obs, _ = tried.reset(options={**repeated, "start": np.repeat(pos, DIRECTIONS, 0)})
        obs, states = tried.step(moves)
        if predicted:
            now = wm.encode(torch.from_numpy(start_obs))
            nexts = wm.rollout(now, torch.from_numpy(moves)[:, None])[:, 0]
        else:
            nexts = wm.encode(torch.from_numpy(obs))
        best = critic(nexts, goals).reshape(n, DIRECTIONS).argmin(1).numpy()
        chosen = states[:, :2].reshape(n, DIRECTIONS, 2)[np.arange(n), best]
        pos = np.where(done[:, None], pos, chosen)
        done |= np.linalg.norm(pos - t["goal"], axis=1) < GOAL_RADIUS
    return float(done.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=100)
    args = parser.parse_args()
    rows = []
    for model, (run, preset) in MODELS.items():
        cfg = load_config(preset, [f"task.episodes={args.episodes}"], root=AgentConfig)
        configurator = Configurator(cfg, run)
        critic, tasks = configurator.critic(), configurator.tasks()
        for predicted in (False, True):
            rate = greedy_success(configurator, critic, predicted, tasks, cfg.task.max_steps)
            rows.append(
                {
                    "world model": model,
                    "critic reads": "predicted next state" if predicted else "true next state",
                    "episodes": len(tasks),
                    "greedy success %": 100 * rate,
                }
            )
            save("critic_greedy", rows, NOTES)


NOTES = (
    "One-step greedy actor over 16 full-length moves, scored by the agent preset's critic at "
    "the state each move leads to: encoded from the simulator's frame (true next state) or "
    "predicted by the world model from the current latent. Same tasks, budget and success "
    "criterion as planning_main; 2 CPU cores, fp32."
)


if __name__ == "__main__":
    main()

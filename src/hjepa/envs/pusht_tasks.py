"""Push-T's task set, as the Push-T planning papers define it, and the env's registration.

A task starts in a state of a held-out trajectory and takes as goal the state d env steps
later in the same trajectory, d in the env's `gaps` (default 25, 50, 75; episodes spread evenly
over them, in turn); its step budget is 2d. The trajectories are the scripted data policy's
(`hjepa.envs.pusht_policy.PushPolicy`) from the simulator's own random starts, simulated here
from the task seed's own stream (never the collection's), after a warm-up of 0-19 steps; a
pair whose start already meets the goal is drawn again. So every goal is reachable: the
trajectory reached it. Tasks are reset options {"start", "goal", "budget", "band"}
(`hjepa.agent.agent.run_episode` reads "budget"; "band" = "d=25", ... groups reports).
"""

from __future__ import annotations

import numpy as np

from hjepa.envs.goal_pixels import register_goal_env
from hjepa.envs.pusht import (
    ANGLE_TOLERANCE,
    POSITION_TOLERANCE,
    PUSHT_ID,
    SPEC,
    check_gaps,
    get_state,
    observe,
    reached,
    simulator_class,
    to_workspace,
)
from hjepa.envs.pusht_policy import PushPolicy
from hjepa.envs.tasks import PlotPlane
from hjepa.errors import ConfigError

WARMUP = 20  # steps: the start is drawn from the first WARMUP states of a trajectory
MAX_TRIES = 50  # trajectories per task before giving up
TASK_STREAM = 0x5054  # mixed into the seed: task trajectories never repeat collection's
TASK_PROTOCOL = (
    "start = a state of a held-out trajectory of the scripted push policy, goal = the state d "
    "steps later in it, d in {gaps} (episodes spread evenly), budget 2d steps; success = "
    f"pusher and block positions within {POSITION_TOLERANCE:.0f} px together (norm of the 4 "
    f"errors, 512 px workspace) and block angle within {np.degrees(ANGLE_TOLERANCE):.0f} deg "
    "(DINO-WM's criterion), at any step"
)


def sample_tasks(episodes: int, seed: int, env_kwargs: dict) -> list[dict]:
    """`episodes` reset options (module docstring); the same seed gives the same tasks."""
    gaps = check_gaps(env_kwargs.get("gaps", (25, 50, 75)))
    rng = np.random.default_rng([int(seed), TASK_STREAM])
    sim = simulator_class()(obs_type="state", render_mode="rgb_array")
    try:
        return [_task(sim, gaps[i % len(gaps)], rng) for i in range(episodes)]
    finally:
        sim.close()


def trajectory(sim, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """States [steps + 1, 7] and normalized actions [steps, 2] of the push policy from a
    random start of the simulator."""
    sim.reset(seed=int(rng.integers(2**31 - 1)))
    policy = PushPolicy()
    policy.reset(1, rng)
    states, actions = [get_state(sim)], []
    for _ in range(steps):
        actions.append(policy(None, observe(states[-1])[None], rng)[0])
        sim.step(to_workspace(actions[-1]))
        states.append(get_state(sim))
    return np.stack(states), np.stack(actions)


def _task(sim, gap: int, rng: np.random.Generator) -> dict:
    for _ in range(MAX_TRIES):
        warmup = int(rng.integers(WARMUP))
        states, _ = trajectory(sim, warmup + gap, rng)
        start, goal = states[warmup], states[warmup + gap]
        if not reached(start, goal) and SPEC.check(start) is None and SPEC.check(goal) is None:
            return {
                "start": start.tolist(),
                "goal": goal.tolist(),
                "budget": 2 * gap,
                "band": f"d={gap}",
            }
    raise ConfigError(f"no Push-T task with d={gap} in {MAX_TRIES} trajectories")


register_goal_env(
    PUSHT_ID,
    "hjepa.envs.pusht:PushT",
    sample_tasks,
    TASK_PROTOCOL.format(gaps="{25, 50, 75} (the env's gaps)"),
    PlotPlane(xlim=(0, 512), ylim=(512, 0), xlabel="block x (px)", ylabel="block y (px)"),
    max_episode_steps=300,
)

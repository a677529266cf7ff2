"""A user's goal env that hjepa does not ship, written against the goal-env protocol alone
(`hjepa.envs.goal`): a dot on a 16 x 16 image, moved by 2-d displacements. Importing this
module registers `DotGoal-v0` (and `DotGoalNoState-v0`, which gives no true state) with
Gymnasium and its task set with hjepa."""

import gymnasium
import numpy as np
from gymnasium import spaces

from hjepa.envs.tasks import register_tasks

SIZE = 16
RADIUS = 1.5  # cells: success
PROTOCOL = "dot: start and goal uniform in the square, >= 6 cells apart; success = within 1.5 cells"


class DotGoal(gymnasium.Env):
    metadata = {"render_modes": ["rgb_array"]}
    state_names = ("x", "y")
    position_names = ("x", "y")
    units = "cells"

    def __init__(self, render_mode=None, with_state: bool = True):
        self.render_mode, self.with_state = render_mode, with_state
        self.observation_space = spaces.Box(0, 255, (1, SIZE, SIZE), np.uint8)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.pos = np.zeros(2)
        self.goal = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        options = options or {}
        start = options.get("start")
        self.pos = self.np_random.uniform(1, SIZE - 2, 2) if start is None else np.array(start)
        self.goal = None if options.get("goal") is None else np.asarray(options["goal"], float)
        info = self._info()
        if self.goal is not None:
            info["goal_obs"] = self.render_state(self.goal)
            info["goal_pos"] = tuple(self.goal)
        return self.render_state(self.pos), info

    def step(self, action):
        self.pos = np.clip(self.pos + np.clip(action, -1, 1), 0, SIZE - 1)
        info = self._info()
        reached = self.goal is not None and info["distance"] < RADIUS
        return self.render_state(self.pos), 0.0, bool(reached), False, info

    def render_state(self, state) -> np.ndarray:
        rows, cols = np.mgrid[0:SIZE, 0:SIZE]
        x, y = np.asarray(state, float)[:2]
        blob = np.exp(-((cols - x) ** 2 + (rows - y) ** 2) / 4.0)
        return (255 * blob).astype(np.uint8)[None]

    def render(self):
        return np.repeat(self.render_state(self.pos)[0][..., None], 3, axis=2)

    def _info(self) -> dict:
        info = {"agent_pos": tuple(float(v) for v in self.pos)}
        if self.with_state:
            info["state"] = self.pos.astype(np.float32)
        if self.goal is not None:
            info["distance"] = float(np.linalg.norm(self.pos - self.goal))
        return info


def sample_tasks(episodes: int, seed: int, env_kwargs: dict) -> list[dict]:
    rng = np.random.default_rng(seed)
    tasks = []
    while len(tasks) < episodes:
        start, goal = rng.uniform(1, SIZE - 2, (2, 2))
        if np.linalg.norm(start - goal) >= 6:
            tasks.append({"start": tuple(start), "goal": tuple(goal)})
    return tasks


for env_id, kwargs in (("DotGoal-v0", {}), ("DotGoalNoState-v0", {"with_state": False})):
    if env_id not in gymnasium.registry:
        gymnasium.register(env_id, entry_point=DotGoal, kwargs=kwargs, max_episode_steps=60)
register_tasks("DotGoal-v0", sample_tasks, PROTOCOL)

"""A scripted data policy for Push-T that keeps the block moving (no demonstrations needed).

`PushPolicy` (collection: `data.policy: hjepa.envs.pusht_policy:PushPolicy`) repeats two
phases per env:

- approach: pick a push direction u (uniform angle) and a lateral offset o (uniform in
  +-`offset` px); head for the point `standoff` px behind the block's centre of mass along u,
  shifted by o across it, for at most `approach_steps` actions (or until within 12 px);
- push: command a point `push_speed` px (uniform in the range, per push) ahead of the pusher
  along u, for a random duration in `push_steps`; the lateral offset makes the block turn.

Every commanded point gets N(0, `noise` px) per axis and is clipped to the walls; with
probability `random_prob` an action is uniform over the workspace instead. It reads the
`hjepa.envs.pusht` state columns (pusher x, y, block x, y, cos, sin, ...) and returns actions
normalized to [-1, 1] (a = p / 256 - 1), for N envs at once.
"""

from __future__ import annotations

import numpy as np

from hjepa.envs.pusht import BLOCK_CENTRE, WORKSPACE
from hjepa.errors import ConfigError

MARGIN = 20.0  # px from the workspace edge: commanded points stay inside
ARRIVED = 12.0  # px: the approach ends this close to its start point


class PushPolicy:
    """Approach-then-push episodes (module docstring); all randomness from the rng passed in."""

    def __init__(
        self,
        standoff: float = 100.0,
        offset: float = 40.0,
        approach_steps: int = 12,
        push_steps: tuple[int, int] = (5, 20),
        push_speed: tuple[float, float] = (15.0, 40.0),
        noise: float = 5.0,
        random_prob: float = 0.05,
    ):
        low, high = (int(v) for v in push_steps)
        if not (standoff > 0 and offset >= 0 and approach_steps >= 1 and 1 <= low <= high):
            raise ConfigError(
                "PushPolicy: standoff > 0, offset >= 0, approach_steps >= 1 and "
                f"1 <= push_steps[0] <= push_steps[1] needed, got {standoff}, {offset}, "
                f"{approach_steps}, {push_steps}"
            )
        if not (0 <= random_prob <= 1 and noise >= 0 and 0 < push_speed[0] <= push_speed[1]):
            raise ConfigError(
                f"PushPolicy: random_prob in [0, 1], noise >= 0 and 0 < push_speed[0] <= "
                f"push_speed[1] needed, got {random_prob}, {noise}, {push_speed}"
            )
        self.standoff, self.offset, self.approach_steps = standoff, offset, int(approach_steps)
        self.push_steps, self.push_speed = (low, high), tuple(float(v) for v in push_speed)
        self.noise, self.random_prob = float(noise), float(random_prob)

    def reset(self, num_envs: int, rng: np.random.Generator) -> None:
        self.pushing = np.zeros(num_envs, dtype=bool)
        self.left = np.zeros(num_envs, dtype=np.int64)  # actions left in the phase
        self.direction = np.zeros((num_envs, 2))
        self.lateral = np.zeros(num_envs)
        self.speed = np.zeros(num_envs)
        for i in range(num_envs):
            self._new_push(i, rng)

    def __call__(self, obs, states, rng: np.random.Generator) -> np.ndarray:
        states = np.asarray(states, dtype=np.float64)
        targets = np.stack([self._target(i, s, rng) for i, s in enumerate(states)])
        targets += rng.normal(0.0, self.noise, targets.shape)
        wild = rng.random(len(states)) < self.random_prob
        targets[wild] = rng.uniform(0.0, WORKSPACE, (int(wild.sum()), 2))
        targets = np.clip(targets, MARGIN, WORKSPACE - MARGIN)
        return (targets / (WORKSPACE / 2) - 1.0).astype(np.float32)

    def _target(self, i: int, state: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        agent = state[:2]
        if not self.pushing[i]:
            start = self._start_point(i, state)
            self.left[i] -= 1
            if self.left[i] <= 0 or np.hypot(*(agent - start)) < ARRIVED:
                self.pushing[i] = True
                self.left[i] = rng.integers(self.push_steps[0], self.push_steps[1] + 1)
            return start
        self.left[i] -= 1
        if self.left[i] <= 0:
            self._new_push(i, rng)
        return agent + self.speed[i] * self.direction[i]

    def _start_point(self, i: int, state: np.ndarray) -> np.ndarray:
        cos, sin = state[4], state[5]
        centre = state[2:4] + np.array([[cos, -sin], [sin, cos]]) @ BLOCK_CENTRE
        u = self.direction[i]
        across = np.array([-u[1], u[0]])
        return centre - self.standoff * u + self.lateral[i] * across

    def _new_push(self, i: int, rng: np.random.Generator) -> None:
        angle = rng.uniform(0.0, 2 * np.pi)
        self.direction[i] = (np.cos(angle), np.sin(angle))
        self.lateral[i] = rng.uniform(-self.offset, self.offset)
        self.speed[i] = rng.uniform(*self.push_speed)
        self.pushing[i] = False
        self.left[i] = self.approach_steps

"""Short-term memory: what happened in the agent's recent episodes.

Per step: the latent state, the goal latent, the action taken, the cost the actor predicted for
its plan and the cost realized at the state reached. It feeds the critic (`episodes()`, latent
trajectories to retrain the cost-to-go on the agent's own experience) and Mode-1 distillation
(`decisions()`, the (state, goal, action) triples Mode-2 produced). Oldest episodes are dropped
past `capacity` steps.
"""

from collections import deque

import torch

FIELDS = ("state", "goal", "action", "predicted_cost", "realized_cost")


class ShortTermMemory:
    def __init__(self, capacity: int = 100_000):
        self.capacity = int(capacity)
        self._episodes: deque[dict[str, list]] = deque()
        self._size = 0

    def start_episode(self) -> None:
        self._episodes.append({name: [] for name in FIELDS})

    def record(self, state, goal, action, predicted_cost: float, realized_cost: float) -> None:
        """One step: state/goal latents [D], action [A], the plan's and the realized cost."""
        if not self._episodes:
            self.start_episode()
        step = dict(zip(FIELDS, (state, goal, action, predicted_cost, realized_cost), strict=True))
        for name, value in step.items():
            self._episodes[-1][name].append(torch.as_tensor(value, dtype=torch.float32))
        self._size += 1
        while self._size > self.capacity and len(self._episodes) > 1:
            self._size -= len(self._episodes.popleft()["state"])

    def __len__(self) -> int:
        return self._size

    def episode(self, index: int = -1) -> dict[str, torch.Tensor]:
        """One episode's fields stacked: state [T, D], goal [T, D], action [T, A], costs [T]."""
        return {k: torch.stack(v) for k, v in self._episodes[index].items() if v}

    def episodes(self) -> list[torch.Tensor]:
        """Latent trajectories [T_i, D] of every remembered episode (for the critic)."""
        return [torch.stack(e["state"]) for e in self._episodes if e["state"]]

    def decisions(self) -> dict[str, torch.Tensor]:
        """All remembered (state, goal, action) triples, concatenated over episodes."""
        steps = [self.episode(i) for i in range(len(self._episodes)) if self._episodes[i]["state"]]
        return {k: torch.cat([s[k] for s in steps]) for k in ("state", "goal", "action")}

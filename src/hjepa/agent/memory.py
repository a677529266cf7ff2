"""Short-term memory: what happened in the agent's recent episodes.

Per step: the latent state, the goal latent, the action Mode-2 chose, the action executed (they
differ while a DAgger student acts), the world model's prediction of the next state for the
executed action, the cost the actor predicted for its plan and the cost realized at the state
reached. It feeds the critic (`episodes()`, latent trajectories to retrain the cost-to-go on the
agent's own experience), Mode-1 distillation (`decisions()`, the (state, goal, action) triples
Mode-2 produced), the world model's correction (`surprises()`, this episode's prediction
errors) and the revisiting cost (`visited()`, this episode's states). Oldest episodes are
dropped past `capacity` steps.
"""

from collections import deque

import torch

FIELDS = (
    "state",
    "goal",
    "action",
    "executed",
    "predicted_next",
    "predicted_cost",
    "realized_cost",
)


class ShortTermMemory:
    def __init__(self, capacity: int = 100_000):
        self.capacity = int(capacity)
        self._episodes: deque[dict[str, list]] = deque()
        self._size = 0
        self._surprises = self._visited = None  # surprises(), visited() until the next step

    def start_episode(self) -> None:
        self._episodes.append({name: [] for name in FIELDS})
        self._surprises = self._visited = None

    def record(
        self,
        state,
        goal,
        action,
        predicted_cost: float,
        realized_cost: float,
        executed=None,
        predicted_next=None,
    ) -> None:
        """One step: state/goal latents [D], Mode-2's action [A], the plan's and the realized
        cost; `executed` [A] (default: `action`) and the world model's `predicted_next` state
        [D] for it (default: no prediction error is remembered for this step)."""
        if not self._episodes:
            self.start_episode()
        executed = action if executed is None else executed
        if predicted_next is None:  # NaN: no prediction error to remember for this step
            predicted_next = torch.full_like(torch.as_tensor(state), float("nan"))
        values = (state, goal, action, executed, predicted_next, predicted_cost, realized_cost)
        for name, value in zip(FIELDS, values, strict=True):
            self._episodes[-1][name].append(torch.as_tensor(value, dtype=torch.float32))
        self._size += 1
        self._surprises = self._visited = None
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

    def visited(self) -> torch.Tensor:
        """The current episode's states [T, D] (for the revisiting cost)."""
        if self._visited is None:
            steps = self._episodes[-1]["state"] if self._episodes else []
            self._visited = torch.stack(steps) if steps else torch.empty(0, 0)
        return self._visited

    def surprises(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The current episode's steps whose outcome is known and was predicted: states [N, D],
        executed actions [N, A] and prediction errors (realized - predicted next state) [N, D]."""
        if self._surprises is None:
            self._surprises = self._current_surprises()
        return self._surprises

    def _current_surprises(self):
        steps = self._episodes[-1] if self._episodes else {"state": []}
        if len(steps["state"]) < 2:
            return torch.empty(0, 0), torch.empty(0, 0), torch.empty(0, 0)
        states = torch.stack(steps["state"])
        errors = states[1:] - torch.stack(steps["predicted_next"][:-1])
        known = ~errors.isnan().any(-1)
        executed = torch.stack(steps["executed"][:-1])
        return states[:-1][known], executed[known], errors[known]

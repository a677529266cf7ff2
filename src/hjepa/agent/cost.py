"""The cost module: what the agent minimizes, C = intrinsic cost + critic.

    intrinsic  = w_e · Σ_t |ŝ_t - g|²  (or only t = H: `energy="last"`)   energy to the goal latent
               + w_a · Σ_t |a_t|²                                          action size
               + w_v · Σ_m exp(-|ŝ_H - s_m|² / 2σ²)                         revisiting
    critic     = w_c · Σ_t d(ŝ_t, g)   (or only t = H)                    learned cost-to-go

The revisiting term counts, with a Gaussian kernel, the states s_m of the current episode (from
the short-term memory) near the state a plan ends in. A learned critic has local minima (a spot
by a wall that it rates closer to the goal than every move away from it); an agent held there
piles up visits until moving on costs less, so it cannot stay stuck. Each term can be switched
off with a zero weight (or no critic). `Imagination` turns a world model and a cost module into
the `PlanningModel` the planners optimize: it rolls candidate action sequences out in latent
space and scores them.
"""

import torch
from torch import nn

from hjepa.agent.correction import ExperienceCorrection, gaussian_kernel
from hjepa.agent.memory import ShortTermMemory
from hjepa.errors import ConfigError, ShapeError

MODES = ("sum", "last")


class CostModule(nn.Module):
    def __init__(
        self,
        energy_weight: float = 1.0,
        energy: str = "sum",
        action_weight: float = 0.0,
        critic: nn.Module | None = None,
        critic_weight: float = 1.0,
        critic_mode: str = "sum",
        visit_weight: float = 0.0,
        visit_radius: float = 1.0,
        memory: ShortTermMemory | None = None,
    ):
        super().__init__()
        for name, mode in (("energy", energy), ("critic_mode", critic_mode)):
            if mode not in MODES:
                raise ConfigError(f"cost {name} must be one of {MODES}, got {mode!r}")
        if visit_weight and (memory is None or not visit_radius > 0):
            raise ConfigError("the revisiting cost needs the agent's memory and a radius > 0")
        self.visit_weight, self.visit_radius = float(visit_weight), float(visit_radius)
        self.memory = memory
        self.energy_weight, self.energy = float(energy_weight), energy
        self.action_weight = float(action_weight)
        self.critic, self.critic_weight, self.critic_mode = (
            critic,
            float(critic_weight),
            critic_mode,
        )

    def forward(self, states: torch.Tensor, goal: torch.Tensor, actions: torch.Tensor):
        """Cost [B, N] of predicted states [B, N, H, D] reaching goal latents [B, D]."""
        if goal.shape[-1] != states.shape[-1]:
            raise ShapeError(
                f"cost: goal latents {tuple(goal.shape)} and predicted states "
                f"{tuple(states.shape)} differ in size"
            )
        g = goal[:, None, None]
        cost = states.new_zeros(states.shape[:2])
        if self.energy_weight:
            energy = (states - g).pow(2).sum(-1)
            cost = cost + self.energy_weight * _reduce(energy, self.energy)
        if self.critic is not None and self.critic_weight:
            reached = states if self.critic_mode == "sum" else states[..., -1:, :]
            togo = self.critic(reached, g)
            cost = cost + self.critic_weight * _reduce(togo, self.critic_mode)
        if self.action_weight:
            cost = cost + self.action_weight * actions.pow(2).sum((-1, -2))
        if self.visit_weight:
            cost = cost + self.visit_weight * self.revisits(states[:, :, -1])
        return cost

    def revisits(self, reached: torch.Tensor) -> torch.Tensor:
        """Kernel count [B, N] of this episode's states near the states reached [B, N, D]."""
        seen = self.memory.visited().to(reached.device)
        if len(seen) == 0:
            return reached.new_zeros(reached.shape[:-1])
        flat = reached.reshape(-1, reached.shape[-1])
        return gaussian_kernel(flat, seen, self.visit_radius).sum(-1).reshape(reached.shape[:-1])

    def state_cost(self, state: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        """Cost [B] of being at latent states [B, D] (no action), e.g. the realized cost."""
        no_action = state.new_zeros(state.shape[0], 1, 1, 1)
        return self.forward(state[:, None, None], goal, no_action)[:, 0]


def _reduce(per_step: torch.Tensor, mode: str) -> torch.Tensor:
    return per_step.sum(-1) if mode == "sum" else per_step[..., -1]


class Imagination:
    """World model + cost module as a `PlanningModel`: cost(s0 [B, D], g [B, E], a [B, N, H, A])
    (the goal in the cost module's space: the state's, or a level above's for a subgoal).

    Candidates live in the box [-max_action, max_action]^A the planners search. An env that
    scales longer displacements down to norm `max_norm` (the arenas) is imagined the same way:
    each candidate action is projected onto that ball before the world model sees it, so the
    planner never credits a move the env will not make. With a `correction`, predictions are
    corrected by the prediction errors of this episode's moves (`correction.py`).
    """

    def __init__(
        self,
        world_model,
        cost: CostModule,
        max_action: float,
        max_norm=None,
        correction: ExperienceCorrection | None = None,
    ):
        self.world_model, self.cost_module = world_model, cost
        self.action_dim, self.max_action = world_model.action_dim, float(max_action)
        self.max_norm = None if max_norm is None else float(max_norm)
        self.correction = correction

    def executed(self, actions: torch.Tensor) -> torch.Tensor:
        """The actions [..., A] as the env executes them (projected onto the norm ball)."""
        if self.max_norm is None:
            return actions
        norms = actions.norm(dim=-1, keepdim=True)
        return actions * (self.max_norm / norms.clamp_min(self.max_norm))

    def cost(self, state: torch.Tensor, goal: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        if state.ndim != 2 or goal.ndim != 2 or goal.shape[0] != state.shape[0]:
            raise ShapeError(
                f"planning: expected state [B, D] and goal [B, E] latents, got "
                f"{tuple(state.shape)} and {tuple(goal.shape)}"
            )
        b, n, h, a = actions.shape
        starts = state[:, None].expand(b, n, -1).reshape(b * n, -1)
        moves = self.executed(actions.reshape(b * n, h, a))
        states = self.world_model.rollout(starts, moves)
        if self.correction is not None:
            states = states + self.correction.offset(starts, moves[:, 0])[:, None]
        return self.cost_module(states.reshape(b, n, h, -1), goal, actions)

"""Hierarchical planning: each level plans toward a target in the level above, top-down.

    level K (top)   plans macro-actions toward the goal's level-K state; its first predicted
                    state is the subgoal handed down
    level k         plans macro-actions whose predicted states, encoded up to level k+1, reach
                    the subgoal of level k+1 (latent matching in the level above)
    level 1         plans primitive actions through the world model the same way, toward the
                    subgoal of level 2

Level k >= 2 replans every `every` env steps (its own clock), level 1 as its receding horizon
says. Planners search macro-actions in the unit box; `MacroModel` maps them onto the range the
level saw in training (`hierarchy/macro.py`). With no level above 1 the actor is the flat one:
same plan, same random numbers.
"""

from dataclasses import dataclass

import torch
from torch import nn

from hjepa.agent.agent import Actor, imagined_steps
from hjepa.agent.cost import MODES, Imagination
from hjepa.errors import ConfigError
from hjepa.plan.mpc import RecedingHorizon


class MacroModel:
    """A level as the simulator a planner rolls out: macro-actions in [-1, 1]^m."""

    def __init__(self, level):
        self.level, self.action_dim = level, level.macro_dim

    def rollout(self, h0: torch.Tensor, unit_macros: torch.Tensor) -> torch.Tensor:
        return self.level.rollout(h0, self.level.macro.from_unit(unit_macros))


class TargetCost(nn.Module):
    """Cost [B, N] of predicted states [B, N, H, D] reaching a target [B, E] in the space of
    `lift` (the level above's encoder; the identity for the top level's own goal):
    w_e · squared distance + w_c · a learned distance (a critic on that space), summed over the
    horizon or taken at its last step."""

    def __init__(self, lift, mode="sum", energy_weight=1.0, critic=None, critic_weight=0.0):
        super().__init__()
        if mode not in MODES:
            raise ConfigError(f"level cost energy must be one of {MODES}, got {mode!r}")
        self.lift, self.mode, self.energy_weight = lift, mode, float(energy_weight)
        self.critic, self.critic_weight = critic, float(critic_weight)

    def forward(self, states, target, actions):
        reached = self.lift(states if self.mode == "sum" else states[..., -1:, :])
        goal = target[:, None, None]
        cost = reached.new_zeros(reached.shape[:2])
        if self.energy_weight:
            cost = cost + self.energy_weight * (reached - goal).pow(2).sum(-1).sum(-1)
        if self.critic is not None and self.critic_weight:
            togo = self.critic(reached, goal)
            cost = cost + self.critic_weight * togo.sum(-1)
        return cost


@dataclass
class UpperLevel:
    """One level >= 2 while acting: its planner loop, its imagination and its clock. Anything
    with `reset()` and `target_below(...)` can stand in for it (an oracle, a scripted level)."""

    index: int  # k
    mpc: RecedingHorizon
    imagination: Imagination
    every: int  # env steps between replans
    landmarks: torch.Tensor | None = None  # [M, D_k] states subgoals snap to (None: no snap)
    subgoal: torch.Tensor | None = None
    steps: int = 0

    def reset(self) -> None:
        self.mpc.reset()
        self.subgoal, self.steps = None, 0

    def target_below(self, hierarchy, state: torch.Tensor, target: torch.Tensor):
        """(subgoal [B, D_k] for the level below, predictor steps imagined for it): on this
        level's clock, plan toward `target` (level k + 1's space, or the goal's at the top)
        from the level-1 `state` lifted here, and keep the first predicted state (or the
        landmark nearest to it)."""
        imagined = 0
        if self.subgoal is None or self.steps % self.every == 0:
            here = hierarchy.lift(state, 1, self.index)
            first = self.mpc.act(self.imagination, here, target)
            self.subgoal = self.imagination.world_model.rollout(here, first[:, None])[:, 0]
            if self.landmarks is not None:
                self.subgoal = self.landmarks[torch.cdist(self.subgoal, self.landmarks).argmin(1)]
            imagined = imagined_steps(self.mpc)
        self.steps += 1
        return self.subgoal, imagined


class HierarchicalActor(Actor):
    """Mode-2 through a stack of levels (`uppers`, bottom first: levels 2..K)."""

    def __init__(self, hierarchy, imagination: Imagination, mpc: RecedingHorizon, uppers):
        super().__init__(imagination, mpc)
        self.hierarchy, self.uppers = hierarchy, list(uppers)

    def reset(self, goal: torch.Tensor) -> None:
        super().reset(goal)
        for upper in self.uppers:
            upper.reset()

    def subgoals(self) -> list[torch.Tensor | None]:
        """The current subgoal of every level >= 2 (bottom first), in that level's space."""
        return [upper.subgoal for upper in self.uppers]

    def plan(self, state: torch.Tensor, goal: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Top-down: each level hands its subgoal to the level below; level 1 plans toward
        level 2's. Returns the action and the predictor steps imagined, all levels together."""
        imagined = 0
        with torch.no_grad():
            target = self.hierarchy.lift(goal, 1, len(self.uppers) + 1)
            for upper in reversed(self.uppers):
                target, steps = upper.target_below(self.hierarchy, state, target)
                imagined += steps
        action, bottom = super().plan(state, target)
        return action, imagined + bottom

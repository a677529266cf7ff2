"""The world model corrected by what this episode showed (short-term memory).

A world model is least precise where a planner needs it most: at walls and doorways, where a move
predicted to pass is blocked. A planner that believes such a prediction pushes into the wall
forever, since nothing it sees changes its mind. The agent's memory keeps, for every step of the
current episode, the state, the executed action and that step's prediction error (realized next
latent minus predicted). A candidate move (s, a) gets the errors of remembered moves like it
added to its predicted next state, weighted by a Gaussian kernel on state and action:

    ŝ' = pred(s, a) + Σ_m w_m e_m / max(1, Σ_m w_m)
    w_m = exp(-|s - s_m|² / 2σ_s² - |a - a_m|² / 2σ_a²)

A move just tried is predicted as it turned out; moves unlike any remembered one keep the world
model's prediction. The first step's correction is carried through the rest of a rollout, so any
predictor works (the world model is not re-run from the corrected state).
"""

import torch

from hjepa.agent.memory import ShortTermMemory
from hjepa.errors import ConfigError


class ExperienceCorrection:
    def __init__(self, memory: ShortTermMemory, state_radius: float, action_radius: float):
        if not (state_radius > 0 and action_radius > 0):
            raise ConfigError(
                f"correction radii must be > 0, got state {state_radius}, action {action_radius}"
            )
        self.memory = memory
        self.state_radius, self.action_radius = float(state_radius), float(action_radius)

    def offset(self, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Corrections [N, D] of the next states predicted from states [N, D] under executed
        actions [N, A] (zeros when the episode has no remembered prediction error yet)."""
        seen, tried, errors = self.memory.surprises()
        if len(seen) == 0:
            return torch.zeros_like(states)
        seen, tried, errors = (x.to(states.device) for x in (seen, tried, errors))
        w = gaussian_kernel(states, seen, self.state_radius)
        w = w * gaussian_kernel(actions, tried, self.action_radius)
        return (w @ errors) / w.sum(-1, keepdim=True).clamp_min(1.0)


def gaussian_kernel(x: torch.Tensor, y: torch.Tensor, radius: float) -> torch.Tensor:
    """exp(-|x_i - y_j|² / 2 radius²) [N, M] for rows x [N, D] and y [M, D]."""
    return (-torch.cdist(x, y).pow(2) / (2 * radius**2)).exp()

"""Mode-1: a reactive policy a = pi(s, g) that acts without planning, distilled from Mode-2.

The network sees the state latent and the goal latent and outputs max_action * tanh(.), so its
actions are always inside the bounds. `distill` regresses it onto the first actions of Mode-2
plans (state, goal, action triples from the agent's memory); the configurator alternates it with
DAgger rounds, where the policy acts and Mode-2 labels the states it visits.

It acts with Gaussian noise of std `noise` added before the tanh (so actions stay inside the
bounds; near zero, the action's std is about noise x max_action): a reactive policy remembers
nothing, so a deterministic one that pushes into a wall corner next to a door pushes there
forever (Mode-2 gets out because its short-term memory corrects its world model); the noise gets
it out.
"""

from collections.abc import Callable

import torch
from torch import nn
from tqdm.auto import tqdm

from hjepa.errors import ConfigError, ShapeError
from hjepa.nets.mlp import MLP
from hjepa.runtime import seeded

NOISE_BLOCK = 1024  # acting-noise draws made at a time


class ReactivePolicy(nn.Module):
    def __init__(
        self,
        state_dim: int,
        action_dim: int,
        max_action: float,
        hidden: int = 512,
        activation: str = "relu",
        noise: float = 0.0,
        seed: int = 0,
    ):
        super().__init__()
        if not noise >= 0:
            raise ConfigError(f"policy noise must be >= 0, got {noise}")
        self.state_dim, self.action_dim, self.max_action = state_dim, action_dim, float(max_action)
        self.noise = float(noise)
        self.generator = torch.Generator().manual_seed(seed)
        # one wide hidden layer, no normalization: few ops, so a decision takes tens of µs
        # (ReLU: ~3 µs on 512 values on 2 CPU cores, exact GELU ~25 µs)
        with seeded(seed):  # the same initial weights in every process
            self.net = MLP(2 * state_dim, hidden, action_dim, depth=2, norm=False, act=activation)

    def forward(self, state: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        """Actions [B, A] for state and goal latents [B, D]."""
        if state.shape[-1] != self.state_dim or goal.shape != state.shape:
            raise ShapeError(
                f"policy: expected state and goal latents [B, {self.state_dim}], got "
                f"{tuple(state.shape)} and {tuple(goal.shape)}"
            )
        return self.max_action * torch.tanh(self.net(torch.cat([state, goal - state], dim=-1)))

    @torch.no_grad()
    def for_goal(self, goal: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """The same policy with a goal latent [1, D] folded in: state [B, D] -> actions [B, A].

        The first layer W [s, g - s] + b = (W_s - W_g) s + (W_g g + b): its goal share is
        computed once per goal, so a decision is two small matrix products (the acting path).
        The acting noise is drawn ahead, NOISE_BLOCK decisions at a time, into the output
        layer's bias; one draw per call, shared by the rows of a batch.
        """
        if goal.shape != (1, self.state_dim):
            raise ShapeError(
                f"policy: expected a goal latent [1, {self.state_dim}], got {tuple(goal.shape)}"
            )
        first, activation, last = self.net.net
        w_state, w_goal = first.weight.split(self.state_dim, dim=1)
        weight, bias = (w_state - w_goal).T.contiguous(), goal @ w_goal.T + first.bias
        w_out = last.weight.T.contiguous()
        biases = self._noisy_biases(last.bias)
        step = 0

        def act(state: torch.Tensor) -> torch.Tensor:
            nonlocal biases, step
            if step == len(biases):
                biases, step = self._noisy_biases(last.bias), 0
            hidden = activation(torch.addmm(bias, state, weight))
            out = torch.addmm(biases[step], hidden, w_out)
            step += 1
            return self.max_action * torch.tanh(out)

        return act

    def _noisy_biases(self, bias: torch.Tensor) -> torch.Tensor:
        """The output bias [A] plus the acting noise of the next NOISE_BLOCK decisions."""
        noise = torch.randn(NOISE_BLOCK, self.action_dim, generator=self.generator)
        return bias.detach() + self.noise * noise


def distill(
    policy: ReactivePolicy,
    decisions: dict[str, torch.Tensor],
    steps: int = 3000,
    batch: int = 512,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> float:
    """Fit the policy to Mode-2's actions; returns the final mean squared error."""
    states, goals, actions = decisions["state"], decisions["goal"], decisions["action"]
    if len(states) == 0:
        raise ConfigError("distillation needs Mode-2 decisions; the memory is empty")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(policy.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    policy.train().requires_grad_(True)
    bar = tqdm(range(steps), desc="mode-1", disable=not progress, leave=False)
    loss = torch.tensor(0.0)
    for _ in bar:
        idx = torch.randint(len(states), (min(batch, len(states)),), generator=gen)
        loss = (policy(states[idx], goals[idx]) - actions[idx]).pow(2).sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        bar.set_postfix(mse=f"{loss.item():.4f}")
    policy.eval().requires_grad_(False)
    return loss.item()

"""The trainable critic: a learned distance-to-go between latent states, d(s, g) >= 0, in steps.

    d(s, g) = |f(s) - f(g)|_2,  f: an MLP on latents

Trained without labels from trajectories (quasimetric-style, after QRL): every recorded step
must stay within one unit, d(s_t, s_t+1) <= 1 (a squared hinge), while pairs of states from the
same group of episodes are pushed apart, up to a cap, with a saturating penalty
softplus(cap - d). The largest distances consistent with "one step costs at most 1" are the
shortest-path step counts, so d learns how many steps separate two states, walls included,
which the latent L2 distance does not know. A group is a set of episodes that share one layout
(by default each episode is its own group), so that pairs never mix layouts drawn per episode;
pairs from many walks through one layout teach the most, as they meet on both sides of every
wall.

Or trained by regression on those step counts themselves, computed as shortest paths through
the episodes stitched into a graph (`train_critic_stitched`, `agent/stitch.py`): on the
long-horizon maze the hinge and push-apart left local minima behind walls that the regression
does not. Used as the cost-to-go past the planning horizon (`CostModule`).
"""

import torch
from torch import nn
from tqdm.auto import tqdm

from hjepa.agent.stitch import StitchedDistances, stitched_loss
from hjepa.errors import ConfigError, ShapeError
from hjepa.jepa.losses import embedding_distance, step_distance_loss
from hjepa.nets.mlp import MLP
from hjepa.runtime import seeded


class DistanceCritic(nn.Module):
    def __init__(
        self, state_dim: int, hidden: int = 256, embed_dim: int = 64, depth: int = 3, seed: int = 0
    ):
        super().__init__()
        self.state_dim = state_dim
        with seeded(seed):  # the same initial weights in every process
            self.net = MLP(state_dim, hidden, embed_dim, depth=depth)

    def embed(self, s: torch.Tensor) -> torch.Tensor:
        if s.shape[-1] != self.state_dim:
            raise ShapeError(
                f"critic: expected latents [..., {self.state_dim}], got {tuple(s.shape)}"
            )
        return self.net(s)

    def forward(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Distances [...] between latents s [..., D] and goals g [..., D] (broadcast)."""
        return embedding_distance(self.embed(s), self.embed(g))


class EpisodePairs:
    """Samples (s_t, s_t+1) pairs within episodes of latents (each [T_i, D]) and (s_t, s')
    pairs with s' uniform over the episodes of s_t's group (`groups[i]`: episode i's group;
    default: one group per episode), or, for a `same_episode` share of the pairs, uniform over
    s_t's own episode (many short-range pairs: a finer distance nearby)."""

    def __init__(
        self,
        episodes: list[torch.Tensor],
        groups: list | None = None,
        seed: int = 0,
        same_episode: float = 0.0,
    ):
        if not 0.0 <= same_episode < 1.0:
            raise ConfigError(f"same_episode must be in [0, 1), got {same_episode}")
        self.same_episode = float(same_episode)
        groups = list(range(len(episodes))) if groups is None else list(groups)
        ids = {key: i for i, key in enumerate(dict.fromkeys(groups))}  # any hashable -> int
        groups = [ids[key] for key in groups]
        if len(groups) != len(episodes):
            raise ConfigError(f"{len(groups)} group ids for {len(episodes)} episodes")
        kept = sorted(
            (g, i) for i, (g, e) in enumerate(zip(groups, episodes, strict=True)) if len(e) >= 2
        )
        if not kept:
            raise ConfigError("critic training needs at least one episode of 2 or more states")
        self.states = torch.cat([episodes[i] for _, i in kept])  # each group's episodes adjacent
        lengths = torch.tensor([len(episodes[i]) for _, i in kept])
        self.starts, self.lengths = torch.cumsum(lengths, 0) - lengths, lengths
        ids = torch.tensor([g for g, _ in kept])
        first = torch.cat([torch.ones(1, dtype=torch.bool), ids[1:] != ids[:-1]])
        group_index = torch.cumsum(first.long(), 0) - 1
        group_start = self.starts[first]
        group_len = torch.zeros(int(group_index[-1]) + 1, dtype=torch.long).index_add_(
            0, group_index, lengths
        )
        self.group_start, self.group_len = group_start[group_index], group_len[group_index]
        self.generator = torch.Generator().manual_seed(seed)

    def sample(self, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(anchors, next states, same-group random states), each [batch, D]."""
        g = self.generator
        ep = torch.multinomial(self.lengths.float() - 1, batch, replacement=True, generator=g)
        t = self.starts[ep] + (torch.rand(batch, generator=g) * (self.lengths[ep] - 1)).long()
        other = self.group_start[ep] + (torch.rand(batch, generator=g) * self.group_len[ep]).long()
        if self.same_episode > 0:
            own = self.starts[ep] + (torch.rand(batch, generator=g) * self.lengths[ep]).long()
            other = torch.where(torch.rand(batch, generator=g) < self.same_episode, own, other)
        return self.states[t], self.states[t + 1], self.states[other]


def critic_loss(critic, anchors, nexts, others, cap: float, local_weight: float):
    """(loss, metrics): one-step hinge + saturating push-apart of same-group pairs."""
    embedded = (critic.embed(x) for x in (anchors, nexts, others))
    loss, metrics = step_distance_loss(*embedded, cap, local_weight)
    return loss, {k: v.item() for k, v in metrics.items()}


def train_critic(
    critic: DistanceCritic,
    episodes: list[torch.Tensor],
    groups: list | None = None,
    steps: int = 3000,
    batch: int = 1024,
    lr: float = 1e-3,
    cap: float | None = None,
    local_weight: float = 100.0,
    seed: int = 0,
    progress: bool = True,
    same_episode: float = 0.0,
) -> dict:
    """Fit the critic on episodes of latents (each [T_i, D]); returns the final metrics.

    `groups`: a group id per episode, equal for episodes that share a layout (default: one
    group each). `cap` (default: the longest episode) bounds the distances pushed apart.
    `same_episode`: the share of pushed-apart pairs drawn within one episode (`EpisodePairs`).
    """
    pairs = EpisodePairs(episodes, groups, seed, same_episode)
    cap = float(cap or pairs.lengths.max())
    return _fit(
        critic,
        lambda: critic_loss(critic, *pairs.sample(batch), cap, local_weight),
        steps,
        lr,
        progress,
    )


def train_critic_stitched(
    critic: DistanceCritic,
    stitched: StitchedDistances,
    steps: int = 3000,
    batch: int = 1024,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    slope_weight: float = 1.0,
) -> dict:
    """Fit the critic by regression on stitched step counts and their slopes (`agent.stitch`,
    `stitched_loss`); final metrics."""
    generator = torch.Generator().manual_seed(seed)

    def loss():
        sample = stitched.sample(batch, generator)
        value, metrics = stitched_loss(critic, *sample, slope_weight)
        return value, {k: v.item() for k, v in metrics.items()}

    return _fit(critic, loss, steps, lr, progress)


def _fit(critic: DistanceCritic, loss_and_metrics, steps: int, lr: float, progress: bool) -> dict:
    """`steps` AdamW steps (cosine schedule) on `loss_and_metrics()`; the last metrics."""
    if int(steps) < 1:
        raise ConfigError(f"critic steps must be >= 1, got {steps}")
    opt = torch.optim.AdamW(critic.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    critic.train()
    bar = tqdm(range(steps), desc="critic", disable=not progress, leave=False)
    metrics = {}
    for _ in bar:
        loss, metrics = loss_and_metrics()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        bar.set_postfix({k: f"{v:.3g}" for k, v in metrics.items()})
    critic.eval().requires_grad_(False)
    return metrics

"""Distances stitched through the store: shortest paths on a graph of stored latents.

A learned distance must know how far apart two states are although no recorded episode passes
through both. The store answers it once its episodes are stitched together where they meet:

- nodes: every `stride`-th latent of the critic's episodes;
- edges: the recorded steps between consecutive nodes (`stride` steps each), and links between
  nodes of one group (one layout) whose latents lie within `radius` node steps of each other
  (`radius` x `stride` times the median latent length of a recorded step), each weighing its
  latent length in steps (at least half a step);
- Dijkstra's shortest paths (scipy) from `sources` nodes drawn at random give the steps from
  each of them to every node of its group (`cap` where the graph does not connect them).

A planner shows the critic imagined states, not encoded ones; where the world model errs (a
move into a wall predicted partly through it), a critic fit to encoded states alone read those
errors as progress. So each node may come with its latent as the world model predicted it from
a few recorded steps earlier, and half the regression's states are those, labelled with the
steps of the state that really followed.

The critic then regresses on these step counts (`train_critic(..., stitched=...)`): a target
for every pair, walls included, where the one-step hinge and push-apart only bound them
(graph search on the replay buffer, after SoRB, distilled into the critic).

A critic right on average can still be wrong in its slope. Beside a door the true distance has
a kink (the way round the door's edge); a smooth fit rounds it off, and the rounded surface
holds a local minimum against the wall next to the door, where a planner stops for good. So
the regression also matches slopes (`slope_weight`, Sobolev-style): for each state, the change
of its distance to the goal from that state to its episode's next node, against the change of
the stitched steps.
"""

from dataclasses import dataclass, replace

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from hjepa.errors import ConfigError

CHUNK = 4096  # nodes per block of the neighbour search
PREDICTED_SHARE = 0.5  # of the regression's states, when nodes come with predictions
NEAR_WEIGHT = 4.0  # steps added to a target in the regression's weight: near pairs count more


@dataclass
class StitchedDistances:
    nodes: torch.Tensor  # [N, D] latents, each group's nodes adjacent
    sources: torch.Tensor  # [M] node indices
    steps: torch.Tensor  # [M, N] shortest-path steps from each source (cap: not connected)
    group_start: torch.Tensor  # [N] first node of each node's group
    group_len: torch.Tensor  # [N] nodes in each node's group
    predicted: torch.Tensor  # [N, D] each node as the world model predicted it (or the node)
    beside: torch.Tensor  # [N] each node's episode neighbour: the next node (the last: the one
    # before)

    def lifted(self, lift) -> "StitchedDistances":
        """The same distances between the nodes mapped by `lift` (latents -> a level's states)."""
        with torch.no_grad():
            nodes, predicted = (
                torch.cat([lift(part) for part in x.split(CHUNK)])
                for x in (self.nodes, self.predicted)
            )
        return replace(self, nodes=nodes, predicted=predicted)

    def sample(self, batch: int, generator: torch.Generator):
        """(states, goals, steps between them, the states' episode neighbours, their steps to
        the goals), each [batch, ...]: a random source as the goal and a node of its group as
        the state, for half the batch (state and neighbour) as the world model predicted it."""
        m = torch.randint(len(self.sources), (batch,), generator=generator)
        goal = self.sources[m]
        offset = (torch.rand(batch, generator=generator) * self.group_len[goal]).long()
        node = self.group_start[goal] + offset
        imagined = torch.rand(batch, generator=generator) < PREDICTED_SHARE
        other = self.beside[node]
        states = torch.where(imagined[:, None], self.predicted[node], self.nodes[node])
        besides = torch.where(imagined[:, None], self.predicted[other], self.nodes[other])
        return states, self.nodes[goal], self.steps[m, node], besides, self.steps[m, other]


def stitched_loss(
    critic, states, goals, steps, besides, beside_steps, slope_weight: float = 1.0
) -> tuple[torch.Tensor, dict]:
    """Squared error of the critic's distances against the stitched step counts, relative to
    the count (+ NEAR_WEIGHT), so that a step's error near the goal weighs more than far away;
    plus `slope_weight` x the squared error of the change in distance from each state to its
    episode neighbour (`besides`) against the change in steps."""
    d = critic(states, goals)
    loss = ((d - steps).pow(2) / (steps + NEAR_WEIGHT)).mean()
    metrics = {"stitched_error": (d - steps).abs().mean().detach()}
    if slope_weight:
        slope = critic(besides, goals) - d
        slope_error = (slope - (beside_steps - steps)).pow(2).mean()
        loss = loss + slope_weight * slope_error
        metrics["slope_error"] = slope_error.detach()
    return loss, metrics


def stitch(
    episodes: list[torch.Tensor],
    groups: list,
    stride: int,
    neighbours: int,
    radius: float,
    sources: int,
    cap: float,
    seed: int = 0,
    predicted: list[torch.Tensor] | None = None,
) -> StitchedDistances:
    """The stitched distances of `episodes` (latents [T_i, D]; `groups[i]`: episode i's layout
    group, pairs only within one; `predicted[i]`: episode i's latents as the world model
    predicted them) as the module doc describes."""
    if len(groups) != len(episodes):
        raise ConfigError(f"{len(groups)} group ids for {len(episodes)} episodes")
    if predicted is not None and [p.shape for p in predicted] != [e.shape for e in episodes]:
        raise ConfigError("stitching: the predicted latents must match the episodes' shapes")
    predicted = episodes if predicted is None else predicted
    order = sorted(range(len(episodes)), key=lambda i: str(groups[i]))
    kept = [i for i in order if len(episodes[i][::stride]) >= 2]
    if not kept:
        raise ConfigError(f"stitching needs an episode of more than {stride} steps")
    parts = [episodes[i][::stride] for i in kept]
    keys = [str(groups[i]) for i in kept]
    nodes = torch.cat(parts)
    imagined = torch.cat([predicted[i][::stride] for i in kept])
    lengths = np.array([len(p) for p in parts])
    first = np.cumsum(lengths) - lengths
    step_len = float(torch.cat([(p[1:] - p[:-1]).norm(dim=1) for p in parts]).median()) / stride
    edges = [_recorded_steps(first, lengths, stride)]
    group_start = np.zeros(len(nodes), np.int64)
    group_len = np.zeros(len(nodes), np.int64)
    for lo, hi in _group_ranges(keys, first, lengths):
        group_start[lo:hi], group_len[lo:hi] = lo, hi - lo
        edges.append(_links(nodes, lo, hi, neighbours, radius * stride * step_len, step_len))
    rows, cols, weights = (np.concatenate(e) for e in zip(*edges, strict=True))
    graph = coo_matrix((weights, (rows, cols)), shape=(len(nodes),) * 2).tocsr()
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(nodes), min(sources, len(nodes)), replace=False)
    steps = dijkstra(graph, directed=False, indices=drawn).astype(np.float32)
    steps[~np.isfinite(steps)] = cap
    beside = np.arange(len(nodes)) + 1  # the next node; the last of an episode: the one before
    beside[first + lengths - 1] = first + lengths - 2
    return StitchedDistances(
        nodes,
        torch.as_tensor(drawn),
        torch.as_tensor(np.minimum(steps, cap)),
        torch.as_tensor(group_start),
        torch.as_tensor(group_len),
        imagined,
        torch.as_tensor(beside),
    )


def _recorded_steps(first, lengths, stride: int):
    """(rows, cols, weights) of the edges between consecutive nodes of each episode."""
    starts = np.concatenate([np.arange(f, f + n - 1) for f, n in zip(first, lengths, strict=True)])
    return starts, starts + 1, np.full(len(starts), float(stride))


def _group_ranges(keys: list[str], first, lengths):
    """(first node, end) of each run of episodes with one group key (keys are sorted)."""
    ranges, lo = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[lo]:
            ranges.append((int(first[lo]), int(first[i - 1] + lengths[i - 1])))
            lo = i
    return ranges


def _links(nodes, lo: int, hi: int, neighbours: int, reach: float, step_len: float):
    """(rows, cols, weights) linking each node of nodes[lo:hi] to its `neighbours` nearest
    within the range that lie closer than `reach`, weighted by latent length in steps."""
    group = nodes[lo:hi]
    k = min(neighbours + 1, len(group))
    rows, cols, weights = [], [], []
    for a in range(0, len(group), CHUNK):
        d, j = torch.cdist(group[a : a + CHUNK], group).topk(k, largest=False)
        d, j = d[:, 1:].numpy(), j[:, 1:].numpy()
        near = d < reach
        here = np.broadcast_to(np.arange(a, a + len(d))[:, None], d.shape)
        rows.append(lo + here[near])
        cols.append(lo + j[near])
        weights.append(np.maximum(d[near] / max(step_len, 1e-12), 0.5))
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)

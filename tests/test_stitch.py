"""Stitched distances: shortest paths through a graph of stored latents, and the critic fit
to them; predicted latents; subgoals snapped to stored states."""

from collections import deque

import numpy as np
import pytest
import torch

from hjepa.agent.critic import DistanceCritic, train_critic_stitched
from hjepa.agent.hierarchy import UpperLevel
from hjepa.agent.learning import predicted_latents
from hjepa.agent.stitch import stitch, stitched_loss
from hjepa.errors import ConfigError

# a 7 x 7 grid with a wall at x = 3 open only at y = 6: neighbours left and right of the wall
# are 1 apart in the plane but many steps apart on foot
SIZE, WALL_X, DOOR_Y = 7, 3, 6
MOVES = [(1, 0), (-1, 0), (0, 1), (0, -1)]


def free(x: int, y: int) -> bool:
    inside = 0 <= x < SIZE and 0 <= y < SIZE
    return inside and (x != WALL_X or y == DOOR_Y)


def walks(count: int, steps: int, seed: int = 0) -> list[torch.Tensor]:
    """Random walks on the grid; the latent of a cell is its (x, y)."""
    rng = np.random.default_rng(seed)
    cells = [(x, y) for x in range(SIZE) for y in range(SIZE) if free(x, y)]
    episodes = []
    for _ in range(count):
        here = cells[rng.integers(len(cells))]
        path = [here]
        for _ in range(steps):
            dx, dy = MOVES[rng.integers(4)]
            if free(here[0] + dx, here[1] + dy):
                here = (here[0] + dx, here[1] + dy)
            path.append(here)
        episodes.append(torch.tensor(path, dtype=torch.float32))
    return episodes


def grid_steps(source: tuple[int, int]) -> dict:
    """Breadth-first step counts from `source` to every free cell (the reference)."""
    steps, queue = {source: 0}, deque([source])
    while queue:
        x, y = queue.popleft()
        for dx, dy in MOVES:
            cell = (x + dx, y + dy)
            if free(*cell) and cell not in steps:
                steps[cell] = steps[(x, y)] + 1
                queue.append(cell)
    return steps


def stitched_grid(**kwargs):
    settings = dict(stride=1, neighbours=8, radius=0.5, sources=40, cap=99.0, seed=0)
    episodes = walks(120, 30)
    return episodes, stitch(episodes, [0] * len(episodes), **{**settings, **kwargs})


def test_stitched_steps_follow_the_walls_not_the_plane():
    _, s = stitched_grid()
    errors = []
    for m, source in enumerate(s.sources.tolist()):
        reference = grid_steps(tuple(int(v) for v in s.nodes[source].tolist()))
        for node in range(0, len(s.nodes), 7):
            truth = reference[tuple(int(v) for v in s.nodes[node].tolist())]
            got = float(s.steps[m, node])
            assert got >= truth - 1e-4  # never shorter than the grid allows
            errors.append(got - truth)
    # links between episodes (same cell) cost half a step: a little above the truth on average
    assert np.mean(errors) < 3.0, np.mean(errors)
    # across the wall: (2, 0) and (4, 0) are 2 apart in the plane, 14 steps on foot
    left = int(torch.nonzero((s.nodes == torch.tensor([2.0, 0.0])).all(1))[0])
    right = (s.nodes == torch.tensor([4.0, 0.0])).all(1)
    sources = torch.nonzero(right[s.sources]).squeeze(1)
    assert len(sources), "no source at (4, 0): draw more sources"
    assert float(s.steps[sources[0], left]) >= 14


def test_groups_are_never_linked_and_unconnected_pairs_get_the_cap():
    episodes = walks(40, 20)
    groups = [i % 2 for i in range(len(episodes))]
    s = stitch(episodes, groups, 1, 8, 0.5, 20, cap=99.0)
    for m, source in enumerate(s.sources.tolist()):
        lo, n = int(s.group_start[source]), int(s.group_len[source])
        inside = torch.zeros(len(s.nodes), dtype=torch.bool)
        inside[lo : lo + n] = True
        assert (s.steps[m, ~inside] == 99.0).all()
        assert (s.steps[m, inside] < 99.0).all()
    states, goals, steps, _, _ = s.sample(256, torch.Generator().manual_seed(0))
    assert states.shape == goals.shape == (256, 2) and (steps < 99.0).all()  # one group a pair


def test_each_node_sits_beside_its_episode_neighbour():
    episodes = walks(6, 9) + walks(3, 4, seed=1)  # 5 and 3 nodes an episode at stride 2
    s = stitch(episodes, [0] * 9, 2, 4, 0.5, 8, 99.0)
    ends = np.cumsum([5] * 6 + [3] * 3) - 1
    expected = np.arange(len(s.nodes)) + 1
    expected[ends] = ends - 1
    assert s.beside.tolist() == expected.tolist()
    # a neighbour is one node (2 recorded steps) away: on foot, and in stitched steps
    assert ((s.nodes - s.nodes[s.beside]).abs().sum(1) <= 2).all()
    _, _, steps, _, beside_steps = s.sample(512, torch.Generator().manual_seed(0))
    assert ((beside_steps - steps).abs() <= 2).all()


def l1_critic(s, g):
    """Distances as L1 steps on the grid (latent = cell)."""
    return (s - g).abs().sum(-1)


def test_the_slope_term_counts_slope_errors_and_not_offsets():
    states, goals = torch.tensor([[0.0, 0.0], [2.0, 1.0]]), torch.tensor([[3.0, 0.0], [0.0, 0.0]])
    besides = torch.tensor([[1.0, 0.0], [2.0, 2.0]])  # one step nearer, one step further
    steps, beside_steps = torch.tensor([3.0, 3.0]), torch.tensor([2.0, 4.0])
    loss, metrics = stitched_loss(l1_critic, states, goals, steps, besides, beside_steps)
    assert float(loss) == 0.0 and float(metrics["slope_error"]) == 0.0
    offset, metrics = stitched_loss(l1_critic, states, goals, steps + 5, besides, beside_steps + 5)
    assert float(metrics["slope_error"]) == 0.0 and float(offset) > 0.0  # values wrong only
    flipped = beside_steps.flip(0)  # the changes -1, +1 read as +1, -1: off by 2 each
    _, metrics = stitched_loss(l1_critic, states, goals, steps, besides, flipped)
    assert float(metrics["slope_error"]) == pytest.approx(4.0)
    values_only, metrics = stitched_loss(l1_critic, states, goals, steps, besides, flipped, 0.0)
    assert float(values_only) == 0.0 and "slope_error" not in metrics


def test_bad_stitching_input_is_refused():
    episodes = walks(4, 5)
    with pytest.raises(ConfigError, match="group ids"):
        stitch(episodes, [0], 1, 4, 0.5, 4, 99.0)
    with pytest.raises(ConfigError, match="predicted latents"):
        stitch(episodes, [0] * 4, 1, 4, 0.5, 4, 99.0, predicted=[e[:-1] for e in episodes])
    with pytest.raises(ConfigError, match="more than 9 steps"):
        stitch(episodes, [0] * 4, 9, 4, 0.5, 4, 99.0)


def test_lifted_distances_keep_the_steps_and_map_both_kinds_of_state():
    episodes = walks(10, 12)
    predicted = [e + 0.25 for e in episodes]
    s = stitch(episodes, [0] * 10, 2, 4, 0.5, 8, 99.0, predicted=predicted)
    assert torch.equal(s.predicted, s.nodes + 0.25)
    lifted = s.lifted(lambda x: 2 * x)
    assert torch.equal(lifted.nodes, 2 * s.nodes) and torch.equal(lifted.predicted, 2 * s.predicted)
    assert lifted.steps is s.steps


def test_the_critic_fits_the_stitched_steps_and_their_slopes():
    _, s = stitched_grid()
    critic = DistanceCritic(2, hidden=64, embed_dim=16, seed=0)
    generator = torch.Generator().manual_seed(1)
    states, goals, steps, besides, beside_steps = s.sample(2048, generator)
    before = (critic(states, goals) - steps).abs().mean()
    train_critic_stitched(critic, s, steps=400, batch=256, lr=3e-3, progress=False)
    after = (critic(states, goals) - steps).abs().mean()
    assert after < 1.5 and after < 0.2 * before, (before, after)
    slope = critic(besides, goals) - critic(states, goals)
    assert (slope - (beside_steps - steps)).abs().mean() < 0.5


class ShiftModel:
    """A world model whose latent is the sum of the actions so far: rollouts are exact."""

    def rollout(self, s0, actions):
        return s0[:, None] + actions.cumsum(1)


def test_predicted_latents_of_an_exact_model_are_the_latents():
    actions = torch.randn(20, 2)
    latents = torch.cat([torch.zeros(1, 2), actions.cumsum(0)])
    generator = torch.Generator().manual_seed(0)
    predicted = predicted_latents(ShiftModel(), latents, actions, 4, generator)
    torch.testing.assert_close(predicted, latents)
    off = predicted_latents(ShiftModel(), latents, actions + 1.0, 1, generator)
    assert torch.equal(off[0], latents[0])  # the first latent has nothing before it
    torch.testing.assert_close(off[1:], latents[1:] + 1.0)  # one step of the wrong actions


class OneStepImagination:
    class world_model:  # noqa: N801
        @staticmethod
        def rollout(h0, macros):
            return (h0 + macros[:, 0])[:, None]


class FixedPlan:
    last_info = {"evaluations": 1}
    planner = type("Planner", (), {"horizon": 1})

    def act(self, imagination, here, target):
        return torch.full_like(here, 0.4)


def test_subgoals_snap_to_the_nearest_landmark():
    landmarks = torch.tensor([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]])
    hierarchy = type("Flat", (), {"lift": staticmethod(lambda s, a, b: s)})()
    upper = UpperLevel(2, FixedPlan(), OneStepImagination(), every=1, landmarks=landmarks)
    state = torch.tensor([[0.5, 0.5], [2.5, 2.0]])  # planned subgoals (0.9, 0.9), (2.9, 2.4)
    subgoal, _ = upper.target_below(hierarchy, state, torch.zeros(2, 2))
    assert torch.equal(subgoal, landmarks[[1, 2]])
    upper.landmarks = None
    subgoal, _ = upper.target_below(hierarchy, state, torch.zeros(2, 2))
    torch.testing.assert_close(subgoal, state + 0.4)

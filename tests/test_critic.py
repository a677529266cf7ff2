"""The learned distance-to-go on a toy chain, whose true distances are known."""

import pytest
import torch

from hjepa.agent.critic import DistanceCritic, EpisodePairs, train_critic
from hjepa.errors import ConfigError, ShapeError

CHAIN = 12


def chain_latents() -> torch.Tensor:
    """A fixed random 8-d code per node of a 12-node chain (the latent geometry hides the chain)."""
    return torch.randn(CHAIN, 8, generator=torch.Generator().manual_seed(0))


def random_walks(codes: torch.Tensor, episodes: int = 64, length: int = 40) -> list:
    gen = torch.Generator().manual_seed(1)
    walks = []
    for _ in range(episodes):
        node = int(torch.randint(CHAIN, (1,), generator=gen))
        path = [node]
        for _ in range(length - 1):
            node = min(max(node + int(torch.randint(3, (1,), generator=gen)) - 1, 0), CHAIN - 1)
            path.append(node)
        walks.append(codes[path])
    return walks


def chain_error(critic, codes) -> float:
    """Mean |d(i, j) - |i - j|| over all node pairs."""
    i, j = torch.meshgrid(torch.arange(CHAIN), torch.arange(CHAIN), indexing="ij")
    with torch.no_grad():
        d = critic(codes[i.flatten()], codes[j.flatten()])
    return float((d - (i - j).abs().flatten().float()).abs().mean())


def test_critic_learns_step_distances_on_a_chain():
    torch.manual_seed(0)
    codes = chain_latents()
    critic = DistanceCritic(8, hidden=64, embed_dim=16)
    before = chain_error(critic, codes)
    train_critic(
        critic, random_walks(codes), steps=1500, batch=256, lr=3e-3, cap=CHAIN, progress=False
    )
    after = chain_error(critic, codes)
    assert after < 0.5 < before, (before, after)
    with torch.no_grad():  # one step costs at most ~1, the ends are ~11 apart
        assert float(critic(codes[:-1], codes[1:]).max()) < 1.1
        assert float(critic(codes[:1], codes[-1:])) > 9.0


def test_pairs_stay_inside_episodes_and_groups():
    episodes = [torch.full((5, 1), float(i)) for i in range(4)]
    anchors, nexts, others = EpisodePairs(episodes).sample(500)
    assert torch.equal(anchors, nexts) and torch.equal(anchors, others)
    # episodes 0 and 2 share a layout (group 7), 1 and 3 another (group 1)
    anchors, nexts, others = EpisodePairs(episodes, groups=[7, 1, 7, 1]).sample(2000)
    assert torch.equal(anchors, nexts)
    assert set((anchors.flatten() % 2 == others.flatten() % 2).tolist()) == {True}
    assert (anchors != others).any()  # pairs do cross episodes within a group


@pytest.mark.parametrize("same_episode, own_share", [(0.0, 0.5), (0.6, 0.8)])
def test_a_share_of_the_pushed_apart_pairs_is_drawn_within_the_episode(same_episode, own_share):
    episodes = [torch.full((50, 1), float(i)) for i in range(2)]  # one group of two episodes
    anchors, _, others = EpisodePairs(episodes, [0, 0], 3, same_episode).sample(20000)
    # a pair stays in its episode with probability same_episode + (1 - same_episode) / 2
    assert float((anchors == others).float().mean()) == pytest.approx(own_share, abs=0.015)
    with pytest.raises(ConfigError, match="same_episode"):
        EpisodePairs(episodes, [0, 0], 3, same_episode=1.0)


def test_critic_bad_inputs():
    with pytest.raises(ConfigError, match="episode"):
        train_critic(DistanceCritic(3), [torch.zeros(1, 3)], progress=False)
    with pytest.raises(ShapeError, match="critic"):
        DistanceCritic(3)(torch.zeros(2, 4), torch.zeros(2, 4))

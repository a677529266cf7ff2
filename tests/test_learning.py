"""What the agent learns from: the critic's data grouped by layout; the cache of trained parts."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from hjepa.agent import learning
from hjepa.agent.cache import AgentCache
from hjepa.agent.config import AgentConfig
from hjepa.agent.critic import DistanceCritic, EpisodePairs
from hjepa.config import load_config
from hjepa.errors import CheckpointError, ConfigError

STATE_NAMES = ("x", "y", "door_y", "wall_x")  # layout columns in another order than the env's
# (wall_x, door_y) of each store episode: 0 and 2 share a layout, so do 1 and 4; 3 is alone
LAYOUTS = [(20, 30), (40, 10), (20, 30), (20, 10), (40, 10)]


class FakeStore:
    """Episodes whose observations all look alike (the same "wall channel"), while their
    states name different layouts: grouping by observation pixels would merge them all."""

    path = Path("fake-store")
    state_names = STATE_NAMES

    def __init__(self, length: int = 6):
        self.episode_lengths = np.full(len(LAYOUTS), length)

    def __len__(self) -> int:
        return len(LAYOUTS)

    def episode(self, episode: int) -> dict:
        length = int(self.episode_lengths[episode])
        obs = np.ones((length, 2, 4, 4), np.uint8)
        obs[:, 0, 0, 0], obs[:, 0, 0, 1] = episode, np.arange(length)  # what the fake encodes
        wall_x, door_y = LAYOUTS[episode]
        states = np.zeros((length, 4), np.float32)
        states[:, 0] = np.arange(length)
        states[:, 2], states[:, 3] = door_y, wall_x
        return {"obs": obs, "states": states}


class FakeEnv:
    def __init__(self, layout_names):
        self.attributes = {"state_names": STATE_NAMES, "layout_names": layout_names}

    def get_wrapper_attr(self, name):
        if name not in self.attributes:
            raise AttributeError(name)
        return self.attributes[name]


class PixelEncoder:
    """A world model whose latent is (episode id, step), read off the fake observations."""

    action_dim = 2

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        return obs[..., 0, 0, :2].float()


def fake_configurator(layout_names=("wall_x", "door_y"), env_id="fake/Env-v0", *overrides):
    world_cfg = SimpleNamespace(
        data=SimpleNamespace(held_out=0.0, policy="random_walk", env_kwargs={}),
        train=SimpleNamespace(seed=0),
    )
    return SimpleNamespace(
        cfg=load_config(None, list(overrides), root=AgentConfig),
        world_cfg=world_cfg,
        world_model=PixelEncoder(),
        env_id=env_id,
        progress=False,
        make_env=lambda: FakeEnv(layout_names),
    )


@pytest.fixture
def fake_store(monkeypatch):
    store = FakeStore()
    episodes = list(range(len(store)))  # all of them for training, none held out
    monkeypatch.setattr(learning, "training_episodes", lambda configurator: (store, episodes))
    return store


def test_store_episodes_are_grouped_by_their_layout_columns(fake_store):
    data = learning.critic_data(fake_configurator())
    assert len(data.episodes) == len(LAYOUTS)
    for i, episode in enumerate(data.episodes):
        assert episode[:, 0].eq(i).all()  # the store's episodes in order, none held out
    groups = data.groups
    assert groups[0] == groups[2] and groups[1] == groups[4]
    assert len({groups[0], groups[1], groups[3]}) == 3
    # the critic pairs each state only with states of its layout
    pairs = EpisodePairs(data.episodes, data.groups, seed=0)
    anchors, _, others = pairs.sample(512)
    for anchor, other in zip(anchors[:, 0].long(), others[:, 0].long(), strict=True):
        assert LAYOUTS[anchor] == LAYOUTS[other]
    assert (anchors[:, 0] != others[:, 0]).any()  # and across episodes of one layout


def test_without_layout_names_all_episodes_share_one_group(fake_store):
    data = learning.critic_data(fake_configurator(layout_names=()))
    assert len(data.groups) == len(LAYOUTS) and len(set(data.groups)) == 1


def test_a_layout_column_that_changes_within_an_episode_is_refused():
    states = [np.array([[0.0, 1.0], [0.0, 1.0]]), np.array([[5.0, 1.0], [6.0, 1.0]])]
    with pytest.raises(ConfigError, match=r"layout columns \['wall_x'\] change within episode 1"):
        learning.layout_groups(states, [0, 1], ("wall_x", "door_y"), "the store")
    assert learning.layout_groups(states[:1], [0, 1], ("wall_x", "door_y"), "s") == [
        ("layout", 0.0, 1.0)
    ]


def test_a_layout_column_missing_from_the_store_is_named(fake_store):
    fake_store.state_names = ("x", "y", "wall_x")
    with pytest.raises(ConfigError, match=r"fake-store has no state columns \['door_y'\]"):
        learning.critic_data(fake_configurator())


def test_random_walks_share_a_group_per_layout():
    configurator = fake_configurator(
        ("wall_x", "door_y"),
        "hjepa/TwoRoomsRandomWall-v0",
        "critic.walks=6",
        "critic.walk_steps=3",
        "critic.walks_per_layout=2",
    )
    walks = learning.random_walks(configurator, ("wall_x", "door_y"))
    assert len(walks.episodes) == 6 and walks.episodes[0].shape == (4, 2)
    groups = walks.groups
    assert groups[0] == groups[1] and groups[2] == groups[3] and groups[4] == groups[5]
    assert len({groups[0], groups[2], groups[4]}) == 3  # each time a layout not walked yet
    fixed = fake_configurator((), "hjepa/TwoRooms-v0", "critic.walks=3", "critic.walk_steps=2")
    assert len(set(learning.random_walks(fixed, ()).groups)) == 1  # no layout names: one layout


def test_reports_say_which_data_the_critic_saw(fake_store):
    store_only = learning.describe_critic_data(fake_configurator())
    assert store_only == (
        "5 training episodes of the store (30 frames); no extra environment interaction"
    )
    walking = fake_configurator((), "hjepa/TwoRooms-v0", "critic.walks=40", "critic.walk_steps=8")
    assert learning.describe_critic_data(walking) == (
        "5 training episodes of the store (30 frames) plus 40 random walks of 8 steps from the "
        "simulator (extra environment interaction)"
    )
    no_sim = fake_configurator((), "fake/Env-v0", "critic.walks=40")  # no simulator to walk in
    assert "no extra environment interaction" in learning.describe_critic_data(no_sim)
    no_critic = fake_configurator((), "fake/Env-v0", "cost.critic_weight=0")
    assert learning.describe_critic_data(no_critic).startswith("no critic")


def test_the_cache_keeps_trained_parts_beside_their_settings(tmp_path):
    cache = AgentCache(tmp_path)
    trained, fresh = DistanceCritic(4, 8, 2), DistanceCritic(4, 8, 2)
    assert not cache.load("critic", fresh, {"steps": 10})  # nothing cached yet
    cache.save("critic", trained, {"steps": 10})
    assert not cache.load("critic", fresh, {"steps": 20})  # trained with other settings
    assert cache.load("critic", fresh, {"steps": 10})
    loaded = fresh.state_dict()
    assert all(torch.equal(value, loaded[k]) for k, value in trained.state_dict().items())
    assert not cache.load("critic", DistanceCritic(6, 8, 2), {"steps": 10})  # other latents
    cache.path("critic").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="critic.pt.*delete it"):
        cache.load("critic", fresh, {"steps": 10})

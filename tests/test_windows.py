import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from hjepa.data.store import TrajectoryStore, TrajectoryWriter
from hjepa.data.windows import WindowDataset, split_episodes
from hjepa.errors import ConfigError

LENGTHS = [6, 9, 4, 2, 7]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Five episodes in two shards; states[:, 0] = episode, states[:, 1] = frame in episode."""
    path = tmp_path_factory.mktemp("windows") / "store"
    writer = TrajectoryWriter(path, "test/Env-v0", observation_shape=(2, 4, 4), action_dim=2)
    rng = np.random.default_rng(0)
    for episodes in ([0, 1, 2], [3, 4]):
        obs, actions, states, starts = [], [], [], []
        for e in episodes:
            n = LENGTHS[e]
            starts.append(sum(len(s) for s in states))
            obs.append(rng.integers(0, 256, (n, 2, 4, 4), dtype=np.uint8))
            act = np.stack([np.full(n, e), np.arange(n)], axis=1).astype(np.float32)
            act[-1] = np.nan
            actions.append(act)
            states.append(np.stack([np.full(n, e), np.arange(n), np.zeros(n)], axis=1))
        writer.add_shard(
            np.concatenate(obs),
            np.concatenate(actions),
            np.concatenate(states).astype(np.float32),
            np.array(starts),
        )
    return TrajectoryStore(path)


def test_window_count_and_no_window_crosses_episodes(store):
    data = WindowDataset(store, num_frames=4)
    assert len(data) == sum(max(n - 3, 0) for n in LENGTHS)
    seen = set()
    for i in range(len(data)):
        states = data[i]["states"]
        assert (states[:, 0] == states[0, 0]).all()  # one episode
        assert torch.equal(states[:, 1], states[0, 1] + torch.arange(4.0))  # consecutive
        seen.add((int(states[0, 0]), int(states[0, 1])))
    assert len(seen) == len(data)
    with pytest.raises(IndexError):
        data[len(data)]


def test_item_shapes_dtypes_and_scaling(store):
    data = WindowDataset(store, num_frames=3)
    item = data[5]
    assert item["obs"].shape == (3, 2, 4, 4) and item["obs"].dtype == torch.uint8
    assert item["actions"].shape == (2, 2) and item["actions"].dtype == torch.float32
    assert item["states"].shape == (3, 3) and item["index"] == 5
    episode, start = data.locate(5)
    raw = store.episode(episode)["obs"][start : start + 3]
    assert torch.equal(item["obs"], torch.from_numpy(raw))
    assert torch.isfinite(item["actions"]).all()


def test_frame_skip_sums_actions(store):
    data = WindowDataset(store, num_frames=3, frame_skip=2)
    assert len(data) == sum(max(n - 4, 0) for n in LENGTHS)
    item = data[0]
    assert item["states"][:, 1].tolist() == [0.0, 2.0, 4.0]
    assert item["actions"][:, 1].tolist() == [0.0 + 1.0, 2.0 + 3.0]
    assert torch.isfinite(item["actions"]).all()


def test_episode_subset_and_split(store):
    train, held = split_episodes(len(store), 0.4, seed=1)
    assert sorted(train + held) == list(range(5)) and not set(train) & set(held)
    assert len(held) == 2 and (train, held) == split_episodes(5, 0.4, seed=1)
    assert split_episodes(100, 0.2, seed=0) != split_episodes(100, 0.2, seed=1)
    subset = WindowDataset(store, num_frames=2, episodes=held)
    assert {int(subset[i]["states"][0, 0]) for i in range(len(subset))} == set(held)
    with pytest.raises(ConfigError):
        split_episodes(5, 1.0)
    with pytest.raises(ConfigError):
        WindowDataset(store, num_frames=0)


def test_dataloader_with_two_workers(store):
    data = WindowDataset(store.path, num_frames=3)
    loader = DataLoader(data, batch_size=4, shuffle=True, num_workers=2)
    indices = []
    for batch in loader:
        assert batch["obs"].shape[1:] == (3, 2, 4, 4)
        indices += batch["index"].tolist()
    assert sorted(indices) == list(range(len(data)))

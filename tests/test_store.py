import dataclasses
import json

import numpy as np
import pytest

from hjepa.data.store import (
    CorruptShardError,
    StoreError,
    TrajectoryStore,
    TrajectoryWriter,
)
from hjepa.envs.goal import EnvFacts
from hjepa.errors import ConfigError, HjepaError, ShapeError

OBS_SHAPE = (2, 8, 8)
FACTS = EnvFacts(("x", "y", "wall_x", "door_y"), ("x", "y"), ("wall_x", "door_y"), "px")


def make_episodes(lengths, seed=0, state_dim=4):
    """Random episodes of the given lengths, NaN action on each last frame."""
    rng = np.random.default_rng(seed)
    episodes = []
    for length in lengths:
        actions = rng.normal(size=(length, 2)).astype(np.float32)
        actions[-1] = np.nan
        episodes.append(
            {
                "obs": rng.integers(0, 256, (length, *OBS_SHAPE), dtype=np.uint8),
                "actions": actions,
                "states": rng.normal(size=(length, state_dim)).astype(np.float32),
            }
        )
    return episodes


def shard_arrays(episodes):
    starts = np.cumsum([0] + [len(e["obs"]) for e in episodes[:-1]]).astype(np.int64)
    arrays = {key: np.concatenate([e[key] for e in episodes]) for key in episodes[0]}
    return {**arrays, "episode_starts": starts}


def writer(path, env_id="hjepa/TwoRooms-v0", facts=FACTS, **kwargs):
    return TrajectoryWriter(
        path,
        env_id,
        {"size": 8},
        observation_shape=OBS_SHAPE,
        action_dim=2,
        facts=facts,
        policy="random_walk",
        policy_kwargs={"turn_std": 0.1},
        seed=3,
        **kwargs,
    )


@pytest.fixture
def store_path(tmp_path):
    """A store of three shards holding 2 + 3 + 1 episodes of different lengths."""
    path = tmp_path / "store"
    w = writer(path)
    episodes = make_episodes([5, 7, 3, 4, 6, 2, 9])
    for group in (episodes[:2], episodes[2:5], episodes[5:7]):
        w.add_shard(**shard_arrays(group))
    return path, episodes


def assert_same_episode(got, want):
    for key in ("obs", "actions", "states"):
        np.testing.assert_array_equal(np.asarray(got[key]), want[key])


def test_round_trip_with_variable_length_episodes(store_path):
    path, episodes = store_path
    store = TrajectoryStore(path)
    assert len(store) == 7 and store.num_shards == 3
    assert store.num_frames == sum(len(e["obs"]) for e in episodes)
    assert store.episode_lengths.tolist() == [5, 7, 3, 4, 6, 2, 9]
    for i, want in enumerate(episodes):
        got = store.episode(i)
        assert isinstance(got["obs"], np.memmap)
        assert_same_episode(got, want)
    assert store.locate(3) == (1, 3, 4)
    window = store.frames(6, 2, 8, 3)
    np.testing.assert_array_equal(window["states"], episodes[6]["states"][2:8:3])
    with pytest.raises(IndexError):
        store.episode(7)


def test_meta_contents(store_path):
    path, _ = store_path
    meta = json.loads((path / "meta.json").read_text())
    assert meta["format_version"] == 1
    assert meta["env_id"] == "hjepa/TwoRooms-v0"
    assert meta["env_kwargs"] == {"size": 8}
    assert meta["observation"] == {"shape": list(OBS_SHAPE), "dtype": "uint8"}
    assert meta["action_dim"] == 2
    assert meta["state_names"] == ["x", "y", "wall_x", "door_y"]
    assert meta["position_names"] == ["x", "y"] and meta["layout_names"] == ["wall_x", "door_y"]
    assert meta["units"] == "px"
    assert TrajectoryStore(path).facts == FACTS
    assert meta["policy"] == {"name": "random_walk", "kwargs": {"turn_std": 0.1}}
    assert meta["seed"] == 3
    assert set(meta["versions"]) >= {"hjepa", "numpy", "torch", "gymnasium"}
    assert [s["episodes"] for s in meta["shards"]] == [2, 3, 2]
    assert [s["frames"] for s in meta["shards"]] == [12, 13, 11]
    files = meta["shards"][0]["files"]
    assert set(files) == {"obs.npy", "actions.npy", "states.npy", "episode_starts.npy"}
    size = (path / "shard_00000" / "obs.npy").stat().st_size
    assert files["obs.npy"]["bytes"] == size and len(files["obs.npy"]["crc32"]) == 8
    assert not list(path.glob(".*tmp*"))  # no temporary files left behind


def test_append_continues_numbering_and_checks_compatibility(store_path):
    path, episodes = store_path
    extra = make_episodes([4, 5], seed=1)
    w = writer(path, append=True)
    assert w.add_shard(**shard_arrays(extra), info={"seed_index": 3}) == "shard_00003"
    store = TrajectoryStore(path)
    assert len(store) == 9 and store.meta["shards"][3]["info"] == {"seed_index": 3}
    assert_same_episode(store.episode(8), extra[1])
    assert_same_episode(store.episode(0), episodes[0])
    with pytest.raises(ConfigError, match="env id"):
        writer(path, env_id="hjepa/Maze-v0", append=True)
    with pytest.raises(ConfigError, match="observation shape"):
        TrajectoryWriter(path, "hjepa/TwoRooms-v0", {"size": 8}, (2, 4, 4), 2, append=True)
    with pytest.raises(ConfigError, match="action dim"):
        TrajectoryWriter(path, "hjepa/TwoRooms-v0", {"size": 8}, OBS_SHAPE, 3, append=True)
    with pytest.raises(ConfigError, match="units 'px'"):
        writer(path, append=True, facts=dataclasses.replace(FACTS, units="m"))


def test_a_store_without_recorded_facts_gets_them_on_append(store_path):
    path, _ = store_path
    meta = json.loads((path / "meta.json").read_text())
    for key in ("position_names", "layout_names", "units"):
        del meta[key]
    (path / "meta.json").write_text(json.dumps(meta))
    assert TrajectoryStore(path).facts == EnvFacts(FACTS.state_names)  # no positions, "units"
    writer(path, append=True).add_shard(**shard_arrays(make_episodes([3])))
    assert TrajectoryStore(path).facts == FACTS


def test_writer_refuses_to_overwrite_and_bad_arrays(store_path):
    path, _ = store_path
    with pytest.raises(StoreError, match="append=True"):
        writer(path)
    w = writer(path, append=True)
    good = shard_arrays(make_episodes([3, 3]))
    with pytest.raises(ShapeError, match="obs"):
        w.add_shard(**{**good, "obs": good["obs"][:, :, :4]})
    with pytest.raises(ShapeError, match="episode_starts"):
        w.add_shard(**{**good, "episode_starts": np.array([1, 3])})
    assert len(TrajectoryStore(path)) == 7  # nothing was added
    junk = path.parent / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("hello")
    with pytest.raises(StoreError, match="not a trajectory store"):
        writer(junk, append=True)


def test_truncated_shard_is_named_and_skippable(store_path):
    path, episodes = store_path
    obs = path / "shard_00001" / "obs.npy"
    obs.write_bytes(obs.read_bytes()[:-10])
    with pytest.raises(CorruptShardError, match="shard_00001.*obs.npy.*truncated"):
        TrajectoryStore(path)
    with pytest.warns(UserWarning, match="shard_00001"):
        store = TrajectoryStore(path, skip_corrupt=True)
    assert len(store) == 4 and store.num_shards == 2
    assert_same_episode(store.episode(0), episodes[0])
    assert_same_episode(store.episode(2), episodes[5])  # shard 2 follows shard 0


def test_flipped_byte_fails_checksum_on_access_and_verify(store_path):
    path, episodes = store_path
    states = path / "shard_00002" / "states.npy"
    data = bytearray(states.read_bytes())
    data[-3] ^= 0xFF
    states.write_bytes(bytes(data))
    store = TrajectoryStore(path)  # sizes are fine: opens
    assert_same_episode(store.episode(0), episodes[0])  # other shards stay usable
    with pytest.raises(CorruptShardError, match="shard_00002.*states.npy.*checksum"):
        store.episode(6)
    with pytest.raises(CorruptShardError, match="shard_00002"):
        TrajectoryStore(path).verify()
    with pytest.warns(UserWarning, match="shard_00002"):
        assert len(TrajectoryStore(path, skip_corrupt=True)) == 5
    assert len(TrajectoryStore(path, verify_checksums=False).episode(6)["obs"]) == 9


def test_env_mismatch_missing_path_and_bad_meta(store_path, tmp_path):
    path, _ = store_path
    store = TrajectoryStore(path)
    store.check_env("hjepa/TwoRooms-v0")
    with pytest.raises(ConfigError, match="TwoRooms-v0.*TwoRoomsRandomWall-v0"):
        store.check_env("hjepa/TwoRoomsRandomWall-v0")
    with pytest.raises(ConfigError, match="env kwargs"):
        store.check_env("hjepa/TwoRooms-v0", {"size": 64})
    with pytest.raises(StoreError, match="does not exist"):
        TrajectoryStore(tmp_path / "nowhere")
    with pytest.raises(StoreError, match="not a trajectory store"):
        TrajectoryStore(tmp_path)
    (path / "meta.json").write_text("{not json")
    with pytest.raises(StoreError, match="unreadable"):
        TrajectoryStore(path)
    assert issubclass(CorruptShardError, HjepaError)


def test_pickled_store_reopens_its_maps(store_path):
    import pickle

    path, episodes = store_path
    store = TrajectoryStore(path)
    store.episode(0)
    clone = pickle.loads(pickle.dumps(store))
    assert len(pickle.dumps(store)) < 10_000  # no array data travels
    assert_same_episode(clone.episode(4), episodes[4])

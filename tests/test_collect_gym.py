"""Collecting Gymnasium envs (no vectorized simulator) through the collection driver."""

from pathlib import Path

import numpy as np
import pytest

from hjepa.cli import main
from hjepa.data.store import TrajectoryStore
from hjepa.envs import PENDULUM_GOAL_ID
from hjepa.envs.collect import collect
from hjepa.envs.goal import EnvFacts
from hjepa.errors import ActionError, ConfigError

HERE = Path(__file__).parent
MODULE = Path(__file__).stem


def half_torque(obs, states, rng):
    """A user policy for the pendulum: always +0.5, and it sees one env at a time."""
    assert obs.shape == (1, 2, 64, 64) and states.shape == (1, 3)
    return np.full((1, 1), 0.5)


def too_strong(obs, states, rng):
    return np.full((1, 1), 1.5)


def not_a_number(obs, states, rng):
    return np.full((1, 1), np.nan)


def run(path, **kwargs):
    options = {"episodes": 4, "steps_per_episode": 5, "shard_episodes": 1, "progress": False}
    return collect(PENDULUM_GOAL_ID, path, **{**options, **kwargs})


def shard_crcs(store: TrajectoryStore) -> list:
    return [[f["crc32"] for f in shard["files"].values()] for shard in store.meta["shards"]]


def test_two_workers_give_the_store_of_one(tmp_path):
    one = run(tmp_path / "one", seed=2, workers=1)
    two = run(tmp_path / "two", seed=2, workers=2)
    assert one.num_shards == two.num_shards == 4
    assert shard_crcs(one) == shard_crcs(two)
    for i in range(4):
        np.testing.assert_array_equal(one.episode(i)["obs"], two.episode(i)["obs"])
    assert shard_crcs(run(tmp_path / "other", seed=3, workers=2)) != shard_crcs(one)


def test_a_module_policy_drives_the_env(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    store = run(tmp_path / "user", policy=f"{MODULE}:half_torque", workers=2)
    actions = np.concatenate([store.episode(i)["actions"][:-1] for i in range(len(store))])
    np.testing.assert_array_equal(actions, np.full((20, 1), 0.5, dtype=np.float32))
    assert store.meta["policy"]["name"] == f"{MODULE}:half_torque"
    with pytest.raises(ActionError, match="'test_collect_gym:too_strong'.*outside the action"):
        run(tmp_path / "strong", policy=f"{MODULE}:too_strong")
    with pytest.raises(ActionError, match="'test_collect_gym:not_a_number'.*NaN"):
        run(tmp_path / "nan", policy=f"{MODULE}:not_a_number", workers=2)
    assert not (tmp_path / "strong").exists() and not (tmp_path / "nan").exists()


def test_arena_policies_are_refused_with_the_way_out(tmp_path):
    with pytest.raises(ConfigError, match="random_walk.*arena simulators.*'random'"):
        run(tmp_path / "walk", policy="random_walk")
    with pytest.raises(ConfigError, match="takes no arguments"):
        run(tmp_path / "kw", policy_kwargs={"max_norm": 1.0})
    assert not (tmp_path / "walk").exists() and not (tmp_path / "kw").exists()


def test_module_env_id_collects_and_records_the_env_facts(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    sizes = {"workers": 2, "shard_episodes": 2, "progress": False}
    store = collect("gym_plugin:PluginArena-v0", tmp_path / "plugin", 3, 4, **sizes)
    assert store.env_id == "gym_plugin:PluginArena-v0" and len(store) == 3
    assert store.observation_shape == (2, 24, 24) and store.meta["policy"]["name"] == "random"
    facts = EnvFacts(("x", "y", "wall_x", "door_y"), ("x", "y"), ("wall_x", "door_y"), "px")
    assert store.facts == facts
    assert store.meta["units"] == "px" and store.meta["layout_names"] == ["wall_x", "door_y"]
    actions = store.episode(0)["actions"][:-1]
    assert np.abs(actions).max() <= 2.45 and np.abs(actions).max() > 1.0  # uniform in the Box
    pendulum = run(tmp_path / "pendulum", episodes=1)
    names = ("cos_theta", "sin_theta", "theta_dot")
    assert pendulum.facts == EnvFacts(names, names[:2], (), "rad")
    with pytest.raises(ConfigError, match="cannot import module 'no_such_plugin'"):
        collect("no_such_plugin:Env-v0", tmp_path / "missing", 1, 2, progress=False)


def test_cli_uses_and_names_its_workers(tmp_path, capsys):
    args = ["collect", PENDULUM_GOAL_ID, "--out", str(tmp_path / "cli"), "--episodes", "3"]
    args += ["--steps", "4", "--workers", "2", "--shard-episodes", "2", "--no-progress"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "with 2 worker processes" in printed and "15 frames" in printed
    assert main([*args[:-5], "--workers", "4", "--append", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "with 1 worker (this process)" in printed and "3 episodes, 15 frames in" in printed
    assert len(TrajectoryStore(tmp_path / "cli")) == 6

import gymnasium
import numpy as np
import pytest

from hjepa.data.store import TrajectoryStore
from hjepa.envs import PENDULUM_GOAL_ID
from hjepa.envs.collect import collect
from hjepa.envs.pendulum_goal import TOLERANCE, angle_difference
from hjepa.envs.tasks import goal_tasks
from hjepa.errors import ConfigError

SHAPE = (2, 64, 64)


@pytest.fixture(scope="module")
def env():
    env = gymnasium.make(PENDULUM_GOAL_ID)
    yield env
    env.close()


def test_goal_obs_has_the_observation_shape_and_shows_the_goal(env):
    obs, info = env.reset(seed=0, options={"start": (np.pi, 0.0), "goal": (0.0, 0.0)})
    assert obs.shape == info["goal_obs"].shape == SHAPE
    assert obs.dtype == info["goal_obs"].dtype == np.uint8
    np.testing.assert_array_equal(info["goal_obs"][0], info["goal_obs"][1])  # stacked, at rest
    assert not np.array_equal(obs, info["goal_obs"])  # down vs upright
    # the goal image is what a reset at the goal shows
    same, _ = env.reset(seed=0, options={"start": (0.0, 0.0)})
    np.testing.assert_array_equal(same, info["goal_obs"])


def test_rendering_the_goal_restores_the_state(env):
    _, info = env.reset(seed=0, options={"start": (2.0, 0.5), "goal": (-1.0, 0.0)})
    np.testing.assert_allclose(env.unwrapped.state, [2.0, 0.5])
    np.testing.assert_allclose(info["state"], [np.cos(2.0), np.sin(2.0), 0.5], atol=1e-6)
    assert info["distance"] == pytest.approx(abs(angle_difference(2.0, -1.0)))


def test_terminates_exactly_within_tolerance(env):
    goal = 3.0
    for offset, inside in ((0.5 * TOLERANCE, True), (1.5 * TOLERANCE, False)):
        # zero velocity, zero torque: after one step of 0.05 s the angle barely moves
        start = angle_difference(goal + offset, 0.0)
        env.reset(seed=0, options={"start": (float(start), 0.0), "goal": (goal, 0.0)})
        _, reward, terminated, _, info = env.step(np.zeros(1, dtype=np.float32))
        assert terminated is inside
        assert reward == pytest.approx(-info["distance"])
        assert (info["distance"] < TOLERANCE) is inside


def test_swinging_through_the_goal_does_not_count(env):
    env.reset(seed=0, options={"start": (2.94, 3.0), "goal": (3.0, 0.0)})
    _, _, terminated, _, info = env.step(np.zeros(1, dtype=np.float32))
    assert info["distance"] < TOLERANCE and not terminated


def test_wraps_angles_across_pi(env):
    env.reset(seed=0, options={"start": (np.pi - 0.05, 0.0), "goal": (-np.pi + 0.05, 0.0)})
    _, _, terminated, _, info = env.step(np.zeros(1, dtype=np.float32))
    assert info["distance"] < 0.11 and terminated


def test_without_a_goal_it_never_terminates(env):
    _, info = env.reset(seed=0)
    assert "goal_obs" not in info
    assert not env.step(np.zeros(1, dtype=np.float32))[2]


@pytest.mark.parametrize(
    "options",
    [
        {"goal": (0.0,)},
        {"goal": (0.0, 0.0, 0.0)},
        {"start": (np.nan, 0.0)},
        {"goal": (0.0, np.inf)},
        {"start": (0.0, 20.0)},
        {"goal": "up"},
        {"target": (0.0, 0.0)},
    ],
)
def test_bad_options_raise(env, options):
    with pytest.raises(ConfigError):
        env.reset(seed=0, options=options)


@pytest.mark.parametrize("render_mode", [None, "rgb_array"])
def test_render_modes(render_mode):
    env = gymnasium.make(PENDULUM_GOAL_ID, render_mode=render_mode)
    obs, _ = env.reset(seed=0)
    frame = env.render()
    assert obs.shape == SHAPE
    if render_mode is None:
        assert frame is None
    else:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    env.close()
    with pytest.raises(ConfigError):
        gymnasium.make(PENDULUM_GOAL_ID, render_mode="human")


def test_collect_writes_a_store(tmp_path):
    kwargs = dict(episodes=3, steps_per_episode=6, policy="random", seed=1, shard_episodes=2)
    store = collect(PENDULUM_GOAL_ID, tmp_path / "s", progress=False, **kwargs)
    again = TrajectoryStore(tmp_path / "s")
    store.check_env(PENDULUM_GOAL_ID, {})
    assert len(again) == 3 and again.num_shards == 2
    assert again.observation_shape == SHAPE and again.action_dim == 1
    assert again.state_names == ("cos_theta", "sin_theta", "theta_dot")
    ep = again.episode(2)
    assert ep["obs"].shape == (7, *SHAPE) and ep["obs"].dtype == np.uint8
    assert ep["actions"].shape == (7, 1) and ep["actions"].dtype == np.float32
    assert ep["states"].shape == (7, 3)
    assert np.isnan(ep["actions"][-1]).all() and np.isfinite(ep["actions"][:-1]).all()
    assert np.abs(ep["actions"][:-1]).max() <= 1.0
    twin = collect(PENDULUM_GOAL_ID, tmp_path / "t", progress=False, **kwargs)
    np.testing.assert_array_equal(twin.episode(2)["actions"], ep["actions"])


def test_collect_rejects_simulator_policies_and_unknown_envs(tmp_path):
    with pytest.raises(ConfigError, match="random"):
        collect(PENDULUM_GOAL_ID, tmp_path / "a", 1, 2, policy="random_walk", progress=False)
    with pytest.raises(ConfigError, match="unknown env id"):
        collect("hjepa/Nope-v0", tmp_path / "b", 1, 2, policy="random", progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_pendulum_tasks_are_seeded_and_keep_a_gap():
    tasks = goal_tasks(PENDULUM_GOAL_ID, 500, seed=3)
    assert tasks == goal_tasks(PENDULUM_GOAL_ID, 500, seed=3)
    assert tasks != goal_tasks(PENDULUM_GOAL_ID, 500, seed=4)
    start = np.array([t["start"] for t in tasks])
    goal = np.array([t["goal"] for t in tasks])
    gap = np.abs(angle_difference(start[:, 0], goal[:, 0]))
    assert gap.min() >= 1.0 - 1e-9
    assert np.all(np.abs(start) <= [np.pi, 1.0]) and np.all(np.abs(goal[:, 0]) <= np.pi)
    assert np.all(goal[:, 1] == 0.0)
    assert gap.max() > 3.0 and start[:, 0].min() < -3.0 and start[:, 0].max() > 3.0

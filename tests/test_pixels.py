"""Tests for hjepa.envs.pixels on an environment we did not write: Pendulum-v1 (classic control).

Rendered headless through pygame (the `external` extra, installed with `dev`).
"""

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

pytest.importorskip("pygame", reason="pygame missing: install hjepa[external] for these tests")

from hjepa.envs.pixels import PixelObservation, resize_area  # noqa: E402
from hjepa.errors import ActionError, ConfigError  # noqa: E402


def pendulum(**kwargs):
    return PixelObservation(gymnasium.make("Pendulum-v1", render_mode="rgb_array"), **kwargs)


def test_observation_shape_dtype_and_state():
    env = pendulum(size=32)
    obs, info = env.reset(seed=0)
    assert obs.shape == (3, 32, 32) == env.observation_space.shape and obs.dtype == np.uint8
    assert obs in env.observation_space and 0 < obs.mean() < 255  # a drawing, not blank
    assert info["state"].shape == (3,) and info["state"].dtype == np.float32
    obs, reward, terminated, truncated, info = env.step(np.zeros(1, np.float32))
    assert obs.shape == (3, 32, 32) and isinstance(reward, float) and info["state"].shape == (3,)
    env.close()


def test_grayscale_and_frame_stack():
    env = pendulum(size=24, grayscale=True, frame_stack=3)
    obs, _ = env.reset(seed=1)
    assert obs.shape == (3, 24, 24)
    assert np.array_equal(obs[0], obs[1]) and np.array_equal(obs[1], obs[2])  # reset repeats
    for _ in range(3):
        new, *_ = env.step(np.ones(1, np.float32))
        assert np.array_equal(new[:2], obs[1:])  # frames shift: oldest first
        obs = new
    assert not np.array_equal(obs[0], obs[2])  # the pendulum moved
    env.close()


def test_action_rescale_maps_unit_box_to_env_bounds():
    env = pendulum()
    env.reset(seed=0)
    assert env.action_space.low.tolist() == [-1.0] and env.action_space.high.tolist() == [1.0]
    assert env.rescale_action(np.array([-1.0])).tolist() == [-2.0]
    assert env.rescale_action(np.array([1.0])).tolist() == [2.0]
    assert env.rescale_action(np.array([0.5])).tolist() == [1.0]
    for bad, match in [([1.5], "outside"), ([np.nan], "NaN"), ([0.0, 0.0], "shape")]:
        with pytest.raises(ActionError, match=match):
            env.step(np.array(bad, np.float32))
    env.close()


def test_needs_rgb_array_render_mode_and_resize_averages():
    with pytest.raises(ConfigError, match="rgb_array"):
        PixelObservation(gymnasium.make("Pendulum-v1"))
    frame = np.zeros((4, 4, 3), np.uint8)
    frame[:2, :2] = 200
    small = resize_area(frame, 2)
    assert small.shape == (3, 2, 2) and small[:, 0, 0].tolist() == [200.0] * 3
    assert small[:, 1, 1].tolist() == [0.0] * 3


class DotsEnv(gymnasium.Env):
    """A dot on an 8 x 8 canvas moved by (dx, dy); Dict observations {"pos", "noise"}; reward 1
    per step; terminates when `end_after` steps were taken."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, render_mode="rgb_array", end_after=100):
        self.render_mode, self.end_after = render_mode, end_after
        self.observation_space = spaces.Dict(
            {
                "pos": spaces.Box(0.0, 7.0, (2,), np.float64),
                "noise": spaces.Box(0.0, 1.0, (3, 3), np.float32),
            }
        )
        self.action_space = spaces.Box(-2.0, 2.0, (2,), np.float32)
        self.pos, self.steps = np.zeros(2), 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.steps = self.np_random.integers(0, 8, 2).astype(np.float64), 0
        return self._obs(), {}

    def step(self, action):
        self.pos = np.clip(self.pos + np.asarray(action), 0.0, 7.0)
        self.steps += 1
        return self._obs(), 1.0, self.steps >= self.end_after, False, {}

    def render(self):
        frame = np.zeros((8, 8, 3), np.uint8)
        frame[int(round(self.pos[1])), int(round(self.pos[0]))] = 255
        return frame

    def _obs(self):
        return {"pos": self.pos.copy(), "noise": np.ones((3, 3), np.float32)}


def test_state_key_reads_the_state_off_a_dict_observation():
    env = PixelObservation(DotsEnv(), size=8, state_key="pos")
    _, info = env.reset(seed=0)
    assert info["state"].dtype == np.float32
    np.testing.assert_array_equal(info["state"], env.unwrapped.pos)
    _, _, _, _, info = env.step(np.array([1.0, 0.0], np.float32))  # dx = +2 after rescaling
    np.testing.assert_array_equal(info["state"], env.unwrapped.pos)
    assert "state" not in PixelObservation(DotsEnv(), size=8).reset(seed=0)[1]
    with pytest.raises(ConfigError, match=r"'velocity'.*\['noise', 'pos'\]"):
        PixelObservation(DotsEnv(), state_key="velocity")
    with pytest.raises(ConfigError, match="Dict"):
        pendulum(state_key="pos")


def test_a_dict_env_collects_into_a_store_with_its_states(tmp_path):
    from hjepa.data.store import TrajectoryStore
    from hjepa.envs.collect import collect

    if "test/Dots-v0" not in gymnasium.registry:
        gymnasium.register(
            "test/Dots-v0",
            entry_point=lambda: PixelObservation(DotsEnv(), size=8, state_key="pos"),
            max_episode_steps=50,
        )
    collect("test/Dots-v0", tmp_path / "s", 2, 5, policy="random", seed=0, progress=False)
    episode = TrajectoryStore(tmp_path / "s").episode(1)
    assert episode["states"].shape == (6, 2) and episode["obs"].shape == (6, 3, 8, 8)
    for obs, (x, y) in zip(episode["obs"], episode["states"], strict=True):
        assert obs[0, int(round(y)), int(round(x))] == 255  # the state is where the dot is drawn


def test_action_repeat_sums_rewards_and_stops_when_the_episode_ends():
    env = PixelObservation(DotsEnv(end_after=5), size=8, action_repeat=3)
    env.reset(seed=0)
    env.unwrapped.pos = np.zeros(2)
    _, reward, terminated, _, info = env.step(np.array([0.0, 0.5], np.float32))  # dy = +1
    assert reward == 3.0 and not terminated and env.unwrapped.steps == 3
    np.testing.assert_array_equal(env.unwrapped.pos, [0.0, 3.0])
    _, reward, terminated, _, _ = env.step(np.zeros(2, np.float32))
    assert reward == 2.0 and terminated and env.unwrapped.steps == 5
    with pytest.raises(ConfigError, match="action_repeat"):
        PixelObservation(DotsEnv(), action_repeat=0)


def test_render_observation_is_what_a_reset_there_shows():
    env = PixelObservation(DotsEnv(), size=8, frame_stack=2)
    first, _ = env.reset(seed=3)
    np.testing.assert_array_equal(env.render_observation(), first)
    moved, *_ = env.step(np.array([1.0, 1.0], np.float32))
    still = env.render_observation()
    assert not np.array_equal(moved[:3], moved[3:])  # the stack holds two different frames
    np.testing.assert_array_equal(still[:3], moved[3:])
    np.testing.assert_array_equal(still[3:], moved[3:])
    np.testing.assert_array_equal(env.step(np.zeros(2, np.float32))[0][:3], moved[3:])


def test_camera_is_for_mujoco_envs_only():
    with pytest.raises(ConfigError, match="MuJoCo"):
        PixelObservation(DotsEnv(), camera=0)


def test_camera_selects_a_mujoco_camera():
    pytest.importorskip("mujoco", reason="mujoco missing: install hjepa[mujoco]")
    env = gymnasium.make("Reacher-v5", render_mode="rgb_array", width=32, height=32)
    free = PixelObservation(env, size=16, camera=-1)
    assert env.unwrapped.mujoco_renderer.camera_id == -1
    free.reset(seed=0)
    with pytest.raises(ConfigError, match="not found"):
        PixelObservation(env, camera="overhead")
    with pytest.raises(ConfigError, match="not found"):
        PixelObservation(env, camera=0)  # Reacher's model defines no camera
    env.close()

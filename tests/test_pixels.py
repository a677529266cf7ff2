"""Tests for hjepa.envs.pixels on an environment we did not write: Pendulum-v1 (classic control).

Rendered headless through pygame (the `external` extra, installed with `dev`).
"""

import gymnasium
import numpy as np
import pytest

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

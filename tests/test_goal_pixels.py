"""The generic goal wrapper (hjepa.envs.goal_pixels) on a tiny env written here, its registration
helper, and the user-style plug-ins of examples/ through `module:EnvId`."""

import os
import sys

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

from hjepa.envs.goal import env_facts
from hjepa.envs.goal_pixels import GoalPixels, GoalSpec, register_goal_env
from hjepa.envs.tasks import goal_tasks, task_set
from hjepa.errors import ConfigError
from hjepa.plugins import import_env_module

TOLERANCE = 0.5


class LineEnv(gymnasium.Env):
    """A bead on a line 0..15 (state x), moved by the action, drawn as one lit column of a
    16 x 16 frame; its own episode ends when it hits the right end."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, render_mode="rgb_array"):
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 15.0, (1,), np.float64)
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.x = 0.0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = float(self.np_random.uniform(0.0, 15.0))
        return np.array([self.x]), {}

    def step(self, action):
        self.x = float(np.clip(self.x + 2.0 * float(action[0]), 0.0, 15.0))
        return np.array([self.x]), 1.0, self.x >= 15.0, False, {}

    def render(self):
        frame = np.zeros((16, 16, 3), np.uint8)
        frame[:, int(round(self.x))] = 255
        return frame


def _set_x(env, state):
    env.x = float(state[0])


LINE_SPEC = GoalSpec(
    goal_names=("x",),
    state_names=("x", "x_squared"),
    get_state=lambda env: np.array([env.x]),
    set_state=_set_x,
    distance=lambda s, g: float(abs(s[0] - g[0])),
    reached=lambda s, g: abs(s[0] - g[0]) < TOLERANCE,
    agent_pos=lambda s: (float(s[0]), 0.0),
    observe=lambda s: np.array([s[0], s[0] ** 2]),
    position_names=("x",),
    units="beads",
    check=lambda s: None if 0.0 <= s[0] <= 15.0 else f"x = {s[0]} is off the line",
)


def make_line_goal(render_mode=None):
    return GoalPixels(LineEnv(), LINE_SPEC, render_mode, size=16, frame_stack=2)


@pytest.fixture
def env():
    return make_line_goal()


def test_goal_obs_is_render_state_and_a_reset_there(env):
    obs, info = env.reset(seed=0, options={"start": (3.0,), "goal": (10.0,)})
    np.testing.assert_array_equal(info["goal_obs"], env.render_state((10.0,)))
    assert obs[0, 0, 3] == 255 and info["goal_obs"][0, 0, 10] == 255
    assert info["goal_obs"][0].sum() == info["goal_obs"][3].sum() == 16 * 255  # one column
    there, _ = env.reset(seed=1, options={"start": (10.0,)})
    np.testing.assert_array_equal(there, info["goal_obs"])
    assert info["goal_pos"] == (10.0, 0.0) and info["goal"] == (10.0,)
    assert info["distance"] == 7.0 and info["agent_pos"] == (3.0, 0.0)
    np.testing.assert_array_equal(info["state"], np.array([3.0, 9.0], np.float32))


def test_rendering_a_state_restores_the_episode(env):
    env.reset(seed=0, options={"start": (3.0,)})
    moved, *_ = env.step(np.array([0.5], np.float32))  # x = 4
    env.render_state((12.0,))
    assert env.unwrapped.x == 4.0
    after, *_ = env.step(np.zeros(1, np.float32))
    np.testing.assert_array_equal(after[:3], moved[3:])  # the frame stack was not touched
    assert after[0, 0, 4] == 255


def test_terminated_exactly_when_reached(env):
    env.reset(seed=0, options={"start": (2.0,), "goal": (4.0,)})
    for action, x, reached in ((0.5, 3.0, False), (0.35, 3.7, True), (-0.05, 3.6, True)):
        _, reward, terminated, truncated, info = env.step(np.array([action], np.float32))
        assert env.unwrapped.x == pytest.approx(x)
        assert terminated is reached and truncated is False
        assert reward == pytest.approx(-abs(x - 4.0)) == -info["distance"]


def test_the_env_ending_its_episode_without_the_goal_is_a_truncation(env):
    env.reset(seed=0, options={"start": (14.0,), "goal": (2.0,)})
    _, _, terminated, truncated, _ = env.step(np.ones(1, np.float32))
    assert not terminated and truncated
    env.reset(seed=0, options={"start": (14.0,), "goal": (15.0,)})
    assert env.step(np.ones(1, np.float32))[2:4] == (True, False)
    env.reset(seed=0, options={"start": (14.0,)})  # no goal: the env's own ending and reward
    assert env.step(np.ones(1, np.float32))[1:4] == (1.0, True, False)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"goal": (1.0, 2.0)}, "expected a state"),
        ({"start": "left"}, "expected a state"),
        ({"goal": (np.nan,)}, "finite"),
        ({"start": (20.0,)}, "off the line"),
        ({"target": (1.0,)}, "unknown keys"),
        ([("goal", 1.0)], "dict"),
    ],
)
def test_options_are_checked(env, options, match):
    with pytest.raises(ConfigError, match=match):
        env.reset(seed=0, options=options)


def test_protocol_attributes_and_render_modes(env):
    facts = env_facts(env, state_dim=2)
    assert facts.state_names == ("x", "x_squared") and facts.position_names == ("x",)
    assert facts.units == "beads" and facts.layout_names == ()
    env.reset(seed=0)
    assert env.render() is None
    shown = make_line_goal("rgb_array")
    shown.reset(seed=0, options={"start": (5.0,)})
    assert shown.render().shape == (16, 16, 3) and shown.render()[0, 5, 0] == 255
    with pytest.raises(ConfigError, match="render_mode"):
        make_line_goal("human")
    with pytest.raises(ConfigError, match="GoalSpec"):
        GoalPixels(LineEnv(), {"goal_names": ("x",)})


def _line_tasks(episodes, seed, env_kwargs):
    rng = np.random.default_rng(seed)
    return [{"start": (2.0,), "goal": (float(rng.uniform(5, 15)),)} for _ in range(episodes)]


def test_register_goal_env_registers_the_env_and_its_task_set():
    register_goal_env("test/LineGoal-v0", make_line_goal, _line_tasks, "bead to a point", None, 7)
    env = gymnasium.make("test/LineGoal-v0")
    (task,) = goal_tasks("test/LineGoal-v0", 1, seed=0)
    env.reset(seed=0, options=task)
    for _ in range(7):
        _, _, terminated, truncated, _ = env.step(np.zeros(1, np.float32))
    assert truncated and not terminated  # the registered time limit
    assert task_set("test/LineGoal-v0").protocol == "bead to a point"
    assert env.get_wrapper_attr("units") == "beads"


def test_mountain_car_plug_in_through_its_module_env_id():
    env_id = "examples.mountain_car_goal:MountainCarGoal-v0"
    env = gymnasium.make(env_id)
    tasks = goal_tasks(env_id, 20, seed=0)
    start, goal = tasks[0]["start"], tasks[0]["goal"]
    assert all(abs(t["start"][0] - t["goal"][0]) >= 0.4 for t in tasks)
    obs, info = env.reset(seed=0, options=tasks[0])
    assert obs.shape == info["goal_obs"].shape == (2, 64, 64)
    assert not np.array_equal(obs, info["goal_obs"])
    assert info["distance"] == pytest.approx(abs(start[0] - goal[0]), abs=1e-6)
    np.testing.assert_allclose(info["state"], start, atol=1e-6)
    assert env_facts(env, 2).units == "m" and task_set(env_id).plane.xlim == (-1.2, 0.6)
    env.reset(seed=0, options={"start": (goal[0] + 0.01, 0.0), "goal": goal})
    _, _, terminated, _, info = env.step(np.zeros(1, np.float32))  # 4 steps from rest: stays
    assert terminated and info["distance"] < 0.05
    env.close()


def test_reacher_plug_in_reaches_by_fingertip():
    pytest.importorskip("mujoco", reason="mujoco missing: install hjepa[mujoco]")
    from examples.reacher_goal import fingertip

    env_id = "examples.reacher_goal:ReacherGoal-v0"
    env = gymnasium.make(env_id)
    (task,) = goal_tasks(env_id, 1, seed=0)
    obs, info = env.reset(seed=0, options=task)
    assert obs.shape == info["goal_obs"].shape == (2, 64, 64)
    assert not np.array_equal(obs, info["goal_obs"])
    np.testing.assert_allclose(env.unwrapped.data.qpos[:2], task["start"][:2])  # restored
    np.testing.assert_allclose(info["state"][:2], fingertip(task["start"]), atol=1e-6)
    tip = env.unwrapped.get_body_com("fingertip")[:2]
    np.testing.assert_allclose(tip, fingertip(task["start"]), atol=1e-6)  # the drawn arm
    assert info["distance"] >= 0.1 and env_facts(env, 8).position_names == (
        "fingertip_x",
        "fingertip_y",
    )
    # the elbow bent the other way: the same fingertip, reached at rest
    q0, q1 = task["goal"][:2]
    mirrored = (q0 + 2 * np.arctan2(0.11 * np.sin(q1), 0.1 + 0.11 * np.cos(q1)), -q1)
    env.reset(seed=0, options={"start": (*mirrored, 0.0, 0.0), "goal": task["goal"]})
    assert env.step(np.zeros(2, np.float32))[2]
    env.close()


def test_reacher_torque_scale_slows_the_arm_in_proportion():
    pytest.importorskip("mujoco", reason="mujoco missing: install hjepa[mujoco]")
    env_id = "examples.reacher_goal:ReacherGoal-v0"
    (task,) = goal_tasks(env_id, 1, seed=0)
    speeds = {}
    for scale in (1.0, 0.3):
        env = gymnasium.make(env_id, torque_scale=scale)
        env.reset(seed=0, options=task)
        speeds[scale] = env.step(np.ones(2, np.float32))[4]["state"][6:]  # one step from rest
        env.close()
    assert np.all(np.abs(speeds[1.0]) > 1.0)
    np.testing.assert_allclose(speeds[0.3], 0.3 * speeds[1.0], rtol=0.05)


def test_plug_in_modules_are_found_in_the_working_directory(tmp_path, monkeypatch):
    package = tmp_path / "cwd_plugins"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "line.py").write_text("LOADED = True\n")
    monkeypatch.chdir(tmp_path)
    kept = [p for p in sys.path if os.path.abspath(p or os.curdir) != str(tmp_path)]
    monkeypatch.setattr(sys, "path", kept)  # as under the `hjepa` console script
    assert import_env_module("cwd_plugins.line:Line-v0") == "Line-v0"
    assert sys.modules["cwd_plugins.line"].LOADED and str(tmp_path) in sys.path
    with pytest.raises(ConfigError, match="cannot import module 'cwd_plugins.nope'"):
        import_env_module("cwd_plugins.nope:Line-v0")

"""A user's own goal env (tests/fake_goal_env.py, written against the goal-env protocol alone)
through the command line: collect -> train -> eval -> plan, with no launcher script."""

import json

import gymnasium
import numpy as np
import pytest

from fake_goal_env import sample_tasks
from hjepa.cli import main

ENV = "fake_goal_env:DotGoal-v0"  # Gymnasium's module:EnvId form: the module registers it
WORLD = [
    "data.policy=random",
    "data.episodes=40",
    "data.episode_steps=30",
    "data.frames=5",
    "data.image_size=16",
    "data.channels=1",
    "data.held_out=0.2",
    "world.state_dim=16",
    "world.pool=1",
    "world.channels=[8,16,16]",
    "world.hidden=64",
    "world.rollout_steps=4",
    "train.steps=150",
    "train.batch_size=32",
    "train.progress=false",
    "train.tensorboard=false",
    "optim.warmup_steps=10",
]
AGENT = [
    "critic.steps=300",
    "critic.batch=256",
    "planner.horizon=2",
    "planner.samples=32",
    "task.episodes=6",
    "task.max_steps=40",
]


def train_on(tmp_path, env: str, name: str, *extra: str) -> int:
    return main(
        ["train", "configs/two_rooms.yaml", f"data.env={env}", f"train.name={name}"]
        + [f"train.run_dir={tmp_path}", *WORLD, *extra]
    )


def random_successes(tasks: list[dict], max_steps: int) -> int:
    env, rng, reached = gymnasium.make(ENV), np.random.default_rng(0), 0
    for i, options in enumerate(tasks):
        env.reset(seed=i, options=options)
        for _ in range(max_steps):
            _, _, terminated, _, _ = env.step(rng.uniform(-1, 1, 2).astype(np.float32))
            if terminated:
                reached += 1
                break
    return reached


@pytest.fixture(scope="module")
def dot_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("user_env")
    assert train_on(tmp_path, ENV, "dot") == 0
    return tmp_path / "dot"


def test_eval_reports_in_the_envs_units(dot_run, capsys):
    assert main(["eval", str(dot_run), "--windows", "300"]) == 0
    out = capsys.readouterr().out
    saved = json.loads((dot_run / "eval" / "eval.json").read_text())
    assert saved["units"] == "cells" and saved["state_names"] == ["x", "y"]
    assert saved["position_rmse"]["mlp"] < 2.0  # cells, on a 16-cell square
    assert "cells" in out and "n/a" not in out


def test_plan_runs_the_registered_task_set(dot_run, capsys):
    out = dot_run / "plan" / "mppi"
    assert main(["plan", str(dot_run), *AGENT]) == 0
    report = (out / "report.md").read_text()
    assert "dot: start and goal uniform in the square" in report
    assert "distances in cells" in report
    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes"] == 6 and summary["units"] == "cells"
    # the agent reaches goals a random policy does not, on the same tasks
    assert summary["success_rate"] >= 4 / 6
    assert random_successes(sample_tasks(6, 0, {}), max_steps=40) <= 1
    episodes = json.loads((out / "episodes.json").read_text())
    assert all(len(e["positions"]) == e["steps"] + 1 for e in episodes)
    assert (out / "trajectories.png").stat().st_size > 1000


def test_eval_without_states_says_it_cannot_probe(tmp_path, capsys):
    assert train_on(tmp_path, "fake_goal_env:DotGoalNoState-v0", "nostate", "train.steps=5") == 0
    assert main(["eval", str(tmp_path / "nostate"), "--windows", "50"]) == 0
    out = capsys.readouterr().out
    assert "position n/a" in out and "records no true states" in out
    assert "0.00" not in out
    saved = json.loads((tmp_path / "nostate" / "eval" / "eval.json").read_text())
    assert saved["probe_rmse"] is None and saved["rollout_position_rmse"] is None
    assert "probes" in saved["not_measured"]


def test_plan_without_a_task_set_fails_before_any_training(tmp_path, capsys):
    # fake_goal_env registers tasks for DotGoal-v0 only
    assert train_on(tmp_path, "fake_goal_env:DotGoalNoState-v0", "notasks", "train.steps=2") == 0
    assert main(["plan", str(tmp_path / "notasks")]) == 2
    err = capsys.readouterr().err
    assert "no task set for env 'DotGoalNoState-v0'" in err and "register_tasks" in err
    assert not (tmp_path / "notasks" / "agent").exists()  # no critic was trained


def test_unknown_plugin_is_one_clear_line(capsys):
    assert main(["--import", "no_such_plugin", "info"]) == 2
    assert "cannot import module 'no_such_plugin'" in capsys.readouterr().err


def test_hjepa_and_user_envs_follow_the_protocol():
    from hjepa.envs.goal import GoalEnv

    for env_id in (ENV, "hjepa/TwoRooms-v0", "hjepa/PendulumGoal-v0"):
        layer, layers = gymnasium.make(env_id), []
        while layer is not None:  # the protocol's layer may sit under Gymnasium's wrappers
            layers.append(layer)
            layer = getattr(layer, "env", None)
        assert any(isinstance(layer, GoalEnv) for layer in layers), env_id
        assert not isinstance(gymnasium.make("hjepa/Maze-v0").unwrapped.sim, GoalEnv)

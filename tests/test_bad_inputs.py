"""Bad inputs found by `benchmarks/bad_inputs.py` that once gave a traceback, an unclear error or
nothing at all: each now gets a clear error naming the culprit, before any work is done."""

import json
import re
import subprocess
import sys

import gymnasium
import numpy as np
import pytest
import torch

import hjepa.envs  # noqa: F401  (registers the envs with Gymnasium)
from hjepa.agent.config import AgentConfig, CostConfig
from hjepa.agent.configurator import Configurator
from hjepa.cli import main
from hjepa.config import load_config
from hjepa.config_schema import ObjectiveConfig
from hjepa.data.store import StoreError, TrajectoryStore
from hjepa.envs import make_sim
from hjepa.errors import ConfigError, ShapeError
from hjepa.jepa.losses import LOSS_KINDS
from hjepa.jepa.regularizers import REGULARIZERS
from hjepa.jepa.targets import TARGET_KINDS
from hjepa.nets.frame_encoder import FrameEncoder
from hjepa.plan import build_planner
from hjepa.world.model import WorldModel


@pytest.mark.parametrize(
    "override",
    [
        "optim.betas=[0.9,1.5]",
        "optim.weight_decay=-0.1",
        "train.threads=-2",
        "data.frames=1",
        "data.image_size=0",
        "data.num_workers=-1",
        "world.state_dim=0",
        "world.rollout_steps=0",
        "world.inverse_weight=-1",
        "objective.reg_weight=-1",
        "mask.mask_ratio=1.5",
    ],
)
def test_values_outside_their_limits_name_the_key(override):
    key = override.split("=")[0]
    with pytest.raises(ConfigError, match=f"^{re.escape(key)}: must be"):
        load_config("configs/two_rooms.yaml", [override])


@pytest.mark.parametrize(
    "override",
    [
        "planner.std=-0.5",
        "planner.temperature=0",
        "planner.lr=-1",
        "planner.restarts=0",
        "task.episodes=0",
        "task.max_steps=0",
        "critic.steps=-1",
        "critic.lr=-1",
        "cost.visit_radius=0",
        "memory.capacity=0",
    ],
)
def test_agent_values_outside_their_limits_name_the_key(override):
    key = override.split("=")[0]
    with pytest.raises(ConfigError, match=f"^{re.escape(key)}: must be"):
        load_config(None, [override], root=AgentConfig)


@pytest.mark.parametrize(
    "override, root",
    [("objective.loss=l3", None), ("train.precision=fp8", None), ("cost.energy=mean", AgentConfig)],
)
def test_values_outside_their_choices_name_the_key_and_the_choices(override, root):
    key, value = override.split("=")
    with pytest.raises(ConfigError, match=f"^{re.escape(key)}: expected one of .*'{value}'"):
        load_config(None, [override], root=root)


def test_config_choices_are_the_ones_the_models_know():
    choices = {
        f: ObjectiveConfig.__dataclass_fields__[f].metadata["choices"]
        for f in ("loss", "target", "regularizer")
    }
    assert set(choices["loss"]) == set(LOSS_KINDS)
    assert set(choices["target"]) == set(TARGET_KINDS)
    assert set(choices["regularizer"]) == set(REGULARIZERS)
    assert set(CostConfig.__dataclass_fields__["energy"].metadata["choices"]) == {"sum", "last"}


def test_a_yaml_key_given_twice_names_the_file_the_key_and_the_line(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("train:\n  steps: 5\n  steps: 50\n")
    with pytest.raises(ConfigError, match=r"twice\.yaml: .*key 'steps' given twice \(line 3\)$"):
        load_config(path)
    with pytest.raises(ConfigError, match="given twice"):
        load_config(None, ["data.env_kwargs={a: 1, a: 2}"])


def test_a_config_file_that_is_not_text_names_the_file(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\x80\x81\xfe\xff" * 16)
    with pytest.raises(ConfigError, match=r"binary\.yaml: not a text file"):
        load_config(path)


def test_an_override_without_a_key_is_refused():
    with pytest.raises(ConfigError, match=r"override '=5': expected key\.sub=value"):
        load_config(None, ["=5"])


COLLECT = ["collect", "hjepa/TwoRooms-v0", "--out", "s"]


@pytest.mark.parametrize(
    "argv, option",
    [
        ([*COLLECT, "--episodes", "0", "--steps", "3"], "--episodes"),
        ([*COLLECT, "--episodes", "2", "--steps", "0"], "--steps"),
        ([*COLLECT, "--episodes", "2", "--steps", "3", "--workers", "0"], "--workers"),
        (
            [*COLLECT, "--episodes", "2", "--steps", "3", "--shard-episodes", "-1"],
            "--shard-episodes",
        ),
        (["plan", "runs/x", "--episodes", "-2"], "--episodes"),
        (["plan", "runs/x", "--planner", "nope"], "--planner"),
    ],
)
def test_cli_counts_and_names_are_checked_by_the_option(
    argv, option, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert f"argument {option}:" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_a_bad_config_is_told_before_torch_is_imported(tmp_path):
    code = (
        "import sys\nfrom hjepa.cli import main\n"
        "code = main(['train', 'configs/two_rooms.yaml', 'optim.lr=nan'])\n"
        "print(code, 'torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.stdout.split() == ["2", "False"]
    assert "optim.lr: expected a finite number" in done.stderr


def test_a_goal_that_is_not_a_position_is_blamed_on_the_goal():
    env = gymnasium.make("hjepa/TwoRooms-v0")
    for goal in ("far", (1, 2, 3), {"x": 1}, [np.nan, 1.0]):
        with pytest.raises(ConfigError, match=r"options\['goal'\]: expected a finite \(x, y\)"):
            env.reset(options={"goal": goal})


@pytest.mark.parametrize(
    "env_id, kwargs, key",
    [
        ("hjepa/TwoRooms-v0", {"random_wall": "no"}, "random_wall: expected true or false"),
        ("hjepa/TwoRooms-v0", {"size": "big"}, "size: expected int"),
        ("hjepa/TwoRooms-v0", {"wall_x": 30.5}, "wall_x: expected int"),
        ("hjepa/Maze-v0", {"rooms": 3}, r"rooms: expected \(rows, cols\)"),
        ("hjepa/Maze-v0", {"random_layout": 1}, "random_layout: expected true or false"),
    ],
)
def test_env_kwargs_of_the_wrong_type_name_the_kwarg(env_id, kwargs, key):
    with pytest.raises(ConfigError, match=key):
        make_sim(env_id, 1, **kwargs)


def test_env_kwargs_of_the_right_type_still_work():
    assert make_sim("hjepa/TwoRooms-v0", 1, size=32.0, wall_x=np.int64(15)).size == 32


def test_rollout_checks_its_start_state():
    encoder = FrameEncoder(in_chans=2, img_size=16, pool=1, channels=(4, 8), embed_dim=8)
    model = WorldModel(encoder, action_dim=2, hidden=16, depth=2)
    actions = torch.zeros(2, 3, 2)
    with pytest.raises(ShapeError, match="s0: expected last dimension 8"):
        model.rollout(torch.zeros(2, 5), actions)
    with pytest.raises(ShapeError, match="s0: contains NaN"):
        model.rollout(torch.full((2, 8), float("nan")), actions)
    assert model.rollout(torch.zeros(2, 8), actions).shape == (2, 3, 8)


@pytest.mark.parametrize(
    "kind, options, message",
    [
        ("cem", {"samples": 0}, "planner samples must be > 0"),
        ("cem", {"samples": 8, "elites": 16}, r"planner elites \(16\) must be <= samples \(8\)"),
        ("mppi", {"temperature": 0.0}, "planner temperature must be > 0"),
        ("mppi", {"std": float("nan")}, "planner std must be > 0"),
        ("gradient", {"lr": -1.0}, "planner lr must be > 0"),
        ("gradient", {"restarts": 0}, "planner restarts must be > 0"),
    ],
)
def test_planner_options_are_checked_not_clamped(kind, options, message):
    with pytest.raises(ConfigError, match=message):
        build_planner(kind, **options)


def test_the_agent_refuses_to_execute_more_than_it_plans_before_loading_the_run(tmp_path):
    cfg = load_config(None, ["planner.horizon=4", "planner.execute=9"], root=AgentConfig)
    with pytest.raises(ConfigError, match=r"planner\.execute=9 is more than planner\.horizon=4"):
        Configurator(cfg, tmp_path / "no_run")
    cfg = load_config(None, ["planner.kind=cem", "planner.samples=8"], root=AgentConfig)
    with pytest.raises(ConfigError, match="elites"):
        Configurator(cfg, tmp_path / "no_run")


def test_a_malformed_shard_entry_in_meta_json_is_a_store_error(tmp_path):
    meta = {
        "format": "hjepa-trajectories",
        "format_version": 1,
        "env_id": "hjepa/TwoRooms-v0",
        "observation": {"shape": [2, 8, 8]},
        "action_dim": 2,
        "shards": [{"name": "shard_00000"}],
    }
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(StoreError, match=r"meta\.json: shard entry 0 is malformed"):
        TrajectoryStore(tmp_path)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["model.num_heads=5"], "model.num_heads=5 does not divide model.embed_dim=96"),
        (["model.pred_dim=50"], "model.num_heads=3 does not divide model.pred_dim=50"),
    ],
)
def test_heads_that_do_not_divide_the_width_are_named(overrides, message):
    from hjepa.experiment import build_model

    with pytest.raises(ConfigError, match=message):
        build_model(load_config("configs/ijepa_shapes.yaml", overrides))


def test_a_checkpoint_file_of_something_else_is_refused_naming_it(tmp_path):
    from hjepa.checkpoint import load_checkpoint
    from hjepa.errors import CheckpointError

    torch.save([1, 2, 3], tmp_path / "last.pt")
    with pytest.raises(CheckpointError, match="last.pt is not an hjepa training checkpoint"):
        load_checkpoint(tmp_path / "last.pt")


def test_a_results_folder_that_is_a_file_is_refused(tmp_path):
    from hjepa.io import fresh_results_folder

    (tmp_path / "taken").write_text("mine")
    with pytest.raises(ConfigError, match="taken is a file, not a results folder"):
        fresh_results_folder(tmp_path / "taken")
    assert (tmp_path / "taken").read_text() == "mine"

import pytest

from hjepa.agent.config import AgentConfig
from hjepa.config import Config, load_config, save_config
from hjepa.envs import make_sim
from hjepa.errors import ConfigError


def test_defaults_preset_and_overrides(tmp_path):
    cfg = load_config("configs/ijepa_shapes.yaml", ["optim.lr=3e-4", "mask.target_scale=[0.1,0.3]"])
    assert cfg.optim.lr == pytest.approx(3e-4)
    assert cfg.mask.target_scale == (0.1, 0.3)
    assert cfg.train.name == "ijepa_shapes"
    assert load_config().train.steps == Config().train.steps


def test_conv_stages_take_any_count():
    assert load_config(None, ["world.channels=[8,16,16,32]"]).world.channels == (8, 16, 16, 32)
    assert load_config(None, ["world.channels=[8]"]).world.channels == (8,)


def test_int_accepted_for_float():
    assert load_config(None, ["optim.lr=1"]).optim.lr == 1.0


@pytest.mark.parametrize(
    "override, key",
    [
        ("optim.learning_rate=1", "optim.learning_rate"),
        ("nosection.x=1", "nosection"),
        ("train.steps=abc", "train.steps"),
        ("train.steps=1.5", "train.steps"),
        ("train.progress=3", "train.progress"),
        ("mask.target_scale=[0.1]", "mask.target_scale"),
        ("world.channels=[]", "world.channels"),
        ("world.channels=[8,x]", r"world.channels\[1\]"),
        ("optim=3", "optim"),
    ],
)
def test_bad_keys_and_types_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(None, [override])


@pytest.mark.parametrize(
    "override, message",
    [
        ("optim.lr=nan", r"optim\.lr: expected a finite number"),
        ("optim.lr=.inf", r"optim\.lr: expected a finite number"),
        ("optim.lr=-1", r"optim\.lr: must be > 0\.0, got -1\.0"),
        ("optim.lr=0", r"optim\.lr: must be > 0\.0"),
        ("train.batch_size=0", r"train\.batch_size: must be >= 1, got 0"),
        ("train.steps=-5", r"train\.steps: must be >= 1, got -5"),
        ("data.episodes=0", r"data\.episodes: must be >= 1"),
        ("data.held_out=1.5", r"data\.held_out: must be < 1\.0, got 1\.5"),
        ("data.held_out=-0.1", r"data\.held_out: must be >= 0\.0"),
    ],
)
def test_values_outside_their_limits_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config("configs/two_rooms.yaml", [override])


def test_agent_planner_budgets_must_be_positive():
    with pytest.raises(ConfigError, match=r"planner\.samples: must be >= 1, got 0"):
        load_config(None, ["planner.samples=0"], root=AgentConfig)
    assert load_config(None, ["planner.samples=1"], root=AgentConfig).planner.samples == 1


def test_a_yaml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("train: [1\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_config(path)


def test_unknown_env_kwargs_are_a_config_error():
    with pytest.raises(ConfigError, match=r"env kwargs of hjepa/Maze-v0 \{'nope': 1\}"):
        make_sim("hjepa/Maze-v0", 1, nope=1)


def test_missing_file_and_bad_override_syntax(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="key.sub=value"):
        load_config(None, ["train.steps"])


def test_saved_config_round_trips(tmp_path):
    cfg = load_config("configs/ijepa_shapes.yaml", ["train.seed=7"])
    save_config(cfg, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == cfg


def test_shipped_presets_load_from_any_working_directory(tmp_path, monkeypatch):
    here = load_config("configs/two_rooms.yaml")
    monkeypatch.chdir(tmp_path)
    assert load_config("configs/two_rooms.yaml") == here
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "two_rooms.yaml").write_text("train:\n  name: mine\n")
    assert load_config("configs/two_rooms.yaml").train.name == "mine"  # a local file wins
    with pytest.raises(ConfigError, match="not found: configs/nope.yaml"):
        load_config("configs/nope.yaml")

import pytest

from hjepa.config import Config, load_config, save_config
from hjepa.errors import ConfigError


def test_defaults_preset_and_overrides(tmp_path):
    cfg = load_config("configs/ijepa_shapes.yaml", ["optim.lr=3e-4", "mask.target_scale=[0.1,0.3]"])
    assert cfg.optim.lr == pytest.approx(3e-4)
    assert cfg.mask.target_scale == (0.1, 0.3)
    assert cfg.train.name == "ijepa_shapes"
    assert load_config().train.steps == Config().train.steps


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
        ("optim=3", "optim"),
    ],
)
def test_bad_keys_and_types_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(None, [override])


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

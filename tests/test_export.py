"""Tests for hjepa.nets.export: safetensors + config.json round trips and failure modes."""

import json

import pytest
import torch

import hjepa
from hjepa.errors import CheckpointError, ConfigError
from hjepa.nets.export import export_model, load_model
from hjepa.nets.registry import build

VIT_KWARGS = dict(img_size=(16, 8), patch_size=4, embed_dim=16, depth=1, num_heads=2)


@pytest.fixture
def exported(tmp_path):
    torch.manual_seed(0)
    model = build("vit", **VIT_KWARGS).eval()
    out = export_model(model, "vit", VIT_KWARGS, tmp_path / "export")
    return model, out


def test_round_trip_gives_identical_outputs(exported):
    model, out = exported
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((out / "config.json").read_text())
    assert config["name"] == "vit" and config["hjepa_version"] == hjepa.__version__
    loaded = load_model(out)
    x = torch.randn(2, 3, 16, 8)
    assert torch.equal(loaded(x), model(x))


def test_predictor_round_trip_with_tuple_kwargs(tmp_path):
    kwargs = dict(num_patches=8, grid_size=(2, 4), in_dim=8, pred_dim=8, depth=1, num_heads=2)
    model = build("token_predictor", **kwargs).eval()
    loaded = load_model(export_model(model, "token_predictor", kwargs, tmp_path))
    ctx, ci, ti = torch.randn(1, 3, 8), torch.tensor([[0, 1, 2]]), torch.tensor([[7, 5]])
    assert torch.equal(loaded(ctx, ci, ti), model(ctx, ci, ti))


def test_truncated_weights_raise_checkpoint_error(exported):
    _, out = exported
    weights = out / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_model(out)
    config = json.loads((out / "config.json").read_text())
    del config["weights_sha256"]  # an export from before the checksum: safetensors' own check
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_model(out)


def test_weights_damaged_in_place_are_refused_naming_the_file(exported):
    model, out = exported
    weights = out / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-200:-100] = bytes(100)  # zeros inside the tensor data: safetensors cannot tell
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model\.safetensors: damaged"):
        load_model(out)
    export_model(model, "vit", VIT_KWARGS, out)  # exporting again repairs it
    x = torch.randn(1, 3, 16, 8)
    assert torch.equal(load_model(out)(x), model(x))


def test_missing_files_raise_checkpoint_error(exported, tmp_path):
    _, out = exported
    (out / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="missing weights"):
        load_model(out)
    with pytest.raises(CheckpointError, match="config.json: missing"):
        load_model(tmp_path / "nowhere")


def test_corrupt_or_mismatched_config_raises_checkpoint_error(exported):
    _, out = exported
    config_path = out / "config.json"
    config = json.loads(config_path.read_text())
    config["kwargs"]["embed_dim"] = 32
    config_path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="shape mismatches"):
        load_model(out)
    config["name"] = "no_such_model"
    config_path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="cannot rebuild"):
        load_model(out)
    config_path.write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt JSON"):
        load_model(out)


def test_export_validates_name_and_leaves_no_temp_files(tmp_path):
    model = build("mlp_encoder", in_dim=3, embed_dim=4)
    with pytest.raises(ConfigError):
        export_model(model, "mlp_encoder", {"in_dim": 3, "bogus": 1}, tmp_path)
    export_model(model, "mlp_encoder", {"in_dim": 3, "embed_dim": 4}, tmp_path)
    export_model(model, "mlp_encoder", {"in_dim": 3, "embed_dim": 4}, tmp_path)  # overwrite
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]

"""Evaluating image runs: the attentive probe, last-layer features, factor R^2, `hjepa eval`."""

import json

import pytest
import torch

from hjepa.cli import main
from hjepa.config import load_config
from hjepa.errors import ConfigError
from hjepa.eval.attentive import AttentiveClassifier, attentive_accuracy
from hjepa.eval.classify import probe_accuracy
from hjepa.eval.images import evaluate_image_run, factor_r2
from hjepa.masking import build_masks
from hjepa.nets.vit import VisionTransformer
from hjepa.train.trainer import train
from tiny import TINY_IJEPA


def needle_tokens(n, seed, classes=4, tokens=12, dim=16):
    """Noise tokens where one token, at a random place, carries the class (a large value in
    that class's dimension): the mean over tokens dilutes it 12x, attention can find it."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, tokens, dim, generator=gen)
    y = torch.randint(classes, (n,), generator=gen)
    where = torch.randint(tokens, (n,), generator=gen)
    x[torch.arange(n), where, y] += 6.0
    x[torch.arange(n), where, classes:] += 6.0  # marks the needle token itself
    return x, y


def test_attentive_probe_finds_the_token_that_carries_the_class():
    train_x, train_y = needle_tokens(1000, seed=1)
    test_x, test_y = needle_tokens(500, seed=2)
    assert attentive_accuracy(train_x, train_y, test_x, test_y, steps=300) >= 0.95
    pooled = probe_accuracy("linear", train_x.mean(1), train_y, test_x.mean(1), test_y)
    assert pooled < 0.9  # the same task through mean pooling is harder


def test_attentive_probe_is_seeded_and_at_chance_on_shuffled_labels():
    x, y = needle_tokens(400, seed=3)
    a = AttentiveClassifier(x, y, steps=20, seed=5).predict(x)
    b = AttentiveClassifier(x, y, steps=20, seed=5).predict(x)
    assert torch.equal(a, b)
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    test_x, test_y = needle_tokens(400, seed=4)
    assert attentive_accuracy(x, shuffled, test_x, test_y, steps=100) < 0.4


def test_last_layers_of_one_block_are_the_encoder_output():
    vit = VisionTransformer(
        img_size=16, patch_size=4, in_chans=3, embed_dim=16, depth=3, num_heads=2
    )
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(vit.last_layers(x, 1), vit.forward_features(x), atol=1e-6)
        assert vit.last_layers(x, 3).shape == (2, 16, 48)
    with pytest.raises(ConfigError, match="1..3 blocks"):
        vit.last_layers(x, 4)


def test_factor_r2_is_one_for_linear_factors_and_near_zero_for_noise():
    gen = torch.Generator().manual_seed(0)
    z, w = torch.randn(400, 8, generator=gen), torch.randn(8, 2, generator=gen)
    train = {"pooled": z[:300], "factors": (z @ w)[:300]}
    test = {"pooled": z[300:], "factors": (z @ w)[300:]}
    assert all(r2 > 0.999 for r2 in factor_r2(train, test, ("a", "b")).values())
    noise = torch.randn(400, 1, generator=gen)
    r2 = factor_r2({**train, "factors": noise[:300]}, {**test, "factors": noise[300:]}, ("n",))
    assert r2["n"] < 0.1
    assert factor_r2({"pooled": z}, test, ("a",)) == {}


@pytest.mark.slow
def test_tiny_ijepa_run_probes_above_chance(tmp_path, capsys):
    overrides = [
        *TINY_IJEPA,
        "data.source=digits",
        "data.channels=1",
        "data.held_out=0.25",
        "model.embed_dim=32",
        "train.steps=60",
        "train.batch_size=32",
        f"train.run_dir={tmp_path}",
        "train.name=tiny",
    ]
    train(load_config("configs/ijepa_shapes.yaml", overrides))
    assert main(["eval", str(tmp_path / "tiny"), "--probe", "linear", "--probe", "attentive"]) == 0
    result = json.loads((tmp_path / "tiny" / "eval" / "eval.json").read_text())
    assert result["probe_accuracy"]["linear"] > 0.6  # 10 classes: chance is 0.1
    assert result["probe_accuracy"]["attentive"] > 0.6
    assert result["test_samples"] == 449 and result["factor_r2"] == {}
    assert "linear probe: test accuracy" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="unknown probe"):
        evaluate_image_run(tmp_path / "tiny", ("nearest",))


@pytest.mark.slow
def test_tiny_vjepa_run_probes_class_above_chance_and_reports_dynamics(tmp_path, capsys):
    overrides = [
        "data.num_samples=512",
        "data.test_samples=256",
        "model.embed_dim=48",
        "model.depth=2",
        "model.pred_dim=24",
        "model.num_heads=2",
        "train.steps=40",
        "train.progress=false",
        "train.tensorboard=false",
        f"train.run_dir={tmp_path}",
        "train.name=tiny",
    ]
    cfg = load_config("configs/vjepa_moving_objects.yaml", overrides)
    masks = build_masks(cfg)(4, torch.Generator().manual_seed(0))
    frames, cells = 4, 64  # 8 frames / tubelet 2; (32 / 4)^2 cells per token frame
    target_cells = (masks["target_idx"] % cells).reshape(4, frames, -1)
    assert (target_cells == target_cells[:, :1]).all()  # every target tube spans all frames
    train(cfg)
    assert main(["eval", str(tmp_path / "tiny")]) == 0
    result = json.loads((tmp_path / "tiny" / "eval" / "eval.json").read_text())
    assert result["probe_accuracy"]["linear"] > 0.35  # 4 classes: chance is 0.25
    assert set(result["other_labels"]) == {"direction_class"}
    assert set(result["factor_r2"]) == {"speed", "direction_sin", "direction_cos", "bounces"}
    assert "linear probe of direction_class" in capsys.readouterr().out

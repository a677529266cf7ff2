"""TS-JEPA: the series encoder, masks among valid patches, the two series models, forecasting and
anomaly scores, and a tiny end-to-end run."""

import numpy as np
import pytest
import torch

from hjepa.config import load_config
from hjepa.errors import ConfigError, DataError, ShapeError
from hjepa.eval.series_anomaly import anomaly_scores
from hjepa.eval.series_forecast import JEPAForecaster
from hjepa.experiment import build_model
from hjepa.jepa.masks import mask_noise, masks_from_noise
from hjepa.modalities.series_splits import series_dataset
from hjepa.nets.series import SeriesTransformer, series_patches, valid_patches

TINY = [
    "model.embed_dim=16",
    "model.depth=1",
    "model.num_heads=2",
    "model.pred_dim=16",
    "model.pred_depth=1",
]


def series_config(tmp_path, *overrides):
    where = [f"train.run_dir={tmp_path}", "train.progress=false", "train.tensorboard=false"]
    return load_config("configs/tsjepa_procedural.yaml", [*where, *TINY, *overrides])


def padded_batch(lengths, channels=2, total=32, seed=0):
    x = torch.randn(len(lengths), channels, total, generator=torch.Generator().manual_seed(seed))
    for i, n in enumerate(lengths):
        x[i, :, n:] = float("nan")
    return x


@pytest.mark.parametrize("mode, rows", [("mixing", 1), ("independent", 3)])
def test_encoder_tokens_and_pooled_shapes(mode, rows):
    enc = SeriesTransformer(8, 4, in_chans=3, embed_dim=16, depth=1, num_heads=2, channel_mode=mode)
    x = torch.randn(5, 3, 32)
    assert enc.forward_features(x).shape == (5 * rows, 8, 16)
    assert enc.pool(enc.forward_features(x), x).shape == (5, 16 * rows)
    keep = torch.tensor([[0, 2, 5]]).expand(5 * rows, -1)
    assert enc.forward_features(x, keep=keep).shape == (5 * rows, 3, 16)
    assert series_patches(x, 4, rows).shape == (5 * rows, 8, 4 * 3 // rows)


def test_series_patches_hold_each_patch_values_in_time_then_channel_order():
    x = torch.arange(2 * 8, dtype=torch.float32).reshape(1, 2, 8)
    patches = series_patches(x, 4, 1)
    assert patches[0, 1].tolist() == [4, 12, 5, 13, 6, 14, 7, 15]
    assert series_patches(x, 4, 2)[1, 0].tolist() == [8, 9, 10, 11]


def test_padding_is_never_attended_to():
    """A short series pools to the same features alone or padded beside a longer one."""
    enc = SeriesTransformer(8, 4, in_chans=2, embed_dim=16, depth=2, num_heads=2).eval()
    batch = padded_batch([12, 32])
    with torch.no_grad():
        together = enc.pool(enc.forward_features(batch), batch)
        alone = enc.pool(enc.forward_features(batch[:1]), batch[:1])
        other = batch.clone()
        other[1] = torch.randn(2, 32)
        swapped = enc.pool(enc.forward_features(other), other)
    assert torch.isfinite(together).all()
    assert torch.allclose(together[0], alone[0], atol=1e-5)
    assert torch.allclose(together[0], swapped[0], atol=1e-5)


def test_context_with_padding_patches_is_refused():
    enc = SeriesTransformer(8, 4, in_chans=2, embed_dim=16, depth=1, num_heads=2)
    with pytest.raises(ShapeError, match="padding"):
        enc.forward_features(padded_batch([12, 32]), keep=torch.tensor([[0, 5], [0, 5]]))


def test_masks_draw_disjoint_valid_patches_only():
    gen = torch.Generator().manual_seed(0)
    valid = valid_patches(padded_batch([14, 32, 24, 9], total=32), 2)
    for block in (1, 3):
        noise = mask_noise(4, 16, gen, block=block)
        context, target = masks_from_noise(noise, valid, 0.7)
        fewest = int(valid.sum(1).min())
        assert target.shape[1] == round(0.7 * fewest) and context.shape[1] + target.shape[1] == 4
        for row in range(4):
            chosen = torch.cat([context[row], target[row]])
            assert valid[row, chosen].all() and len(set(chosen.tolist())) == fewest


def test_block_masks_take_contiguous_runs():
    gen = torch.Generator().manual_seed(1)
    noise = mask_noise(64, 32, gen, block=4)
    _, target = masks_from_noise(noise, torch.ones(64, 32, dtype=torch.bool), 0.5)
    runs = (target.diff(dim=1) != 1).sum(1) + 1
    assert runs.float().mean() <= 6  # 16 targets in runs of <= 4: about 4-5 runs, not ~8 at random


def test_masks_need_two_whole_patches():
    with pytest.raises(ConfigError, match="at least 2"):
        masks_from_noise(torch.rand(1, 4), torch.tensor([[True, False, False, False]]), 0.7)


@pytest.mark.parametrize("kind", ["tsjepa", "ts_mae"])
@pytest.mark.parametrize("mode", ["mixing", "independent"])
def test_padding_never_reaches_the_loss(tmp_path, kind, mode):
    """NaN padding that leaked anywhere would make the loss or a gradient NaN."""
    cfg = series_config(
        tmp_path, f"model.kind={kind}", "model.max_patches=8", "model.patch_size=4",
        "data.channels=2", f"model.channel_mode={mode}", "objective.regularizer=sigreg",
    )  # fmt: skip
    model = build_model(cfg)
    batch = {"series": padded_batch([13, 32, 20]), "mask_noise": torch.rand(3, 8)}
    loss, _ = model(batch)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_a_latent_z_reaches_the_series_predictor(tmp_path):
    model = build_model(series_config(tmp_path, "model.latent_dim=4"))
    batch = {"series": torch.randn(4, 1, 128), "mask_noise": torch.rand(4, 16)}
    loss, metrics = model(batch)
    assert torch.isfinite(loss) and "z_kl" in metrics
    context, target = torch.arange(0, 16, 2).expand(4, -1), torch.arange(1, 16, 2).expand(4, -1)
    assert model.token_errors(batch["series"], context, target).shape == (4, 8)


def test_ema_target_is_not_trained_by_the_loss(tmp_path):
    model = build_model(series_config(tmp_path, "model.max_patches=16"))
    batch = {"series": torch.randn(4, 1, 128), "mask_noise": torch.rand(4, 16)}
    before = [p.detach().clone() for p in model.target.parameters()]
    loss, _ = model(batch)
    loss.backward()
    assert all(p.grad is None for p in model.target.parameters())
    with torch.no_grad():
        for p in model.encoder.parameters():
            p.add_(1.0)
    model.update_target(0, 10)  # momentum 0.996 at step 0
    online = list(model.encoder.parameters())
    for old, new, enc in zip(before, model.target.parameters(), online, strict=True):
        assert torch.allclose(new, 0.996 * old + 0.004 * enc, atol=1e-6)


def test_reconstruction_loss_is_the_mean_squared_error_of_target_patches(tmp_path):
    model = build_model(series_config(tmp_path, "model.kind=ts_mae"))
    x = torch.randn(2, 1, 128)
    context, target = torch.arange(0, 16, 2).expand(2, -1), torch.arange(1, 16, 2).expand(2, -1)
    s_x = model.encoder.forward_features(x, keep=context)
    values = model.decoder(model.predictor(s_x, context, target))
    truth = x[:, 0].reshape(2, 16, 8)[:, 1::2]
    expected = (values - truth).pow(2).mean(-1)
    assert torch.allclose(model.token_errors(x, context, target), expected, atol=1e-6)


def test_forecaster_patch_layout_round_trips(tmp_path):
    cfg = series_config(
        tmp_path, "data.channels=3", "model.channel_mode=independent", "model.patch_size=4"
    )
    forecaster = JEPAForecaster(build_model(cfg), history=32, horizon=8)
    future = np.random.default_rng(0).normal(size=(5, 3, 8))
    rows = forecaster._patch_values(future)
    assert rows.shape == (5 * 3 * 2, 4)
    assert np.array_equal(forecaster._series_values(rows, 5), future)


def test_forecaster_predicts_the_horizon_and_checks_lengths(tmp_path):
    model = build_model(series_config(tmp_path))
    series = np.sin(np.arange(2000) / 5.0)[None]
    starts = range(0, 1800, 16)
    history = np.stack([series[:, s : s + 64] for s in starts])
    future = np.stack([series[:, s + 64 : s + 96] for s in starts])
    forecaster = JEPAForecaster(model, 64, 32).fit(history, future)
    assert forecaster.predict(history[:3]).shape == (3, 1, 32)
    with pytest.raises(ConfigError, match="exceed"):
        JEPAForecaster(model, 120, 16)
    with pytest.raises(ConfigError, match="multiples"):
        JEPAForecaster(model, 60, 16)


def test_anomaly_scores_cover_whole_patches_only(tmp_path):
    model = build_model(series_config(tmp_path)).eval()
    x = padded_batch([128, 100], channels=1, total=128)
    scores = anomaly_scores(model, x)
    assert scores.shape == (2, 128)
    assert np.isfinite(scores[0]).all()
    assert np.isfinite(scores[1, :96]).all() and np.isnan(scores[1, 96:]).all()


def test_series_dataset_refuses_a_channel_count_that_differs_from_the_run(tmp_path):
    with pytest.raises(DataError, match="data.channels=2"):
        series_dataset(series_config(tmp_path, "data.channels=2"))
    enc = SeriesTransformer(8, 4, in_chans=2, embed_dim=16, depth=1, num_heads=2)
    with pytest.raises(ShapeError, match="trained on 2 channel"):
        enc.forward_features(torch.randn(1, 3, 32))


def test_series_source_must_be_named(tmp_path):
    with pytest.raises(ConfigError, match="data.source"):
        series_dataset(series_config(tmp_path, "data.source="))


@pytest.mark.slow
def test_tiny_tsjepa_run_probes_well_above_chance(tmp_path):
    from hjepa.eval.series import evaluate_series_run
    from hjepa.experiment import load_run
    from hjepa.nets.export import load_model
    from hjepa.train.trainer import train

    cfg = series_config(
        tmp_path, "model.embed_dim=32", "model.pred_dim=32", "train.steps=150",
        "train.batch_size=32", "train.name=tiny", "optim.warmup_steps=10",
    )  # fmt: skip
    train(cfg)
    result = evaluate_series_run(tmp_path / "tiny", ("linear", "knn"))
    assert result["probe_accuracy"]["linear"] > 0.45  # 4 balanced classes: chance is 0.25
    assert (tmp_path / "tiny" / "eval" / "report.md").is_file()
    exported, model = load_model(tmp_path / "tiny" / "encoder"), load_run(tmp_path / "tiny")[1]
    x = series_dataset(cfg, "test")[0]["series"][None]
    assert torch.equal(exported.forward_features(x), model.encoder.forward_features(x))

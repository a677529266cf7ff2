import csv
import json
from pathlib import Path

import pytest
import torch

from hjepa.checkpoint import load_checkpoint
from hjepa.errors import CheckpointError, ConfigError, NonFiniteLossError, ShapeError
from hjepa.experiment import build_dataset, build_model, load_run
from hjepa.masking import build_masks
from hjepa.nets.export import load_model
from hjepa.runtime import torch_threads
from hjepa.train import precision, trainer
from hjepa.train.data import make_loader
from hjepa.train.trainer import train


def first_batch(cfg):
    loader = make_loader(build_dataset(cfg), build_masks(cfg), 8, 1, 0, 0, 0, 1)
    return next(iter(loader))


def read_metrics(run_dir):
    with (run_dir / "metrics.csv").open() as f:
        return [{k: v for k, v in row.items() if k != "samples_per_s"} for row in csv.DictReader(f)]


@pytest.mark.parametrize("target", ["ema", "stopgrad", "frozen", "none"])
def test_learnable_parameters_get_gradients_and_target_none(tiny_config, target):
    reg = "vicreg" if target == "none" else "none"
    cfg = tiny_config(f"objective.target={target}", f"objective.regularizer={reg}")
    model = build_model(cfg)
    loss, _ = model(first_batch(cfg))
    loss.backward()
    learnable = dict(model.encoder.named_parameters()) if target != "frozen" else {}
    learnable.update(model.predictor.named_parameters())
    for name, p in learnable.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    for name, p in model.target.named_parameters():
        assert not p.requires_grad and p.grad is None, name


@pytest.mark.parametrize("kind", ["ijepa", "generative", "mae", "autoencoder"])
def test_short_run_is_finite_and_fills_the_run_folder(tiny_config, kind):
    cfg = tiny_config(f"model.kind={kind}")
    result = train(cfg)
    assert result.step == 6 and torch.isfinite(torch.tensor(result.metrics["loss"]))
    run = result.run_dir
    for name in ("config.yaml", "metrics.csv", "summary.json", "checkpoints/last.pt"):
        assert (run / name).is_file(), name
    assert len(read_metrics(run)) == 6
    encoder = load_model(run / "encoder")
    state = load_checkpoint(run / "checkpoints" / "last.pt")["model"]
    x = first_batch(cfg)["image"]
    model = build_model(cfg)
    model.load_state_dict(state)
    assert torch.allclose(encoder.forward_features(x), model.encoder.forward_features(x))


@pytest.mark.parametrize(
    "overrides",
    [
        (),
        ("objective.target=none", "objective.regularizer=sigreg", "model.latent_dim=4"),
    ],
)
def test_resume_continues_exactly(tiny_config, overrides):
    straight = train(tiny_config("train.name=straight", *overrides))
    sliced_cfg = tiny_config("train.name=sliced", *overrides)
    first = train(sliced_cfg, stop_after=3)
    assert first.step == 3
    resumed = train(sliced_cfg, resume=True)
    assert resumed.step == 6
    a = load_checkpoint(straight.run_dir / "checkpoints" / "last.pt")
    b = load_checkpoint(resumed.run_dir / "checkpoints" / "last.pt")
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert read_metrics(straight.run_dir) == read_metrics(resumed.run_dir)


def test_collapse_is_detected_without_regularizer_only(tiny_config, capsys):
    collapse = (
        "objective.target=none",
        "objective.loss=l2",
        "train.steps=60",
        "train.monitor_every=20",
        "optim.lr=3e-3",
    )
    result = train(tiny_config("train.name=collapse", *collapse))
    assert result.collapse_steps
    assert "WARNING: representation collapse at step" in capsys.readouterr().out
    for reg in ("vicreg", "sigreg"):
        result = train(tiny_config(f"train.name={reg}", *collapse, f"objective.regularizer={reg}"))
        assert result.collapse_steps == [], reg


def test_nan_loss_stops_and_keeps_last_checkpoint(tiny_config, monkeypatch):
    cfg = tiny_config("train.steps=10")
    real_step = trainer.train_step

    def poisoned(ddp, model, optimizer, batch, cfg, step, device, amp):
        if step == 4:
            model.predictor.register_forward_hook(lambda m, i, o: o * float("nan"))
        return real_step(ddp, model, optimizer, batch, cfg, step, device, amp)

    monkeypatch.setattr(trainer, "train_step", poisoned)
    with pytest.raises(NonFiniteLossError, match="step 4: loss is nan"):
        train(cfg)
    run = cfg_run_dir(cfg)
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["step"] == 3
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert [int(r["step"]) for r in read_metrics(run)] == [0, 1, 2, 3]


def cfg_run_dir(cfg):
    return Path(cfg.train.run_dir) / cfg.train.name


def test_tensorboard_events_and_bf16_autocast(tiny_config):
    result = train(tiny_config("train.steps=2", "train.tensorboard=true", "train.precision=bf16"))
    assert list((result.run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert torch.isfinite(torch.tensor(result.metrics["loss"]))


def test_run_folder_guards(tiny_config):
    cfg = tiny_config("train.steps=3")
    train(cfg)
    with pytest.raises(ConfigError, match="--resume"):
        train(cfg)
    with pytest.raises(ConfigError, match="optim.lr"):
        train(tiny_config("train.steps=3", "optim.lr=0.5"), resume=True)
    with pytest.raises(CheckpointError, match="no run was started in .*fresh"):
        train(tiny_config("train.name=fresh"), resume=True)


def test_wrong_input_shape_is_named(tiny_config):
    cfg = tiny_config()
    model = build_model(cfg)
    batch = first_batch(cfg)
    with pytest.raises(ShapeError):
        model({**batch, "image": batch["image"][:, :2]})
    with pytest.raises(ShapeError, match="NaN"):
        model({**batch, "image": batch["image"] * float("nan")})
    with pytest.raises(ShapeError, match="context_idx"):
        model({"image": batch["image"]})


def test_interrupted_checkpoint_write_leaves_previous_intact(tiny_config, monkeypatch):
    cfg = tiny_config("train.steps=6")
    train(cfg, stop_after=3)
    path = cfg_run_dir(cfg) / "checkpoints" / "last.pt"
    before = path.read_bytes()

    real_write = Path.write_bytes

    def dies_mid_write(self, data):
        real_write(self, data[:100])
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", dies_mid_write)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, resume=True)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]


def test_a_damaged_checkpoint_is_refused_naming_the_file(tiny_config):
    cfg = tiny_config("train.steps=6")
    train(cfg, stop_after=3)
    path = cfg_run_dir(cfg) / "checkpoints" / "last.pt"
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(len(data[middle : middle + 2000]))  # zeros, same size
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"last\.pt is damaged: its SHA-256 checksum"):
        train(cfg, resume=True)
    with pytest.raises(CheckpointError, match="damaged"):
        load_run(cfg_run_dir(cfg))  # what eval and plan read


def test_resume_of_a_finished_run_keeps_its_results(tiny_config):
    cfg = tiny_config()
    train(cfg)
    summary = cfg_run_dir(cfg) / "summary.json"
    before = summary.read_bytes()
    with pytest.raises(ConfigError, match="already finished its 6 steps"):
        train(cfg, resume=True)
    assert summary.read_bytes() == before
    assert '"final_metrics": {}' not in before.decode()


def test_torch_threads_sets_then_restores_even_on_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), torch_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError
    assert torch.get_num_threads() == before
    with torch_threads(0):
        assert torch.get_num_threads() == before


@pytest.mark.parametrize("speedup, chosen", [(2.0, "bf16"), (1.1, "fp32")])
def test_auto_precision_keeps_bf16_only_where_measured_faster(
    tiny_config, monkeypatch, speedup, chosen
):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    monkeypatch.setattr(precision, "bf16_speedup", lambda *args: speedup)
    cfg = tiny_config("train.precision=auto", "train.steps=6")
    train(cfg, stop_after=3)
    monkeypatch.setattr(precision, "bf16_speedup", lambda *args: 3.0 - speedup)  # flips
    result = train(cfg, resume=True)  # ... but a resumed run keeps its recorded choice
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["precision"] == chosen
    assert load_checkpoint(result.run_dir / "checkpoints" / "last.pt")["precision"] == chosen


def test_bf16_speedup_is_measured_on_a_copy_without_touching_the_run(tiny_config, monkeypatch):
    cfg = tiny_config()
    model, batch, cpu = build_model(cfg), first_batch(cfg), torch.device("cpu")
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    before = torch.get_rng_state()
    monkeypatch.setattr(precision, "MIN_MEASURED_SECONDS", 0.0)
    assert precision.bf16_speedup(model, batch, cpu) > 0
    assert torch.equal(torch.get_rng_state(), before)  # the run's random draws are untouched
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    monkeypatch.setattr(precision, "MIN_MEASURED_SECONDS", 1e9)  # too short to matter
    assert precision.bf16_speedup(model, batch, cpu) == 1.0

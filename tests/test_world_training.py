"""A tiny end-to-end run: collect -> train the world model -> evaluate probes and rollouts."""

import json
import shutil

import pytest
import torch

from hjepa.config import load_config
from hjepa.data.store import TrajectoryStore
from hjepa.errors import ConfigError
from hjepa.eval.world_model import evaluate_world_model
from hjepa.experiment import build_dataset, load_run
from hjepa.run_data import prepare_store
from hjepa.train.trainer import train

TINY = [
    "data.episodes=24",
    "data.episode_steps=12",
    "data.frames=5",
    "data.held_out=0.25",
    "world.state_dim=8",
    "world.channels=[4,8,8]",
    "world.hidden=16",
    "world.rollout_steps=4",
    "train.steps=6",
    "train.batch_size=8",
    "train.progress=false",
    "train.tensorboard=false",
    "train.log_every=1",
    "train.monitor_every=3",
    "optim.warmup_steps=2",
]


def tiny(tmp_path, *overrides):
    return load_config("configs/two_rooms.yaml", [*TINY, f"train.run_dir={tmp_path}", *overrides])


VIT = ["world.encoder=vit", "model.patch_size=16", "model.depth=1", "model.num_heads=2"]


@pytest.mark.parametrize(
    "overrides",
    [
        ["model.kind=world_model"],
        ["model.kind=world_model_generative"],
        VIT,
        ["world.geodesic_weight=1.0"],
    ],
    ids=["jepa", "generative", "vit-encoder", "step-distance-latent"],
)
def test_collect_train_evaluate(tmp_path, overrides):
    cfg = tiny(tmp_path, *overrides)
    result = train(cfg)
    assert result.step == 6 and torch.isfinite(torch.tensor(result.metrics["loss"]))
    shaped = "world.geodesic_weight=1.0" in overrides
    assert ("geodesic_far" in result.metrics) == shaped
    assert (tmp_path / "data" / "two_rooms" / "meta.json").is_file()
    cfg, model = load_run(result.run_dir)
    run = result.run_dir
    train_set, held = build_dataset(cfg, run), build_dataset(cfg, run, "held_out")
    assert set(train_set.episodes).isdisjoint(held.episodes)
    facts = train_set.store.facts
    assert facts.position_names == ("x", "y") and facts.units == "px"
    out = evaluate_world_model(model, train_set, held, result.run_dir / "eval", facts, 64, 200)
    assert out["units"] == "px" and out["not_measured"] == {}
    assert len(out["rollout_position_rmse"]) == len(out["rollout_latent_error"]) == 4
    # the position error is the (x, y) columns' errors together: an independent recomputation
    for kind, columns in out["probe_rmse"].items():
        together = (columns["x"] ** 2 + columns["y"] ** 2) ** 0.5
        assert out["position_rmse"][kind] == pytest.approx(together, rel=1e-4)
    assert out["probe_rmse"].keys() == {"linear", "mlp", "neighbours"}
    assert out["probe_rmse"]["linear"].keys() == {"x", "y", "wall_x", "door_y"}
    assert (result.run_dir / "eval" / "rollout_error.png").stat().st_size > 1000
    saved = json.loads((result.run_dir / "eval" / "eval.json").read_text())
    assert saved["position_rmse"]["linear"] == pytest.approx(out["position_rmse"]["linear"])


def test_store_from_another_env_is_refused(tmp_path):
    train(tiny(tmp_path, "train.steps=1"))
    store = tmp_path / "data" / "two_rooms"
    other = tiny(tmp_path, f"data.path={store}", "data.env=hjepa/Maze-v0", "train.name=maze")
    with pytest.raises(ConfigError, match="collected in 'hjepa/TwoRooms-v0', but 'hjepa/Maze-v0'"):
        train(other)
    with pytest.raises(ConfigError, match="action_dim"):
        train(tiny(tmp_path, f"data.path={store}", "world.action_dim=3", "train.name=a3"))


def test_a_store_unlike_the_config_is_refused_naming_it_or_collected_anew_when_asked(tmp_path):
    train(tiny(tmp_path, "train.steps=1"))
    store = tmp_path / "data" / "two_rooms"
    episodes = len(TrajectoryStore(store))
    smaller = ["train.steps=1", "data.episodes=30", "data.episode_steps=10"]
    given = tiny(tmp_path, *smaller, f"data.path={store}", "train.name=other")
    with pytest.raises(ConfigError, match=f"{store} holds {episodes} episodes.*data.episodes=30"):
        train(given)
    shutil.rmtree(tmp_path / "two_rooms")  # the run deleted, its store left behind
    with pytest.raises(ConfigError, match="--overwrite"):
        train(tiny(tmp_path, *smaller))
    assert len(TrajectoryStore(store)) == episodes  # refused: the store is untouched
    train(tiny(tmp_path, *smaller), overwrite=True)  # the run's own store, collected anew
    assert len(TrajectoryStore(store)) == 30


def test_an_interrupted_collection_is_continued_into_the_store_it_would_have_made(tmp_path):
    overrides = ["train.steps=1", "data.episodes=300", "data.episode_steps=4"]
    whole = TrajectoryStore(prepare_store(tiny(tmp_path / "whole", *overrides)).path)
    store = tmp_path / "cut" / "data" / "two_rooms"
    prepare_store(tiny(tmp_path / "cut", *overrides))
    meta = json.loads((store / "meta.json").read_text())
    meta.update(shards=meta["shards"][:1], num_episodes=256, num_frames=256 * 5)
    (store / "meta.json").write_text(json.dumps(meta))  # what a kill after one shard leaves
    shutil.rmtree(store / "shard_00001")
    (store / ".tmp_0123_00002").mkdir()  # and a shard a worker had started
    train(tiny(tmp_path / "cut", *overrides))
    assert TrajectoryStore(store).fingerprint == whole.fingerprint
    assert not list(store.glob(".tmp_*"))


def test_refinement_trains_the_predictor_on_frozen_latents(tmp_path):
    from hjepa.world.refine import _windows, encode_episodes, refine_predictor

    cfg = tiny(tmp_path)
    train(cfg)
    _, model = load_run(tmp_path / "two_rooms")
    store = prepare_store(cfg)
    data = encode_episodes(model, store, range(len(store)), "cpu")
    windows = _windows(data, model.rollout_steps, 64, torch.Generator().manual_seed(1))

    def rollout_error():
        with torch.no_grad():
            states, actions = windows
            rolled = model.rollout(states[:, 0], actions)
            return (rolled - states[:, 1:]).pow(2).mean().item()

    encoder = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    before = rollout_error()
    metrics = refine_predictor(model, store, range(len(store)), 200, batch=32, progress=False)
    assert rollout_error() < 0.8 * before and metrics["refine_rollout_loss"] > 0
    assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in encoder.items())
    # the trainer refines at the end of a run and keeps the refined model
    refined = train(tiny(tmp_path, "train.name=refined", "world.refine_steps=5"))
    assert "refine_rollout_loss" in refined.metrics

"""The training loop, top to bottom: set up, (resume), then one `train_step` per batch.

Run folder `<train.run_dir>/<train.name>/`: config.yaml, metrics.csv, tensorboard/,
checkpoints/last.pt, encoder/ (safetensors + config.json), summary.json.
"""

import itertools
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from hjepa import __version__, distributed
from hjepa.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from hjepa.config import Config, from_dict, load_config, save_config, to_dict
from hjepa.errors import CheckpointError, ConfigError, NonFiniteLossError
from hjepa.experiment import (
    base_run_dir,
    build_dataset,
    build_model,
    encoder_spec,
    episode_split,
)
from hjepa.io import write_json_atomic
from hjepa.jepa.collapse import check_collapse
from hjepa.lock import exclusive
from hjepa.masking import build_masks
from hjepa.modalities.series_splits import series_dataset
from hjepa.modalities.text_pairs import TOKENIZER_FILE, train_tokenizer
from hjepa.nets.export import export_model
from hjepa.run_data import prepare_store, record_base_run, record_store, run_store
from hjepa.runtime import (
    autocast,
    rng_state,
    seed_everything,
    select_device,
    set_rng_state,
)
from hjepa.train.data import make_loader
from hjepa.train.logger import MetricsLogger, console
from hjepa.train.optim import apply_schedules, build_optimizer
from hjepa.train.precision import training_precision
from hjepa.world.refine import refine_predictor

# Keys that may differ between a run and its resumption: they change speed or output, not results.
RESUMABLE_CHANGES = {
    "train.device",
    "train.threads",
    "train.progress",
    "train.tensorboard",
    "data.num_workers",
    "data.in_memory",
}


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    metrics: dict = field(default_factory=dict)
    collapse_steps: list[int] = field(default_factory=list)
    precision: str = "fp32"  # what it trained in: fp32 or bf16 (autocast)


def train(
    cfg: Config, resume: bool = False, stop_after: int | None = None, overwrite: bool = False
) -> TrainResult:
    """Train `cfg` into its run folder. `resume` continues from checkpoints/last.pt exactly;
    `stop_after` ends this invocation after that many steps (with a checkpoint), for jobs that
    run in slices; `overwrite` deletes an existing run folder of the same name first."""
    device = select_device(cfg.train.device)
    with distributed.process_group(device):
        return _train(cfg, device, resume, stop_after, overwrite)


def _train(
    cfg: Config, device, resume: bool, stop_after: int | None, overwrite: bool
) -> TrainResult:
    if cfg.train.threads > 0:
        torch.set_num_threads(cfg.train.threads)
    run_dir = Path(cfg.train.run_dir) / cfg.train.name
    with exclusive(run_dir, "run folder") if distributed.is_main() else nullcontext():
        state = _prepare_run_dir(run_dir, cfg, resume, overwrite)
        return _train_from(state, run_dir, cfg, device, stop_after)


def _train_from(state: dict | None, run_dir: Path, cfg: Config, device, stop_after) -> TrainResult:
    rank, world = distributed.rank(), distributed.world_size()
    seed_everything(cfg.train.seed + rank)

    model = build_model(cfg, run_dir).to(device)
    optimizer = build_optimizer(model, cfg.optim)
    start = 0 if state is None else state["step"]
    total = cfg.train.steps
    stop = total if stop_after is None else min(total, start + stop_after)
    loader = make_loader(
        build_dataset(cfg, run_dir),
        build_masks(cfg),
        cfg.train.batch_size,
        world,
        rank,
        cfg.train.seed,
        start,
        stop,
        cfg.data.num_workers,
    )
    batches = iter(loader)  # draws from the global RNG: must come before restoring RNG state
    if state is not None:
        _restore(state, model, optimizer, rank)
    first = next(batches, None)  # the loader's first draws use the restored RNG state
    amp = _precision(cfg, device, state, model, first)
    batches = itertools.chain([] if first is None else [first], batches)
    ddp = DistributedDataParallel(model) if world > 1 else model
    logger = MetricsLogger(run_dir, cfg.train.tensorboard) if distributed.is_main() else None
    if logger is not None and start > 0:
        logger.drop_after(start - 1)
    result = TrainResult(run_dir, start, {} if state is None else state.get("metrics", {}))
    result.precision = "fp32" if amp is None else "bf16"
    bar = tqdm(
        total=total,
        initial=start,
        desc=cfg.train.name,
        disable=not (cfg.train.progress and distributed.is_main()),
        unit="step",
    )
    tick = time.perf_counter()
    for step, batch in zip(range(start, stop), batches, strict=True):
        batch = _to_device(batch, device)
        metrics = train_step(ddp, model, optimizer, batch, cfg, step, device, amp)
        if _due(step, cfg.train.monitor_every, total):
            metrics.update(_monitor(model, batch, cfg, step, result))
        elapsed, tick = time.perf_counter() - tick, time.perf_counter()
        metrics["samples_per_s"] = cfg.train.batch_size * world / elapsed
        result.step, result.metrics = step + 1, metrics
        if logger is not None and _due(step, cfg.train.log_every, total):
            logger.log(step, metrics)
            bar.set_postfix(loss=f"{metrics['loss']:.4f}", sps=f"{metrics['samples_per_s']:.0f}")
        bar.update(1)
        if _due(step, cfg.train.checkpoint_every, total) or step + 1 == stop:
            _checkpoint(run_dir, model, optimizer, cfg, step + 1, metrics, result.precision)
    bar.close()
    if logger is not None:
        logger.close()
    if distributed.is_main() and result.step == total:
        refined = state is not None and state.get("refined", False)
        if cfg.model.kind == "world_model" and cfg.world.refine_steps > 0 and not refined:
            result.metrics.update(_refine(model, cfg, run_dir))
            _checkpoint(
                run_dir, model, optimizer, cfg, total, result.metrics, result.precision, True
            )
        _finish(run_dir, model, cfg, result)
    return result


def _precision(cfg: Config, device, state: dict | None, model, batch: dict | None):
    """The autocast dtype of the run: a resumed run's recorded one, else `train.precision`
    (`auto`: measured on the first batch, said on the console)."""
    if state is not None and "precision" in state:
        return None if state["precision"] == "fp32" else torch.bfloat16
    if batch is None:
        return None
    amp = training_precision(cfg.train.precision, device, model, _to_device(batch, device))
    if cfg.train.precision == "auto" and distributed.is_main():
        console(f"train.precision auto: {'bf16 autocast' if amp else 'fp32'} on {device.type}")
    return amp


def _to_device(batch: dict, device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def _refine(model, cfg: Config, run_dir: Path) -> dict:
    """The world model's predictor refined on frozen latents of the training episodes."""
    store = run_store(run_dir, cfg)
    train_episodes, _ = episode_split(cfg, store)
    w = cfg.world
    return refine_predictor(
        model,
        store,
        train_episodes,
        w.refine_steps,
        w.refine_batch,
        w.refine_lr,
        seed=cfg.train.seed,
        progress=cfg.train.progress,
    )


def train_step(ddp, model, optimizer, batch, cfg: Config, step: int, device, amp) -> dict:
    """One update: schedules, forward, finite check, backward, clip, AdamW, target update."""
    lr, wd = apply_schedules(optimizer, cfg.optim, step, cfg.train.steps)
    with autocast(device, amp):
        loss, metrics = ddp(batch)
    _check_finite(loss, metrics, step)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    clip = cfg.optim.grad_clip if cfg.optim.grad_clip > 0 else float("inf")
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    if not torch.isfinite(grad_norm):
        raise NonFiniteLossError(f"step {step}: gradient norm is {grad_norm.item()}; not applied")
    optimizer.step()
    target_metrics = model.update_target(step, cfg.train.steps)
    loss_value = distributed.all_reduce_mean(loss.detach())
    return {
        "loss": float(loss_value),
        **{k: float(v) for k, v in metrics.items()},
        **target_metrics,
        "lr": lr,
        "weight_decay": wd,
        "grad_norm": float(grad_norm),
    }


def _check_finite(loss: torch.Tensor, metrics: dict, step: int) -> None:
    bad = torch.tensor(float(not torch.isfinite(loss.detach())))
    if distributed.all_reduce_mean(bad) > 0:
        terms = ", ".join(f"{k}={float(v):.4g}" for k, v in metrics.items())
        raise NonFiniteLossError(
            f"step {step}: loss is {loss.item()} ({terms}); stopping before the update. "
            "The last checkpoint is untouched; lower optim.lr or check the input data."
        )


def _monitor(model, batch, cfg: Config, step: int, result: TrainResult) -> dict:
    """Collapse metrics of the model's representations (a dict of them: each, prefixed)."""
    representations = model.representations(batch)
    if not isinstance(representations, dict):
        representations = {"": representations}
    metrics = {}
    for name, z in representations.items():
        report = check_collapse(z, cfg.train.collapse_std, cfg.train.collapse_rank)
        prefix = f"{name}/" if name else ""
        if report.collapsed:
            result.collapse_steps.append(step)
            if distributed.is_main():
                console(f"WARNING: {prefix}{report.message(step)}")
        metrics.update({prefix + k: v for k, v in report.metrics().items()})
    return metrics


def _due(step: int, every: int, total: int) -> bool:
    return every > 0 and ((step + 1) % every == 0 or step + 1 == total)


def _prepare_run_dir(run_dir: Path, cfg: Config, resume: bool, overwrite: bool) -> dict | None:
    """Validate the folder against `resume`; return the checkpoint state to resume from (a run
    killed after its last step but before its summary resumes to finish: refine, export)."""
    if overwrite and resume:
        raise ConfigError("--overwrite and --resume contradict each other")
    if overwrite and distributed.is_main():
        shutil.rmtree(run_dir, ignore_errors=True)
    distributed.barrier()
    checkpoint = latest_checkpoint(run_dir / "checkpoints")
    if resume and checkpoint is None:
        _check_started(run_dir, cfg)  # killed before its first checkpoint: start again
    elif resume:
        state = load_checkpoint(checkpoint)
        _check_same_config(from_dict(state["config"]), cfg)
        if state["step"] >= cfg.train.steps and (run_dir / "summary.json").is_file():
            raise ConfigError(
                f"--resume: the run in {run_dir} already finished its {state['step']} steps; "
                f"its results stay as they are (train a new run to train longer)"
            )
        return state
    if checkpoint is not None:
        raise ConfigError(
            f"run folder {run_dir} already holds a checkpoint; pass --resume to continue it "
            "or choose another train.name"
        )
    if cfg.data.name == "series":  # unusable series are refused before the folder is made
        for split in ("train", "test"):
            series_dataset(cfg, split)
    if cfg.data.name in ("images", "video"):  # so are unusable image or video files
        build_dataset(cfg, split="test")  # (reads the training source too)
    text = cfg.data.name == "text_pairs" and distributed.is_main()
    tokenizer = train_tokenizer(cfg) if text else None  # so are unusable pairs
    if distributed.is_main():
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / "config.yaml")
        if tokenizer is not None:
            tokenizer.save(run_dir / TOKENIZER_FILE)
        (run_dir / "metrics.csv").unlink(missing_ok=True)
        _record_data(run_dir, cfg, overwrite)
    distributed.barrier()  # the other ranks wait for rank 0's collection
    return None


def _record_data(run_dir: Path, cfg: Config, overwrite: bool) -> None:
    """Prepare the run's data (collect its store, where needed) and record where it is."""
    if cfg.model.kind == "hierarchy":
        record_base_run(run_dir, base_run_dir(cfg))
    elif cfg.data.name == "trajectories":
        record_store(run_dir, prepare_store(cfg, overwrite))


def _check_started(run_dir: Path, cfg: Config) -> None:
    """`--resume` of a run with no checkpoint yet: it must have been started with this config."""
    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(f"--resume: no run was started in {run_dir} (no config.yaml there)")
    _check_same_config(load_config(run_dir / "config.yaml"), cfg)
    if distributed.is_main():
        console(f"--resume: {run_dir} has no checkpoint yet; training starts from step 0")


def _check_same_config(saved: Config, cfg: Config) -> None:
    old, new = _flatten(to_dict(saved)), _flatten(to_dict(cfg))
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    changed = [k for k in changed if k not in RESUMABLE_CHANGES]
    if changed:
        diffs = "; ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed)
        raise ConfigError(f"--resume with a different config would not continue the run ({diffs})")


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def _restore(state: dict, model, optimizer, rank: int) -> None:
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    rngs = state["rng"]
    if len(rngs) != distributed.world_size():
        raise CheckpointError(
            f"checkpoint was written by {len(rngs)} processes; resume with the same number"
        )
    set_rng_state(rngs[rank])


def _checkpoint(
    run_dir: Path, model, optimizer, cfg, step, metrics: dict, precision, refined: bool = False
) -> None:
    """Save the training state after `step` steps, with that step's metrics, the precision
    trained in (and whether the predictor's refinement is done), for `--resume`."""
    rngs = [rng_state()]
    if distributed.is_distributed():
        rngs = [None] * distributed.world_size()
        torch.distributed.all_gather_object(rngs, rng_state())
    if not distributed.is_main():
        return
    state = {
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": rngs,
        "config": to_dict(cfg),
        "hjepa_version": __version__,
        "metrics": metrics,
        "refined": refined,
        "precision": precision,
    }
    save_checkpoint(state, run_dir / "checkpoints")


def _finish(run_dir: Path, model, cfg: Config, result: TrainResult) -> None:
    name, kwargs = encoder_spec(cfg, run_dir)
    export_model(model.encoder, name, kwargs, run_dir / "encoder")
    summary = {
        "step": result.step,
        "final_metrics": result.metrics,
        "collapse_warnings_at_steps": result.collapse_steps,
        "precision": result.precision,
    }
    write_json_atomic(run_dir / "summary.json", summary)

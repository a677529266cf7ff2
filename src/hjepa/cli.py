"""The `hjepa` command. The only module that knows the command line; library code raises
HjepaError and this turns it into one clear line and exit status 2. Torch and the models are
imported only once the arguments and configs are checked, so a mistake is told at once."""

import argparse
import importlib.util
import os
import platform
import sys

from hjepa import __version__
from hjepa.errors import HjepaError
from hjepa.plugins import ENTRY_POINT_GROUP, import_plugins

OPTIONAL = {
    "tensorboard": "tensorboard (TensorBoard logging)",
    "aeon": "timeseries (bundled UCR/UEA series, .ts files)",
    "tokenizers": "text (language models: the BPE tokenizer)",
    "transformers": "text (Hugging Face causal LMs with the JEPA terms)",
    "sklearn": "images (data.source=digits)",
    "av": "video (.mp4 / .avi clips)",
    "gym_pusht": "pusht (the Push-T env, hjepa/PushT-v0)",
}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and hasattr(args, "overrides") and all("=" in e for e in extra):
        args.overrides += extra  # overrides written after an --option
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        import_plugins([*args.imports, *args.command_imports])
        return args.func(args)
    except HjepaError as exc:
        print(f"hjepa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hjepa: interrupted; the last checkpoint is intact (continue with --resume)")
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hjepa",
        description=__doc__.splitlines()[0],
        epilog=f"Plug-ins: --import MODULE (before or after the command, repeatable), or an "
        f"installed package's entry points in group {ENTRY_POINT_GROUP!r}, or an env id "
        "written MODULE:EnvId; each registers its envs, task sets and policies on import.",
    )
    parser.add_argument("--version", action="version", version=f"hjepa {__version__}")
    _add_import_option(parser, "imports")
    sub = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=_SubParser)

    info = sub.add_parser("info", help="version, device, threads, installed extras")
    info.set_defaults(func=_info)

    train = sub.add_parser("train", help="train a model from a YAML config")
    train.add_argument("config", help="YAML preset (configs/*.yaml) or a run's config.yaml")
    train.add_argument("overrides", nargs="*", help="dotted overrides, e.g. optim.lr=3e-4")
    train.add_argument("--resume", action="store_true", help="continue the run from its checkpoint")
    train.add_argument(
        "--stop-after",
        type=_positive_int,
        metavar="K",
        help="stop after K steps (checkpointed)",
    )
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="delete an existing run folder of this name first, and collect the run's own store "
        "anew if it does not hold the data the config asks for",
    )
    train.set_defaults(func=_train)

    evaluate = sub.add_parser(
        "eval",
        help="probe a trained run: a world model's state, an image or series model's classes; "
        "score a language model's decoded regexes",
    )
    evaluate.add_argument("run", help="run folder (runs/<name>)")
    evaluate.add_argument(
        "--probe",
        action="append",
        help="image, video and time-series runs: linear | mlp | knn (images and video also "
        "attentive) classifier on frozen features (repeatable; default linear)",
    )
    evaluate.add_argument(
        "--layers",
        type=_positive_int,
        default=1,
        help="image and video runs: features of the last N encoder blocks, concatenated "
        "(default 1)",
    )
    evaluate.add_argument(
        "--windows", type=_positive_int, default=2000, help="training windows to fit probes on"
    )
    evaluate.add_argument(
        "--probe-steps", type=_positive_int, default=3000, help="Adam steps of each MLP probe"
    )
    evaluate.set_defaults(func=_eval)

    plan = sub.add_parser("plan", help="run the planning agent on a fixed start/goal set")
    plan.add_argument("run", help="world-model run folder (runs/<name>)")
    plan.add_argument("overrides", nargs="*", help="agent overrides, e.g. planner.horizon=10")
    plan.add_argument("--config", help="agent YAML (configs/agent_*.yaml); default: built-ins")
    plan.add_argument("--episodes", type=_positive_int, help="number of start/goal pairs")
    plan.add_argument(
        "--planner", type=_planner_kind, help="Mode-2 planner (a name in hjepa.plan.PLANNERS)"
    )
    plan.add_argument("--mode", type=int, choices=[1, 2], help="1 = reactive policy, 2 = plan")
    plan.add_argument("--out", help="output folder (default <run>/plan/<planner or mode1>)")
    plan.set_defaults(func=_plan)

    demo = sub.add_parser("demo", help="collect -> train -> plan on Two-Rooms, end to end")
    demo.add_argument("--run-dir", default="runs", help="where the run folder goes")
    demo.add_argument("--name", default="demo_two_rooms", help="run folder name")
    demo.add_argument("--episodes", type=_positive_int, help="goal-reaching episodes (default 200)")
    demo.add_argument("--smoke", action="store_true", help="tiny sizes: checks the pipeline")
    demo.set_defaults(func=_demo)

    collect = sub.add_parser("collect", help="collect trajectories from an env into a store")
    collect.add_argument("env_id", help="e.g. hjepa/TwoRooms-v0, or a Gymnasium package.mod:EnvId")
    collect.add_argument("--out", required=True, help="store folder to create (or append to)")
    collect.add_argument("--episodes", type=_positive_int, required=True, help="number of episodes")
    collect.add_argument("--steps", type=_positive_int, required=True, help="steps per episode")
    collect.add_argument(
        "--policy",
        help="random, random_walk or package.module:callable (default: random_walk in hjepa's "
        "arenas, random, uniform in the action space, in Gymnasium envs)",
    )
    collect.add_argument("--policy-kwargs", default="{}", help="JSON object of policy arguments")
    collect.add_argument("--seed", type=int, default=0)
    collect.add_argument("--workers", type=_positive_int, default=2, help="worker processes")
    collect.add_argument(
        "--shard-episodes",
        type=_positive_int,
        default=256,
        help="episodes per shard (a worker's unit)",
    )
    collect.add_argument("--append", action="store_true", help="add episodes to an existing store")
    collect.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted collection (the same command again, with --resume)",
    )
    collect.add_argument("--env-kwargs", default="{}", help="JSON, e.g. '{\"random_wall\": true}'")
    collect.add_argument("--no-progress", action="store_true", help="no progress bar")
    collect.set_defaults(func=_collect)
    return parser


def _add_import_option(parser: argparse.ArgumentParser, dest: str) -> None:
    parser.add_argument(
        "--import",
        dest=dest,
        action="append",
        default=[],
        metavar="MODULE",
        help="import a plug-in module first (registers its envs, task sets, policies)",
    )


class _SubParser(argparse.ArgumentParser):
    """Every command takes --import too, adding to the modules given before the command."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _add_import_option(self, "command_imports")


def _eval(args) -> int:
    from hjepa.eval.hierarchy import evaluate_hierarchy
    from hjepa.eval.images import evaluate_image_run
    from hjepa.eval.language import evaluate_language_run
    from hjepa.eval.series import evaluate_series_run
    from hjepa.eval.world_model import evaluate_run
    from hjepa.experiment import IMAGE_KINDS, SERIES_KINDS, VIDEO_KINDS, load_run

    kind = load_run(args.run)[0].model.kind
    if kind == "language_model":
        return _print_language_eval(evaluate_language_run(args.run))
    if kind == "hierarchy":
        return _print_horizon_errors(evaluate_hierarchy(args.run), args.run)
    probes = tuple(args.probe or ["linear"])
    if kind in SERIES_KINDS:
        return _print_probe_eval(evaluate_series_run(args.run, probes))
    if kind in IMAGE_KINDS or kind in VIDEO_KINDS:
        return _print_probe_eval(evaluate_image_run(args.run, probes, args.layers))
    result = evaluate_run(args.run, args.windows, args.probe_steps)
    units, horizon = result["units"], result["horizon"][-1]
    for kind, errors in (result["probe_rmse"] or {}).items():
        position = (result["position_rmse"] or {}).get(kind)
        where = "n/a" if position is None else f"{position:.3g} {units}"
        each = ", ".join(f"{k} {v:.3g}" for k, v in errors.items())
        print(f"{kind:>6} probe: position RMSE {where}; per state column RMSE: {each}")
    rolled = result["rollout_position_rmse"]
    where = "n/a" if rolled is None else f"{rolled[-1]:.3g} {units}"
    latent = result["rollout_latent_error"][-1]
    print(f"open-loop rollout, {horizon} steps: position {where}; latent error {latent:.3g}")
    for what, why in result["not_measured"].items():
        print(f"not measured: {what}: {why}")
    print(f"written to {args.run}/eval/ (eval.json, rollout_error.png)")
    return 0


def _print_probe_eval(result: dict) -> int:
    for kind, accuracy in result["probe_accuracy"].items():
        print(f"{kind:>9} probe: test accuracy {100 * accuracy:.1f} %")
    for label, scores in result.get("other_labels", {}).items():
        for kind, accuracy in scores.items():
            print(f"{kind:>9} probe of {label}: test accuracy {100 * accuracy:.1f} %")
    for factor, r2 in result.get("factor_r2", {}).items():
        print(f"{factor:>9}: R^2 {r2:.3f} (ridge probe)")
    print(f"RankMe of the test features: {result['rankme']:.1f} of {result['feature_dim']} dims")
    print(f"written to {result['run']}/eval/ (eval.json, report.md)")
    return 0


def _print_language_eval(result: dict) -> int:
    print(f"{result['test_pairs']} test pairs, greedy decoding:")
    for key in ("exact_match", "equivalence", "compiles"):
        print(f"{key:>12}: {100 * result[key]:.1f} %")
    print(f"written to {result['run']}/eval/ (eval.json, report.md)")
    return 0


def _print_horizon_errors(result: dict, run: str) -> int:
    print(f"probed position error ({result['units']}) against the horizon (env steps), per level")
    print("level " + "".join(f"{h:>8}" for h in result["horizons"]))
    for k, errors in result["levels"].items():
        cells = "".join(f"{'n/a':>8}" if e is None else f"{e:8.2f}" for e in errors)
        print(f"{k:>5} {cells}")
    print(f"written to {run}/eval/ (horizon.json, horizon_error.png)")
    return 0


def _plan(args) -> int:
    from hjepa.agent.config import AgentConfig
    from hjepa.config import load_config

    options = {"task.episodes": args.episodes, "planner.kind": args.planner, "mode": args.mode}
    given = [f"{k}={v}" for k, v in options.items() if v is not None]
    cfg = load_config(args.config, [*given, *args.overrides], root=AgentConfig)
    from hjepa.agent.configurator import Configurator
    from hjepa.eval.planning import evaluate_agent

    configurator = Configurator(cfg, args.run)
    name = cfg.planner.kind if cfg.mode == 2 else "mode1"
    out = args.out or os.path.join(args.run, "plan", name)
    summary = evaluate_agent(configurator, out)
    print_plan_summary(summary, out)
    return 0


def _demo(args) -> int:
    from hjepa.demo import run_demo

    summary = run_demo(args.run_dir, args.name, args.episodes, args.smoke)
    print_plan_summary(summary, os.path.dirname(summary["report"]))
    return 0


def print_plan_summary(summary: dict, out: str) -> None:
    low, high = summary["success_ci95"]
    print(
        f"success {summary['success_rate']:.1%} of {summary['episodes']} episodes "
        f"(95 % CI {low:.1%} - {high:.1%}); {summary['planner']}: median "
        f"{summary['replan_ms_median']:.2f} ms per replan (p95 {summary['replan_ms_p95']:.2f} ms)"
    )
    print(f"report: {out}/report.md")


def _info(args) -> int:
    import torch

    from hjepa.runtime import select_device

    extras = {name: importlib.util.find_spec(name) is not None for name in OPTIONAL}
    lines = {
        "hjepa": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": str(select_device("auto")),
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
        "threads": f"{torch.get_num_threads()} (cpu count {os.cpu_count()})",
    }
    for key, value in lines.items():
        print(f"{key:>12}: {value}")
    for name, present in extras.items():
        state = "installed" if present else "not installed"
        print(f"{'extra':>12}: {OPTIONAL[name]}: {state}")
    return 0


def _train(args) -> int:
    from hjepa.config import load_config

    cfg = load_config(args.config, args.overrides)  # a bad config fails before the heavy imports
    from hjepa.train.trainer import train

    result = train(cfg, args.resume, args.stop_after, args.overwrite)
    print(f"run folder: {result.run_dir} (step {result.step} of {cfg.train.steps})")
    if result.metrics:
        print(f"final loss: {result.metrics['loss']:.4f}")
    if result.collapse_steps:
        print(f"WARNING: representation collapse detected at steps {result.collapse_steps}")
    return 0


def _positive_int(text: str) -> int:
    """argparse type of counts such as --stop-after and --episodes: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _planner_kind(text: str) -> str:
    """argparse type of --planner: a planner's name."""
    from hjepa.plan import PLANNERS

    if text not in PLANNERS:
        raise argparse.ArgumentTypeError(
            f"unknown planner {text!r}; choose from {sorted(PLANNERS)}"
        )
    return text


def _json_object(text: str, option: str) -> dict:
    import json

    from hjepa.errors import ConfigError

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{option} is not valid JSON ({exc}): {text}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{option} must be a JSON object, got {text}")
    return value


def _store_size(path: str) -> tuple[int, int]:
    """(episodes, frames) already in the store at `path` (0, 0 where there is none yet)."""
    from hjepa.data.format import StoreError, read_meta

    try:
        meta = read_meta(path)
    except StoreError:
        return 0, 0
    return int(meta["num_episodes"]), int(meta["num_frames"])


def _collect(args) -> int:
    import time

    from hjepa.data.store import TrajectoryStore
    from hjepa.envs.collect import collect, door_crossing_fraction, workers_used

    episodes_before, frames_before = _store_size(args.out) if args.append or args.resume else (0, 0)
    start = time.perf_counter()
    store = collect(
        args.env_id,
        args.out,
        args.episodes,
        args.steps,
        policy=args.policy,
        seed=args.seed,
        workers=args.workers,
        shard_episodes=args.shard_episodes,
        env_kwargs=_json_object(args.env_kwargs, "--env-kwargs"),
        policy_kwargs=_json_object(args.policy_kwargs, "--policy-kwargs"),
        append=args.append,
        progress=not args.no_progress,
        resume=args.resume,
    )
    seconds = time.perf_counter() - start
    episodes, frames = len(store) - episodes_before, store.num_frames - frames_before
    workers = workers_used(args.workers, max(episodes, 1), args.shard_episodes)
    pool = "1 worker (this process)" if workers == 1 else f"{workers} worker processes"
    print(f"store: {store.path} ({len(store)} episodes, {store.num_frames} frames in all)")
    print(f"collected: {episodes} episodes, {frames} frames in {seconds:.1f} s")
    print(f"speed: {frames / seconds:,.0f} frames/s with {pool}")
    crossing = door_crossing_fraction(TrajectoryStore(store.path, verify_checksums=False))
    if crossing is not None:
        print(f"door crossings: {crossing:.1%} of the store's episodes visit both rooms")
    return 0

"""The `hjepa` command. The only module that knows the command line; library code raises
HjepaError and this turns it into one clear line and exit status 2."""

import argparse
import importlib.util
import os
import platform
import sys

import torch

from hjepa import __version__
from hjepa.errors import HjepaError

OPTIONAL = {"tensorboard": "tensorboard (TensorBoard logging)"}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except HjepaError as exc:
        print(f"hjepa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hjepa: interrupted; the last checkpoint is intact (continue with --resume)")
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hjepa", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"hjepa {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    info = sub.add_parser("info", help="version, device, threads, installed extras")
    info.set_defaults(func=_info)

    train = sub.add_parser("train", help="train a model from a YAML config")
    train.add_argument("config", help="YAML preset (configs/*.yaml) or a run's config.yaml")
    train.add_argument("overrides", nargs="*", help="dotted overrides, e.g. optim.lr=3e-4")
    train.add_argument("--resume", action="store_true", help="continue the run from its checkpoint")
    train.add_argument(
        "--stop-after",
        type=int,
        metavar="K",
        help="stop after K steps (checkpointed)",
    )
    train.add_argument(
        "--overwrite", action="store_true", help="delete an existing run folder of this name first"
    )
    train.set_defaults(func=_train)
    return parser


def _info(args) -> int:
    from hjepa.train.runtime import select_device

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
    from hjepa.train.trainer import train

    cfg = load_config(args.config, args.overrides)
    result = train(cfg, args.resume, args.stop_after, args.overwrite)
    print(f"run folder: {result.run_dir} (step {result.step} of {cfg.train.steps})")
    if result.metrics:
        print(f"final loss: {result.metrics['loss']:.4f}")
    if result.collapse_steps:
        print(f"WARNING: representation collapse detected at steps {result.collapse_steps}")
    return 0

"""Kill an `hjepa` command with SIGKILL at a chosen moment, as a crash or `kill -9` would, and
compare what its recovery leaves with an uninterrupted run. Used by tests/test_reliability.py
and benchmarks/reliability.py.

A kill point is either a call, `Call("hjepa.train.trainer", "train_step", 3)`: the command kills
its whole process group (itself and any worker processes) on the 3rd call of that function as
its module looks it up (with `match`, only calls whose arguments' text contains it count), or a
time, `After(1.5)`: the group is killed from outside 1.5 s after the command starts.
"""

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class Call:
    module: str
    name: str  # may be dotted: "os.replace" patches the os module seen from `module`
    nth: int = 1
    match: str = ""

    def __str__(self) -> str:
        where = f" on {self.match}" if self.match else ""
        return f"call {self.nth} of {self.module}.{self.name}{where}"


@dataclass(frozen=True)
class After:
    seconds: float

    def __str__(self) -> str:
        return f"{self.seconds:.2f} s in"


ARMED = """
import importlib, os, signal, sys
module, name, nth, match = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
owner = importlib.import_module(module)
*path, attribute = name.split(".")
for part in path:
    owner = getattr(owner, part)
original, calls = getattr(owner, attribute), []

def armed(*args, **kwargs):
    if match in repr((args, kwargs)):
        calls.append(1)
        if len(calls) == nth:
            os.killpg(0, signal.SIGKILL)
    return original(*args, **kwargs)

setattr(owner, attribute, armed)
from hjepa.cli import main
sys.exit(main(sys.argv[5:]))
"""


def run(argv: list[str], cwd, kill=None, timeout: float = 300) -> tuple[str, str]:
    """Run `hjepa argv` in `cwd`, killed at `kill` (None: not killed). Returns (outcome, output):
    outcome "killed", "exit 0" or "exit N"."""
    process = _start(argv, cwd, kill)
    if isinstance(kill, After):
        try:
            process.wait(kill.seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return _outcome(process, timeout)


def run_together(argvs: list[list[str]], cwd, timeout: float = 300) -> list[tuple[str, str]]:
    """Start every `hjepa argv` at once in `cwd`; their (outcome, output) once all are done."""
    processes = [_start(argv, cwd) for argv in argvs]
    return [_outcome(process, timeout) for process in processes]


def _start(argv: list[str], cwd, kill=None) -> subprocess.Popen:
    if isinstance(kill, Call):
        command = [sys.executable, "-c", ARMED, kill.module, kill.name, str(kill.nth), kill.match]
    else:
        command = [sys.executable, "-m", "hjepa"]
    return subprocess.Popen(
        [*command, *argv],
        cwd=cwd,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, workers included
    )


def _outcome(process: subprocess.Popen, timeout: float) -> tuple[str, str]:
    output, _ = process.communicate(timeout=timeout)
    _wait_for_group(process.pid)
    if process.returncode == -signal.SIGKILL:
        return "killed", output
    return f"exit {process.returncode}", output


def _wait_for_group(pgid: int) -> None:
    """Until no process of the killed group is left (its workers exit a moment later)."""
    for _ in range(200):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def checkpoint_tensors(run_dir) -> dict:
    """The model and optimizer tensors and the step of a run's last checkpoint."""
    from hjepa.checkpoint import load_checkpoint

    state = load_checkpoint(Path(run_dir) / "checkpoints" / "last.pt")
    tensors = {f"model.{k}": v for k, v in state["model"].items()}
    for i, group in state["optimizer"]["state"].items():
        tensors.update({f"optim.{i}.{k}": v for k, v in group.items() if torch.is_tensor(v)})
    return {"step": state["step"], "tensors": tensors}


def same_checkpoint(a, b) -> bool:
    """Bit for bit: the same step, the same tensors."""
    x, y = checkpoint_tensors(a), checkpoint_tensors(b)
    return (
        x["step"] == y["step"]
        and x["tensors"].keys() == y["tensors"].keys()
        and all(torch.equal(x["tensors"][k], y["tensors"][k]) for k in x["tensors"])
    )


def file_digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def results(path) -> str:
    """A JSON results file's content without its timings (keys naming seconds, ms or a rate),
    as canonical text (NaN equals NaN)."""

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not _is_timing(k)}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(json.loads(Path(path).read_text())), sort_keys=True)


def _is_timing(key: str) -> bool:
    return "seconds" in key or "_ms" in key or key.endswith("per_s")


# -- the scenarios: a tiny Two-Rooms run, collected, trained, evaluated and planned with

RUN = Path("runs/r")
STORE = Path("runs/data/r")
WORLD = [
    "train",
    "configs/two_rooms.yaml",
    "train.run_dir=runs",
    "train.name=r",
    "data.episodes=300",  # a collection of two shards (256 + 44 episodes)
    "data.episode_steps=10",
    "data.frames=5",
    "world.state_dim=8",
    "world.channels=[4,8,8]",
    "world.hidden=16",
    "world.rollout_steps=4",
    "world.refine_steps=20",
    "world.refine_batch=32",
    "train.steps=12",
    "train.batch_size=8",
    "train.checkpoint_every=4",
    "optim.warmup_steps=2",
    "train.tensorboard=false",
    "train.progress=false",
]
COLLECT = ["collect", "hjepa/TwoRooms-v0", "--out", "store", "--episodes", "300", "--steps", "10"]
COLLECT += ["--no-progress"]
EVAL = ["eval", str(RUN), "--windows", "200", "--probe-steps", "100"]
PLAN = ["plan", str(RUN), "--episodes", "3", "task.max_steps=8", "critic.steps=30"]
COMMANDS = {"train": WORLD, "eval": EVAL, "plan": PLAN, "collect": COLLECT}
RESULTS = {  # the files each phase's results are compared by
    "eval": [RUN / "eval" / "eval.json"],
    "plan": [RUN / "plan" / "mppi" / "episodes.json", RUN / "plan" / "mppi" / "summary.json"],
}


def make_reference(root: Path) -> dict[str, float]:
    """The uninterrupted run in `root`: collected, trained, evaluated, planned. Returns each
    command's wall time in seconds."""
    root.mkdir(parents=True, exist_ok=True)
    seconds = {}
    for phase, argv in COMMANDS.items():
        start = time.perf_counter()
        outcome, output = run(argv, root)
        assert outcome == "exit 0", output
        seconds[phase] = time.perf_counter() - start
    return seconds


def kill_and_recover(phase: str, kill, workdir: Path, reference: Path) -> dict:
    """One kill point of `phase` ("train", "collect", "eval" or "plan"): the command killed at
    `kill`, recovered as documented, its results compared with the reference's. Returns
    {"killed": bool, "recovered": bool, "differences": [...]}."""
    workdir.mkdir(parents=True, exist_ok=True)
    if phase in ("eval", "plan"):
        unfinished = shutil.ignore_patterns("eval", "plan", "agent", ".*lock")
        shutil.copytree(reference / "runs", workdir / "runs", ignore=unfinished)
    command = COMMANDS[phase]
    outcome, _ = run(command, workdir, kill)
    if phase == "train" and (workdir / RUN / "summary.json").is_file():
        recovery, output = "exit 0", "killed after it finished: nothing to recover"
    else:
        recovery, output = run(_recovery(phase, command, workdir), workdir)
    if recovery != "exit 0":
        return {"killed": outcome == "killed", "recovered": False, "differences": [output[-400:]]}
    differences = _differences(phase, workdir, reference)
    return {"killed": outcome == "killed", "recovered": True, "differences": differences}


def _recovery(phase: str, command: list[str], workdir: Path) -> list[str]:
    """The documented recovery: `train --resume` (a plain `train` again where the kill came
    before the run folder had its config), `collect --resume`, and eval or plan run again."""
    if phase == "train" and not (workdir / RUN / "config.yaml").is_file():
        return command
    return [*command, "--resume"] if phase in ("train", "collect") else command


def _differences(phase: str, ours: Path, theirs: Path) -> list[str]:
    if phase == "collect":
        same = _fingerprint(ours / "store") == _fingerprint(theirs / "store")
        return [] if same else ["store differs"]
    if phase in RESULTS:
        return [
            f"{path} differs"
            for path in RESULTS[phase]
            if results(ours / path) != results(theirs / path)
        ]
    return _training_differences(ours, theirs)


def _training_differences(ours: Path, theirs: Path) -> list[str]:
    checks = {
        "checkpoint": same_checkpoint(ours / RUN, theirs / RUN),
        "store": _fingerprint(ours / STORE) == _fingerprint(theirs / STORE),
        "metrics.csv steps": _steps(ours / RUN) == _steps(theirs / RUN),
        "summary.json": results(ours / RUN / "summary.json")
        == results(theirs / RUN / "summary.json"),
    }
    for name in ("encoder/model.safetensors", "encoder/config.json"):
        checks[name] = file_digest(ours / RUN / name) == file_digest(theirs / RUN / name)
    return [f"{name} differs" for name, same in checks.items() if not same]


def _steps(run_dir: Path) -> list[int]:
    with (run_dir / "metrics.csv").open() as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


def _fingerprint(store: Path) -> str:
    from hjepa.data.store import TrajectoryStore

    return TrajectoryStore(store).fingerprint


CONCURRENT = {  # the audit's cases: the same command twice at once
    "two fresh runs of the same name": ("train", []),
    "two runs of the same name on an existing store": ("train", [STORE]),
    "two collections into the same store": ("collect", []),
}


def run_twice_at_once(case: str, workdir: Path, reference: Path) -> dict:
    """The `CONCURRENT` case started twice at once in `workdir` (with the reference's files it
    names copied there first). Returns {"outcomes": [...], "one_refused": bool (one exit 0, the
    other refused with a clear error: the lock is taken, or, where the first got further, its
    checkpoint or store is there), "refusal": that error, "differences": from the reference's
    results}."""
    phase, copied = CONCURRENT[case]
    workdir.mkdir(parents=True, exist_ok=True)
    for path in copied:
        shutil.copytree(reference / path, workdir / path)
    done = run_together([COMMANDS[phase]] * 2, workdir)
    outcomes = sorted(outcome for outcome, _ in done)
    refusals = [output for outcome, output in done if outcome == "exit 2"]
    refusal = refusals[0].strip().splitlines()[-1] if refusals else ""
    return {
        "outcomes": outcomes,
        "one_refused": outcomes == ["exit 0", "exit 2"] and refusal.startswith("hjepa: error:"),
        "refusal": refusal,
        "differences": _differences(phase, workdir, reference),
    }

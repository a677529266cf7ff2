"""Bad inputs a careless user could give, at every entry point, and what hjepa answers.

Run from the repo root: `OMP_NUM_THREADS=1 python benchmarks/bad_inputs.py [--only SUBSTRING]`
(`--only`: the cases whose entry point or name contains it, printed and not saved). Each case
runs in its own subprocess (`--jobs` at once, 2 by default), in a fresh temporary working folder
(with a copy of one tiny trained run in `runs/` where it needs one; that run is trained once per
invocation), and is classified:

- clear error: a nonzero exit status, no traceback, and the message names the culprit (each
  case lists the words a clear message must contain, e.g. the config key as the user wrote it);
- traceback: a Python traceback in the output;
- silent acceptance: exit status 0, no error at all;
- unclear error: a nonzero exit status without a traceback, but the culprit is not named;
- timeout: still running after the case's time limit.

Python API cases run a snippet that prints the exception's type and message and exits 1 when
the error is one of hjepa's own (`hjepa.errors`), or a ValueError / TypeError raised in hjepa's
code (not deep inside torch or numpy, which counts as a traceback).
"""

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bad_input_cases import CASES, TINY, Case
from common import save

KINDS = ("clear error", "traceback", "silent acceptance", "unclear error", "timeout")
TIMEOUT_S = 120

API_PRELUDE = """
import sys, traceback


def _report(exc):
    from hjepa.errors import HjepaError

    frames = traceback.extract_tb(exc.__traceback__)
    where = frames[-1].filename if frames else ""
    ours = "/hjepa/" in where or where == "<string>"
    if isinstance(exc, HjepaError) or (isinstance(exc, ValueError | TypeError) and ours):
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    raise exc


try:
"""
API_EPILOGUE = """
except Exception as exc:
    _report(exc)
"""


@dataclass
class Outcome:
    case: Case
    status: int | None
    output: str
    seconds: float

    @property
    def kind(self) -> str:
        if self.status is None:
            return "timeout"
        if "Traceback (most recent call last)" in self.output:
            return "traceback"
        if self.status == 0:
            return "silent acceptance"
        text = self.output.lower()
        named = all(word.lower() in text for word in self.case.expect)
        return "clear error" if named else "unclear error"

    @property
    def message(self) -> str:
        """The first line of the error message (or the last line of the output)."""
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        if "Traceback (most recent call last)" in self.output:
            return lines[-1] if lines else ""
        errors = [line for line in lines if "error" in line.lower()]
        return (errors or lines or [""])[0][:300]


def command(case: Case) -> list[str]:
    if case.code:
        body = textwrap.indent(textwrap.dedent(case.code).strip(), "    ")
        return [sys.executable, "-c", API_PRELUDE + body + API_EPILOGUE]
    return [sys.executable, "-m", "hjepa", *case.args[:2], *case.small, *case.args[2:]]


def shown(case: Case) -> str:
    """The case's command as a user would type it (API cases: the snippet on one line)."""
    if case.code:
        return "python -c '" + "; ".join(textwrap.dedent(case.code).strip().splitlines()) + "'"
    return "hjepa " + shlex.join(case.args) + " (+ tiny sizes)" * bool(case.small)


def child_env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_case(case: Case, root: Path, base_runs: Path | None) -> Outcome:
    work = Path(tempfile.mkdtemp(prefix="case_", dir=root))
    if case.run:
        shutil.copytree(base_runs, work / "runs")
    if case.setup is not None:
        case.setup(work)
    start = time.perf_counter()
    status, output = _run(command(case), work)
    outcome = Outcome(case, status, output, time.perf_counter() - start)
    shutil.rmtree(work, ignore_errors=True)
    return outcome


def _run(cmd: list[str], cwd: Path) -> tuple[int | None, str]:
    """(exit status, stdout + stderr) of `cmd`; status None when it ran past TIMEOUT_S (then it
    is killed with every process it started, e.g. collection workers)."""
    pipe = subprocess.PIPE
    with subprocess.Popen(
        cmd, cwd=cwd, env=child_env(), stdout=pipe, stderr=pipe, text=True, start_new_session=True
    ) as proc:
        try:
            out, err = proc.communicate(timeout=TIMEOUT_S)
            return proc.returncode, out + err
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return None, out + err


def train_base_run(root: Path) -> Path:
    """The tiny trained run the cases share (its folder `runs/`, store included)."""
    base = root / "base"
    base.mkdir()
    args = ["train", "configs/two_rooms.yaml", *TINY]
    done = subprocess.run(
        [sys.executable, "-m", "hjepa", *args], cwd=base, env=child_env(), capture_output=True
    )
    if done.returncode != 0:
        sys.exit(
            f"the shared tiny run failed to train:\n{done.stdout.decode()}{done.stderr.decode()}"
        )
    return base / "runs"


def count_rows(outcomes: list[Outcome]) -> list[dict]:
    entries = list(dict.fromkeys(o.case.entry for o in outcomes))
    rows = []
    for entry in [*entries, "all"]:
        chosen = [o for o in outcomes if entry in ("all", o.case.entry)]
        counts = Counter(o.kind for o in chosen)
        rows.append({"entry point": entry, "cases": len(chosen), **{k: counts[k] for k in KINDS}})
    return rows


def case_row(o: Outcome) -> dict:
    return {
        "entry": o.case.entry,
        "case": o.case.what,
        "command": shown(o.case),
        "exit status": o.status,
        "classification": o.kind,
        "message": o.message,
        "expected words": list(o.case.expect),
        "seconds": round(o.seconds, 2),
    }


def not_clear(outcomes: list[Outcome]) -> str:
    bad = [o for o in outcomes if o.kind != "clear error"]
    if not bad:
        return "Every case gave a clear error."
    lines = [f"Cases that are not a clear error ({len(bad)}):", ""]
    for o in bad:
        lines.append(
            f"- {o.case.entry}: {o.case.what}: **{o.kind}**: `{shown(o.case)}` -> `{o.message}`"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help="run only the cases whose entry point or name contains this (not saved)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or args.only in f"{c.entry} {c.what}"]
    root = Path(tempfile.mkdtemp(prefix="hjepa_bad_inputs_"))
    try:
        base_runs = train_base_run(root) if any(c.run for c in cases) else None
        with ThreadPoolExecutor(args.jobs) as pool:
            outcomes = list(pool.map(lambda c: run_case(c, root, base_runs), cases))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for o in outcomes:
        print(f"{o.kind:>17} {o.seconds:5.1f}s {o.case.entry}: {o.case.what}: {o.message}")
    if args.only:
        return  # a subset while developing: printed, not saved
    notes = (
        f"{len(outcomes)} bad inputs at every entry point (`hjepa train`, `collect`, `eval`, "
        f"`plan`, and the Python API), each in a fresh subprocess and working folder, "
        f"{TIMEOUT_S} s at most; a clear error names the culprit (the key, option or file as "
        "written). The cases are in `benchmarks/bad_input_cases.py`; each one's command, exit "
        "status and message in `results/bad_inputs.json`. Target: 0 tracebacks, 0 silent "
        "acceptances over >= 80 bad inputs."
    )
    save(
        "bad_inputs",
        count_rows(outcomes),
        notes,
        footer=not_clear(outcomes),
        extra={"cases": [case_row(o) for o in outcomes]},
    )


if __name__ == "__main__":
    main()

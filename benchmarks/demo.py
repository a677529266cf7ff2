"""`make demo` from a fresh clone of this repository: wall time and what the demo printed.

    python benchmarks/demo.py

Clones the committed HEAD into a temporary folder and runs `make demo` there (virtual
environment, install, collect, train, critic, 200 planning episodes). Target: <= 8 minutes.
"""

import re
import subprocess
import tempfile
import time

from common import ROOT, save


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["git", "clone", "-q", str(ROOT), tmp], check=True)
        start = time.perf_counter()
        done = subprocess.run(["make", "demo"], cwd=tmp, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"make demo failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("success"))
    numbers = re.findall(r"[\d.]+", line)
    row = {
        "command": "make demo (fresh clone)",
        "wall s": seconds,
        "success %": float(numbers[0]),
        "episodes": int(numbers[1]),
        "median ms per replan": float(numbers[5]),
        "printed": line,
    }
    save("demo", [row], "Fresh clone of HEAD; venv and install included. Target <= 8 min.")


if __name__ == "__main__":
    main()

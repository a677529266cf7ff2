"""Where metrics go: the console (through the progress bar), `metrics.csv`, and TensorBoard."""

import csv
from pathlib import Path

from tqdm import tqdm

from hjepa.io import atomic_write


class MetricsLogger:
    """Appends rows to `metrics.csv` (new columns start a widened header) and TensorBoard."""

    def __init__(self, run_dir: Path, tensorboard: bool = True):
        self.path = run_dir / "metrics.csv"
        self.columns = self._existing_columns()
        self.writer = _tensorboard_writer(run_dir) if tensorboard else None

    def log(self, step: int, metrics: dict) -> None:
        row = {"step": step, **{k: _number(v) for k, v in metrics.items()}}
        if not set(row) <= set(self.columns):
            self._widen([c for c in row if c not in self.columns])
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, self.columns).writerow(row)
        if self.writer is not None:
            for key, value in row.items():
                if key != "step":
                    self.writer.add_scalar(key, value, step)

    def drop_after(self, step: int) -> None:
        """On resume, forget rows logged after the checkpoint's step (they will be redone)."""
        if not self.path.is_file():
            return
        with self.path.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if _whole(r) and int(r["step"]) <= step]
        self._rewrite(rows)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def _existing_columns(self) -> list[str]:
        if not self.path.is_file():
            return ["step"]
        with self.path.open(newline="") as f:
            return next(csv.reader(f), ["step"])

    def _widen(self, new: list[str]) -> None:
        rows = []
        if self.path.is_file():
            with self.path.open(newline="") as f:
                rows = list(csv.DictReader(f))
        self.columns += new
        self._rewrite(rows)

    def _rewrite(self, rows: list[dict]) -> None:
        def write(tmp: str) -> None:
            with open(tmp, "w", newline="") as f:
                writer = csv.DictWriter(f, self.columns)
                writer.writeheader()
                writer.writerows(rows)

        atomic_write(self.path, write)


def console(message: str) -> None:
    tqdm.write(message)


def _number(value) -> float:
    return float(value.item()) if hasattr(value, "item") else float(value)


def _tensorboard_writer(run_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        console("tensorboard is not installed (pip install 'hjepa[tensorboard]'): CSV only")
        return None
    return SummaryWriter(log_dir=str(run_dir / "tensorboard"))


def _whole(row: dict) -> bool:
    """False for a row cut short (a kill in the middle of writing it leaves one)."""
    return None not in row.values() and row["step"].isdigit()

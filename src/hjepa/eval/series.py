"""Evaluating a time-series run: probes on frozen pooled representations, on the standard split.

    hjepa eval runs/tsjepa_gunpoint --probe linear

Features are the encoder's output averaged over each series' valid patches (`SeriesInputs.
representations`), extracted once for the training and the test split; every probe is fitted on
the training features and scored on the test ones. Writes `eval/eval.json` and `eval/report.md`
in the run folder (each written whole, or not at all; earlier results are moved aside).
"""

from pathlib import Path

import torch
from torch.utils.data import DataLoader

from hjepa.errors import ConfigError
from hjepa.eval.classify import PROBES, probe_accuracy
from hjepa.experiment import load_run
from hjepa.io import write_eval_results
from hjepa.jepa.collapse import rankme
from hjepa.modalities.series_splits import series_dataset


@torch.no_grad()
def series_features(model, dataset, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """(pooled representations [N, F], labels [N]) of every series in `dataset`."""
    features, labels = [], []
    for batch in DataLoader(dataset, batch_size=batch_size):
        features.append(model.representations(batch))
        labels.append(batch["label"])
    return torch.cat(features), torch.cat(labels)


def evaluate_series_run(run_dir: str | Path, probes: tuple[str, ...] = ("linear",)) -> dict:
    """Probe accuracies of the run's frozen features (train split -> test split), RankMe."""
    unknown = [kind for kind in probes if kind not in PROBES]
    if unknown:
        raise ConfigError(f"unknown probe {unknown[0]!r} (known: {', '.join(PROBES)})")
    run_dir = Path(run_dir)
    cfg, model = load_run(run_dir)
    train_z, train_y = series_features(model, series_dataset(cfg, "train"))
    test_z, test_y = series_features(model, series_dataset(cfg, "test"))
    accuracies = {
        kind: probe_accuracy(kind, train_z, train_y, test_z, test_y, seed=cfg.train.seed)
        for kind in probes
    }
    result = {
        "run": str(run_dir),
        "model": cfg.model.kind,
        "data": cfg.data.source,
        "train_series": len(train_z),
        "test_series": len(test_z),
        "feature_dim": int(train_z.shape[1]),
        "probe_accuracy": accuracies,
        "rankme": rankme(test_z),
    }
    write_eval_results(run_dir / "eval", result, _report(result))
    return result


def _report(result: dict) -> str:
    rows = "\n".join(
        f"| {kind} | {100 * acc:.1f} |" for kind, acc in result["probe_accuracy"].items()
    )
    return (
        f"# {result['run']}: {result['model']} on {result['data']}\n\n"
        f"Frozen pooled features ({result['feature_dim']} dims), probes fitted on "
        f"{result['train_series']} training series and scored on {result['test_series']} test "
        f"series. RankMe of the test features: {result['rankme']:.1f}.\n\n"
        f"| probe | test accuracy (%) |\n|---|---|\n{rows}\n"
    )

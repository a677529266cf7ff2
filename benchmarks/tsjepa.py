"""TS-JEPA against masked reconstruction and MiniRocket; forecasting; anomaly detection.

    python benchmarks/tsjepa.py [--only classify|forecast|anomaly] [--datasets gunpoint,...]
        [--seeds 0,1,2] [--steps N]

- classify: per bundled UCR/UEA dataset (needs `hjepa[timeseries]`), on its standard train/test
  split, for each seed: pretrain TS-JEPA (`configs/tsjepa_<dataset>.yaml`) and the same encoder
  by masked reconstruction (`model.kind=ts_mae`) on the training series, then a linear and an
  MLP probe on frozen pooled features (`hjepa.eval.series`); MiniRocket (aeon's
  MiniRocketClassifier, ridge on its features) on the same split and seeds. Wall time =
  pretraining + both probes, median over seeds.
- forecast: two series, split in time (first 70 % train, last 30 % test): the procedural one
  (`procedural_forecasting`) and aeon's bundled KDD-TSAD 135 recording. TS-JEPA and masked
  reconstruction pretrain on training windows (history + horizon), and a ridge decoder maps the
  predicted future tokens to values (`hjepa.eval.series_forecast`); against naive,
  seasonal-naive and linear autoregressive forecasts; MSE / MAE in z-units of the train split.
- anomaly: the procedural anomaly set (`procedural_anomalies`): pretrain on the series
  (unlabelled, anomalies included), score every step by its patch's prediction error
  (`hjepa.eval.series_anomaly`), AUROC against the injected anomalies; beside the residual of a
  linear autoregressive model.
"""

import argparse
import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from common import ROOT, mean_std, save
from hjepa.config import load_config
from hjepa.eval.forecast import (
    LinearAutoregression,
    auroc,
    forecast_errors,
    forecast_windows,
    naive_forecast,
    seasonal_naive_forecast,
)
from hjepa.eval.series import evaluate_series_run
from hjepa.eval.series_anomaly import anomaly_scores
from hjepa.eval.series_forecast import JEPAForecaster
from hjepa.experiment import load_run
from hjepa.modalities.series import SeriesDataset
from hjepa.modalities.series_splits import series_sets
from hjepa.modalities.series_synthetic import (
    FORECAST_PERIOD,
    procedural_anomalies,
    procedural_forecasting,
)
from hjepa.train.trainer import train

RUNS = ROOT / "runs" / "benchmarks" / "tsjepa"
DATASETS = (
    "gunpoint",
    "arrowhead",
    "italypowerdemand",
    "basicmotions",
    "osuleaf",
    "japanesevowels",
)
MINIROCKET_ANCHOR = {  # ../shared/ANCHORS.md: mean of 30 resamples, or the default split
    "gunpoint": 99.2,
    "arrowhead": 88.1,
    "italypowerdemand": 96.0,
    "basicmotions": 100.0,
    "osuleaf": 95.8,
    "japanesevowels": 99.5,
}
MODELS = {"TS-JEPA": "tsjepa", "reconstruction": "ts_mae"}
PROBES = ("linear", "mlp")


def pretrain(preset: str, name: str, overrides: list[str]) -> float:
    """Train `preset` into RUNS/name; seconds taken."""
    where = [f"train.run_dir={RUNS}", f"train.name={name}", "train.progress=false"]
    start = time.perf_counter()
    train(load_config(preset, [*where, "train.tensorboard=false", *overrides]), overwrite=True)
    return time.perf_counter() - start


def classify_dataset(dataset: str, seeds: list[int], steps: int | None) -> dict:
    preset = f"configs/tsjepa_{dataset}.yaml"
    accuracy = {(m, p): [] for m in MODELS for p in PROBES}
    seconds = {m: [] for m in MODELS}
    for seed in seeds:
        for label, kind in MODELS.items():
            extra = [f"model.kind={kind}", f"train.seed={seed}"]
            extra += [f"train.steps={steps}"] if steps else []
            name = f"{dataset}_{kind}_{seed}"
            took = pretrain(preset, name, extra)
            start = time.perf_counter()
            result = evaluate_series_run(RUNS / name, PROBES)
            seconds[label].append(took + time.perf_counter() - start)
            for probe, acc in result["probe_accuracy"].items():
                accuracy[label, probe].append(100 * acc)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        rocket = pool.submit(minirocket_accuracy, preset, seeds).result()
    row = {"dataset": dataset}
    for (label, probe), values in accuracy.items():
        row[f"{label} {probe}"] = mean_std(values)
    row["MiniRocket"] = mean_std(rocket)
    row["MiniRocket (anchor)"] = MINIROCKET_ANCHOR[dataset]
    for label in MODELS:
        row[f"{label} s"] = round(statistics.median(seconds[label]), 1)
    means = {f"{k[0]} {k[1]}": float(np.mean(v)) for k, v in accuracy.items()}
    return {"row": row, "means": {**means, "MiniRocket": float(np.mean(rocket))}}


def minirocket_accuracy(preset: str, seeds: list[int]) -> list[float]:
    """MiniRocket on the preset's split, on the series as stored (padded with 0 after their
    end where lengths differ: MiniRocket needs equal lengths), one accuracy per seed. Run in a
    child process: numba's worker threads, once started, slowed the torch runs after them
    2-3x."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    train_set, test_set = series_sets(load_config(preset).data, 0)
    length = max(train_set.max_length, test_set.max_length)

    def padded(data):
        values = np.zeros((len(data), data.num_channels, length))
        values[..., : data.max_length] = np.nan_to_num(data.values)
        return values

    scores = []
    for seed in seeds:
        model = MiniRocketClassifier(random_state=seed).fit(padded(train_set), train_set.labels)
        scores.append(100 * float(np.mean(model.predict(padded(test_set)) == test_set.labels)))
    return scores


def run_classify(datasets: list[str], seeds: list[int], steps: int | None) -> None:
    results = [classify_dataset(d, seeds, steps) for d in datasets]
    rows = [r["row"] for r in results]
    average = {"dataset": "average"}
    for key in results[0]["means"]:
        average[key] = f"{np.mean([r['means'][key] for r in results]):.1f}"
    rows.append(average)
    notes = (
        f"Test accuracy (%), mean ± std over seeds {seeds}; probes on frozen pooled features, "
        "fitted on the standard training split. MiniRocket here: aeon's MiniRocketClassifier on "
        "the series as stored (padded with 0 where lengths differ), same split; the anchor "
        "column is the published MiniRocket number (mean of 30 resamples, or the default split). "
        "Wall time: pretraining + both probes, median over seeds, on this machine."
    )
    save("tsjepa_classify", rows, notes)


def split_in_time(series: np.ndarray, share: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """[C, T] -> (train, test), both z-normalized with the train part's statistics."""
    cut = int(share * series.shape[1])
    mean = series[:, :cut].mean(1, keepdims=True)
    std = series[:, :cut].std(1, keepdims=True)
    return (series[:, :cut] - mean) / std, (series[:, cut:] - mean) / std


def kdd_series() -> np.ndarray:
    """aeon's bundled KDD-TSAD 135 recording (train file, then test file), [1, T]."""
    import aeon

    folder = Path(aeon.__file__).parent / "datasets" / "data" / "KDD-TSAD_135"
    parts = [
        np.loadtxt(path, delimiter=",", skiprows=1, usecols=1)
        for path in sorted(folder.glob("*.csv"), key=lambda p: "TEST" in p.name)
    ]
    return np.concatenate(parts)[None]


FORECAST = {"history": 96, "horizon": 32, "patch": 8}


def forecast_one(name: str, series: np.ndarray, seed: int, steps: int | None) -> list[dict]:
    h, f, p = FORECAST["history"], FORECAST["horizon"], FORECAST["patch"]
    train_part, test_part = split_in_time(series)
    hist_train, fut_train = forecast_windows(train_part, h, f, stride=4)
    hist_test, fut_test = forecast_windows(test_part, h, f, stride=f)
    windows = np.concatenate([hist_train, fut_train], axis=2).astype(np.float32)
    data = RUNS / f"forecast_{name}.npy"
    data.parent.mkdir(parents=True, exist_ok=True)
    np.save(data, windows)
    forecasts = {
        "naive": naive_forecast(hist_test, f),
        f"seasonal naive (period {FORECAST_PERIOD})": seasonal_naive_forecast(
            hist_test, f, FORECAST_PERIOD
        ),
        f"linear AR (order {h})": LinearAutoregression.fit(train_part, h, f).predict(hist_test),
    }
    for label, kind in MODELS.items():
        run = f"forecast_{name}_{kind}"
        overrides = [
            f"data.source={data}",
            f"model.kind={kind}",
            "data.normalize=series",
            f"model.patch_size={p}",
            f"model.max_patches={(h + f) // p}",
            "mask.block=4",
            f"train.seed={seed}",
            *([f"train.steps={steps}"] if steps else []),
        ]
        pretrain("configs/tsjepa_procedural.yaml", run, overrides)
        model = load_run(RUNS / run)[1]
        forecaster = JEPAForecaster(model, h, f).fit(hist_train, fut_train)
        forecasts[f"{label} (decoded tokens)"] = forecaster.predict(hist_test)
    return [
        {"series": name, "method": label, **forecast_errors(pred, fut_test)}
        for label, pred in forecasts.items()
    ]


def run_forecast(seed: int, steps: int | None) -> None:
    series = {"procedural": procedural_forecasting(8192, seed=0).values[0], "KDD-TSAD 135": None}
    series["KDD-TSAD 135"] = kdd_series()
    rows = [row for name, s in series.items() for row in forecast_one(name, s, seed, steps)]
    notes = (
        f"History {FORECAST['history']} steps, horizon {FORECAST['horizon']}; each series split "
        "in time (first 70 % for training windows, stride 4; last 30 % for test windows, "
        "stride = horizon), z-normalized with the training part's mean and std. The JEPA rows "
        "pretrain on the training windows (history + horizon, each z-normalized) and forecast "
        "from each history z-normalized by its own mean and std (undone afterwards). Errors in "
        "the series' z-units."
    )
    save("tsjepa_forecast", rows, notes)


def run_anomaly(seed: int, steps: int | None) -> None:
    data, anomalous = procedural_anomalies(200, 256, seed=0)
    path = RUNS / "anomaly_procedural.npy"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, data.values)
    normalized = SeriesDataset(data, 256, 8, normalize=True)
    x = torch.stack([normalized[i]["series"] for i in range(len(normalized))])
    rows = []
    for label, kind in MODELS.items():
        run = f"anomaly_{kind}"
        overrides = [f"data.source={path}", f"model.kind={kind}", "model.max_patches=32"]
        overrides += ["data.normalize=series"]
        overrides += [f"train.seed={seed}", "data.held_out=0.1"]
        overrides += [f"train.steps={steps}"] if steps else []
        pretrain("configs/tsjepa_procedural.yaml", run, overrides)
        scores = anomaly_scores(load_run(RUNS / run)[1], x)
        rows.append(
            {"method": f"{label} (patch prediction error)", "AUROC": auroc(scores, anomalous)}
        )
    ar = LinearAutoregression.fit(list(x.numpy()), 16, 1)
    history, future = zip(*(forecast_windows(s, 16, 1) for s in x.numpy()), strict=True)
    residual = np.abs(ar.predict(np.concatenate(history)) - np.concatenate(future))
    scores = np.full(anomalous.shape, np.nan)
    scores[:, 16:] = residual.reshape(len(x), -1)
    keep = np.isfinite(scores)
    rows.append(
        {"method": "linear AR (order 16) residual", "AUROC": auroc(scores[keep], anomalous[keep])}
    )
    notes = (
        f"{len(x)} procedural series of 256 steps with injected spikes, level shifts and "
        f"frequency bursts ({anomalous.mean():.1%} of steps anomalous); models pretrained on "
        "the series themselves (no labels); AUROC over every scored step."
    )
    save("tsjepa_anomaly", rows, notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("classify", "forecast", "anomaly"))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, help="pretraining steps (default: the presets')")
    args = parser.parse_args()
    torch.set_num_threads(2)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.only in (None, "classify"):
        run_classify(args.datasets.split(","), seeds, args.steps)
    if args.only in (None, "forecast"):
        run_forecast(seeds[0], args.steps)
    if args.only in (None, "anomaly"):
        run_anomaly(seeds[0], args.steps)


if __name__ == "__main__":
    main()

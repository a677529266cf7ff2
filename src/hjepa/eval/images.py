"""Evaluating an image run: probes on the frozen encoder's features, training split -> test split.

    hjepa eval runs/ijepa_shapes --probe linear --probe attentive --layers 4

Features are the encoder's patch tokens on whole images (the last `layers` blocks' outputs,
concatenated). `linear`, `mlp` and `knn` read the tokens' mean; `attentive` reads the tokens
themselves. Where the data has continuous factors (a procedural set's position, size, ...), a
ridge probe on the mean features predicts each one and its R^2 on the test split is reported.
Writes `eval/eval.json` and `eval/report.md` in the run folder.
"""

from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from hjepa.errors import ConfigError
from hjepa.eval.attentive import attentive_accuracy
from hjepa.eval.classify import PROBES, probe_accuracy
from hjepa.eval.probes import LinearProbe
from hjepa.experiment import load_run
from hjepa.io import write_eval_results
from hjepa.jepa.collapse import rankme
from hjepa.modalities.image_splits import image_dataset

IMAGE_PROBES = (*PROBES, "attentive")


@torch.no_grad()
def image_features(encoder, dataset, layers: int = 1, tokens: bool = False, batch_size=256):
    """{"pooled": [N, F], "tokens": [N, T, F] (only if `tokens`), "labels": [N],
    "factors": [N, K] (if the items have them)} of every image in `dataset`."""
    out = {"pooled": [], "tokens": [], "labels": [], "factors": []}
    for batch in tqdm(DataLoader(dataset, batch_size=batch_size), desc="features", leave=False):
        z = encoder.last_layers(batch["image"], layers)
        out["pooled"].append(z.mean(dim=1))
        out["tokens"].append(z if tokens else None)
        out["labels"].append(batch["label"])
        out["factors"].append(batch.get("factors"))
    return {k: torch.cat(v) for k, v in out.items() if v and v[0] is not None}


def evaluate_image_run(run_dir, probes=("linear",), layers: int = 1) -> dict:
    """Probe accuracies of the run's frozen features, factor R^2, RankMe; written to eval/."""
    unknown = [kind for kind in probes if kind not in IMAGE_PROBES]
    if unknown:
        raise ConfigError(f"unknown probe {unknown[0]!r} (known: {', '.join(IMAGE_PROBES)})")
    run_dir = Path(run_dir)
    cfg, model = load_run(run_dir)
    train_set, test_set = image_dataset(cfg, "train"), image_dataset(cfg, "test")
    need_tokens = "attentive" in probes
    train = image_features(model.encoder, train_set, layers, need_tokens)
    test = image_features(model.encoder, test_set, layers, need_tokens)
    seed = cfg.train.seed
    accuracies = {}
    for kind in probes:
        if kind == "attentive":
            score = attentive_accuracy(
                train["tokens"], train["labels"], test["tokens"], test["labels"], seed
            )
        else:
            score = probe_accuracy(
                kind, train["pooled"], train["labels"], test["pooled"], test["labels"], seed
            )
        accuracies[kind] = score
    result = {
        "run": str(run_dir),
        "model": cfg.model.kind,
        "data": cfg.data.source or "shapes",
        "train_images": len(train["pooled"]),
        "test_images": len(test["pooled"]),
        "layers": layers,
        "feature_dim": int(train["pooled"].shape[1]),
        "probe_accuracy": accuracies,
        "factor_r2": factor_r2(train, test, getattr(train_set, "factor_names", ())),
        "rankme": rankme(test["pooled"]),
    }
    write_eval_results(run_dir / "eval", result, _report(result))
    return result


def factor_r2(train: dict, test: dict, names) -> dict:
    """R^2 on the test split of a ridge probe per factor (empty without factors)."""
    if "factors" not in train or not names:
        return {}
    probe = LinearProbe(train["pooled"].double(), train["factors"].double())
    error = (probe(test["pooled"].double()) - test["factors"]).pow(2).mean(0)
    variance = test["factors"].double().var(0, correction=0).clamp_min(1e-12)
    return {name: float(1 - e / v) for name, e, v in zip(names, error, variance, strict=True)}


def _report(result: dict) -> str:
    rows = "\n".join(f"| {k} | {100 * a:.1f} |" for k, a in result["probe_accuracy"].items())
    factors = "\n".join(f"| {k} | {r2:.3f} |" for k, r2 in result["factor_r2"].items())
    factor_table = f"\n| factor | R^2 (ridge) |\n|---|---|\n{factors}\n" if factors else ""
    return (
        f"# {result['run']}: {result['model']} on {result['data']}\n\n"
        f"Frozen features of the last {result['layers']} block(s) ({result['feature_dim']} dims "
        f"pooled), probes fitted on {result['train_images']} training images and scored on "
        f"{result['test_images']} test images. RankMe of the test features: "
        f"{result['rankme']:.1f}.\n\n"
        f"| probe | test accuracy (%) |\n|---|---|\n{rows}\n{factor_table}"
    )

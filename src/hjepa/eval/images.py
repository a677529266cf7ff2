"""Evaluating an image or video run: probes on the frozen encoder's features, training split ->
test split.

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
from hjepa.experiment import build_dataset, load_run
from hjepa.io import write_eval_results
from hjepa.jepa.collapse import rankme

IMAGE_PROBES = (*PROBES, "attentive")


@torch.no_grad()
def image_features(encoder, dataset, layers=1, tokens=False, key="image", batch_size=256) -> dict:
    """{"pooled": [N, F], "tokens": [N, T, F] (only if `tokens`), "label": [N], "factors":
    [N, K] (if the items have them), and every other "*_class" label of the items} of every
    input `key` ("image" or "video") in `dataset`."""
    out = {"pooled": [], "tokens": []}
    for batch in tqdm(DataLoader(dataset, batch_size=batch_size), desc="features", leave=False):
        z = encoder.last_layers(batch[key], layers)
        out["pooled"].append(z.mean(dim=1))
        if tokens:
            out["tokens"].append(z)
        for name in batch:
            if name in ("label", "factors") or name.endswith("_class"):
                out.setdefault(name, []).append(batch[name])
    return {k: torch.cat(v) for k, v in out.items() if v}


def evaluate_image_run(run_dir, probes=("linear",), layers: int = 1) -> dict:
    """Probe accuracies of the run's frozen features (the class, and any other class label of
    the data: a video's direction), factor R^2, RankMe; written to eval/."""
    unknown = [kind for kind in probes if kind not in IMAGE_PROBES]
    if unknown:
        raise ConfigError(f"unknown probe {unknown[0]!r} (known: {', '.join(IMAGE_PROBES)})")
    run_dir = Path(run_dir)
    cfg, model = load_run(run_dir)
    train_set, test_set = (build_dataset(cfg, run_dir, split) for split in ("train", "test"))
    options = dict(layers=layers, tokens="attentive" in probes, key=model.input_key)
    train = image_features(model.encoder, train_set, **options)
    test = image_features(model.encoder, test_set, **options)
    targets = [name for name in train if name == "label" or name.endswith("_class")]
    accuracy = {t: _accuracies(probes, train, test, t, cfg.train.seed) for t in targets}
    result = {
        "run": str(run_dir),
        "model": cfg.model.kind,
        "data": cfg.data.source or cfg.data.name,
        "train_samples": len(train["pooled"]),
        "test_samples": len(test["pooled"]),
        "layers": layers,
        "feature_dim": int(train["pooled"].shape[1]),
        "probe_accuracy": accuracy.pop("label"),
        "other_labels": accuracy,
        "factor_r2": factor_r2(train, test, getattr(train_set, "factor_names", ())),
        "rankme": rankme(test["pooled"]),
    }
    write_eval_results(run_dir / "eval", result, _report(result))
    return result


def _accuracies(probes, train: dict, test: dict, target: str, seed: int) -> dict:
    """{probe kind: test accuracy} of probes predicting the label `target`."""
    scores = {}
    for kind in probes:
        if kind == "attentive":
            args = (train["tokens"], train[target], test["tokens"], test[target])
            scores[kind] = attentive_accuracy(*args, seed=seed)
        else:
            args = (train["pooled"], train[target], test["pooled"], test[target])
            scores[kind] = probe_accuracy(kind, *args, seed=seed)
    return scores


def factor_r2(train: dict, test: dict, names) -> dict:
    """R^2 on the test split of a ridge probe per factor (empty without factors)."""
    if "factors" not in train or not names:
        return {}
    probe = LinearProbe(train["pooled"].double(), train["factors"].double())
    error = (probe(test["pooled"].double()) - test["factors"]).pow(2).mean(0)
    variance = test["factors"].double().var(0, correction=0).clamp_min(1e-12)
    return {name: float(1 - e / v) for name, e, v in zip(names, error, variance, strict=True)}


def _report(result: dict) -> str:
    labels = {"class": result["probe_accuracy"], **result["other_labels"]}
    rows = "\n".join(
        f"| {label} | {kind} | {100 * a:.1f} |"
        for label, scores in labels.items()
        for kind, a in scores.items()
    )
    factors = "\n".join(f"| {k} | {r2:.3f} |" for k, r2 in result["factor_r2"].items())
    factor_table = f"\n| factor | R^2 (ridge) |\n|---|---|\n{factors}\n" if factors else ""
    return (
        f"# {result['run']}: {result['model']} on {result['data']}\n\n"
        f"Frozen features of the last {result['layers']} block(s) ({result['feature_dim']} dims "
        f"pooled), probes fitted on {result['train_samples']} training samples and scored on "
        f"{result['test_samples']} test samples. RankMe of the test features: "
        f"{result['rankme']:.1f}.\n\n"
        f"| label | probe | test accuracy (%) |\n|---|---|---|\n{rows}\n{factor_table}"
    )

"""LLM-JEPA and Semantic Tube Prediction against cross-entropy alone, from scratch, on the
generated NL-RX-SYNTH-style pairs (8,000 training / 2,000 test).

    python benchmarks/llmjepa.py [--only cost|compare|sweep|data] [--seeds 0,1,2] [--steps N]
        [--reuse]

Every run trains `--steps` steps (default 400, less than the preset's 1,000): at 1,000 steps
cross-entropy alone already decodes ~95 % of the test regexes exactly, which leaves no room to
measure a gain; at 400 it has learned part of the task. Another `--steps` names its results
and runs with it (`llmjepa_compare_<N>_steps`).

- cost: median wall time of one training step (forward, backward, AdamW) at the preset's
  batch for each objective, on the same batches; the extra forward passes of LLM-JEPA show here.
- compare: CE, CE + LLM-JEPA (lambda 1, k 1), CE + STP (lambda 0.02), the same steps and
  batches, for each seed: exact match and equivalence of the greedy-decoded test regexes
  (`hjepa.eval.language`), mean and std over seeds; wall time of training and of evaluation.
- sweep: lambda of LLM-JEPA (k 1), k (lambda 1), lambda of STP, first seed only.
- data: CE + STP on a quarter of the training pairs (the same steps: 4x the epochs) beside
  CE on all of them (from compare).

Runs go to runs/benchmarks/llmjepa/; `--reuse` keeps a finished run of the same name and config
instead of training it again (results only: its wall time is not measured again).
"""

import argparse
import json
import statistics
import time

import numpy as np
import torch

from common import RESULTS_DIR, ROOT, mean_std, median_time, save
from hjepa.config import load_config
from hjepa.eval.language import evaluate_language_run
from hjepa.experiment import build_dataset, build_model
from hjepa.masking import build_masks
from hjepa.train.data import make_loader
from hjepa.train.optim import build_optimizer
from hjepa.train.trainer import train, train_step

PRESET = "configs/llmjepa_nlrx.yaml"
RUNS = ROOT / "runs" / "benchmarks" / "llmjepa"
CE = {"language.jepa_weight": 0.0, "language.stp_weight": 0.0}
OBJECTIVES = {
    "CE": CE,
    "CE + LLM-JEPA": {**CE, "language.jepa_weight": 1.0, "language.pred_tokens": 1},
    "CE + STP": {**CE, "language.stp_weight": 0.02},
}
SWEEP = {
    "LLM-JEPA lambda 0.5": {**CE, "language.jepa_weight": 0.5},
    "LLM-JEPA lambda 2": {**CE, "language.jepa_weight": 2.0},
    "LLM-JEPA lambda 1, k 0": {**CE, "language.jepa_weight": 1.0, "language.pred_tokens": 0},
    "LLM-JEPA lambda 1, k 2": {**CE, "language.jepa_weight": 1.0, "language.pred_tokens": 2},
    "STP lambda 0.005": {**CE, "language.stp_weight": 0.005},
    "STP lambda 0.08": {**CE, "language.stp_weight": 0.08},
}
METRICS = ("exact_match", "equivalence")
STEPS = 400  # the default budget; results and runs of another are named with theirs


def tagged(name: str, steps: int) -> str:
    return name if steps == STEPS else f"{name}_{steps}_steps"


def overrides(terms: dict, seed: int, steps: int, name: str) -> list[str]:
    where = [f"train.run_dir={RUNS}", f"train.name={name}", "train.progress=false"]
    return [*where, "train.tensorboard=false", f"train.seed={seed}", f"train.steps={steps}"] + [
        f"{k}={v}" for k, v in terms.items()
    ]


def run(terms: dict, seed: int, steps: int, name: str, reuse: bool) -> dict:
    """Train and evaluate one run: its scores (%) and seconds of training and evaluation."""
    name = tagged(name, steps)
    cfg = load_config(PRESET, overrides(terms, seed, steps, name))
    folder = RUNS / name
    scored = folder / "eval" / "eval.json"
    finished = (folder / "summary.json").is_file() and scored.is_file()
    if reuse and finished and load_config(folder / "config.yaml") == cfg:
        scores = json.loads(scored.read_text())
        return {**{m: 100 * scores[m] for m in METRICS}, "train_s": None, "eval_s": None}
    start = time.perf_counter()
    train(cfg, overwrite=True)
    trained = time.perf_counter()
    scores = evaluate_language_run(folder)
    return {
        **{m: 100 * scores[m] for m in METRICS},
        "train_s": trained - start,
        "eval_s": time.perf_counter() - trained,
    }


def seconds(values: list) -> str:
    measured = [v for v in values if v is not None]
    return f"{statistics.median(measured):.0f}" if measured else "n/a (reused)"


def run_compare(seeds: list[int], steps: int, reuse: bool) -> dict:
    results = {label: [] for label in OBJECTIVES}
    for seed in seeds:
        for label, terms in OBJECTIVES.items():
            name = f"{label.replace(' + ', '_').replace('-', '').lower()}_{seed}"
            results[label].append(run(terms, seed, steps, name, reuse))
    rows = [_row(label, runs) for label, runs in results.items()]
    verdicts = []
    for label in list(OBJECTIVES)[1:]:
        for metric in METRICS:
            verdicts.append(_verdict(label, metric, results["CE"], results[label]))
    save(
        tagged("llmjepa_compare", steps),
        rows,
        notes=_protocol(seeds, steps),
        footer="\n".join(verdicts),
        extra={"runs": results},
    )
    return results


def _row(label: str, runs: list[dict]) -> dict:
    row = {"objective": label}
    for metric in METRICS:
        row[f"{metric.replace('_', ' ')} (%)"] = mean_std([r[metric] for r in runs])
    row["train s"] = seconds([r["train_s"] for r in runs])
    row["eval s"] = seconds([r["eval_s"] for r in runs])
    return row


def _verdict(label: str, metric: str, base: list[dict], runs: list[dict]) -> str:
    """Whether the term's mean gain over CE is larger than the seed-to-seed spread (the larger
    of the two standard deviations)."""
    a, b = [r[metric] for r in base], [r[metric] for r in runs]
    gain, spread = np.mean(b) - np.mean(a), max(np.std(a), np.std(b))
    met = "met" if gain > spread else "not met"
    return f"- {label}, {metric}: gain {gain:+.1f} points, spread {spread:.1f}: **{met}**"


def _protocol(seeds: list[int], steps: int) -> str:
    cfg = load_config(PRESET, [f"train.steps={steps}"])
    m = cfg.model
    return (
        f"Seeds {seeds}; {cfg.train.steps} steps of batch {cfg.train.batch_size} for every "
        f"objective (same batches per seed); decoder-only LM from scratch (width {m.embed_dim}, "
        f"depth {m.depth}, BPE vocabulary {m.vocab_size}); greedy decoding of the 2,000 test "
        f"regexes; equivalence = same fullmatch result on 256 sampled probe strings per pair."
    )


def run_sweep(seed: int, steps: int, reuse: bool, compare: dict | None) -> None:
    rows = []
    for label, terms in SWEEP.items():
        name = "sweep_" + label.replace(" ", "_").replace(",", "").lower()
        result = run(terms, seed, steps, name, reuse)
        rows.append({"setting": label, **{m: round(result[m], 1) for m in METRICS}})
    if compare is not None:
        for label in OBJECTIVES:
            first = {m: round(compare[label][0][m], 1) for m in METRICS}
            rows.append({"setting": f"{label} (compare)", **first})
    save(tagged("llmjepa_sweep", steps), rows, notes=f"Seed {seed}; {_protocol([seed], steps)}")


def run_data(seeds: list[int], steps: int, reuse: bool, compare: dict | None) -> None:
    quarter = {**OBJECTIVES["CE + STP"], "data.fraction": 0.25}
    runs = [run(quarter, seed, steps, f"stp_quarter_{seed}", reuse) for seed in seeds]
    rows = [_row("CE + STP, 1/4 of the pairs", runs)]
    if compare is not None:
        rows.insert(0, _row("CE, all pairs", compare["CE"]))
    save(tagged("llmjepa_data", steps), rows, notes=_protocol(seeds, steps))


def run_cost(repeats: int = 20) -> None:
    """Median seconds of one training step per objective, on the same fixed batches."""
    rows, base = [], None
    for label, terms in OBJECTIVES.items():
        cfg = load_config(PRESET, [f"{k}={v}" for k, v in terms.items()])
        step_time = _step_time(cfg, repeats)
        base = base or step_time
        rows.append(
            {
                "objective": label,
                "ms per step": round(1000 * step_time, 1),
                "x CE": round(step_time / base, 2),
            }
        )
    save("llmjepa_cost", rows, notes=f"Batch {cfg.train.batch_size}, median of {repeats} steps.")


def _step_time(cfg, repeats: int) -> float:
    torch.manual_seed(0)
    model = build_model(cfg)
    optimizer = build_optimizer(model, cfg.optim)
    loader = make_loader(build_dataset(cfg), build_masks(cfg), cfg.train.batch_size, 1, 0, 0, 0, 8)
    batches = list(loader)
    step = iter(range(10**6))

    def one_step():
        i = next(step)
        train_step(model, model, optimizer, batches[i % 8], cfg, i, torch.device("cpu"), None)

    return median_time(one_step, repeats=repeats, warmup=8)


def _saved_compare(steps: int) -> dict | None:
    """The runs of the last saved comparison at `steps`, if there is one."""
    path = RESULTS_DIR / f"{tagged('llmjepa_compare', steps)}.json"
    return json.loads(path.read_text())["runs"] if path.is_file() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("cost", "compare", "sweep", "data"))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps of every run")
    parser.add_argument("--reuse", action="store_true", help="keep finished runs, same config")
    args = parser.parse_args()
    torch.set_num_threads(2)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.only in (None, "cost"):
        run_cost()
    if args.only in (None, "compare"):
        compare = run_compare(seeds, args.steps, args.reuse)
    else:
        compare = _saved_compare(args.steps)
    if args.only in (None, "sweep"):
        run_sweep(seeds[0], args.steps, args.reuse, compare)
    if args.only in (None, "data"):
        run_data(seeds, args.steps, args.reuse, compare)


if __name__ == "__main__":
    main()

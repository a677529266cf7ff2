"""Evaluating a language run: greedy-decoded regexes for the test descriptions, scored by exact
match and by equivalence on sampled strings (`eval/regex_match.py`).

    hjepa eval runs/llmjepa_nlrx

Each description is followed by <sep>, and the model's most likely token is appended until
<eos> or the context is full. Descriptions of equal token length decode together in one batch.
Writes `eval/eval.json` and `eval/report.md` in the run folder (earlier results moved aside).
"""

from dataclasses import asdict
from pathlib import Path

import torch

from hjepa.eval.regex_match import equivalences, regex_scores
from hjepa.experiment import load_run
from hjepa.io import write_eval_results
from hjepa.modalities.text_pairs import pair_dataset

SHOWN = 12  # predictions listed in the report
PROBES = 256  # probe strings per pair for the equivalence check


@torch.no_grad()
def greedy_decode(lm, tokenizer, texts: list[str], max_tokens: int, batch: int = 512) -> list[str]:
    """The answer `lm` decodes greedily after each text and <sep>, as a string."""
    prompts = [[*tokenizer.encode(text), tokenizer.sep_id] for text in texts]
    by_length: dict[int, list[int]] = {}
    for index, prompt in enumerate(prompts):
        by_length.setdefault(len(prompt), []).append(index)
    answers = [""] * len(texts)
    for indices in by_length.values():
        for start in range(0, len(indices), batch):
            chunk = indices[start : start + batch]
            ids = torch.tensor([prompts[i] for i in chunk], dtype=torch.long)
            continued = _continue(lm, ids, tokenizer.eos_id, max_tokens)
            for i, tokens in zip(chunk, continued, strict=True):
                answers[i] = tokenizer.decode(tokens)
    return answers


def _continue(lm, ids: torch.Tensor, eos_id: int, max_tokens: int) -> list[list[int]]:
    """Greedy continuation of equal-length prompts [B, P] up to <eos> or `max_tokens` in all."""
    prompt = ids.shape[1]
    done = torch.zeros(len(ids), dtype=torch.bool)
    while ids.shape[1] < max_tokens and not done.all():
        next_token = lm.logits(lm(ids)[:, -1]).argmax(dim=-1)
        next_token[done] = eos_id
        ids = torch.cat([ids, next_token[:, None]], dim=1)
        done |= next_token == eos_id
    answers = []
    for row in ids[:, prompt:].tolist():
        answers.append(row[: row.index(eos_id)] if eos_id in row else row)
    return answers


def evaluate_language_run(run_dir: str | Path, seed: int = 0) -> dict:
    """Exact match and equivalence of the run's greedy regexes on its test pairs."""
    run_dir = Path(run_dir)
    cfg, model = load_run(run_dir)
    test = pair_dataset(cfg, "test", run_dir)
    texts = [pair.text for pair in test.pairs]
    predicted = greedy_decode(model.encoder, test.tokenizer, texts, cfg.model.max_tokens)
    shown = test.pairs[:SHOWN]  # same seed: the same probe strings as in the scores
    result = {
        "run": str(run_dir),
        "data": cfg.data.source,
        "test_pairs": len(texts),
        "language": asdict(cfg.language),
        **regex_scores(predicted, test.pairs, seed, PROBES),
        "probe_strings": PROBES,
        "examples": [
            {"text": p.text, "regex": p.regex, "predicted": guess, "equivalent": same}
            for p, guess, same in zip(
                shown,
                predicted[:SHOWN],
                equivalences(predicted[:SHOWN], shown, seed, PROBES),
                strict=True,
            )
        ],
    }
    write_eval_results(run_dir / "eval", result, _report(result))
    return result


def _report(result: dict) -> str:
    rows = "\n".join(
        f"| {e['text']} | `{e['regex']}` | `{e['predicted']}` | "
        f"{'yes' if e['equivalent'] else 'no'} |"
        for e in result["examples"]
    )
    return (
        f"# {result['run']}: regexes from descriptions ({result['data']})\n\n"
        f"Greedy decoding on {result['test_pairs']} test pairs; terms {result['language']}.\n\n"
        f"| exact match (%) | equivalent on sampled strings (%) | compiles (%) |\n|---|---|---|\n"
        f"| {100 * result['exact_match']:.1f} | {100 * result['equivalence']:.1f} | "
        f"{100 * result['compiles']:.1f} |\n\n"
        f"| description | regex | predicted | equivalent |\n|---|---|---|---|\n{rows}\n"
    )

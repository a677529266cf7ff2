"""Runs you can trust, measured: kill -9 at named and at random moments of every phase, each
followed by the documented recovery and compared with an uninterrupted run; damaged files, each
of which must be refused with an error naming it.

python benchmarks/reliability.py [--seed 0]

The scenario (tests/killing.py): a tiny Two-Rooms run, collected (two shards), trained 12 steps
with a checkpoint every 4, refined, exported, evaluated and planned with; `hjepa collect` on its
own. Recovery: `train --resume` (a plain `train` where the kill came before the run folder had
its config), `collect --resume`, eval and plan run again. Survived = the recovery exits 0 and its
results equal the uninterrupted run's: bit for bit for the checkpoint, the exported weights and
the store; equal JSON, timings aside, for summaries, eval and plan results. A damaged file is
given to a command that reads it: shard checksums are checked when a shard is first read, so a
command that never reads a shard (plan, with its critic cached) is not stopped by it.
"""

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

from common import ROOT, save

sys.path.insert(0, str(ROOT / "tests"))
from killing import (  # noqa: E402
    CONCURRENT,
    PLAN,
    RUN,
    STORE,
    WORLD,
    After,
    Call,
    kill_and_recover,
    make_reference,
    run,
    run_twice_at_once,
)

COMMIT = "TrajectoryWriter.commit_shard"
NAMED = [  # (phase, where in it, command, kill)
    ("collection", "before the first shard", "train", Call("hjepa.envs.collect", COMMIT, 1)),
    ("collection", "after one shard", "train", Call("hjepa.envs.collect", COMMIT, 2)),
    (
        "collection",
        "a worker writing a shard",
        "train",
        Call("hjepa.envs.collect", "write_shard_files", 1),
    ),
    (
        "collection",
        "`hjepa collect`, before its first shard",
        "collect",
        Call("hjepa.envs.collect", COMMIT, 1),
    ),
    (
        "collection",
        "`hjepa collect`, after one shard",
        "collect",
        Call("hjepa.envs.collect", COMMIT, 2),
    ),
    ("training", "before step 1", "train", Call("hjepa.train.trainer", "train_step", 1)),
    (
        "training",
        "step 5 (after the first checkpoint)",
        "train",
        Call("hjepa.train.trainer", "train_step", 5),
    ),
    ("training", "step 11", "train", Call("hjepa.train.trainer", "train_step", 11)),
    (
        "checkpoint write",
        "first checkpoint, temp file written, not renamed",
        "train",
        Call("hjepa.io", "os.replace", 1, match="last.pt"),
    ),
    (
        "checkpoint write",
        "second checkpoint, before its temp file",
        "train",
        Call("hjepa.checkpoint", "atomic_write", 2),
    ),
    (
        "checkpoint write",
        "third checkpoint, while serialising",
        "train",
        Call("hjepa.checkpoint", "torch.save", 3),
    ),
    (
        "export",
        "last step done, refinement not started",
        "train",
        Call("hjepa.train.trainer", "_refine", 1),
    ),
    ("export", "refined, before the export", "train", Call("hjepa.train.trainer", "_finish", 1)),
    ("export", "before the weights", "train", Call("hjepa.nets.export", "atomic_write", 1)),
    (
        "export",
        "weights written, config not",
        "train",
        Call("hjepa.nets.export", "atomic_write", 2),
    ),
    (
        "export",
        "exported, summary not written",
        "train",
        Call("hjepa.train.trainer", "write_json_atomic", 1),
    ),
    ("eval", "encoding windows", "eval", Call("hjepa.eval.world_model", "encode_windows", 1)),
    (
        "eval",
        "probes fitted, results not written",
        "eval",
        Call("hjepa.eval.world_model", "write_json_atomic", 1),
    ),
    ("plan", "training the critic", "plan", Call("hjepa.agent.critic", "critic_loss", 15)),
    ("plan", "first episode", "plan", Call("hjepa.eval.planning", "run_episode", 1)),
    ("plan", "third episode", "plan", Call("hjepa.eval.planning", "run_episode", 3)),
    (
        "plan",
        "episodes written, summary not",
        "plan",
        Call("hjepa.eval.planning", "write_json_atomic", 2),
    ),
]
RANDOM = {"train": 6, "collect": 2, "eval": 2, "plan": 2}  # moments drawn per command


def kill_points(seed: int, seconds: dict[str, float]) -> list[tuple[str, str, str, object]]:
    """The named kill points, then random moments of each command: drawn uniformly between 10
    and 95 % of its uninterrupted wall time (`seconds`)."""
    rng = random.Random(seed)
    points = list(NAMED)
    for command, count in RANDOM.items():
        for _ in range(count):
            kill = After(round(rng.uniform(0.1, 0.95) * seconds[command], 2))
            points.append((f"random ({command})", f"`hjepa {command}`, {kill}", command, kill))
    return points


def kill_rows(reference: Path, work: Path, points: list) -> list[dict]:
    rows = []
    for i, (phase, where, command, kill) in enumerate(points):
        outcome = kill_and_recover(command, kill, work / f"kill{i}", reference)
        if not outcome["killed"]:
            verdict = "finished before the kill (not counted)"
        elif outcome["recovered"] and not outcome["differences"]:
            verdict = "survived: results equal"
        else:
            verdict = "LOST: " + "; ".join(outcome["differences"])[:200]
        rows.append({"phase": phase, "kill point": where, "outcome": verdict})
        print(f"{phase:>16} | {where} | {verdict}", flush=True)
    return rows


# -- damaged files: each must be refused naming it


def zeros_in_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(len(data[middle : middle + 2000]))
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_one_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) * 2 // 3] ^= 0x10
    path.write_bytes(bytes(data))


def garbage(path: Path) -> None:
    path.write_bytes(b"\x00not what was written\xff" * 10)


def empty(path: Path) -> None:
    path.write_bytes(b"")


def other_weights(path: Path) -> None:
    """Weights of the same shapes, other values: what another export's file would hold."""
    from safetensors.torch import load_file, save_file

    state = {k: v + 0.01 for k, v in load_file(path).items()}
    save_file(state, str(path), metadata={"format": "pt"})


SHARD = STORE / "shard_00000"
LOAD_EXPORT = [
    "-c",
    "\n".join(
        [  # what a user of the exported encoder runs
            "import sys",
            "from hjepa.errors import HjepaError",
            "from hjepa.nets.export import load_model",
            "try:",
            "    load_model(sys.argv[1])",
            "except HjepaError as exc:",
            "    sys.exit(f'{type(exc).__name__}: {exc}')",
        ]
    ),
]
DAMAGE = [  # (file, damage, the command that reads it)
    (RUN / "checkpoints/last.pt", zeros_in_middle, ["eval", str(RUN)]),
    (RUN / "checkpoints/last.pt", truncate, ["train", "--resume"]),
    (RUN / "checkpoints/last.pt", flip_one_bit, ["plan", str(RUN)]),
    (RUN / "checkpoints/last.pt", garbage, ["eval", str(RUN)]),
    (RUN / "checkpoints/last.pt", empty, ["eval", str(RUN)]),
    (RUN / "encoder/model.safetensors", zeros_in_middle, LOAD_EXPORT),
    (RUN / "encoder/model.safetensors", truncate, LOAD_EXPORT),
    (RUN / "encoder/model.safetensors", other_weights, LOAD_EXPORT),
    (RUN / "encoder/config.json", garbage, LOAD_EXPORT),
    (SHARD / "obs.npy", flip_one_bit, ["eval", str(RUN)]),
    (SHARD / "obs.npy", truncate, ["eval", str(RUN)]),
    (SHARD / "actions.npy", zeros_in_middle, ["eval", str(RUN)]),
    (SHARD / "episode_starts.npy", garbage, ["eval", str(RUN)]),
    (STORE / "meta.json", garbage, ["eval", str(RUN)]),
    (STORE / "meta.json", empty, ["plan", str(RUN)]),
    (RUN / "data.json", garbage, ["eval", str(RUN)]),
]


def damage_rows(reference: Path, work: Path) -> list[dict]:
    rows = []
    for i, (file, damage, reader) in enumerate(DAMAGE):
        folder = work / f"damage{i}"
        shutil.copytree(
            reference / "runs", folder / "runs", ignore=shutil.ignore_patterns(".*lock")
        )
        damage(folder / file)
        argv = {"train": [*WORLD, "--resume"], "plan": PLAN}.get(reader[0], reader)
        if reader is LOAD_EXPORT:
            outcome, output = _python(folder, [*LOAD_EXPORT, str(file.parent)])
        else:
            outcome, output = run(argv, folder)
        refused = outcome != "exit 0" and "Traceback" not in output
        named = file.name in output or str(file.parent) in output
        verdict = "refused, naming it" if refused and named else f"NOT CAUGHT ({outcome})"
        rows.append(
            {
                "damaged file": str(file),
                "damage": damage.__name__.replace("_", " "),
                "read by": " ".join(reader[:1]) if reader is not LOAD_EXPORT else "load_model",
                "outcome": verdict,
            }
        )
        print(f"{file} {damage.__name__}: {verdict} | {output.strip().splitlines()[-1][:160]}")
    return rows


def concurrency_rows(reference: Path, work: Path) -> list[dict]:
    rows = []
    for i, case in enumerate(CONCURRENT):
        outcome = run_twice_at_once(case, work / f"twice{i}", reference)
        if outcome["one_refused"] and not outcome["differences"]:
            verdict = f"one ran, its results equal; the other refused: {outcome['refusal']}"
        else:
            verdict = f"FAILED: {outcome['outcomes']} {outcome['differences']}"
        rows.append({"started twice at once": case, "outcome": verdict})
        print(f"{case}: {verdict}", flush=True)
    return rows


def _python(cwd: Path, args: list[str]) -> tuple[str, str]:
    import subprocess

    done = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True)
    return f"exit {done.returncode}", done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the random kill moments")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reference = Path(tmp) / "reference"
        seconds = make_reference(reference)
        kills = kill_rows(reference, Path(tmp), kill_points(args.seed, seconds))
        damaged = damage_rows(reference, Path(tmp))
        twice = concurrency_rows(reference, Path(tmp))
    killed = [r for r in kills if "not counted" not in r["outcome"]]
    survived = sum(r["outcome"].startswith("survived") for r in killed)
    caught = sum(r["outcome"].startswith("refused") for r in damaged)
    refused = sum(not r["outcome"].startswith("FAILED") for r in twice)
    phases = sorted({r["phase"] for r in killed})
    summary = (
        f"**{survived} of {len(killed)} kill points survived** (results equal to the "
        f"uninterrupted run's), in the phases {', '.join(phases)}; "
        f"**{caught} of {len(damaged)} damaged files refused naming the file**; "
        f"**{refused} of {len(twice)} commands started twice at once ran once**."
    )
    save("reliability_kills", kills, notes=__doc__.split("\n\n", 2)[2].strip() + "\n\n" + summary)
    save("reliability_damage", damaged, notes=summary)
    save("reliability_concurrency", twice, notes=summary)


if __name__ == "__main__":
    main()

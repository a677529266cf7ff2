"""What Push-T world-model encoders keep of the block's pose, and what their distances see.

    python benchmarks/pusht_encoders.py [RUN ...] [--footer TEXT]   (default: runs/benchmarks/pusht)

For each run folder (a world model trained on Push-T, e.g. by `benchmarks/pusht.py` or
`hjepa train configs/pusht.yaml ...`) single frames of its store are encoded: 20,000 from the
training episodes, 2,000 from the held-out ones. Two read-outs, each giving the median errors of
the block angle (degrees; chance 90), the block position and the pusher position (px) on the
held-out frames:
- "distance": the mean state of the 5 nearest training frames (`NeighbourProbe`: Euclidean,
  standardized features). It fits nothing, so it shows what latent distance reflects, which is
  what a planner's |s - g| sees;
- "content": an MLP probe (`MLPProbe`, 4,000 Adam steps) of those quantities fitted on all
  20,000 training frames: what the features hold, in any form.
Two references use the first run's store: the raw newest frame average-pooled to 24 x 24 RGB
("raw pixels"), and the first run's encoder with fresh random weights ("untrained encoder").
Table `pusht_encoders`; `--footer` says how the runs differ.
"""

import argparse
import copy
from pathlib import Path

import torch

from common import ROOT, save
from hjepa.data.windows import WindowDataset
from hjepa.eval.probes import MLPProbe, NeighbourProbe
from hjepa.experiment import open_run

TRAIN_FRAMES, HELD_FRAMES, NEIGHBOURS, PROBE_STEPS = 20000, 2000, 5, 4000
QUANTITIES = ("block_x", "block_y", "block_cos", "block_sin", "agent_x", "agent_y")


def frames(run, episodes, count: int, seed: int):
    """`count` random single frames (obs [N, C, H, W], states [N, S]) of these episodes."""
    windows = WindowDataset(run.store, 2, episodes=episodes)
    picks = torch.randperm(len(windows), generator=torch.Generator().manual_seed(seed))
    items = [windows[i] for i in picks[:count].tolist()]
    obs = torch.stack([it["obs"][0] for it in items])
    return obs, torch.stack([it["states"][0] for it in items])


def probe_frames(run) -> tuple:
    """Training and held-out frames of the run's store, with their `QUANTITIES` columns."""
    columns = [list(run.store.facts.state_names).index(n) for n in QUANTITIES]
    x_train, y_train = frames(run, run.train_episodes, TRAIN_FRAMES, 0)
    x_held, y_held = frames(run, run.held_out_episodes, HELD_FRAMES, 1)
    return x_train, y_train[:, columns], x_held, y_held[:, columns]


@torch.no_grad()
def features(encode, obs: torch.Tensor) -> torch.Tensor:
    return torch.cat([encode(obs[i : i + 256]) for i in range(0, len(obs), 256)]).float()


def raw_pixels(obs: torch.Tensor) -> torch.Tensor:
    newest = obs[:, -3:].float() / 255.0
    return torch.nn.functional.avg_pool2d(newest, 4).flatten(1)


def untrained(model, seed: int = 0):
    fresh = copy.deepcopy(model)
    torch.manual_seed(seed)
    for module in fresh.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return fresh.encode


def read_outs(z_train, y_train, z_held, y_held) -> dict:
    """Both read-outs' median errors (module docstring); states [N, 6] in `QUANTITIES` order."""
    probes = {
        "distance": NeighbourProbe(z_train, y_train, k=NEIGHBOURS),
        "content": MLPProbe(z_train, y_train, steps=PROBE_STEPS),
    }
    row = {}
    for name, probe in probes.items():
        guess = probe(z_held)
        row[f"{name}: block angle deg"] = float(angle_error_deg(guess, y_held).median())
        row[f"{name}: block px"] = float((guess[:, :2] - y_held[:, :2]).norm(dim=1).median())
        row[f"{name}: pusher px"] = float((guess[:, 4:] - y_held[:, 4:]).norm(dim=1).median())
    return row


def angle_error_deg(guess: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Wrapped angle errors (degrees) between the (cos, sin) columns 2, 3 of two state sets."""
    turn = torch.atan2(guess[:, 3], guess[:, 2]) - torch.atan2(truth[:, 3], truth[:, 2])
    turn = turn.remainder(2 * torch.pi)
    return torch.minimum(turn, 2 * torch.pi - turn).rad2deg()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", default=[str(ROOT / "runs" / "benchmarks" / "pusht")])
    parser.add_argument("--footer", default="", help="text under the table: what each run is")
    args = parser.parse_args()
    rows, stores = [], {}
    for i, path in enumerate(args.runs):
        run = open_run(path)
        model = run.model.eval()
        split = (run.store.path, tuple(run.held_out_episodes))  # runs sharing it share frames
        if split not in stores:
            stores[split] = probe_frames(run)
        x_train, y_train, x_held, y_held = stores[split]
        encoders = {Path(path).name: model.encode}
        if i == 0:
            encoders = {"raw pixels": raw_pixels, "untrained encoder": untrained(model), **encoders}
        for label, encode in encoders.items():
            z_train, z_held = features(encode, x_train), features(encode, x_held)
            rows.append({"features": label, **read_outs(z_train, y_train, z_held, y_held)})
            print(rows[-1], flush=True)
    notes = " ".join(__doc__.split("\n\n", 2)[2].split()).rsplit(" Table", 1)[0]
    save("pusht_encoders", rows, notes=notes, footer=args.footer)


if __name__ == "__main__":
    main()

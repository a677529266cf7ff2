"""What Push-T world-model encoders keep of the block's pose: nearest-neighbour read-outs.

    python benchmarks/pusht_encoders.py [RUN ...] [--footer TEXT]   (default: runs/benchmarks/pusht)

For each run folder (a world model trained on Push-T, e.g. by `benchmarks/pusht.py` or
`hjepa train configs/pusht.yaml ...`) single frames of its store are encoded: 8,000 from the
training episodes, 1,000 from the held-out ones. Each held-out frame takes the mean state of its
5 nearest training frames (Euclidean, standardized features), and the table gives the median
errors of the block angle (degrees; chance 90), the block position and the pusher position
(px). Two references use the first run's store: the raw newest frame average-pooled to
24 x 24 RGB ("raw pixels"), and the first run's encoder with fresh random weights
("untrained encoder"). A nearest-neighbour read-out needs no fitting, so a function a fitted
probe finds hard to learn (the angle from a few thousand frames) is not mistaken for one the
features lack. Table `pusht_encoders`; `--footer` says how the runs differ.
"""

import argparse
import copy
from pathlib import Path

import torch

from common import ROOT, save
from hjepa.data.windows import WindowDataset
from hjepa.experiment import open_run

TRAIN_FRAMES, HELD_FRAMES, NEIGHBOURS = 8000, 1000, 5


def frames(run, episodes, count: int, seed: int):
    """`count` random single frames (obs [N, C, H, W], states [N, S]) of these episodes."""
    windows = WindowDataset(run.store, 2, episodes=episodes)
    picks = torch.randperm(len(windows), generator=torch.Generator().manual_seed(seed))
    items = [windows[i] for i in picks[:count].tolist()]
    obs = torch.stack([it["obs"][0] for it in items])
    return obs, torch.stack([it["states"][0] for it in items])


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


def read_out(z_train, y_train, z_held, y_held, names: list[str]) -> dict:
    """Median nearest-neighbour errors: block angle (deg), block and pusher position (px)."""
    mean, std = z_train.mean(0), z_train.std(0) + 1e-6
    distances = torch.cdist((z_held - mean) / std, (z_train - mean) / std)
    guess = y_train[distances.topk(NEIGHBOURS, largest=False).indices].mean(1)
    col = {n: names.index(n) for n in names}

    def angle(y):
        return torch.atan2(y[:, col["block_sin"]], y[:, col["block_cos"]])

    turn = (angle(guess) - angle(y_held)).remainder(2 * torch.pi)
    turn = torch.minimum(turn, 2 * torch.pi - turn).rad2deg()

    def position(a: str, b: str):
        return (guess[:, [col[a], col[b]]] - y_held[:, [col[a], col[b]]]).norm(dim=1)

    return {
        "block angle deg (median)": float(turn.median()),
        "block position px (median)": float(position("block_x", "block_y").median()),
        "pusher position px (median)": float(position("agent_x", "agent_y").median()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", default=[str(ROOT / "runs" / "benchmarks" / "pusht")])
    parser.add_argument("--footer", default="", help="text under the table: what each run is")
    args = parser.parse_args()
    rows = []
    for i, path in enumerate(args.runs):
        run = open_run(path)
        model = run.model.eval()
        names = list(run.store.facts.state_names)
        x_train, y_train = frames(run, run.train_episodes, TRAIN_FRAMES, 0)
        x_held, y_held = frames(run, run.held_out_episodes, HELD_FRAMES, 1)
        encoders = {Path(path).name: model.encode}
        if i == 0:
            encoders = {"raw pixels": raw_pixels, "untrained encoder": untrained(model), **encoders}
        for label, encode in encoders.items():
            z_train, z_held = features(encode, x_train), features(encode, x_held)
            rows.append({"features": label, **read_out(z_train, y_train, z_held, y_held, names)})
            print(rows[-1], flush=True)
    notes = " ".join(__doc__.split("\n\n")[2].split()).rsplit(" Table", 1)[0]
    save("pusht_encoders", rows, notes=notes, footer=args.footer)


if __name__ == "__main__":
    main()

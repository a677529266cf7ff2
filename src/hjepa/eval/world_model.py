"""Evaluate a trained world model on held-out episodes: what its latents know, and how far its
open-loop rollouts stay right.

- probes of the true state from encoder latents, linear and MLP, fitted on training episodes,
  scored on held-out ones: one probe per quantity (the agent's position (x, y), and each layout
  variable such as wall x and door y on its own), as probing studies do. A single probe for all
  of them overfits the layouts: they change only once per episode, so a few hundred windows hold
  only a few hundred layouts (door y: 2.1 px joint on 600 windows vs 0.7 px alone on 2000);
- rollout error against horizon: encode frame 0, roll the predictor out over the recorded
  actions, and compare with the encodings of the frames that followed (latent distance) and,
  through the MLP probe, with the true positions (pixels).
"""

import json
from pathlib import Path

import torch

from hjepa.errors import ConfigError
from hjepa.eval.probes import GroupedProbe, LinearProbe, MLPProbe, position_rmse, rmse
from hjepa.experiment import build_dataset, load_run
from hjepa.viz.plots import plot_rollout_error


def evaluate_run(run_dir: str | Path, windows: int = 2000) -> dict:
    """Evaluate the world model saved in a run folder; results go to `<run>/eval/`."""
    cfg, model = load_run(run_dir)
    if not cfg.model.kind.startswith("world_model"):
        raise ConfigError(f"{run_dir} holds a {cfg.model.kind} model, not a world model")
    train_set, held = build_dataset(cfg), build_dataset(cfg, "held_out")
    names = train_set.store.state_names
    return evaluate_world_model(model, train_set, held, Path(run_dir) / "eval", names, windows)


@torch.no_grad()
def encode_windows(model, dataset, max_windows: int, seed: int = 0) -> dict:
    """Latents, states, actions and frames-0 latents of up to `max_windows` random windows."""
    gen = torch.Generator().manual_seed(seed)
    picks = torch.randperm(len(dataset), generator=gen)[:max_windows].tolist()
    latents, states, actions = [], [], []
    for chunk in range(0, len(picks), 256):
        items = [dataset[i] for i in picks[chunk : chunk + 256]]
        obs = torch.stack([it["obs"] for it in items])
        latents.append(model.encode(obs))
        states.append(torch.stack([it["states"] for it in items]))
        actions.append(torch.stack([it["actions"] for it in items]))
    return {"z": torch.cat(latents), "states": torch.cat(states), "actions": torch.cat(actions)}


def evaluate_world_model(
    model, train_set, held_set, out_dir: Path, state_names, windows=2000, probe_steps=3000
):
    """Probe and rollout metrics, saved as `eval.json` and plots in `out_dir`; returns them.

    Probes are fitted on up to `windows` training windows (MLP probes for `probe_steps` Adam
    steps) and scored on up to `windows` // 3 held-out ones.
    """
    model.eval()
    train = encode_windows(model, train_set, windows)
    held = encode_windows(model, held_set, max(windows // 3, 1), seed=1)
    z, states = train["z"].flatten(0, 1), train["states"].flatten(0, 1)
    probes = {
        "linear": GroupedProbe(LinearProbe, z, states),
        "mlp": GroupedProbe(MLPProbe, z, states, steps=probe_steps),
    }
    held_z, held_states = held["z"].flatten(0, 1), held["states"].flatten(0, 1)
    result = {"state_names": list(state_names), "probe_rmse": {}, "position_rmse_px": {}}
    for name, probe in probes.items():
        pred = probe(held_z)
        result["probe_rmse"][name] = dict(
            zip(state_names, rmse(pred, held_states).tolist(), strict=True)
        )
        result["position_rmse_px"][name] = position_rmse(pred, held_states)
    result.update(_rollout_errors(model, held, probes["mlp"]))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
    plot_rollout_error(result, out_dir / "rollout_error.png")
    return result


@torch.no_grad()
def _rollout_errors(model, held: dict, probe) -> dict:
    z, states, actions = held["z"], held["states"], held["actions"]
    rolled = model.rollout(z[:, 0], actions)
    horizon = rolled.shape[1]
    scale = z.flatten(0, 1).std(0).pow(2).sum().sqrt()
    latent = (rolled - z[:, 1:]).pow(2).sum(-1).sqrt().mean(0) / scale
    position = [
        position_rmse(probe(rolled[:, h], groups=1), states[:, h + 1]) for h in range(horizon)
    ]
    return {
        "horizon": list(range(1, horizon + 1)),
        "rollout_position_rmse_px": position,
        "rollout_latent_error": latent.tolist(),
    }

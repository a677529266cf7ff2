"""Evaluate a trained world model on held-out episodes: what its latents know, and how far its
open-loop rollouts stay right.

- probes of the true state from encoder latents, linear and MLP, fitted on training episodes,
  scored on held-out ones: one probe per quantity (the agent's position, i.e. the env's
  `position_names` columns together, and every other state column, such as wall x and door y,
  on its own), as probing studies do. A single probe for all of them overfits the layouts: they
  change only once per episode, so a few hundred windows hold only a few hundred layouts (door
  y: 2.1 px joint on 600 windows vs 0.7 px alone on 2000);
- the neighbour probe (eval/probes.py): the mean state of the nearest training latents, which
  fits nothing and shows what latent distance (a planner's |s - g|) reflects;
- rollout error against horizon: encode frame 0, roll the predictor out over the recorded
  actions, and compare with the encodings of the frames that followed (latent distance,
  relative to the latents' spread) and, through the MLP probe, with the true positions.

Errors are in the env's own units (`units` of the goal-env protocol, recorded in the store).
What cannot be measured is None in `eval.json` and "n/a" on screen, with the reason in
`not_measured`: probes need the true states the env reports (`info["state"]`), position errors
need the env's position columns.
"""

from pathlib import Path

import torch

from hjepa.data.windows import WindowDataset
from hjepa.errors import ConfigError
from hjepa.eval.probes import (
    GroupedProbe,
    LinearProbe,
    MLPProbe,
    NeighbourProbe,
    position_rmse,
    rmse,
)
from hjepa.experiment import open_run
from hjepa.io import fresh_results_folder, write_json_atomic
from hjepa.viz.plots import plot_rollout_error

NO_STATES = "the store records no true states (the env's info carries no 'state')"
NO_POSITION = "the env names no position columns (position_names of the goal-env protocol)"


def evaluate_run(run_dir: str | Path, windows: int = 2000, probe_steps: int = 3000) -> dict:
    """Evaluate the world model saved in a run folder; results go to `<run>/eval/` (see
    `evaluate_world_model`)."""
    run = open_run(run_dir)
    if not run.cfg.model.kind.startswith("world_model"):
        raise ConfigError(f"{run_dir} holds a {run.cfg.model.kind} model, not a world model")
    frames = run.cfg.data.frames
    train_set = WindowDataset(run.store, frames, episodes=run.train_episodes)
    held = WindowDataset(run.store, frames, episodes=run.held_out_episodes)
    out = run.path / "eval"
    facts = run.store.facts
    return evaluate_world_model(run.model, train_set, held, out, facts, windows, probe_steps)


@torch.no_grad()
def encode_windows(model, dataset, max_windows: int, seed: int = 0) -> dict:
    """Latents, states and actions of up to `max_windows` random windows."""
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
    model, train_set, held_set, out_dir: Path, facts, windows=2000, steps=3000
):
    """Probe and rollout metrics, saved as `eval.json` and plots in `out_dir`; returns them.

    `facts`: the store's `EnvFacts` (state and position names, units). Probes are fitted on up
    to `windows` training windows (MLP probes for `steps` Adam steps) and scored on up to
    `windows` // 3 held-out ones.
    """
    model.eval()
    held = encode_windows(model, held_set, max(windows // 3, 1), seed=1)
    result = {"units": facts.units, "state_names": list(facts.state_names), "not_measured": {}}
    result.update(_latent_rollout_error(model, held))
    if not facts.state_names:
        result["not_measured"]["probes"] = NO_STATES
        result.update(probe_rmse=None, position_rmse=None, rollout_position_rmse=None)
    else:
        train = encode_windows(model, train_set, windows)
        probed = _probe_errors(model, train, held, facts, steps)
        result["not_measured"].update(probed.pop("not_measured", {}))
        result.update(probed)
    out_dir = fresh_results_folder(out_dir)
    write_json_atomic(out_dir / "eval.json", result)
    plot_rollout_error(result, out_dir / "rollout_error.png")
    return result


def _probe_errors(model, train: dict, held: dict, facts, steps: int) -> dict:
    names = list(facts.state_names)
    position = [names.index(n) for n in facts.position_names]
    z, states = train["z"].flatten(0, 1), train["states"].flatten(0, 1)
    probes = {
        "linear": GroupedProbe(LinearProbe, z, states, position),
        "mlp": GroupedProbe(MLPProbe, z, states, position, steps=steps),
        "neighbours": NeighbourProbe(z, states),
    }
    held_z, held_states = held["z"].flatten(0, 1), held["states"].flatten(0, 1)
    out = {"probe_rmse": {}, "position_rmse": {} if position else None}
    for kind, probe in probes.items():
        pred = probe(held_z)
        out["probe_rmse"][kind] = dict(zip(names, rmse(pred, held_states).tolist(), strict=True))
        if position:
            out["position_rmse"][kind] = position_rmse(pred, held_states, position)
    out["rollout_position_rmse"] = _rollout_position_error(model, held, probes["mlp"], position)
    if not position:
        out["not_measured"] = {"position": NO_POSITION}
    return out


@torch.no_grad()
def _latent_rollout_error(model, held: dict) -> dict:
    z, actions = held["z"], held["actions"]
    rolled = model.rollout(z[:, 0], actions)
    scale = z.flatten(0, 1).std(0).pow(2).sum().sqrt()
    latent = (rolled - z[:, 1:]).pow(2).sum(-1).sqrt().mean(0) / scale
    return {"horizon": list(range(1, rolled.shape[1] + 1)), "rollout_latent_error": latent.tolist()}


@torch.no_grad()
def _rollout_position_error(model, held: dict, probe, position: list[int]) -> list | None:
    if not position:
        return None
    z, states = held["z"], held["states"]
    rolled = model.rollout(z[:, 0], held["actions"])
    return [
        position_rmse(probe(rolled[:, h]), states[:, h + 1], position)
        for h in range(rolled.shape[1])
    ]

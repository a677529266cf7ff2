"""How far each level of an H-JEPA predicts: probed position error against the horizon in env
steps (the seed's claim: higher levels predict further).

From a state at time t of a held-out episode, every level predicts the state h env steps later:
level 1 chains h primitive steps of the world model over the recorded actions; level k >= 2
splits those h actions into n = ceil(h / gap_high) chunks of near-equal length, encodes each to
its macro-action (the posterior mean) and chains n steps of its predictor. An MLP probe per level,
fitted on training episodes (that level's states -> the true position), reads the position off
the predicted state; the error is the root mean squared distance to the true position at t + h,
in the env's units. A horizon a level cannot split into chunks inside its gap range is None.
"""

import math

import numpy as np
import torch

from hjepa.errors import ConfigError
from hjepa.eval.probes import MLPProbe
from hjepa.experiment import open_run
from hjepa.io import fresh_results_folder, write_json_atomic
from hjepa.viz.plots import plot_horizon_errors
from hjepa.world.refine import encode_episodes

HORIZONS = (1, 4, 8, 16, 24, 32, 48, 64, 96)


def evaluate_hierarchy(run_dir, horizons=HORIZONS) -> dict:
    """`horizon_errors` of the hierarchy in a run folder, saved to `<run>/eval/` (horizon.json,
    horizon_error.png; earlier results there are kept aside); horizons longer than the held-out
    episodes are left out."""
    run = open_run(run_dir)
    if run.cfg.model.kind != "hierarchy":
        raise ConfigError(f"{run_dir} holds a {run.cfg.model.kind} model, not a hierarchy")
    longest = max(len(run.store.episode(e)["actions"]) - 1 for e in run.held_out_episodes)
    result = horizon_errors(run, [h for h in horizons if h <= longest])
    out = fresh_results_folder(run.path / "eval")
    write_json_atomic(out / "horizon.json", result)
    plot_horizon_errors(result, out / "horizon_error.png")
    return result


@torch.no_grad()
def horizon_errors(
    run, horizons, samples: int = 512, probe_episodes: int = 200, probe_steps: int = 1500, seed=0
):
    """{"horizons": [...], "levels": {k: [error or None per horizon]}, "units": ...} for the
    hierarchy of an opened run (`experiment.open_run`); probes fitted for `probe_steps` steps on
    up to `probe_episodes` training episodes."""
    model, store = run.model, run.store
    columns = _position_columns(store)
    train = _encoded(model, store, run.train_episodes[:probe_episodes], columns)
    held = _encoded(model, store, run.held_out_episodes, columns)
    probes = {}
    for k in range(1, model.depth + 1):
        lifted = model.lift(train["latents"], 1, k)
        with torch.enable_grad():  # the probe is fitted by gradient descent
            probes[k] = MLPProbe(lifted, train["positions"], steps=probe_steps, seed=seed)
    errors = {k: [] for k in probes}
    rng = np.random.default_rng(seed)
    for h in horizons:
        starts = _starts(held, int(h), samples, rng)
        truth = torch.stack([held["positions_by_episode"][e][t + h] for e, t in starts])
        for k, probe in probes.items():
            predicted = _predict(model, k, held, starts, int(h))
            error = None if predicted is None else (probe(predicted) - truth).pow(2).sum(1)
            errors[k].append(None if error is None else float(error.mean().sqrt()))
    return {"horizons": [int(h) for h in horizons], "levels": errors, "units": store.facts.units}


def _position_columns(store) -> list[int]:
    facts = store.facts
    if not facts.state_names or not facts.position_names:
        raise ConfigError(
            "prediction error against horizon needs the store's true states and the env's "
            "position columns (goal-env protocol), which this store lacks"
        )
    return [list(facts.state_names).index(name) for name in facts.position_names]


def _encoded(model, store, episodes, columns) -> dict:
    encoded = encode_episodes(model, store, episodes, "cpu")
    positions = [
        torch.from_numpy(np.asarray(store.episode(e)["states"][:, columns], np.float32))
        for e in episodes
    ]
    return {
        "latents": torch.cat([latents for latents, _ in encoded]),
        "positions": torch.cat(positions),
        "latents_by_episode": [latents for latents, _ in encoded],
        "actions_by_episode": [actions for _, actions in encoded],
        "positions_by_episode": positions,
    }


def _starts(held: dict, h: int, samples: int, rng) -> list[tuple[int, int]]:
    """(episode, t) pairs of held-out episodes with h recorded actions after t."""
    long_enough = [i for i, a in enumerate(held["actions_by_episode"]) if len(a) >= h]
    if not long_enough:
        raise ConfigError(f"no held-out episode has the {h} steps a horizon of {h} needs")
    episodes = rng.choice(long_enough, samples)
    return [
        (int(e), int(rng.integers(len(held["actions_by_episode"][e]) - h + 1))) for e in episodes
    ]


def _predict(model, k: int, held: dict, starts, h: int) -> torch.Tensor | None:
    s0 = torch.stack([held["latents_by_episode"][e][t] for e, t in starts])
    actions = torch.stack([held["actions_by_episode"][e][t : t + h] for e, t in starts])
    if k == 1:
        return model.base.rollout(s0, actions)[:, -1]
    level = model.level(k)
    low, high = level.gap
    n = math.ceil(h / high)
    lengths = [h // n + (1 if i < h % n else 0) for i in range(n)]
    if min(lengths) < low:
        return None
    chunks = actions.new_zeros(len(starts), n, high, actions.shape[-1])
    for i, (begin, size) in enumerate(zip(np.cumsum([0, *lengths[:-1]]), lengths, strict=True)):
        chunks[:, i, :size] = actions[:, begin : begin + size]
    sizes = torch.tensor(lengths).repeat(len(starts))
    macros = level.macro.posterior(chunks.flatten(0, 1), sizes)[0].reshape(len(starts), n, -1)
    return level.rollout(model.lift(s0, 1, k), macros)[:, -1]

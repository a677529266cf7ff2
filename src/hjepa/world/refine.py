"""Dynamics refinement: more predictor training on the frozen encoder's latents.

Joint training pays an encoder pass for every frame of every window it learns from, so the
predictor sees few windows (2000 steps x 64 windows on the random-wall preset) and stays
imprecise: it blurs where a move ends. Once the encoder is trained, the latents of the training
episodes are encoded once, and the predictor and action encoder train on windows of latents at a
small fraction of the cost per window, with the same prediction loss (teacher-forced one-step
plus open-loop over `rollout_steps`, averaged). The encoder is unchanged, and so is everything
trained on its latents (a planning critic, probes).
"""

import torch
from tqdm.auto import tqdm

from hjepa.errors import ConfigError


@torch.no_grad()
def encode_episodes(
    model, store, episodes, device, progress: bool = False
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(latents [T, D], actions [T - 1, A]) of each episode of the store, encoded once."""
    out = []
    for ep in tqdm(episodes, desc="encoding episodes", leave=False, disable=not progress):
        data = store.episode(ep)
        latents = model.encode(torch.from_numpy(data["obs"]).to(device))
        out.append((latents, torch.from_numpy(data["actions"][:-1]).to(device)))
    return out


def refine_predictor(
    model,
    store,
    episodes,
    steps: int,
    batch: int = 256,
    lr: float = 3e-3,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Train `model`'s predictor and action encoder `steps` more steps on latent windows of the
    store's `episodes`; returns the final losses."""
    if model.latent is not None:
        raise ConfigError("predictor refinement needs a world model without a latent variable")
    if steps < 3:
        raise ConfigError(f"world.refine_steps: must be 0 (no refinement) or >= 3, got {steps}")
    device = next(model.parameters()).device
    horizon = model.rollout_steps
    encoded = encode_episodes(model, store, episodes, device, progress)
    data = [e for e in encoded if len(e[1]) >= horizon]
    if not data:
        raise ConfigError(f"no training episode has the {horizon + 1} frames a window needs")
    params = [*model.predictor.parameters(), *model.action_encoder.parameters()]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    warmup = min(0.5, max(0.05, 2 / steps))  # the one-cycle schedule needs >= 2 warm-up steps
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=warmup)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    metrics: dict = {}
    for _ in tqdm(range(steps), desc="refining the predictor", disable=not progress):
        states, actions = _windows(data, horizon, batch, generator)
        loss, metrics = model.dynamics_loss(states, states, model.embed_actions(actions))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    return {f"refine_{k}": float(v) for k, v in metrics.items()}


def _windows(data, horizon: int, batch: int, generator):
    """`batch` random windows: latents [B, horizon + 1, D] and actions [B, horizon, A]."""
    picks = torch.randint(len(data), (batch,), generator=generator).tolist()
    states, actions = [], []
    for i in picks:
        s, a = data[i]
        start = int(torch.randint(len(a) - horizon + 1, (1,), generator=generator))
        states.append(s[start : start + horizon + 1])
        actions.append(a[start : start + horizon])
    return torch.stack(states), torch.stack(actions)

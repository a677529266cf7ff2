"""The action-conditioned world model: a JEPA whose context is an action, pred(s, a) -> s'.

    s_t   = enc(o_t)                                  perception
    ŝ_t+1 = pred(s_t, A(a_t) [, z_t])                 the simulator a planner rolls out
    L = D(ŝ, s_y) over teacher-forced one-step and open-loop H-step predictions   criterion (3)
      + w_reg · R(s)            VICReg | SIGReg on the frame embeddings          criteria (1)(2)
      + w_inv · |inv(s_t, s_t+1) - a_t|²   inverse dynamics: s must show what the action did
      + w_geo · step distance: |s_t - s_t+1| <= 1, other pairs pushed apart up to a cap, so
                that latent distance counts steps and plain |s - g|² is a usable planning cost
      + w_z · KL(q(z_t | s_t, s_t+1) ‖ N(0, I))   optional latent for stochastic outcomes (4)

Batches: `obs` [B, T, C, H, W] in [0, 1], `actions` [B, T-1, A] (action t leads from frame t to
frame t+1). Planners use `encode`, `rollout` and `embed_actions`; training uses `forward`.
"""

import torch
import torch.nn.functional as F
from torch import nn

from hjepa.errors import ShapeError, check_tensor
from hjepa.jepa.latent import LatentVariable
from hjepa.jepa.losses import prediction_loss, step_distance_loss
from hjepa.jepa.model import SelfSupervisedModel
from hjepa.jepa.regularizers import build_regularizer
from hjepa.jepa.targets import build_target
from hjepa.nets.mlp import MLP
from hjepa.world.predictors import build_predictor


class WorldModel(SelfSupervisedModel):
    input_key = "obs"

    def __init__(
        self,
        encoder: nn.Module,
        action_dim: int,
        predictor: str = "mlp",
        action_embed: int = 16,
        hidden: int = 128,
        depth: int = 3,
        rollout_steps: int = 16,
        target: str = "none",
        loss: str = "l2",
        regularizer: str = "vicreg",
        reg_weight: float = 1.0,
        reg_kwargs: dict | None = None,
        inverse_weight: float = 1.0,
        latent_dim: int = 0,
        latent_weight: float = 1e-3,
        geodesic_weight: float = 0.0,
        geodesic_cap: float = 40.0,
        momentum: tuple[float, float] = (0.996, 1.0),
    ):
        super().__init__()
        dim = encoder.num_features
        self.encoder, self.action_dim, self.latent_dim = encoder, action_dim, latent_dim
        self.action_encoder = nn.Linear(action_dim, action_embed)
        self.predictor = build_predictor(
            predictor,
            dim,
            action_embed + latent_dim,
            hidden,
            depth,
            feature_shape=getattr(encoder, "feature_shape", None),
        )
        start, end = momentum
        self.target = build_target(target, encoder, momentum_start=start, momentum_end=end)
        self.regularizer = build_regularizer(regularizer, **(reg_kwargs or {}))
        self.inverse = MLP(2 * dim, hidden, action_dim, depth=2) if inverse_weight > 0 else None
        self.latent = LatentVariable(dim, dim, latent_dim) if latent_dim > 0 else None
        self.rollout_steps, self.loss_kind = rollout_steps, loss
        self.reg_weight = reg_weight
        self.inverse_weight = inverse_weight
        self.latent_weight = latent_weight
        self.geodesic_weight, self.geodesic_cap = geodesic_weight, geodesic_cap

    # -- the simulator

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """Frames [..., C, H, W] -> states [..., D]."""
        return self.encoder.forward_features(obs)

    def embed_actions(self, actions: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Actions [..., A] (+ latents [..., latent_dim], zero = the prior's mean) -> [..., E]."""
        check_tensor("actions", actions, last_dim=self.action_dim)
        embedded = self.action_encoder(actions)
        if self.latent_dim == 0:
            return embedded
        if z is None:
            z = actions.new_zeros(*actions.shape[:-1], self.latent_dim)
        return torch.cat([embedded, z], dim=-1)

    def rollout(self, s0: torch.Tensor, actions: torch.Tensor, z=None) -> torch.Tensor:
        """Open loop: s0 [B, D], actions [B, H, A] -> predicted states [B, H, D]."""
        if actions.ndim != 3 or s0.ndim != 2 or actions.shape[0] != s0.shape[0]:
            raise ShapeError(
                f"rollout: expected s0 [B, D] and actions [B, H, A], got {tuple(s0.shape)} "
                f"and {tuple(actions.shape)}"
            )
        check_tensor("s0", s0, last_dim=self.encoder.num_features)
        return self.predictor.rollout(s0, self.embed_actions(actions, z))

    # -- training

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        obs, actions = self._inputs(batch)
        s = self.encode(obs)
        s_y = self.target.encode(obs, online=s)
        z, z_kl, metrics = self._latent(s, s_y)
        loss, dynamics_metrics = self.dynamics_loss(s, s_y, self.embed_actions(actions, z))
        metrics.update(dynamics_metrics)
        if self.regularizer is not None:
            reg, reg_metrics = self.regularizer(s)
            loss = loss + self.reg_weight * reg
            metrics.update(reg_metrics)
        if self.inverse is not None:
            guess = self.inverse(torch.cat([s[:, :-1], s[:, 1:]], dim=-1))
            inverse = F.mse_loss(guess, actions)
            loss = loss + self.inverse_weight * inverse
            metrics["inverse_loss"] = inverse.detach()
        if self.latent is not None:
            loss = loss + self.latent_weight * z_kl
        if self.geodesic_weight:
            geodesic, m = self._step_distances(s)
            loss = loss + self.geodesic_weight * geodesic
            metrics.update(geodesic_violation=m["violation"], geodesic_far=m["far_mean"])
        return loss, metrics

    def dynamics_loss(self, s: torch.Tensor, s_y: torch.Tensor, a: torch.Tensor):
        """(loss, metrics): targets s_y [B, T, D] predicted from states s [B, T, D] and embedded
        actions a [B, T - 1, E], teacher-forced one step and open loop from s[:, 0] over up to
        `rollout_steps`, the two averaged."""
        one_step, m1 = prediction_loss(self.predictor(s[:, :-1], a), s_y[:, 1:], self.loss_kind)
        horizon = min(self.rollout_steps, a.shape[1])
        rolled = self.predictor.rollout(s[:, 0], a[:, :horizon])
        multi_step, mh = prediction_loss(rolled, s_y[:, 1 : horizon + 1], self.loss_kind)
        loss = (one_step + multi_step) / 2
        return loss, {"pred_loss": m1["pred_loss"], "rollout_loss": mh["pred_loss"]}

    def _step_distances(self, s: torch.Tensor):
        """The step-distance loss on frame embeddings [B, T, D]: consecutive frames, and each
        frame against a random frame of the batch."""
        d = s.shape[-1]
        anchors, nexts = s[:, :-1].reshape(-1, d), s[:, 1:].reshape(-1, d)
        frames = s.reshape(-1, d)
        others = frames[torch.randint(len(frames), (len(anchors),), device=s.device)]
        return step_distance_loss(anchors, nexts, others, self.geodesic_cap)

    @torch.no_grad()
    def representations(self, batch: dict) -> torch.Tensor:
        return self.encode(batch["obs"][:, 0])

    def update_target(self, step: int, total_steps: int) -> dict:
        return self.target.update(self.encoder, step, total_steps)

    def _inputs(self, batch: dict):
        if "obs" not in batch or "actions" not in batch:
            raise ShapeError(f"batch needs obs and actions, has {', '.join(batch)}")
        obs, actions = batch["obs"], batch["actions"]
        if (
            obs.ndim != 5
            or actions.ndim != 3
            or actions.shape[:2]
            != (
                obs.shape[0],
                obs.shape[1] - 1,
            )
        ):
            raise ShapeError(
                f"expected obs [B, T, C, H, W] and actions [B, T-1, A], got {tuple(obs.shape)} "
                f"and {tuple(actions.shape)}"
            )
        return obs, actions

    def _latent(self, s, s_y):
        if self.latent is None:
            return None, None, {}
        b, t, d = s[:, :-1].shape
        z, kl, metrics = self.latent(s[:, :-1].reshape(-1, d), s_y[:, 1:].detach().reshape(-1, d))
        return z.reshape(b, t, -1), kl, metrics

"""The generative baseline for the world model: the same encoder, action encoder and predictor,
but the loss lives in pixel space — a decoder must redraw every predicted frame.

    L = |dec(ŝ_t+1) - pool(o_t+1)|² over teacher-forced and open-loop predictions
      + |dec(s_t) - pool(o_t)|²     (reconstruction keeps the encoder informative)

Frames are compared at the encoder's pooled resolution, so both models see the same pixels. It
cannot collapse (criterion (a) in the seed), but it pays for every detail of every frame.
"""

import torch
import torch.nn.functional as F
from torch import nn

from hjepa.jepa.model import SelfSupervisedModel
from hjepa.nets.convnet import ConvDecoder
from hjepa.nets.frame_encoder import as_float_frames
from hjepa.world.model import WorldModel


class GenerativeWorldModel(SelfSupervisedModel):
    input_key = "obs"

    def __init__(self, world: WorldModel, pool: int, decoder_channels=(32, 16, 16)):
        super().__init__()
        self.world, self.pool = world, pool
        enc = world.encoder
        self.decoder = ConvDecoder(
            enc.num_features, enc.in_chans, enc.img_size // pool, channels=decoder_channels
        )

    @property
    def encoder(self) -> nn.Module:
        return self.world.encoder

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        return self.world.encode(obs)

    def rollout(self, s0: torch.Tensor, actions: torch.Tensor, z=None) -> torch.Tensor:
        return self.world.rollout(s0, actions, z)

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        obs, actions = self.world._inputs(batch)
        frames = as_float_frames(obs.flatten(0, 1))
        target = F.avg_pool2d(frames, self.pool).unflatten(0, obs.shape[:2])
        s = self.encode(obs)
        a = self.world.embed_actions(actions)
        horizon = min(self.world.rollout_steps, actions.shape[1])
        one_step = self._pixel_loss(self.world.predictor(s[:, :-1], a), target[:, 1:])
        rolled = self.world.predictor.rollout(s[:, 0], a[:, :horizon])
        multi_step = self._pixel_loss(rolled, target[:, 1 : horizon + 1])
        reconstruction = self._pixel_loss(s, target)
        loss = (one_step + multi_step) / 2 + reconstruction
        return loss, {
            "pixel_pred_loss": one_step.detach(),
            "pixel_rollout_loss": multi_step.detach(),
            "reconstruction_loss": reconstruction.detach(),
        }

    @torch.no_grad()
    def representations(self, batch: dict) -> torch.Tensor:
        return self.encode(batch["obs"][:, 0])

    def _pixel_loss(self, states: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        decoded = self.decoder(states.flatten(0, 1))
        return F.mse_loss(decoded, frames.flatten(0, 1))

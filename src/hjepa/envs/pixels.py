"""Adapter turning external Gymnasium environments into hjepa's pixel observation format.

`PixelObservation` wraps any env created with `render_mode="rgb_array"`: each observation is the
rendered frame, resized to `size` x `size` by area averaging (torch adaptive average pooling, i.e.
`F.interpolate(mode="area")`; the aspect ratio is not kept), optionally converted to grayscale,
channels first, with the last `frame_stack` frames concatenated along the channels: uint8
[C * frame_stack, size, size] with C = 1 (grayscale) or 3 (RGB), oldest frame first. A Box action
space is exposed as [-1, 1]^A and rescaled affinely to the wrapped env's bounds. When the wrapped
env's own observation is a low-dimensional Box (a vector), it is returned as `info["state"]`
(float32) for probing; for a Dict observation space, `state_key` names the entry that is (its
flattened float32; without `state_key` a Dict env gives no state).

Options: `action_repeat=k` applies each action for k steps of the wrapped env (rewards summed,
stopping early when it terminates or truncates; one frame per action); `camera` picks the
MuJoCo camera (id or name) that MuJoCo envs render from. `render_observation()` is the
observation of the current state as a reset there would give it (the frame repeated
`frame_stack` times), without touching the frame stack: how goal images are drawn.

Headless rendering: Gymnasium's classic-control envs (extra `hjepa[external]`, which pulls
pygame) draw `rgb_array` frames on an off-screen pygame Surface and never open a window. Importing
this module sets `SDL_VIDEODRIVER=dummy` and `SDL_AUDIODRIVER=dummy` (unless already set) so pygame
never looks for a display or sound card, and hides pygame's greeting. Checked here, without a
display: `Pendulum-v1` (500 x 500 frames) and `MountainCarContinuous-v0` (600 x 400). MuJoCo envs
(extra `hjepa[mujoco]`) render off-screen with `MUJOCO_GL=egl` (checked: `Reacher-v5`). Envs
with a discrete action space pass actions through unchanged.
"""

from __future__ import annotations

import os
from collections import deque

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from gymnasium import spaces  # noqa: E402

from hjepa.errors import ActionError, ConfigError  # noqa: E402

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601 grayscale weights
MAX_STATE_DIM = 64  # a Box observation with at most this many numbers counts as a true state


def resize_area(frame: np.ndarray, size: int) -> np.ndarray:
    """Resize an image [H, W, C] (numeric) to float32 [C, size, size] by area averaging."""
    x = torch.from_numpy(np.ascontiguousarray(frame, dtype=np.float32)).permute(2, 0, 1)
    return F.interpolate(x[None], size=(size, size), mode="area")[0].numpy()


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """float32 [3, H, W] RGB -> float32 [1, H, W] luma."""
    return np.tensordot(LUMA, image, axes=1)[None]


class PixelObservation(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Observations: uint8 [C * frame_stack, size, size] rendered frames; actions in [-1, 1]^A.

    `env` must have `render_mode="rgb_array"`. `normalize_actions=False` keeps the wrapped
    env's action space. Out-of-range, NaN/Inf or wrongly shaped normalized actions raise
    ActionError. `action_repeat`, `camera`, `state_key`: module docstring.
    """

    def __init__(
        self,
        env: gymnasium.Env,
        size: int = 64,
        grayscale: bool = False,
        frame_stack: int = 1,
        normalize_actions: bool = True,
        action_repeat: int = 1,
        camera: int | str | None = None,
        state_key: str | None = None,
    ):
        gymnasium.utils.RecordConstructorArgs.__init__(
            self,
            size=size,
            grayscale=grayscale,
            frame_stack=frame_stack,
            normalize_actions=normalize_actions,
            action_repeat=action_repeat,
            camera=camera,
            state_key=state_key,
        )
        gymnasium.Wrapper.__init__(self, env)
        if env.render_mode != "rgb_array":
            raise ConfigError(
                f"PixelObservation needs render_mode='rgb_array', got {env.render_mode!r}"
            )
        if min(int(size), int(frame_stack), int(action_repeat)) < 1:
            raise ConfigError(
                "size, frame_stack and action_repeat must be >= 1, "
                f"got {size}, {frame_stack}, {action_repeat}"
            )
        self.size, self.grayscale, self.frame_stack = int(size), bool(grayscale), int(frame_stack)
        self.action_repeat = int(action_repeat)
        self.state_key = _check_state_key(env.observation_space, state_key)
        if camera is not None:
            _select_camera(env, camera)
        channels = (1 if self.grayscale else 3) * self.frame_stack
        self.observation_space = spaces.Box(0, 255, (channels, self.size, self.size), np.uint8)
        self._rescale = normalize_actions and isinstance(env.action_space, spaces.Box)
        if self._rescale:
            self._low = env.action_space.low.astype(np.float64)
            self._high = env.action_space.high.astype(np.float64)
            if not (np.isfinite(self._low).all() and np.isfinite(self._high).all()):
                raise ConfigError("cannot normalize an action space with infinite bounds")
            shape = env.action_space.shape
            self.action_space = spaces.Box(-1.0, 1.0, shape, np.float32)
        self._frames: deque[np.ndarray] = deque(maxlen=self.frame_stack)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        frame = self._frame()
        self._frames.clear()
        self._frames.extend([frame] * self.frame_stack)
        return self._stacked(), self._with_state(info, obs)

    def step(self, action):
        """Apply `action` for `action_repeat` steps (fewer if the episode ends): summed reward."""
        action, total = self.rescale_action(action), 0.0
        for _ in range(self.action_repeat):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
        self._frames.append(self._frame())
        return self._stacked(), total, terminated, truncated, self._with_state(info, obs)

    def render_observation(self) -> np.ndarray:
        """The observation of the wrapped env's current state as a reset there would give it:
        its frame repeated `frame_stack` times (the frame stack itself is left alone)."""
        return np.concatenate([self._frame()] * self.frame_stack, axis=0)

    def rescale_action(self, action):
        """Map a normalized action in [-1, 1]^A to the wrapped env's Box bounds."""
        if not self._rescale:
            return action
        a = np.asarray(action, dtype=np.float64)
        if a.shape != self.action_space.shape:
            raise ActionError(f"action: expected shape {self.action_space.shape}, got {a.shape}")
        if not np.isfinite(a).all():
            raise ActionError("action: contains NaN or Inf")
        if np.abs(a).max(initial=0.0) > 1.0 + 1e-6:
            raise ActionError(f"action: component outside [-1, 1]: {a.tolist()}")
        scaled = self._low + (np.clip(a, -1.0, 1.0) + 1.0) * 0.5 * (self._high - self._low)
        return scaled.astype(self.env.action_space.dtype)

    def _frame(self) -> np.ndarray:
        rgb = self.env.render()
        if rgb is None or np.ndim(rgb) != 3:
            raise ConfigError(f"render() must return an [H, W, 3] array, got {type(rgb).__name__}")
        image = resize_area(rgb[..., :3], self.size)
        if self.grayscale:
            image = to_grayscale(image)
        return np.clip(np.rint(image), 0, 255).astype(np.uint8)

    def _stacked(self) -> np.ndarray:
        return np.concatenate(list(self._frames), axis=0)

    def _with_state(self, info: dict, obs) -> dict:
        if self.state_key is not None:
            return {**info, "state": np.asarray(obs[self.state_key], np.float32).reshape(-1)}
        space = self.env.observation_space
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            return info
        if space.shape[0] > MAX_STATE_DIM:
            return info
        return {**info, "state": np.asarray(obs, dtype=np.float32)}


def _check_state_key(space: spaces.Space, state_key: str | None) -> str | None:
    """`state_key` if it names an entry of the Dict `space`; ConfigError otherwise."""
    if state_key is None:
        return None
    if not isinstance(space, spaces.Dict):
        raise ConfigError(
            f"state_key={state_key!r} needs a Dict observation space, got {type(space).__name__}"
        )
    if state_key not in space.spaces:
        raise ConfigError(f"state_key {state_key!r} is not an observation key: {list(space)}")
    return state_key


def _select_camera(env: gymnasium.Env, camera: int | str) -> None:
    """Make a MuJoCo env's renderer draw from `camera` (an id, -1 = free camera, or a name)."""
    renderer = getattr(env.unwrapped, "mujoco_renderer", None)
    if renderer is None:
        raise ConfigError(
            f"camera={camera!r}: only MuJoCo envs have cameras to choose, "
            f"{type(env.unwrapped).__name__} is not one"
        )
    model = env.unwrapped.model
    names = [model.camera(i).name for i in range(model.ncam)]
    if isinstance(camera, str) and camera in names:
        renderer.camera_id = names.index(camera)
    elif isinstance(camera, (int, np.integer)) and -1 <= int(camera) < model.ncam:
        renderer.camera_id = int(camera)
    else:
        raise ConfigError(
            f"camera {camera!r} not found: use -1 (free camera), an id below {model.ncam}, "
            f"or a name of {names}"
        )

"""Procedural video data: objects moving at constant velocity and bouncing off the walls, so video
models (V-JEPA) train and test with no downloads, with known factors of motion to probe for."""

import math

import numpy as np
import torch

from hjepa.errors import ConfigError

SHAPE_NAMES = ("disk", "ring", "square", "cross")
DIRECTION_NAMES = ("E", "NE", "N", "NW", "W", "SW", "S", "SE")
FACTOR_NAMES = ("speed", "direction_sin", "direction_cos", "bounces")
SPLITS = ("train", "test")
MAIN_RADIUS = (0.12, 0.2)  # object half-size range, as a fraction of the image side
DISTRACTOR_RADIUS = (0.05, 0.09)


def bounce(start: np.ndarray, step: np.ndarray, low: np.ndarray, frames: int):
    """Positions of points moving by `step` per frame inside [low, 1 - low], reflected at both
    ends: start, step, low [K] -> (positions [frames, K], wall hits [K] from frame 0 to the last).

    The path is unfolded (no walls) and folded back with a triangle wave of period 2 * width.
    """
    width = 1.0 - 2.0 * low
    travelled = start - low + step * np.arange(frames, dtype=np.float64)[:, None]  # unfolded
    folded = width - np.abs(np.mod(travelled, 2.0 * width) - width)
    hits = np.abs(np.floor(travelled[-1] / width) - np.floor(travelled[0] / width))
    return low + folded, hits


class MovingObjectsDataset(torch.utils.data.Dataset):
    """Clips of one object (a shape of SHAPE_NAMES) moving at constant velocity over a dark, noisy
    background and bouncing off the image borders, optionally with smaller distractor objects
    (random shapes, moving and bouncing the same way, always drawn beneath the main object).

    Item i is a dict:
      "video": float32 [C, T, H, W] in [-1, 1];
      "label": the main object's shape class (int, index into SHAPE_NAMES);
      "factors": float32 [4] (FACTOR_NAMES): the speed in pixels per frame, the sine and cosine
        of the initial direction of motion (angle counter-clockwise from east, y pointing up),
        and the number of wall hits of the main object between the first and the last frame;
      "direction_class": the initial direction in 8 compass bins (int, DIRECTION_NAMES);
      "index": i.
    Every item is a pure function of (seed, split, i); "train" and "test" draw from disjoint
    random streams.

    Arguments: num_samples; frames T; image_size H = W in pixels; channels C; seed; split;
    distractors, the number of distractor objects; speed, the (min, max) speed in pixels per
    frame (drawn uniformly per object).
    """

    num_classes = len(SHAPE_NAMES)
    class_names = SHAPE_NAMES
    factor_names = FACTOR_NAMES
    direction_names = DIRECTION_NAMES

    def __init__(
        self,
        num_samples: int = 10000,
        frames: int = 8,
        image_size: int = 32,
        channels: int = 3,
        seed: int = 0,
        split: str = "train",
        distractors: int = 0,
        speed: tuple[float, float] = (1.0, 3.0),
    ):
        for name, value, low in [
            ("num_samples", num_samples, 1),
            ("frames", frames, 2),
            ("image_size", image_size, 8),
            ("channels", channels, 1),
            ("seed", seed, 0),
            ("distractors", distractors, 0),
        ]:
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(
                    f"MovingObjectsDataset: {name} must be an int >= {low}, got {value!r}"
                )
        if split not in SPLITS:
            raise ConfigError(f"MovingObjectsDataset: split must be one of {SPLITS}, got {split!r}")
        try:
            lo, hi = (float(v) for v in speed)
        except (TypeError, ValueError):
            lo = hi = math.nan
        if not 0.0 <= lo <= hi < math.inf:
            raise ConfigError(f"MovingObjectsDataset: speed must be 0 <= min <= max, got {speed!r}")
        self.num_samples, self.frames, self.image_size = num_samples, frames, image_size
        self.channels, self.seed, self.split = channels, seed, split
        self.distractors, self.speed = distractors, (lo, hi)
        coords = (np.arange(image_size, dtype=np.float32) + 0.5) / image_size
        self._yy, self._xx = np.meshgrid(coords, coords, indexing="ij")  # [H, W] in (0, 1)

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, i: int) -> dict:
        if not -self.num_samples <= i < self.num_samples:
            raise IndexError(f"index {i} out of range for {self.num_samples} samples")
        i = int(i) % self.num_samples
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split), i])
        video, label, factors = self._render(rng)
        angle = math.atan2(factors[1], factors[2])
        return {
            "video": torch.from_numpy(video),
            "label": label,
            "factors": torch.from_numpy(factors),
            "direction_class": round(angle / (math.pi / 4)) % len(DIRECTION_NAMES),
            "index": i,
        }

    def _render(self, rng: np.random.Generator) -> tuple[np.ndarray, int, np.ndarray]:
        """One clip [C, T, H, W] float32 in [-1, 1], the main object's class and its factors.

        Object 0 is the main object, drawn last; all per-clip scalars come from one `rng.random`
        call (much faster than many calls).
        """
        c, count = self.channels, 1 + self.distractors
        u = rng.random(c + count * (6 + c))
        objects = u[c:].reshape(count, 6 + c)
        kinds = np.minimum((objects[:, 0] * len(SHAPE_NAMES)).astype(int), len(SHAPE_NAMES) - 1)
        radius = np.array([MAIN_RADIUS] + [DISTRACTOR_RADIUS] * self.distractors)
        radius = radius[:, 0] + (radius[:, 1] - radius[:, 0]) * objects[:, 1]
        speed = self.speed[0] + (self.speed[1] - self.speed[0]) * objects[:, 2]
        angle = 2.0 * math.pi * objects[:, 3]
        step = speed / self.image_size * np.stack([np.cos(angle), -np.sin(angle)])  # x, y [2, K]
        start = radius + (1.0 - 2.0 * radius) * objects[:, 4:6].T  # [2, K]
        x, hits_x = bounce(start[0], step[0], radius, self.frames)
        y, hits_y = bounce(start[1], step[1], radius, self.frames)
        video = np.broadcast_to(0.25 * u[:c, None, None, None], (c, self.frames, *self._xx.shape))
        for k in reversed(range(count)):
            dx = self._xx[None] - x[:, k, None, None].astype(np.float32)
            dy = self._yy[None] - y[:, k, None, None].astype(np.float32)
            mask = self._shape_mask(int(kinds[k]), dx, dy, float(radius[k]))
            colour = (0.45 + 0.55 * objects[k, 6:]).astype(np.float32)
            video = np.where(mask[None], colour[:, None, None, None], video)
        noise = rng.random(video.shape, dtype=np.float32)
        video = np.clip(video + 0.1 * (noise - 0.5), 0.0, 1.0) * 2.0 - 1.0
        factors = [speed[0], math.sin(angle[0]), math.cos(angle[0]), hits_x[0] + hits_y[0]]
        return video.astype(np.float32), int(kinds[0]), np.array(factors, dtype=np.float32)

    def _shape_mask(self, kind: int, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
        """Boolean mask of shape `kind` of half-size r centred where the offsets dx, dy are 0
        (any shape, here [T, H, W]); strokes are at least 1.5 pixels wide."""
        stroke = max(0.3 * r, 0.75 / self.image_size)
        if kind == 0:  # disk
            return dx * dx + dy * dy <= r * r
        if kind == 1:  # ring
            dist2 = dx * dx + dy * dy
            return (dist2 <= r * r) & (dist2 >= (r - 2.0 * stroke) ** 2)
        ax, ay = np.abs(dx), np.abs(dy)
        if kind == 2:  # axis-aligned square
            return (ax <= 0.886 * r) & (ay <= 0.886 * r)
        return ((ax <= r) & (ay <= stroke)) | ((ay <= r) & (ax <= stroke))  # cross

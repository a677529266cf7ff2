"""Procedural image data, so image models train and test with no downloads."""

import numpy as np
import torch

from hjepa.errors import ConfigError

SHAPE_NAMES = ("circle", "square", "triangle", "bar")


class ShapesDataset(torch.utils.data.Dataset):
    """Images of 1..max_shapes filled shapes on a dark, slightly noisy background.

    Item i is a dict {"image": float32 [C, H, W] in about [-1, 1], "label": int, "index": i};
    the label (0..3, see SHAPE_NAMES) is the class of the shape with the largest drawn area
    (before later shapes occlude it). Every item is a pure function of (seed, i).
    """

    num_classes = len(SHAPE_NAMES)

    def __init__(
        self,
        num_samples: int = 10000,
        image_size: int = 32,
        channels: int = 3,
        seed: int = 0,
        max_shapes: int = 3,
    ):
        for name, value, low in [
            ("num_samples", num_samples, 1),
            ("image_size", image_size, 8),
            ("channels", channels, 1),
            ("seed", seed, 0),
            ("max_shapes", max_shapes, 1),
        ]:
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"ShapesDataset: {name} must be an int >= {low}, got {value!r}")
        self.num_samples, self.image_size, self.channels = num_samples, image_size, channels
        self.seed, self.max_shapes = seed, max_shapes
        coords = (np.arange(image_size, dtype=np.float32) + 0.5) / image_size
        self._yy, self._xx = np.meshgrid(coords, coords, indexing="ij")  # [H, W] in (0, 1)

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, i: int) -> dict:
        if not -self.num_samples <= i < self.num_samples:
            raise IndexError(f"index {i} out of range for {self.num_samples} samples")
        i = int(i) % self.num_samples
        image, label = self._render(np.random.default_rng([self.seed, i]))
        return {"image": torch.from_numpy(image), "label": label, "index": i}

    def label(self, i: int) -> int:
        """Class of item i's largest shape (renders the item)."""
        return self[i]["label"]

    def _render(self, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """Draw one image [C, H, W] float32 in [-1, 1] and its label.

        All per-image scalars come from one `rng.random` call (much faster than many calls).
        """
        c = self.channels
        count = int(rng.integers(1, self.max_shapes + 1))
        u = rng.random(2 * c + count * (c + 5), dtype=np.float32)
        background, tilt = 0.25 * u[:c], 0.2 * u[c : 2 * c] - 0.1
        image = (background[:, None, None] + tilt[:, None, None] * (self._xx - 0.5)).astype(
            np.float32
        )
        best_area, label = -1.0, 0
        for params in u[2 * c :].reshape(count, c + 5):
            kind = min(int(params[0] * len(SHAPE_NAMES)), len(SHAPE_NAMES) - 1)
            mask = self._shape_mask(kind, *params[1:5])
            colour = 0.45 + 0.55 * params[5:, None, None]
            image = np.where(mask, colour, image)
            area = float(np.count_nonzero(mask))
            if area > best_area:
                best_area, label = area, kind
        noise = rng.random(image.shape, dtype=np.float32)
        image = image + 0.1 * (noise - 0.5)
        return (np.clip(image, 0.0, 1.0) * 2.0 - 1.0).astype(np.float32), label

    def _shape_mask(self, kind: int, u_size, u_x, u_y, u_flip) -> np.ndarray:
        """Boolean [H, W] mask of one shape from four uniforms in [0, 1).

        Sizes and positions are fractions of the image side; every kind has the nominal area of
        a circle of radius r (pi r^2), so which shape is largest depends on r, not on the kind.
        """
        r = 0.1 + 0.15 * float(u_size)
        dx = self._xx - (r + (1.0 - 2.0 * r) * float(u_x))
        dy = self._yy - (r + (1.0 - 2.0 * r) * float(u_y))
        if kind == 0:  # circle
            return dx * dx + dy * dy <= r * r
        if kind == 1:  # axis-aligned square
            return (np.abs(dx) <= 0.886 * r) & (np.abs(dy) <= 0.886 * r)
        if kind == 2:  # upward triangle: apex at top, base as wide as it is tall
            t = 1.253 * r
            return (np.abs(dy) <= t) & (np.abs(dx) <= 0.5 * (dy + t))
        long, short = (dx, dy) if u_flip < 0.5 else (dy, dx)  # bar, horizontal or vertical
        half_short = max(0.474 * r, 0.75 / self.image_size)
        return (np.abs(long) <= 1.66 * r) & (np.abs(short) <= half_short)

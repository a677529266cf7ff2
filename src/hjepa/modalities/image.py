"""Procedural image data, so image models train and test with no downloads.

Every image dataset of hjepa (here, `clutter.py`, `image_files.py`) gives items
    {"image": float32 [C, H, W] in [-1, 1], "label": int, "index": int}
and procedural ones also "factors": float32 [F], the continuous causes of the image (position,
size, ...) named by `factor_names`. Each has `num_classes`, `class_names` and `factor_names`
(empty without factors).
"""

import abc

import numpy as np
import torch

from hjepa.errors import ConfigError

SPLITS = ("train", "test")
SHAPE_NAMES = ("circle", "square", "triangle", "bar")


def check_count(owner: str, name: str, value, low: int) -> None:
    """ConfigError naming `owner` and `name` unless `value` is an int >= `low`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{owner}: {name} must be an int >= {low}, got {value!r}")


class ProceduralImages(torch.utils.data.Dataset, abc.ABC):
    """Base of the rendered sets: item i of a split is a pure function of (seed, split, i).

    The training and test splits draw from disjoint random streams, so they never share an
    image however many samples each has. Subclasses set `class_names`, `factor_names` and
    implement `_render`.
    """

    class_names: tuple[str, ...] = ()
    factor_names: tuple[str, ...] = ()
    noise = 0.1  # amplitude of the uniform pixel noise added to every image

    def __init__(
        self,
        num_samples: int = 10000,
        image_size: int = 32,
        channels: int = 3,
        seed: int = 0,
        split: str = "train",
    ):
        owner = type(self).__name__
        for name, value, low in [
            ("num_samples", num_samples, 1),
            ("image_size", image_size, 8),
            ("channels", channels, 1),
            ("seed", seed, 0),
        ]:
            check_count(owner, name, value, low)
        if split not in SPLITS:
            raise ConfigError(f"{owner}: split must be one of {SPLITS}, got {split!r}")
        self.num_samples, self.image_size, self.channels = num_samples, image_size, channels
        self.seed, self.split = seed, split
        coords = (np.arange(image_size, dtype=np.float32) + 0.5) / image_size
        self._yy, self._xx = np.meshgrid(coords, coords, indexing="ij")  # [H, W] in (0, 1)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, i: int) -> dict:
        if not -self.num_samples <= i < self.num_samples:
            raise IndexError(f"index {i} out of range for {self.num_samples} samples")
        i = int(i) % self.num_samples
        rng = np.random.default_rng([self.seed, i, SPLITS.index(self.split)])
        image, label, factors = self._render(rng)
        image = image + self.noise * (rng.random(image.shape, dtype=np.float32) - 0.5)
        image = np.clip(image, 0.0, 1.0) * 2.0 - 1.0
        return {
            "image": torch.from_numpy(image.astype(np.float32)),
            "label": label,
            "index": i,
            "factors": torch.from_numpy(np.array(factors, dtype=np.float32)),
        }

    def label(self, i: int) -> int:
        """Class of item i (renders the item)."""
        return self[i]["label"]

    @abc.abstractmethod
    def _render(self, rng: np.random.Generator) -> tuple[np.ndarray, int, list[float]]:
        """One image [C, H, W] in about [0, 1] before noise, its label and its factors."""


class ShapesDataset(ProceduralImages):
    """Images of 1..max_shapes flat-coloured shapes on a dark, slightly noisy background.

    The label (0..3, see SHAPE_NAMES) is the class of the shape with the largest drawn area
    (before later shapes occlude it); the factors are that shape's centre `x`, `y` and radius
    `size` (fractions of the image side) and `colour` (the mean of its colour's channels).
    The label shows partly in low-level pixel statistics: a linear classifier on the raw
    pixels of 10000 training images (32 px, RGB) scores 33 % on the test split (chance 25 %);
    on `ClutterDataset`, the harder set, it stays at chance.
    """

    class_names = SHAPE_NAMES
    factor_names = ("x", "y", "size", "colour")

    def __init__(
        self,
        num_samples: int = 10000,
        image_size: int = 32,
        channels: int = 3,
        seed: int = 0,
        max_shapes: int = 3,
        split: str = "train",
    ):
        super().__init__(num_samples, image_size, channels, seed, split)
        check_count(type(self).__name__, "max_shapes", max_shapes, 1)
        self.max_shapes = max_shapes

    def _render(self, rng: np.random.Generator) -> tuple[np.ndarray, int, list[float]]:
        """All per-image scalars come from one `rng.random` call (much faster than many)."""
        c = self.channels
        count = int(rng.integers(1, self.max_shapes + 1))
        u = rng.random(2 * c + count * (c + 5), dtype=np.float32)
        background, tilt = 0.25 * u[:c], 0.2 * u[c : 2 * c] - 0.1
        image = background[:, None, None] + tilt[:, None, None] * (self._xx - 0.5)
        best_area, label, factors = -1.0, 0, []
        for params in u[2 * c :].reshape(count, c + 5):
            kind = min(int(params[0] * len(SHAPE_NAMES)), len(SHAPE_NAMES) - 1)
            r = 0.1 + 0.15 * float(params[1])
            x, y = (r + (1.0 - 2.0 * r) * float(p) for p in params[2:4])
            mask = self._shape_mask(kind, r, x, y, params[4] < 0.5)
            colour = 0.45 + 0.55 * params[5:]
            image = np.where(mask, colour[:, None, None], image)
            area = float(np.count_nonzero(mask))
            if area > best_area:
                best_area, label = area, kind
                factors = [x, y, r, float(colour.mean())]
        return image, label, factors

    def _shape_mask(self, kind: int, r: float, x: float, y: float, flat: bool) -> np.ndarray:
        """Boolean [H, W] mask of one shape of radius r centred at (x, y) (image fractions).

        Every kind has the nominal area of a circle of radius r (pi r^2), so which shape is
        largest depends on r, not on the kind. `flat`: a bar lies horizontally.
        """
        dx, dy = self._xx - x, self._yy - y
        if kind == 0:  # circle
            return dx * dx + dy * dy <= r * r
        if kind == 1:  # axis-aligned square
            return (np.abs(dx) <= 0.886 * r) & (np.abs(dy) <= 0.886 * r)
        if kind == 2:  # upward triangle: apex at top, base as wide as it is tall
            t = 1.253 * r
            return (np.abs(dy) <= t) & (np.abs(dx) <= 0.5 * (dy + t))
        long, short = (dx, dy) if flat else (dy, dx)  # bar, horizontal or vertical
        half_short = max(0.474 * r, 0.75 / self.image_size)
        return (np.abs(long) <= 1.66 * r) & (np.abs(short) <= half_short)

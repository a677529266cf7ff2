"""A harder procedural image set: the class of one textured shape among clutter.

In `ShapesDataset` a shape's class shows in low-level pixel statistics. Here it does not:
the main shape's colours, texture, rotation and place are random and independent of its
class, every class has the same area, and random strokes and blobs of random colours lie
around it (some over it). Only the outline tells the class, wherever it is and whatever it
is filled with, so a linear classifier on raw pixels stays close to chance.
"""

import numpy as np

from hjepa.modalities.image import ProceduralImages

CLUTTER_CLASSES = ("disc", "square", "triangle", "bar", "cross", "ring")
# Rotations that map a class onto itself: its rotation factor is the angle divided by this
# period (0 for the round ones, which have none).
_PERIOD = (0.0, np.pi / 2, 2 * np.pi / 3, np.pi, np.pi / 2, 0.0)
_EXTENT = 1.62  # farthest point of any class from its centre, in units of r
_MAX_CLUTTER = 8  # distractors per image at most
_CLUTTER_PARAMS = 8  # uniforms per distractor, before its colour
_CLUTTER_REACH = 0.36  # a distractor lies within a square this part of the side wide


class ClutterDataset(ProceduralImages):
    """Images of one textured shape (6 classes, CLUTTER_CLASSES) among 4..8 distractors.

    The main shape has the nominal area pi r^2 whatever its class (r: 0.12..0.2 of the side),
    a random rotation, and a random texture of two random colours: stripes or a checkerboard
    of random orientation and period. The background is a random colour with a gradient.
    Distractors are thin strokes and small ellipses of random colours; about a third lie
    over the shape and hide part of it. Factors: the shape's centre `x`, `y` and `size` r
    (fractions of the side) and `rotation` (a fraction of its symmetry period, 0..1).
    """

    class_names = CLUTTER_CLASSES
    factor_names = ("x", "y", "size", "rotation")

    def _render(self, rng: np.random.Generator) -> tuple[np.ndarray, int, list[float]]:
        """All per-image scalars come from one `rng.random` call (much faster than many)."""
        c = self.channels
        sizes = [2 * c + 1, 6, 2 * c + 4, _MAX_CLUTTER * (_CLUTTER_PARAMS + c)]
        u = rng.random(sum(sizes), dtype=np.float32)
        background, shape, texture, clutter = np.split(u, np.cumsum(sizes[:-1]))
        image = self._background(background)
        clutter = clutter.reshape(_MAX_CLUTTER, _CLUTTER_PARAMS + c)
        clutter = clutter[: 4 + int(shape[0] * (_MAX_CLUTTER - 3))]
        masks, corners, colours = self._clutter(clutter)
        above = clutter[:, 0] < 0.35
        _paint(image, masks[~above], corners[~above], colours[~above])
        kind = min(int(shape[1] * len(CLUTTER_CLASSES)), len(CLUTTER_CLASSES) - 1)
        r = 0.12 + 0.08 * float(shape[2])
        x, y = (_EXTENT * r + (1 - 2 * _EXTENT * r) * float(p) for p in shape[3:5])
        turn = float(shape[5])  # the rotation as a fraction of the class's symmetry period
        mask = self._shape_mask(kind, r, self._xx - x, self._yy - y, turn * _PERIOD[kind])
        image = np.where(mask, self._texture(texture, x, y, r), image)
        _paint(image, masks[above], corners[above], colours[above])
        return image, kind, [x, y, r, turn if _PERIOD[kind] else 0.0]

    def _background(self, u: np.ndarray) -> np.ndarray:
        """[C, H, W]: a random colour and a gradient of up to +-0.25 in a random direction."""
        c = self.channels
        base, slope = 0.15 + 0.7 * u[:c], 0.5 * u[c : 2 * c] - 0.25
        angle = 2 * np.pi * u[2 * c]
        ramp = (self._xx - 0.5) * np.cos(angle) + (self._yy - 0.5) * np.sin(angle)
        return (base[:, None, None] + slope[:, None, None] * ramp).astype(np.float32)

    def _texture(self, u: np.ndarray, x: float, y: float, r: float) -> np.ndarray:
        """[C, H, W]: stripes or a checkerboard of two random colours, at a random angle and
        phase, with a period of 0.6..1.2 r (about 2..3 periods across the shape; 3 pixels at
        least)."""
        c = self.channels
        first = u[:c]
        second = (first + 0.3 + 0.4 * u[c : 2 * c]) % 1.0  # differs by >= 0.3 per channel
        angle, period = np.pi * u[2 * c], max((0.6 + 0.6 * u[2 * c + 1]) * r, 3 / self.image_size)
        dx, dy = self._xx - x, self._yy - y
        along = dx * np.cos(angle) + dy * np.sin(angle)
        pattern = np.cos(2 * np.pi * along / period + 2 * np.pi * u[2 * c + 2]) > 0
        if u[2 * c + 3] < 0.5:  # a checkerboard: stripes across the stripes, XOR-ed
            across = dy * np.cos(angle) - dx * np.sin(angle)
            pattern ^= np.cos(2 * np.pi * across / period) > 0
        return np.where(pattern, first[:, None, None], second[:, None, None]).astype(np.float32)

    @staticmethod
    def _shape_mask(kind: int, r: float, dx: np.ndarray, dy: np.ndarray, angle: float):
        """Boolean [H, W] mask of a shape of class `kind` at offsets (dx, dy) from its centre,
        turned by `angle`; every class has the area pi r^2."""
        cos, sin = np.cos(angle), np.sin(angle)
        u, v = dx * cos + dy * sin, dy * cos - dx * sin  # the shape's own axes
        au, av = np.abs(u), np.abs(v)
        if kind == 0:  # disc
            return u * u + v * v <= r * r
        if kind == 1:  # square of side sqrt(pi) r
            return np.maximum(au, av) <= 0.886 * r
        if kind == 2:  # equilateral triangle: three edges 0.7775 r from the centre
            normals = np.pi / 2 + np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3])
            reach = np.cos(normals)[:, None, None] * u + np.sin(normals)[:, None, None] * v
            return reach.max(axis=0) <= 0.7775 * r
        if kind == 3:  # bar, 3 times as long as wide
            return (au <= 1.535 * r) & (av <= 0.512 * r)
        if kind == 4:  # cross: two arms 3 times as long as wide
            return ((au <= 1.189 * r) & (av <= 0.396 * r)) | ((av <= 1.189 * r) & (au <= 0.396 * r))
        distance = u * u + v * v  # ring: outer radius 1.25 r, inner 0.75 r
        return (distance <= (1.25 * r) ** 2) & (distance >= (0.75 * r) ** 2)

    def _clutter(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks [K, W, W] of K distractors in windows of the image, the windows' top-left
        pixels [K, 2] and the colours [K, C], from one row of `u` each: (above, kind, x, y,
        angle, length, width, aspect, colour...). A stroke is a segment 0.1..0.35 of the side
        long, 1..2 pixels wide at 32 px; a blob an ellipse with a semi-axis of 0.03..0.07.
        Each fits in a window 0.36 of the side around its centre (x, y), so only that is drawn.
        """
        size = self.image_size
        window = min(size, int(np.ceil(_CLUTTER_REACH * size)) + 2)
        centre = np.rint(u[:, 2:4] * size).astype(int) - window // 2
        corner = np.clip(centre, 0, size - window)  # [K, 2]: (column, row)
        steps = np.arange(window)
        coords = self._xx[0]  # pixel centres along either axis
        dx = coords[corner[:, :1] + steps][:, None, :] - u[:, 2, None, None]  # [K, 1, W]
        dy = coords[corner[:, 1:] + steps][:, :, None] - u[:, 3, None, None]  # [K, W, 1]
        angle = np.pi * u[:, 4, None, None]
        cos, sin = np.cos(angle), np.sin(angle)
        along, across = dx * cos + dy * sin, dy * cos - dx * sin
        half_length = 0.05 + 0.125 * u[:, 5, None, None]
        half_width = np.maximum(0.012 + 0.015 * u[:, 6, None, None], 0.6 / size)
        stroke = (np.abs(across) <= half_width) & (np.abs(along) <= half_length)
        semi = 0.03 + 0.04 * u[:, 5, None, None]
        aspect = 0.4 + 0.6 * u[:, 7, None, None]
        blob = (along / semi) ** 2 + (across / (semi * aspect)) ** 2 <= 1
        masks = np.where(u[:, 1, None, None] < 0.6, stroke, blob)
        return masks, corner[:, ::-1], u[:, _CLUTTER_PARAMS:]


def _paint(image: np.ndarray, masks: np.ndarray, corners: np.ndarray, colours: np.ndarray):
    """Paint K flat-coloured layers over `image` [C, H, W], in place and in order (the last on
    top): masks [K, W, W] of windows whose top-left pixels (row, column) are corners [K, 2],
    colours [K, C]."""
    w = masks.shape[-1]
    for mask, (row, column), colour in zip(masks, corners, colours, strict=True):
        image[:, row : row + w, column : column + w][:, mask] = colour[:, None]

"""Images read into memory: a folder of class sub-folders, a .npz file, scikit-learn's digits.

Everything is read and checked when the set is built, so an unusable file is named before
any training starts. Images are never resized or converted: a file of another size or with
other channels than the config asks for is an error naming it.

- folder: `root/<class_name>/*.png|.jpg|.jpeg|.bmp`, one sub-folder per class; labels are the
  class names in sorted order. Mode `L` (grayscale) images for data.channels=1, `RGB` for 3.
- .npz: `images` [N, H, W, C] (channels last), [N, C, H, W] (channels first; tried second)
  or [N, H, W] (one channel), and `labels` [N], integers 0..K-1. Values: uint8 (or other
  integers) 0..255; floats in [0, 1] when none is negative, else in [-1, 1].
- digits: the 1797 8x8 digits bundled with scikit-learn (values 0..16), upsampled bilinearly
  to data.image_size, the gray channel repeated to data.channels; labels 0..9.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from hjepa.errors import ConfigError, DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
MODES = {1: "L", 3: "RGB"}  # the Pillow image mode each data.channels reads
_EXTRA_HINT = "pip install 'hjepa[images]'"


class ImageArray(torch.utils.data.Dataset):
    """Images in memory with their labels; items as every image dataset's (see `image.py`).

    images: uint8 [N, C, H, W] (0..255) or float32 [N, C, H, W] already in [-1, 1].
    labels: int64 [N] in 0..len(class_names)-1. name: where they come from, for messages.
    """

    factor_names: tuple[str, ...] = ()

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, class_names, name: str):
        self.images, self.labels = images, labels
        self.class_names, self.name = tuple(class_names), name

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        image = self.images[i]
        if image.dtype == torch.uint8:
            image = image.float() / 127.5 - 1.0
        return {"image": image, "label": int(self.labels[i]), "index": int(i) % len(self)}

    def subset(self, indices: Sequence[int]) -> "ImageArray":
        """The images at `indices`, with the same class names."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return ImageArray(self.images[index], self.labels[index], self.class_names, self.name)

    def with_classes(self, classes: Sequence[str]) -> "ImageArray":
        """This set relabelled onto `classes` (a test split onto its training split's names);
        DataError naming the classes of its images that `classes` lacks."""
        classes = tuple(classes)
        present = {self.class_names[k] for k in self.labels.unique().tolist()}
        missing = sorted(present.difference(classes))
        if missing:
            raise DataError(
                f"{self.name}: class(es) {missing} do not occur in the training classes {classes}"
            )
        lookup = [classes.index(name) if name in classes else -1 for name in self.class_names]
        return ImageArray(self.images, torch.tensor(lookup)[self.labels], classes, self.name)


def read_image_source(path: str | Path, image_size: int, channels: int) -> ImageArray:
    """The images of a .npz file or of a folder of class sub-folders (module docstring)."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return read_image_npz(path, image_size, channels)
    if path.is_dir():
        return read_image_folder(path, image_size, channels)
    if path.exists():
        raise DataError(f"{path}: not a folder of class sub-folders or a .npz file")
    raise DataError(f"{path}: no such folder")


def read_image_folder(root: str | Path, image_size: int, channels: int) -> ImageArray:
    """Every image of root/<class_name>/ (module docstring); DataError naming the folder or
    file that is unusable."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DataError(
            f"{root}: no class folders; expected one sub-folder of images per class "
            f"({root}/<class_name>/*.png)"
        )
    files, labels = [], []
    for label, folder in enumerate(folders):
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise DataError(f"{folder}: class folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        files += found
        labels += [label] * len(found)
    pixels = np.empty((len(files), image_size, image_size, channels), dtype=np.uint8)
    for k, path in enumerate(files):
        pixels[k] = _read_image(path, image_size, channels)
    images = torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()
    return ImageArray(images, torch.tensor(labels), [f.name for f in folders], str(root))


def _read_image(path: Path, image_size: int, channels: int) -> np.ndarray:
    """uint8 [H, W, C] of one image file, checked against the config's size and channels."""
    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise DataError(f"{path}: not a readable image ({err})") from None
    if image.size != (image_size, image_size):
        width, height = image.size
        raise DataError(
            f"{path}: {width}x{height} pixels, expected {image_size}x{image_size} "
            "(data.image_size); images are not resized, resize them first"
        )
    wanted = MODES.get(channels)
    if image.mode != wanted:
        raise DataError(
            f"{path}: image mode {image.mode} ({len(image.getbands())} channel(s)); "
            f"data.channels={channels} reads {_mode_hint(channels)}"
        )
    return np.asarray(image).reshape(image_size, image_size, channels)


def _mode_hint(channels: int) -> str:
    """What data.channels=`channels` reads from image files."""
    if channels in MODES:
        return f"mode {MODES[channels]} images only (convert the others first)"
    return f"no image files: folders hold 1-channel (L) or 3-channel (RGB) images, not {channels}"


def read_image_npz(path: str | Path, image_size: int, channels: int) -> ImageArray:
    """`images` and `labels` of a .npz file (module docstring); DataError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError) as err:
        raise DataError(f"{path}: not a readable .npz file ({err})") from None
    missing = [key for key in ("images", "labels") if key not in arrays]
    if missing:
        found = ", ".join(arrays) or "none"
        raise DataError(f"{path}: no array {', '.join(map(repr, missing))} (keys: {found})")
    images = _channels_first(arrays["images"], path, image_size, channels)
    labels = _npz_labels(arrays["labels"], path, len(images))
    classes = [str(k) for k in range(int(labels.max()) + 1)]
    return ImageArray(_scaled(images, path), torch.from_numpy(labels), classes, str(path))


def _channels_first(images: np.ndarray, path: Path, size: int, channels: int) -> np.ndarray:
    """`images` as [N, C, H, W], or DataError naming the file and the shapes it accepts."""
    if images.ndim == 3 and channels == 1 and images.shape[1:] == (size, size):
        return images[:, None]
    if images.ndim == 4 and images.shape[1:] == (size, size, channels):
        return images.transpose(0, 3, 1, 2)
    if images.ndim == 4 and images.shape[1:] == (channels, size, size):
        return images
    raise DataError(
        f"{path}: images has shape {images.shape}; expected [N, {size}, {size}, {channels}] or "
        f"[N, {channels}, {size}, {size}] ([N, {size}, {size}] for one channel; "
        f"data.image_size={size}, data.channels={channels})"
    )


def _npz_labels(labels: np.ndarray, path: Path, count: int) -> np.ndarray:
    """int64 labels [count], or DataError naming the file."""
    if labels.shape != (count,):
        raise DataError(f"{path}: labels has shape {labels.shape}; the {count} images need [N]")
    if count == 0:
        raise DataError(f"{path}: holds no images")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: labels must be integers 0..K-1, got dtype {labels.dtype}")
    if labels.min() < 0:
        raise DataError(f"{path}: labels must be integers 0..K-1, got {labels.min()}")
    return labels.astype(np.int64)


def _scaled(images: np.ndarray, path: Path) -> torch.Tensor:
    """uint8 images as they are, floats mapped to [-1, 1] (module docstring)."""
    if np.issubdtype(images.dtype, np.integer) and images.dtype != np.uint8:
        if images.min() < 0 or images.max() > 255:
            raise DataError(f"{path}: integer images must lie in 0..255")
        images = images.astype(np.uint8)
    if images.dtype == np.uint8:
        return torch.from_numpy(np.ascontiguousarray(images))
    if not np.issubdtype(images.dtype, np.floating):
        raise DataError(f"{path}: images must be uint8, integers or floats, got {images.dtype}")
    if not np.isfinite(images).all():
        raise DataError(f"{path}: images contain NaN or Inf values")
    low, high = float(images.min()), float(images.max())
    if low < -1.0 or high > 1.0:
        raise DataError(
            f"{path}: float images range over [{low:g}, {high:g}]; expected [0, 1] or [-1, 1]"
        )
    images = images * 2.0 - 1.0 if low >= 0.0 else images
    return torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))


def load_digits(image_size: int, channels: int) -> ImageArray:
    """scikit-learn's 1797 handwritten digits (module docstring); needs scikit-learn."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ConfigError(f"data.source=digits needs scikit-learn: {_EXTRA_HINT}") from None
    digits = sklearn_digits()
    small = torch.from_numpy(digits.images).float()[:, None] / 16.0  # [N, 1, 8, 8] in [0, 1]
    large = torch.nn.functional.interpolate(
        small, size=(image_size, image_size), mode="bilinear", align_corners=False
    )
    images = (large * 255.0).round().clamp(0, 255).to(torch.uint8).repeat(1, channels, 1, 1)
    labels = torch.from_numpy(digits.target).long()
    return ImageArray(images, labels, [str(k) for k in range(10)], "digits")

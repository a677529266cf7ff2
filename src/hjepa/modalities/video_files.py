"""Video clips from files: a folder `root/<class>/<clip>`, where a clip is a folder of frame images
(.png, .jpg, .jpeg, in name order) or one video file (.gif, read with Pillow; .mp4 and .avi,
read with PyAV: the `video` extra).

Every clip is read and checked when the dataset is built, so a bad file is reported at once,
by name, and never in the middle of training.
"""

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageSequence

from hjepa.errors import ConfigError, DataError
from hjepa.nets.vit import as_grid

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
VIDEO_SUFFIXES = (".mp4", ".avi", ".gif")
_EXTRA_HINT = "pip install 'hjepa[video]'"
_READ_ERRORS = (OSError, ValueError, RuntimeError, SyntaxError, EOFError)
_DECODED = {1: ("L", "gray"), 3: ("RGB", "rgb24"), 4: ("RGBA", "rgba")}  # by channel count


def _visible(folder: Path) -> list[Path]:
    """The entries of `folder` not hidden (no leading dot), sorted by name."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _frame_files(clip: Path) -> list[Path]:
    """The frame images of a clip folder, in name order; DataError naming any other entry."""
    files = _visible(clip)
    for entry in files:
        if entry.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(f"{entry}: not a frame image ({', '.join(IMAGE_SUFFIXES)}) of {clip}")
    return files


def _folder_frames(files: list[Path], channels: int, wanted) -> Iterator[tuple[str, np.ndarray]]:
    """(file, pixels) of the frame images files[i] for i in `wanted`; palette and 1-bit images,
    which have no channels of their own, are converted to `channels`."""
    for i in wanted:
        try:
            with Image.open(files[i]) as img:
                convert = img.mode in ("P", "PA", "1")
                pixels = np.asarray(img.convert(_decoded_mode(channels)[0]) if convert else img)
        except _READ_ERRORS as err:
            raise DataError(f"{files[i]}: not a readable image ({err})") from None
        yield str(files[i]), pixels


def _decoded_mode(channels: int) -> tuple[str, str]:
    """(Pillow mode, PyAV pixel format) that palette images and videos are decoded to."""
    return _DECODED.get(channels, _DECODED[3])


def _gif_frames(path: Path, channels: int) -> Iterator[np.ndarray]:
    """The frames of a GIF, read with Pillow and converted to `channels`."""
    try:
        with Image.open(path) as img:
            for frame in ImageSequence.Iterator(img):
                yield np.asarray(frame.convert(_decoded_mode(channels)[0]))
    except _READ_ERRORS as err:
        raise DataError(f"{path}: not a readable GIF ({err})") from None


def _pyav_frames(path: Path, channels: int) -> Iterator[np.ndarray]:
    """The frames of an .mp4 / .avi file, decoded to `channels` by PyAV (the `video` extra)."""
    try:
        import av
    except ImportError:
        raise ConfigError(f"{path}: reading {path.suffix} video needs {_EXTRA_HINT}") from None
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format=_decoded_mode(channels)[1])
    except (*_READ_ERRORS, av.FFmpegError) as err:
        raise DataError(f"{path}: not a readable video file ({err})") from None


def _clip_frames(
    clip: Path, channels: int, wanted: range | None = None
) -> Iterator[tuple[str, np.ndarray]]:
    """(where, pixels [H, W] or [H, W, C]) of a clip's frames: all of them, or those at the
    positions `wanted`; `where` names the file (and the frame of a video file)."""
    if clip.is_dir():
        files = _frame_files(clip)
        yield from _folder_frames(files, channels, range(len(files)) if wanted is None else wanted)
        return
    gif = clip.suffix.lower() == ".gif"
    frames = _gif_frames(clip, channels) if gif else _pyav_frames(clip, channels)
    for k, pixels in enumerate(frames):
        if wanted is None or k in wanted:
            yield f"{clip} frame {k}", pixels
        if wanted is not None and k >= wanted[-1]:
            return


class VideoFolderDataset(torch.utils.data.Dataset):
    """Labelled clips from `root/<class>/<clip>`: a clip is a folder of frame images (.png, .jpg,
    .jpeg, sorted by name) or a video file (.mp4, .avi, .gif). Hidden entries are ignored, files
    directly under root too; anything else in a class or clip folder is an error.

    Item i is a dict {"video": float32 [C, T, H, W] in [-1, 1], "label": int (index into
    class_names), "index": i}. A clip yields T = `frames` frames, `frame_step` apart, from its
    middle: frames start + k * frame_step with start = (n - span) // 2 of its n frames, span =
    (frames - 1) * frame_step + 1.

    Arguments: root; frames T; frame_size, (H, W) (or one int) every frame must have; channels
    every frame must have (palette images and GIFs are converted to it); frame_step; class_names,
    the classes and their order (default: the class folders, sorted) - give the training set's to
    a test folder so labels agree.

    On construction every frame of every clip is read and checked: a clip with fewer than span
    frames, a frame of another size or channel count, pixels that are not unsigned integers, and
    an unreadable or corrupt file are DataErrors naming the file or folder.
    """

    def __init__(
        self,
        root: str | Path,
        frames: int = 8,
        frame_size: int | tuple[int, int] = 32,
        channels: int = 3,
        frame_step: int = 1,
        class_names: Sequence[str] | None = None,
    ):
        for name, value in [("frames", frames), ("channels", channels), ("frame_step", frame_step)]:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"VideoFolderDataset: {name} must be an int >= 1, got {value!r}")
        self.root, self.frames, self.channels = Path(root), frames, channels
        self.frame_size = as_grid(frame_size, "frame_size", ndim=2)
        self.frame_step, self.span = frame_step, (frames - 1) * frame_step + 1
        self.class_names = self._class_names(class_names)
        self.num_classes = len(self.class_names)
        self.clips, self.labels, self.starts = [], [], []
        for label, name in enumerate(self.class_names):
            for clip in self._class_clips(self.root / name):
                self.clips.append(clip)
                self.labels.append(label)
                self.starts.append(self._check_clip(clip))
        if not self.clips:
            raise DataError(f"{self.root}: no clips in its class folders")

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> dict:
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} clips")
        i = int(i) % len(self)
        wanted = range(self.starts[i], self.starts[i] + self.span, self.frame_step)
        frames = [self._frame(*item) for item in _clip_frames(self.clips[i], self.channels, wanted)]
        video = np.stack(frames).transpose(3, 0, 1, 2)  # [T, H, W, C] -> [C, T, H, W]
        return {"video": torch.from_numpy(video), "label": self.labels[i], "index": i}

    def _class_names(self, class_names: Sequence[str] | None) -> tuple[str, ...]:
        """The classes: the given names (each must be a folder under root, or absent), else the
        sorted names of root's visible folders."""
        if not self.root.is_dir():
            raise DataError(f"{self.root}: no such folder")
        folders = [p.name for p in _visible(self.root) if p.is_dir()]
        if class_names is None:
            if not folders:
                raise DataError(f"{self.root}: no class folders (expected root/<class>/<clip>)")
            return tuple(folders)
        names = tuple(class_names)
        if not names or len(set(names)) != len(names):
            raise ConfigError(f"class_names must be distinct and not empty, got {class_names!r}")
        unknown = sorted(set(folders) - set(names))
        if unknown:
            raise DataError(f"{self.root}: class folders {unknown} are not in class_names {names}")
        return names

    def _class_clips(self, folder: Path) -> list[Path]:
        """The clips of one class folder (none when the folder is absent)."""
        if not folder.is_dir():
            return []
        clips = _visible(folder)
        for clip in clips:
            if not clip.is_dir() and clip.suffix.lower() not in VIDEO_SUFFIXES:
                raise DataError(
                    f"{clip}: not a clip (a folder of {', '.join(IMAGE_SUFFIXES)} frames or a "
                    f"{', '.join(VIDEO_SUFFIXES)} file)"
                )
        return clips

    def _check_clip(self, clip: Path) -> int:
        """Read and check every frame of a clip; returns the first frame its items take."""
        count = 0
        for where, pixels in _clip_frames(clip, self.channels):
            self._frame(where, pixels)
            count += 1
        if count < self.span:
            raise DataError(
                f"{clip}: {count} frames, fewer than the {self.span} that frames={self.frames} "
                f"with frame_step={self.frame_step} need"
            )
        return (count - self.span) // 2

    def _frame(self, where: str, pixels: np.ndarray) -> np.ndarray:
        """Checked frame pixels -> float32 [H, W, C] in [-1, 1]; DataError naming `where`."""
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if pixels.ndim != 3 or pixels.dtype.kind != "u":
            raise DataError(
                f"{where}: unsupported pixels (shape {pixels.shape}, dtype {pixels.dtype}); "
                "expected unsigned integers [H, W] or [H, W, C]"
            )
        if pixels.shape[:2] != self.frame_size or pixels.shape[2] != self.channels:
            raise DataError(
                f"{where}: frame of size {pixels.shape[:2]} with {pixels.shape[2]} channel(s), "
                f"expected size {self.frame_size} with {self.channels}"
            )
        scale = 2.0 / np.iinfo(pixels.dtype).max
        return pixels.astype(np.float32) * scale - 1.0

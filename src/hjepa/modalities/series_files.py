"""Loading time series: datasets bundled with aeon, user files (.csv, .npy, .npz, .ts), procedural.

Nothing here downloads: bundled sets are read from the aeon package's own data folder.
"""

import csv
from pathlib import Path

import numpy as np

from hjepa.errors import ConfigError, DataError
from hjepa.modalities.series import SeriesSet, make_series_set
from hjepa.modalities.series_synthetic import procedural_classes

BUNDLED = ("GunPoint", "ArrowHead", "ItalyPowerDemand", "BasicMotions", "OSULeaf", "JapaneseVowels")
SUFFIXES = (".csv", ".npy", ".npz", ".ts")
SPLITS = ("train", "test")
PROCEDURAL_SIZE = 400  # series per split of load_series("procedural")
_EXTRA_HINT = "pip install 'hjepa[timeseries]'"


def _aeon_datasets(what: str):
    """The aeon.datasets module, or ConfigError saying that `what` needs the optional extra."""
    try:
        import aeon.datasets
    except ImportError:
        raise ConfigError(f"{what} needs the optional extra: {_EXTRA_HINT}") from None
    return aeon.datasets


def _check_split(split: str) -> None:
    """ConfigError unless split is 'train' or 'test'."""
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")


def load_bundled(name: str, split: str = "train") -> SeriesSet:
    """The train or test split of a classification set shipped inside aeon (never downloads).

    Allowed names are BUNDLED and any other classification set in aeon's data folder.
    """
    _check_split(split)
    folder = Path(_aeon_datasets(f"bundled dataset {name!r}").__file__).parent / "data"
    path = folder / name / f"{name}_{split.upper()}.ts"
    if Path(name).name != name or name in ("", ".", "..") or not path.is_file():
        raise ConfigError(
            f"unknown bundled time-series dataset {name!r}; bundled are {', '.join(BUNDLED)}"
        )
    data = _read_ts(path, name)
    if data.labels is None:
        raise ConfigError(f"bundled dataset {name!r} is not a classification dataset")
    return data


def read_series_file(path: str | Path) -> SeriesSet:
    """Series from a .csv, .npy, .npz or .ts file; DataError naming the file if it is unusable.

    .csv: one univariate series per row, an optional header whose `label` column holds labels,
    empty cells at a row's end for shorter series. .npy: [N, T] or [N, C, T]. .npz: `X` as
    in .npy and optional labels `y` [N]. .ts: the UCR/UEA text format (needs aeon).
    """
    path = Path(path)
    readers = {".csv": _read_csv, ".npy": _read_npy, ".npz": _read_npz, ".ts": _read_ts}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise DataError(
            f"{path}: unsupported file type {path.suffix!r}; supported are {', '.join(SUFFIXES)}"
        )
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    return reader(path, path.name)


def load_series(source: str, split: str = "train", seed: int = 0) -> SeriesSet:
    """Series from a BUNDLED name, "procedural", or a file path (`split` is ignored for files).

    The procedural train and test splits come from disjoint seeds (2 * seed and 2 * seed + 1).
    """
    _check_split(split)
    if source == "procedural":
        return procedural_classes(PROCEDURAL_SIZE, seed=2 * seed + SPLITS.index(split))
    if is_file_source(source):
        return read_series_file(source)
    return load_bundled(source, split)


def is_file_source(source: str) -> bool:
    """Whether `source` names a file (a known suffix, a path, an existing file), not a dataset."""
    path = Path(source)
    looks_like_file = path.suffix.lower() in SUFFIXES or len(path.parts) > 1 or path.exists()
    return source not in BUNDLED and looks_like_file


def _read_ts(path: Path, name: str) -> SeriesSet:
    """A UCR/UEA .ts file through aeon; labels only if the file declares class labels."""
    datasets = _aeon_datasets(f"reading {path.name} (.ts format)")
    try:
        x, y, meta = datasets.load_from_ts_file(str(path), return_meta_data=True)
    except (OSError, ValueError, IndexError, KeyError, TypeError) as err:
        raise DataError(f"{path}: not a readable .ts file ({err})") from None
    labels = list(y) if meta.get("classlabel") and len(y) else None
    return make_series_set(list(x), labels, name)


def _read_npy(path: Path, name: str) -> SeriesSet:
    """An .npy array [N, T] or [N, C, T], unlabelled."""
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable .npy file ({err})") from None
    return make_series_set(_series_array(x, path, "array"), None, name)


def _read_npz(path: Path, name: str) -> SeriesSet:
    """An .npz archive with `X` ([N, T] or [N, C, T]) and optional labels `y` [N]."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable .npz file ({err})") from None
    if "X" not in arrays:
        raise DataError(f"{path}: no array 'X' (keys: {', '.join(arrays) or 'none'})")
    x = _series_array(arrays["X"], path, "X")
    y = arrays.get("y")
    if y is not None and y.shape != (x.shape[0],):
        raise DataError(f"{path}: y must have shape [{x.shape[0]}], got {y.shape}")
    return make_series_set(x, None if y is None else y.tolist(), name)


def _series_array(x: np.ndarray, path: Path, key: str) -> np.ndarray:
    """x as [N, C, T], or DataError naming the file for a wrong rank or a non-numeric dtype."""
    if x.ndim not in (2, 3):
        raise DataError(f"{path}: {key} must be [N, T] or [N, C, T], got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"{path}: {key} must be numeric, got dtype {x.dtype}")
    return x[:, None, :] if x.ndim == 2 else x


def _read_csv(path: Path, name: str) -> SeriesSet:
    """One univariate series per row; an optional header naming a `label` column."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [(line, row) for line, row in _numbered_rows(csv.reader(f)) if any(row)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{path}: not a readable .csv file ({err})") from None
    if not rows:
        raise DataError(f"{path}: no rows")
    label_col = None
    if _is_header(rows[0][1]):
        label_col = _label_column(rows[0][1])
        rows = rows[1:]
    series, labels = [], []
    for line, row in rows:
        steps, label = _split_row(row, label_col, path, line)
        series.append(steps)
        labels.append(label)
    return make_series_set(series, None if label_col is None else labels, name)


def _numbered_rows(reader):
    """(line number, cells) of each row of a csv reader."""
    for row in reader:
        yield reader.line_num, [cell.strip() for cell in row]


def _is_number(cell: str) -> bool:
    """Whether a csv cell holds a number."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_header(row: list[str]) -> bool:
    """A first row is a header if it names a `label` column or none of its cells is a number."""
    return _label_column(row) is not None or not any(_is_number(c) for c in row if c)


def _label_column(header: list[str]) -> int | None:
    """Index of the header's `label` column (case-insensitive), or None."""
    names = [cell.lower() for cell in header]
    return names.index("label") if "label" in names else None


def _split_row(
    row: list[str], label_col: int | None, path: Path, line: int
) -> tuple[np.ndarray, str | None]:
    """The steps (float64, trailing empty cells dropped) and the label of one csv row."""
    label = None
    if label_col is not None:
        label = row[label_col] if label_col < len(row) else ""
        if not label:
            raise DataError(f"{path}: row {line} has an empty label")
    cells = [(col, cell) for col, cell in enumerate(row) if col != label_col]
    while cells and not cells[-1][1]:
        cells.pop()
    for col, cell in cells:
        if not _is_number(cell):
            what = "an empty cell" if not cell else f"{cell!r}, not a number"
            raise DataError(f"{path}: row {line}, column {col + 1} holds {what}")
    return np.array([float(cell) for _, cell in cells]), label

"""Errors raised on purpose. The CLI turns them into one clear line; the library never prints."""


class HjepaError(Exception):
    """Base class of every error hjepa raises on purpose."""


class ConfigError(HjepaError, ValueError):
    """A config key is unknown, has the wrong type, or an out-of-range value."""


class ForeignStoreError(ConfigError):
    """A trajectory store holds other data than a collection or a config asks for."""


class ShapeError(HjepaError, ValueError):
    """A tensor handed to a model has the wrong shape, dtype or contains NaN/Inf."""


class ActionError(HjepaError, ValueError):
    """An action is out of bounds, of the wrong shape, or not finite."""


class NonFiniteLossError(HjepaError, FloatingPointError):
    """Training produced a NaN or infinite loss; nothing of that step was saved."""


class DataError(HjepaError, ValueError):
    """Input data that cannot be used as given (unreadable file, NaNs, wrong shape)."""


class LockedError(HjepaError):
    """Another process is writing the same run folder or trajectory store."""


class CheckpointError(HjepaError, OSError):
    """A checkpoint or exported model is missing, truncated or does not match the config."""


def check_tensor(name: str, x, ndim: int | None = None, last_dim: int | None = None) -> None:
    """Raise ShapeError naming `name` if `x` has the wrong rank or last dimension, or NaN/Inf."""
    if ndim is not None and x.ndim != ndim:
        raise ShapeError(f"{name}: expected {ndim} dimensions, got shape {tuple(x.shape)}")
    if last_dim is not None and x.shape[-1] != last_dim:
        raise ShapeError(f"{name}: expected last dimension {last_dim}, got shape {tuple(x.shape)}")
    if x.is_floating_point() and not bool(x.isfinite().all()):
        raise ShapeError(f"{name}: contains NaN or Inf values")

"""Registry of anti-collapse regularizers: criteria (1) and (2), maximize information in s_x, s_y.

"none" relies on the target alone (EMA / stop-gradient, see `hjepa.jepa.targets`) to prevent
collapse; "vicreg" and "sigreg" add an explicit information term on the embeddings.
Every regularizer is an nn.Module whose forward(z [..., D]) returns (loss, metrics).
"""

import inspect

import torch.nn as nn

from hjepa.errors import ConfigError
from hjepa.jepa.sigreg import SIGReg
from hjepa.jepa.vicreg import VICReg

REGULARIZERS = ("none", "vicreg", "sigreg")
_CLASSES = {"vicreg": VICReg, "sigreg": SIGReg}


def build_regularizer(name: str, **kwargs) -> nn.Module | None:
    """Build the regularizer `name` with keyword options; None for "none".

    Raises ConfigError for an unknown name or an option the regularizer does not take.
    """
    if name not in REGULARIZERS:
        raise ConfigError(
            f"regularizer {name!r} is unknown; valid regularizers: {', '.join(REGULARIZERS)}"
        )
    valid = _option_names(name)
    for key in kwargs:
        if key not in valid:
            allowed = ", ".join(valid) or "none"
            raise ConfigError(f"regularizer {name!r} has no option {key!r}; valid: {allowed}")
    return _CLASSES[name](**kwargs) if name in _CLASSES else None


def _option_names(name: str) -> tuple[str, ...]:
    if name not in _CLASSES:
        return ()
    parameters = inspect.signature(_CLASSES[name].__init__).parameters
    return tuple(key for key in parameters if key != "self")

"""Name -> model-builder registry, so configs and exported models can name architectures.

build("vit", img_size=32, patch_size=4)          # -> VisionTransformer
@register("my_net")
class MyNet(nn.Module): ...
"""

import inspect
from collections.abc import Callable

from torch import nn

from hjepa.errors import ConfigError
from hjepa.nets.causal_lm import CausalLM
from hjepa.nets.convnet import ConvDecoder, ConvEncoder
from hjepa.nets.frame_encoder import (
    FrameEncoder,
    PerChannelEncoder,
    PooledViTEncoder,
    SceneAgentEncoder,
)
from hjepa.nets.mlp import MLPEncoder
from hjepa.nets.series import SeriesTransformer
from hjepa.nets.video_vit import VideoVisionTransformer
from hjepa.nets.vit import PatchDecoder, TokenPredictor, VisionTransformer

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register(name: str) -> Callable:
    """Decorator registering a class or factory function under `name` (names must be unique)."""

    def decorator(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY and _REGISTRY[name] is not builder:
            raise ConfigError(f"model name {name!r} is already registered")
        _REGISTRY[name] = builder
        return builder

    return decorator


def available() -> list[str]:
    """Sorted registered model names."""
    return sorted(_REGISTRY)


def check_kwargs(name: str, kwargs: dict) -> Callable[..., nn.Module]:
    """Return the builder for `name` after checking that `kwargs` fit its signature.

    Raises ConfigError for an unknown name, an unexpected keyword, or a missing required one.
    """
    if name not in _REGISTRY:
        raise ConfigError(f"unknown model {name!r}; available: {', '.join(available())}")
    builder = _REGISTRY[name]
    params = inspect.signature(builder).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    accepted = {
        key
        for key, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    if not takes_any:
        for key in kwargs:
            if key not in accepted:
                raise ConfigError(
                    f"model {name!r} got unexpected argument {key!r}; "
                    f"accepted: {', '.join(sorted(accepted))}"
                )
    missing = [
        key
        for key in accepted
        if params[key].default is inspect.Parameter.empty and key not in kwargs
    ]
    if missing:
        raise ConfigError(f"model {name!r} is missing required argument(s): {', '.join(missing)}")
    return builder


def build(name: str, **kwargs) -> nn.Module:
    """Build the model registered as `name` with keyword arguments `kwargs`."""
    return check_kwargs(name, kwargs)(**kwargs)


register("vit")(VisionTransformer)
register("video_vit")(VideoVisionTransformer)
register("token_predictor")(TokenPredictor)
register("mlp_encoder")(MLPEncoder)
register("conv_encoder")(ConvEncoder)
register("frame_encoder")(FrameEncoder)
register("vit_frame_encoder")(PooledViTEncoder)
register("per_channel_frame_encoder")(PerChannelEncoder)
register("scene_agent_frame_encoder")(SceneAgentEncoder)
register("conv_decoder")(ConvDecoder)
register("patch_decoder")(PatchDecoder)
register("series_transformer")(SeriesTransformer)
register("causal_lm")(CausalLM)

"""From a Config to the things the trainer runs: the dataset, the per-batch masks, the model.

This is the one place that knows which modality and which architecture a config names.
"""

from functools import partial

from torch.utils.data import Dataset

from hjepa.config import Config
from hjepa.errors import ConfigError
from hjepa.jepa.baselines import Autoencoder, MaskedPixelModel
from hjepa.jepa.masks import MultiBlockMasker, random_token_mask
from hjepa.jepa.model import MaskedJEPA, SelfSupervisedModel
from hjepa.modalities.image import ShapesDataset
from hjepa.nets import registry

DATASETS = ("shapes",)
MODEL_KINDS = ("ijepa", "generative", "mae", "autoencoder")


def build_dataset(cfg: Config) -> Dataset:
    if cfg.data.name != "shapes":
        raise ConfigError(f"data.name: unknown dataset {cfg.data.name!r} (known: {DATASETS})")
    return ShapesDataset(
        num_samples=cfg.data.num_samples,
        image_size=cfg.data.image_size,
        channels=cfg.data.channels,
        seed=cfg.train.seed,
    )


def encoder_spec(cfg: Config) -> tuple[str, dict]:
    """Registry name and arguments of the encoder, as exported next to its weights."""
    m = cfg.model
    if cfg.data.image_size % m.patch_size:
        raise ConfigError(
            f"model.patch_size={m.patch_size} does not divide data.image_size={cfg.data.image_size}"
        )
    kwargs = dict(
        img_size=cfg.data.image_size,
        patch_size=m.patch_size,
        in_chans=cfg.data.channels,
        embed_dim=m.embed_dim,
        depth=m.depth,
        num_heads=m.num_heads,
    )
    return "vit", kwargs


def build_masks(cfg: Config):
    """`(global_batch_size, generator) -> {"context_idx", "target_idx"}`, or None."""
    grid = cfg.data.image_size // cfg.model.patch_size
    if cfg.model.kind in ("ijepa", "generative"):
        masker = MultiBlockMasker(
            grid_size=(grid, grid),
            num_targets=cfg.mask.num_targets,
            target_scale=cfg.mask.target_scale,
            target_aspect=cfg.mask.target_aspect,
            context_scale=cfg.mask.context_scale,
        )
        return partial(_as_dict, masker.sample)
    if cfg.model.kind == "mae":
        sample = partial(random_token_mask, num_tokens=grid * grid, mask_ratio=cfg.mask.mask_ratio)
        return partial(_as_dict, sample)
    return None


def build_model(cfg: Config) -> SelfSupervisedModel:
    kind = cfg.model.kind
    if kind not in MODEL_KINDS:
        raise ConfigError(f"model.kind: unknown kind {kind!r} (known: {MODEL_KINDS})")
    name, kwargs = encoder_spec(cfg)
    encoder = registry.build(name, **kwargs)
    if kind == "autoencoder":
        decoder = registry.build(
            "conv_decoder",
            embed_dim=encoder.num_features,
            out_chans=cfg.data.channels,
            img_size=cfg.data.image_size,
        )
        return Autoencoder(encoder, decoder)
    predictor = _predictor(cfg, encoder, latent_dim=cfg.model.latent_dim if kind == "ijepa" else 0)
    if kind == "ijepa":
        return _jepa(cfg, encoder, predictor)
    decoder = registry.build(
        "patch_decoder",
        in_dim=encoder.num_features,
        patch_size=cfg.model.patch_size,
        out_chans=cfg.data.channels,
    )
    return MaskedPixelModel(encoder, predictor, decoder, cfg.model.patch_size)


def _predictor(cfg: Config, encoder, latent_dim: int):
    return registry.build(
        "token_predictor",
        num_patches=encoder.num_patches,
        grid_size=encoder.grid_size,
        in_dim=encoder.num_features,
        pred_dim=cfg.model.pred_dim,
        depth=cfg.model.pred_depth,
        num_heads=cfg.model.num_heads,
        latent_dim=latent_dim,
    )


def _jepa(cfg: Config, encoder, predictor) -> MaskedJEPA:
    o = cfg.objective
    reg_kwargs = {
        "vicreg": {"var_weight": o.vicreg_var_weight, "cov_weight": o.vicreg_cov_weight},
        "sigreg": {"num_directions": o.sigreg_directions},
    }.get(o.regularizer, {})
    return MaskedJEPA(
        encoder,
        predictor,
        target=o.target,
        loss=o.loss,
        target_layernorm=o.target_layernorm,
        regularizer=o.regularizer,
        reg_weight=o.reg_weight,
        reg_kwargs=reg_kwargs,
        latent_dim=cfg.model.latent_dim,
        latent_weight=o.latent_weight,
        momentum=(o.ema_start, o.ema_end),
    )


def _as_dict(sample, batch_size, generator) -> dict:
    context_idx, target_idx = sample(batch_size, generator=generator)
    return {"context_idx": context_idx, "target_idx": target_idx}

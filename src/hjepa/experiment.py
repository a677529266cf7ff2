"""From a Config to the things the trainer runs: the dataset, the per-batch masks, the model;
and back from a run folder to them (`open_run`).

This is the one place that knows which modality and which architecture a config names, and
the one place that splits a store's episodes into training and held-out ones.
"""

from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from torch.utils.data import Dataset

from hjepa.checkpoint import load_checkpoint
from hjepa.config import Config, from_dict
from hjepa.data.store import TrajectoryStore
from hjepa.data.windows import WindowDataset, split_episodes
from hjepa.errors import CheckpointError, ConfigError
from hjepa.hierarchy.data import LatentSequences
from hjepa.hierarchy.model import HierarchicalWorldModel
from hjepa.jepa.baselines import Autoencoder, MaskedPixelModel
from hjepa.jepa.language import LanguageJEPA
from hjepa.jepa.model import MaskedJEPA, SelfSupervisedModel
from hjepa.jepa.series import MaskedSeriesReconstruction, SeriesJEPA
from hjepa.modalities.image_splits import image_dataset
from hjepa.modalities.series_splits import series_dataset
from hjepa.modalities.text_pairs import pair_dataset
from hjepa.modalities.text_tokenizer import PAD_ID, PRED_ID
from hjepa.modalities.video_splits import video_dataset
from hjepa.nets import registry
from hjepa.nets.video_vit import patchify_video
from hjepa.nets.vit import patchify
from hjepa.run_data import prepare_store, recorded_base_run, run_store
from hjepa.world.generative import GenerativeWorldModel
from hjepa.world.model import WorldModel
from hjepa.world.refine import encode_episodes

DATASETS = ("images", "video", "trajectories", "series", "text_pairs")
SERIES_KINDS = ("tsjepa", "ts_mae")
IMAGE_KINDS = ("ijepa", "generative", "mae", "autoencoder")
VIDEO_KINDS = ("vjepa", "video_generative")
MODEL_KINDS = (
    *SERIES_KINDS,
    *IMAGE_KINDS,
    *VIDEO_KINDS,
    "language_model",
    "world_model",
    "world_model_generative",
    "hierarchy",
)


def build_dataset(cfg: Config, run_dir: Path | None = None, split: str = "train") -> Dataset:
    """The training set of the run in `run_dir` (without one: of the store the config
    describes, collected if missing); `split="held_out"` gives the evaluation episodes of a
    trajectory store."""
    if cfg.model.kind == "hierarchy":
        return _latent_sequences(cfg, run_dir, split)
    if cfg.data.name == "series":
        return series_dataset(cfg, split)
    if cfg.data.name == "text_pairs":
        return pair_dataset(cfg, split, run_dir)
    if cfg.data.name == "trajectories":
        store = prepare_store(cfg) if run_dir is None else run_store(run_dir, cfg)
        train, held_out = episode_split(cfg, store)
        episodes = train if split == "train" else held_out
        return WindowDataset(store, cfg.data.frames, episodes=episodes)
    if cfg.data.name == "video":
        return video_dataset(cfg, split)
    if cfg.data.name != "images":
        raise ConfigError(f"data.name: unknown dataset {cfg.data.name!r} (known: {DATASETS})")
    return image_dataset(cfg, split)


def episode_split(cfg: Config, store: TrajectoryStore) -> tuple[list[int], list[int]]:
    """(training, held-out) episode indices of the run's store: the held-out share
    `data.held_out`, drawn with `train.seed` (the same split for training, evaluation and the
    agent)."""
    return split_episodes(len(store), cfg.data.held_out, cfg.train.seed)


@dataclass(frozen=True)
class Run:
    """A trained run, opened: its folder, config, model (eval mode, CPU) and, for models
    trained on trajectories, the store and its episode split."""

    path: Path
    cfg: Config
    model: SelfSupervisedModel
    store: TrajectoryStore | None
    train_episodes: list[int]
    held_out_episodes: list[int]
    base: "Run | None" = None  # a hierarchy's level-1 run


def open_run(run_dir: str | Path) -> Run:
    """The run in `run_dir`, with the store it was trained on and its episode split; a
    hierarchy's are those of its level-1 run (`base`)."""
    run_dir = Path(run_dir)
    cfg, model = load_run(run_dir)
    if cfg.model.kind == "hierarchy":
        base = open_run(base_run_dir(cfg, run_dir))
        return Run(
            run_dir, cfg, model, base.store, base.train_episodes, base.held_out_episodes, base
        )
    if cfg.data.name != "trajectories":
        return Run(run_dir, cfg, model, None, [], [])
    store = run_store(run_dir, cfg)
    return Run(run_dir, cfg, model, store, *episode_split(cfg, store))


def encoder_spec(cfg: Config, run_dir: Path | None = None) -> tuple[str, dict]:
    """Registry name and arguments of the encoder, as exported next to its weights."""
    if cfg.model.kind == "hierarchy":
        return encoder_spec(load_run(base_run_dir(cfg, run_dir))[0])
    if cfg.model.kind.startswith("world_model"):
        return _frame_encoder_spec(cfg)
    m = cfg.model
    if m.kind == "language_model":
        _check_divides("model.num_heads", m.num_heads, "model.embed_dim", m.embed_dim)
        kwargs = dict(
            vocab_size=m.vocab_size,
            max_length=m.max_tokens,
            embed_dim=m.embed_dim,
            depth=m.depth,
            num_heads=m.num_heads,
        )
        return "causal_lm", kwargs
    if m.kind in SERIES_KINDS:
        _check_divides("model.num_heads", m.num_heads, "model.embed_dim", m.embed_dim)
        _check_divides("model.num_heads", m.num_heads, "model.pred_dim", m.pred_dim)
        kwargs = dict(
            max_patches=m.max_patches,
            patch_size=m.patch_size,
            in_chans=cfg.data.channels,
            embed_dim=m.embed_dim,
            depth=m.depth,
            num_heads=m.num_heads,
            channel_mode=m.channel_mode,
        )
        return "series_transformer", kwargs
    _check_divides("model.patch_size", m.patch_size, "data.image_size", cfg.data.image_size)
    _check_divides("model.num_heads", m.num_heads, "model.embed_dim", m.embed_dim)
    _check_divides("model.num_heads", m.num_heads, "model.pred_dim", m.pred_dim)
    kwargs = dict(
        img_size=cfg.data.image_size,
        patch_size=m.patch_size,
        in_chans=cfg.data.channels,
        embed_dim=m.embed_dim,
        depth=m.depth,
        num_heads=m.num_heads,
    )
    if m.kind in VIDEO_KINDS:
        _check_divides("model.tubelet", m.tubelet, "data.frames", cfg.data.frames)
        return "video_vit", {**kwargs, "num_frames": cfg.data.frames, "tubelet": m.tubelet}
    return "vit", kwargs


def load_run(run_dir: str | Path) -> tuple[Config, SelfSupervisedModel]:
    """The config and the trained model (eval mode, CPU) of a run folder."""
    checkpoint = Path(run_dir) / "checkpoints" / "last.pt"
    state = load_checkpoint(checkpoint)
    cfg = from_dict(state["config"])
    model = build_model(cfg, Path(run_dir))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint {checkpoint} does not fit its config ({exc})") from None
    return cfg, model.eval()


FRAME_ENCODERS = {
    "cnn": "frame_encoder",
    "per_channel_cnn": "per_channel_frame_encoder",
    "scene_agent_cnn": "scene_agent_frame_encoder",
    "vit": "vit_frame_encoder",
}


def _frame_encoder_spec(cfg: Config) -> tuple[str, dict]:
    w, m = cfg.world, cfg.model
    if w.encoder not in FRAME_ENCODERS:
        raise ConfigError(f"world.encoder: unknown {w.encoder!r} (known: {tuple(FRAME_ENCODERS)})")
    kwargs = dict(in_chans=cfg.data.channels, img_size=cfg.data.image_size, embed_dim=w.state_dim)
    if w.encoder == "vit":
        _check_divides("model.patch_size", m.patch_size, "data.image_size", cfg.data.image_size)
        _check_divides("model.num_heads", m.num_heads, "world.state_dim", w.state_dim)
        kwargs.update(patch_size=m.patch_size, depth=m.depth, num_heads=m.num_heads)
    else:
        kwargs.update(pool=w.pool, channels=w.channels)
    if w.map_channels:
        if w.encoder != "cnn":
            raise ConfigError(f"world.map_channels is for world.encoder=cnn, not {w.encoder!r}")
        kwargs.update(map_channels=w.map_channels)
    return FRAME_ENCODERS[w.encoder], kwargs


def _check_divides(part_key: str, part: int, whole_key: str, whole: int) -> None:
    if whole % part:
        raise ConfigError(f"{part_key}={part} does not divide {whole_key}={whole}")


def build_model(cfg: Config, run_dir: Path | None = None) -> SelfSupervisedModel:
    """The model `cfg` describes; a hierarchy's level-1 model is loaded from its base run (as
    recorded in `run_dir`, where given)."""
    kind = cfg.model.kind
    if kind not in MODEL_KINDS:
        raise ConfigError(f"model.kind: unknown kind {kind!r} (known: {MODEL_KINDS})")
    if kind == "hierarchy":
        levels = [asdict(level) for level in cfg.hierarchy.levels]
        return HierarchicalWorldModel(_base_world_model(cfg, run_dir), levels)
    name, kwargs = encoder_spec(cfg)
    encoder = registry.build(name, **kwargs)
    if kind == "world_model":
        return _world_model(cfg, encoder)
    if kind == "language_model":
        lang = asdict(cfg.language)
        return LanguageJEPA(encoder, PAD_ID, PRED_ID, **lang)
    if kind == "world_model_generative":
        pixel_only = dict(
            target="none",
            regularizer="none",
            reg_kwargs={},
            inverse_weight=0.0,
            latent_dim=0,
            geodesic_weight=0.0,
        )
        return GenerativeWorldModel(_world_model(cfg, encoder, **pixel_only), cfg.world.pool)
    if kind == "autoencoder":
        decoder = registry.build(
            "conv_decoder",
            embed_dim=encoder.num_features,
            out_chans=cfg.data.channels,
            img_size=cfg.data.image_size,
        )
        return Autoencoder(encoder, decoder)
    jepa = kind in ("ijepa", "tsjepa", "vjepa")
    predictor = _predictor(cfg, encoder, latent_dim=cfg.model.latent_dim if jepa else 0)
    if kind in ("ijepa", "vjepa"):
        key = "video" if kind == "vjepa" else "image"
        return MaskedJEPA(encoder, predictor, input_key=key, **_jepa_kwargs(cfg))
    if kind == "tsjepa":
        return SeriesJEPA(encoder, predictor, cfg.mask.mask_ratio, **_jepa_kwargs(cfg))
    if kind == "ts_mae":
        return MaskedSeriesReconstruction(encoder, predictor, cfg.mask.mask_ratio)
    return _masked_pixel_model(cfg, encoder, predictor)


def _masked_pixel_model(cfg: Config, encoder, predictor) -> MaskedPixelModel:
    """MAE / generative baselines: predict the pixels of the target tokens (of images, or of
    video tubelets for video_generative)."""
    m, video = cfg.model, cfg.model.kind in VIDEO_KINDS
    to_patches = (
        partial(patchify_video, tubelet=m.tubelet, patch=m.patch_size)
        if video
        else partial(patchify, patch=m.patch_size)
    )
    channels = cfg.data.channels * (m.tubelet if video else 1)  # pixel values per token / p^2
    decoder = registry.build(
        "patch_decoder", in_dim=encoder.num_features, patch_size=m.patch_size, out_chans=channels
    )
    key = "video" if video else "image"
    return MaskedPixelModel(encoder, predictor, decoder, to_patches, input_key=key)


def base_run_dir(cfg: Config, run_dir: Path | None = None) -> Path:
    """The level-1 world model's run folder of a hierarchy config: as recorded in the
    hierarchy's run folder `run_dir`, else `hierarchy.base_run`."""
    recorded = recorded_base_run(run_dir) if run_dir is not None else None
    path = recorded or Path(cfg.hierarchy.base_run)
    if not (recorded or cfg.hierarchy.base_run) or not (path / "checkpoints" / "last.pt").is_file():
        raise ConfigError(
            f"hierarchy.base_run={cfg.hierarchy.base_run!r} is not a trained run folder: train the "
            "level-1 world model first (hjepa train configs/maze.yaml) and name its folder"
        )
    return path


def _base_world_model(cfg: Config, run_dir: Path | None) -> WorldModel:
    base_cfg, base = load_run(base_run_dir(cfg, run_dir))
    if base_cfg.model.kind != "world_model":
        raise ConfigError(
            f"hierarchy.base_run {cfg.hierarchy.base_run} holds a {base_cfg.model.kind} model, "
            "not an action-conditioned world model"
        )
    return base


def _latent_sequences(cfg: Config, run_dir: Path, split: str) -> LatentSequences:
    """The base run's training (or held-out) episodes, encoded by its world model."""
    base = open_run(base_run_dir(cfg, run_dir))
    episodes = base.train_episodes if split == "train" else base.held_out_episodes
    encoded = encode_episodes(base.model, base.store, episodes, "cpu", cfg.train.progress)
    levels = cfg.hierarchy.levels
    gaps, sequences = [level.gap for level in levels], [level.sequence for level in levels]
    return LatentSequences(encoded, gaps, sequences, cfg.train.seed)


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


def _reg_kwargs(cfg: Config) -> dict:
    o = cfg.objective
    return {
        "vicreg": {"var_weight": o.vicreg_var_weight, "cov_weight": o.vicreg_cov_weight},
        "sigreg": {"num_directions": o.sigreg_directions},
    }.get(o.regularizer, {})


def _world_model(cfg: Config, encoder, **overrides) -> WorldModel:
    w, o = cfg.world, cfg.objective
    kwargs = dict(
        action_dim=w.action_dim,
        predictor=w.predictor,
        action_embed=w.action_embed,
        hidden=w.hidden,
        depth=w.depth,
        rollout_steps=w.rollout_steps,
        target=o.target,
        loss=o.loss,
        regularizer=o.regularizer,
        reg_weight=o.reg_weight,
        reg_kwargs=_reg_kwargs(cfg),
        inverse_weight=w.inverse_weight,
        latent_dim=cfg.model.latent_dim,
        latent_weight=o.latent_weight,
        momentum=(o.ema_start, o.ema_end),
        geodesic_weight=w.geodesic_weight,
        geodesic_cap=w.geodesic_cap,
    )
    return WorldModel(encoder, **{**kwargs, **overrides})


def _jepa_kwargs(cfg: Config) -> dict:
    o = cfg.objective
    return dict(
        target=o.target,
        loss=o.loss,
        target_layernorm=o.target_layernorm,
        regularizer=o.regularizer,
        reg_weight=o.reg_weight,
        reg_kwargs=_reg_kwargs(cfg),
        latent_dim=cfg.model.latent_dim,
        latent_weight=o.latent_weight,
        momentum=(o.ema_start, o.ema_end),
    )

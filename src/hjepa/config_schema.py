"""The training config's schema: its sections as typed dataclasses, with each key's default and
limits (`limited`, `one_of`), checked by `hjepa.config` when a config is loaded."""

from dataclasses import dataclass, field

from hjepa.errors import ConfigError


def limited(default, least=None, *, above=None, below=None, most=None):
    """A dataclass field whose value (each number of a tuple) must be >= `least`, > `above`,
    < `below` and <= `most` (those given)."""
    return field(default=default, metadata=dict(least=least, above=above, below=below, most=most))


def one_of(default: str, *choices: str):
    """A dataclass field whose value must be `default` or one of `choices`."""
    return field(default=default, metadata={"choices": (default, *choices)})


def check_limits(key: str, value, limits) -> None:
    if "choices" in limits and value not in limits["choices"]:
        raise ConfigError(f"{key}: expected one of {', '.join(limits['choices'])}, got {value!r}")
    for number in value if isinstance(value, tuple) else (value,):
        if limits.get("least") is not None and number < limits["least"]:
            raise ConfigError(f"{key}: must be >= {limits['least']}, got {value!r}")
        if limits.get("above") is not None and number <= limits["above"]:
            raise ConfigError(f"{key}: must be > {limits['above']}, got {value!r}")
        if limits.get("below") is not None and number >= limits["below"]:
            raise ConfigError(f"{key}: must be < {limits['below']}, got {value!r}")
        if limits.get("most") is not None and number > limits["most"]:
            raise ConfigError(f"{key}: must be <= {limits['most']}, got {value!r}")


@dataclass
class DataConfig:
    """Where samples come from: `images` (from `source`: `shapes` or `clutter`, procedural;
    `digits`, scikit-learn's; a folder with one sub-folder of images per class; a .npz of
    `images` and `labels`), `video` (from `source`: `moving_objects`, procedural, or a folder
    of class folders of clips; `frames` per clip), `trajectories`
    (a trajectory store at `path`, collected from `env` first if it does not exist yet),
    `series` (time series from `source`: a dataset bundled with aeon, `procedural`, or a
    .csv / .npy / .npz / .ts file, with `test_source` its test split) or `text_pairs`
    (description / regex pairs from `source`: `nlrx`, generated, or a .jsonl file)."""

    name: str = "images"
    source: str = ""  # images: "" = shapes
    test_source: str = ""  # "" = the bundled test split, or `held_out` of a file's series
    # z-normalize per channel with the training split's statistics (`channel`), each series on
    # its own (`series`), or not at all (`none`)
    normalize: str = one_of("channel", "series", "none")
    fraction: float = limited(1.0, above=0.0, most=1.0)  # text pairs: training share
    num_samples: int = limited(10000, 1)  # procedural images: training set size
    test_samples: int = limited(2000, 1)  # procedural images: test set size
    image_size: int = limited(32, 1)
    channels: int = limited(3, 1)
    num_workers: int = limited(0, 0)
    path: str = ""  # trajectory store; "" = <train.run_dir>/data/<train.name>
    env: str = "hjepa/TwoRooms-v0"
    env_kwargs: dict = field(default_factory=dict)
    policy: str = "random_walk"
    episodes: int = limited(1000, 1)
    episode_steps: int = limited(90, 1)
    frames: int = limited(17, 2)  # frames per training window (one action per pair) or clip
    # fraction of episodes (of the samples of an image, series or pairs file) kept for evaluation
    held_out: float = limited(0.1, 0.0, below=1.0)
    in_memory: bool = True  # read the store into RAM instead of memory-mapping it


@dataclass
class ModelConfig:
    """Which architecture and how big. `kind` picks JEPA or one of the seed's baselines."""

    # ijepa | generative | autoencoder | mae | world_model | tsjepa | ts_mae (time series) |
    # vjepa | video_generative (video: pixel prediction) | language_model (next-token CE + the
    # `language` section's JEPA terms)
    kind: str = "ijepa"
    patch_size: int = limited(4, 1)
    embed_dim: int = limited(96, 1)
    depth: int = limited(4, 1)
    num_heads: int = limited(3, 1)
    pred_dim: int = limited(48, 1)
    pred_depth: int = limited(2, 1)
    latent_dim: int = limited(0, 0)  # > 0 feeds a latent z to the predictor (criterion 4)
    tubelet: int = limited(2, 1)  # video: frames per token
    max_patches: int = limited(64, 2)  # time series: patches per series at most
    channel_mode: str = one_of("mixing", "independent")  # time series: tokens over channels
    vocab_size: int = limited(512, 1)  # language models: BPE tokens, special ones included
    max_tokens: int = limited(96, 4)  # language models: the context length


@dataclass
class WorldConfig:
    """The action-conditioned world model pred(s, a) -> s' (model.kind=world_model)."""

    state_dim: int = limited(32, 1)
    action_dim: int = limited(2, 1)
    # cnn | per_channel_cnn | scene_agent_cnn | vit (patch size, depth, heads from model.*)
    encoder: str = "cnn"
    pool: int = limited(2, 1)
    channels: tuple[int, ...] = limited((16, 32, 32), 1)  # one conv stage per entry
    # cnn: > 0 keeps the last stage's map as the state (this many channels per cell; state_dim is
    # then channels x cells) instead of a Linear layer to state_dim
    map_channels: int = limited(0, 0)
    predictor: str = "mlp"  # mlp | gru | transformer | conv (map states)
    hidden: int = limited(128, 1)
    depth: int = limited(3, 1)
    action_embed: int = limited(16, 1)
    rollout_steps: int = limited(16, 1)
    inverse_weight: float = limited(1.0, 0.0)
    # latent distance shaped to count steps (world/model.py); 0 = off
    geodesic_weight: float = limited(0.0, 0.0)
    geodesic_cap: float = limited(40.0, above=0.0)
    # After training: more predictor steps on the frozen encoder's latents (world/refine.py)
    refine_steps: int = limited(0, 0)
    refine_batch: int = limited(256, 1)
    refine_lr: float = limited(0.003, above=0.0)


@dataclass
class MaskConfig:
    """I-JEPA multi-block masks (targets and context), MAE-style random masks, and the time
    series' random or block masks (`mask_ratio` of the patches are targets)."""

    num_targets: int = limited(4, 1)
    target_scale: tuple[float, float] = limited((0.15, 0.2), above=0.0)
    target_aspect: tuple[float, float] = limited((0.75, 1.5), above=0.0)
    context_scale: tuple[float, float] = limited((0.85, 1.0), above=0.0)
    mask_ratio: float = limited(0.75, above=0.0, below=1.0)
    block: int = limited(1, 1)  # time series: masked patches come in runs of this many
    # video: V-JEPA tube masks, or predict the later token frames from the first context_frames
    video: str = one_of("tube", "future")
    context_frames: int = limited(1, 1)


@dataclass
class ObjectiveConfig:
    """The four criteria: (1)(2) information in s_x, s_y via `target` and `regularizer`,
    (3) prediction error via `loss`, (4) information in z via `latent_weight`."""

    target: str = one_of("ema", "stopgrad", "frozen", "none")
    ema_start: float = 0.996
    ema_end: float = 1.0
    loss: str = one_of("smooth_l1", "l1", "l2", "cosine")
    target_layernorm: bool = False
    regularizer: str = one_of("none", "vicreg", "sigreg")
    reg_weight: float = limited(1.0, 0.0)
    vicreg_var_weight: float = limited(1.0, 0.0)
    vicreg_cov_weight: float = limited(0.04, 0.0)
    sigreg_directions: int = limited(256, 1)
    latent_weight: float = limited(0.001, 0.0)


@dataclass
class LanguageConfig:
    """The JEPA terms beside cross-entropy (language_model, `jepa/language.py`); 0 = off."""

    jepa_weight: float = limited(0.0, 0.0)  # lambda of LLM-JEPA: 1 - cos(pred(text), regex)
    pred_tokens: int = limited(1, 0)  # k [PRED] tokens appended to the text for pred
    stp_weight: float = limited(0.0, 0.0)  # Semantic Tube Prediction


@dataclass
class OptimConfig:
    """AdamW with linear warmup + cosine learning rate and a cosine weight-decay ramp."""

    lr: float = limited(1e-3, above=0.0)
    min_lr: float = limited(1e-5, 0.0)
    warmup_steps: int = limited(50, 0)
    weight_decay: float = limited(0.04, 0.0)
    weight_decay_end: float = limited(0.4, 0.0)
    betas: tuple[float, float] = limited((0.9, 0.999), 0.0, below=1.0)
    grad_clip: float = 1.0  # <= 0 disables clipping


@dataclass
class TrainConfig:
    """The loop: length, batch, device, logging, monitoring and checkpoint cadence."""

    name: str = "run"
    run_dir: str = "runs"
    steps: int = limited(500, 1)
    batch_size: int = limited(64, 1)  # per process
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    precision: str = one_of("auto", "fp32", "bf16")  # auto: the faster here (train/precision.py)
    threads: int = limited(0, 0)  # 0 keeps torch's default
    log_every: int = limited(10, 1)
    monitor_every: int = limited(50, 1)
    checkpoint_every: int = limited(100, 1)
    collapse_std: float = 0.01  # warn when mean per-dim std / feature RMS falls below
    collapse_rank: float = 0.05  # warn when effective rank / dim falls below
    tensorboard: bool = True
    progress: bool = True


@dataclass
class LevelConfig:
    """One H-JEPA level above the world model (`hierarchy/level.py`): it encodes the level
    below's state into a coarser one and predicts it `gap` env steps ahead, given a macro-action
    encoded from the primitive actions in between."""

    encoder: str = "mlp"  # mlp (learned) | linear | identity (ablations)
    dim: int = 16  # state size of this level (identity: the level below's)
    hidden: int = 128
    depth: int = 2  # encoder and predictor MLP depth
    macro_dim: int = 4  # size of the macro-action latent (2-8 recommended)
    gap: tuple[int, int] = (4, 12)  # env steps between two states of this level, drawn per sample
    sequence: int = 2  # macro-steps per training sample (one-step and open-loop losses)
    reg_weight: float = 1.0  # VICReg on this level's states (criteria 1, 2)
    kl_weight: float = 0.001  # KL of the macro-action (criterion 4: minimize the information in z)


@dataclass
class HierarchyConfig:
    """H-JEPA (model.kind=hierarchy): levels stacked on a trained world model (level 1, frozen),
    trained on that run's trajectory store."""

    base_run: str = ""  # the level-1 world model's run folder
    levels: list[LevelConfig] = field(default_factory=lambda: [LevelConfig()])


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    world: WorldConfig = field(default_factory=WorldConfig)
    hierarchy: HierarchyConfig = field(default_factory=HierarchyConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

"""Typed configuration: dataclasses, YAML presets, dotted command-line overrides.

    cfg = load_config("configs/ijepa_shapes.yaml", ["optim.lr=3e-4", "train.steps=200"])

Unknown keys, values of the wrong type, numbers that are not finite and numbers outside a key's
limits (declared with `limited`), values that are not among a key's choices (`one_of`) and keys
given twice in a YAML mapping raise ConfigError naming the dotted key (or the file and line). The
resolved config is written to the run folder as `config.yaml` and can be loaded back the same way.
"""

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hjepa.errors import ConfigError
from hjepa.io import write_text_atomic

PRESETS = Path(__file__).resolve().parent / "configs"  # the presets shipped with hjepa


def limited(default, least=None, *, above=None, below=None, most=None):
    """A dataclass field whose value (each number of a tuple) must be >= `least`, > `above`,
    < `below` and <= `most` (those given)."""
    return field(default=default, metadata=dict(least=least, above=above, below=below, most=most))


def one_of(default: str, *choices: str):
    """A dataclass field whose value must be `default` or one of `choices`."""
    return field(default=default, metadata={"choices": (default, *choices)})


def _check_limits(key: str, value, limits) -> None:
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
    """Where samples come from: `shapes` (procedural images, no download), `trajectories`
    (a trajectory store at `path`, collected from `env` first if it does not exist yet),
    `series` (time series from `source`: a dataset bundled with aeon, `procedural`, or a
    .csv / .npy / .npz / .ts file, with `test_source` its test split) or `text_pairs`
    (description / regex pairs from `source`: `nlrx`, generated, or a .jsonl file)."""

    name: str = "shapes"
    source: str = ""
    test_source: str = ""  # "" = the bundled test split, or `held_out` of a file's series
    # z-normalize per channel with the training split's statistics (`channel`), each series on
    # its own (`series`), or not at all (`none`)
    normalize: str = one_of("channel", "series", "none")
    fraction: float = limited(1.0, above=0.0, most=1.0)  # text pairs: training share
    num_samples: int = limited(10000, 1)
    image_size: int = limited(32, 1)
    channels: int = limited(3, 1)
    num_workers: int = limited(0, 0)
    path: str = ""  # trajectory store; "" = <train.run_dir>/data/<train.name>
    env: str = "hjepa/TwoRooms-v0"
    env_kwargs: dict = field(default_factory=dict)
    policy: str = "random_walk"
    episodes: int = limited(1000, 1)
    episode_steps: int = limited(90, 1)
    frames: int = limited(17, 2)  # frames per training window (one action per pair)
    held_out: float = limited(0.1, 0.0, below=1.0)  # fraction of episodes kept for evaluation
    in_memory: bool = True  # read the store into RAM instead of memory-mapping it


@dataclass
class ModelConfig:
    """Which architecture and how big. `kind` picks JEPA or one of the seed's baselines."""

    # ijepa | generative | autoencoder | mae | world_model | tsjepa | ts_mae (time series) |
    # language_model (next-token CE + the `language` section's JEPA terms)
    kind: str = "ijepa"
    patch_size: int = limited(4, 1)
    embed_dim: int = limited(96, 1)
    depth: int = limited(4, 1)
    num_heads: int = limited(3, 1)
    pred_dim: int = limited(48, 1)
    pred_depth: int = limited(2, 1)
    latent_dim: int = limited(0, 0)  # > 0 feeds a latent z to the predictor (criterion 4)
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
    channels: tuple[int, int, int] = limited((16, 32, 32), 1)
    predictor: str = "mlp"  # mlp | gru | transformer
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
    precision: str = one_of("auto", "fp32", "bf16")  # auto: bf16 on CUDA, fp32 elsewhere
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


def load_config(path: str | Path | None = None, overrides: list[str] = (), root=None):
    """Defaults, then the YAML file at `path`, then `key.sub=value` overrides, all type-checked.

    `root` is the top-level dataclass (default `Config`, the training config)."""
    tree = {}
    if path is not None:
        path = resolve_preset(path)
        try:
            tree = _parse_yaml(path.read_text()) or {}
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not a text file ({exc})") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from None
        if not isinstance(tree, dict):
            raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    for item in overrides:
        key, value = _split_override(item)
        _set_dotted(tree, key, value)
    return from_dict(tree, root)


def resolve_preset(path: str | Path) -> Path:
    """`path` if the file exists, else the preset of that file name shipped with hjepa
    (`hjepa/configs/`, the repository's `configs/`), so `configs/two_rooms.yaml` works from any
    working directory; ConfigError naming both places when neither exists."""
    path = Path(path)
    if path.is_file():
        return path
    shipped = PRESETS / path.name
    if path.parent.name in ("configs", "") and shipped.is_file():
        return shipped
    raise ConfigError(f"config file not found: {path} (nor a preset of that name in {PRESETS})")


def from_dict(tree: dict, root=None):
    return _build(root or Config, tree, prefix="")


def to_dict(cfg) -> dict:
    return {f.name: _plain(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}


def save_config(cfg: Config, path: Path) -> None:
    write_text_atomic(path, yaml.safe_dump(to_dict(cfg), sort_keys=False))


def _plain(value):
    if dataclasses.is_dataclass(value):
        return to_dict(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (the plain
    loader keeps the last value without a word)."""

    def construct_mapping(self, node, deep=False):
        seen = []
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"key {key!r} given twice",
                    key_node.start_mark,
                )
            seen.append(key)
        return super().construct_mapping(node, deep)


def _parse_yaml(text: str):
    return yaml.load(text, Loader=_UniqueKeyLoader)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong in a YAML text, and on which line where known, in one line."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        return exc.problem + (f" (line {mark.line + 1})" if mark else "")
    return " ".join(str(exc).split())


def _split_override(item: str) -> tuple[str, object]:
    key, _, raw = item.partition("=")
    if not key.strip() or "=" not in item:
        raise ConfigError(f"override {item!r}: expected key.sub=value")
    try:
        value = _parse_yaml(raw) if raw else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {key}: cannot parse {raw!r}: {_yaml_problem(exc)}") from None
    return key.strip(), value


def _set_dotted(tree: dict, key: str, value) -> None:
    *parents, leaf = key.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {key}: {part} is not a section")
    node[leaf] = value


def _build(cls, tree, prefix: str):
    if not isinstance(tree, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {tree!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(tree) - set(fields))
    if unknown:
        valid = ", ".join(fields)
        raise ConfigError(f"unknown config key {prefix}{unknown[0]} (valid keys here: {valid})")
    values = {}
    for name, value in tree.items():
        key = prefix + name
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, value, key + ".")
        else:
            values[name] = _coerce(key, hint, value)
            if values[name] is not None:
                _check_limits(key, values[name], fields[name].metadata)
    return cls(**values)


def _coerce(key: str, hint, value):
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        hint = next(h for h in options if h is not type(None))
        origin = typing.get_origin(hint)
    if origin is list and dataclasses.is_dataclass(typing.get_args(hint)[0]):
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list of sections, got {value!r}")
        item = typing.get_args(hint)[0]
        return [_build(item, v, f"{key}[{i}].") for i, v in enumerate(value)]
    if origin is tuple:
        kinds = typing.get_args(hint)
        if not isinstance(value, list | tuple) or len(value) != len(kinds):
            raise ConfigError(f"{key}: expected a list of {len(kinds)} numbers, got {value!r}")
        return tuple(
            _coerce(f"{key}[{i}]", k, v) for i, (k, v) in enumerate(zip(kinds, value, strict=True))
        )
    if hint is float and isinstance(value, int | float | str) and not isinstance(value, bool):
        try:  # YAML reads 3e-4 (no dot) as a string
            number = float(value)
        except ValueError:
            number = None
        if number is not None:
            if not math.isfinite(number):
                raise ConfigError(f"{key}: expected a finite number, got {value!r}")
            return number
    if hint is dict and isinstance(value, dict):
        return value
    if hint in (int, float, str, bool) and type(value) is hint:
        return value
    raise ConfigError(f"{key}: expected {hint.__name__}, got {type(value).__name__} {value!r}")

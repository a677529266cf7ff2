"""Loading typed configuration (the schema is `config_schema.py`): YAML presets, dotted
command-line overrides.

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
from pathlib import Path

import yaml

from hjepa.config_schema import Config, check_limits
from hjepa.errors import ConfigError
from hjepa.io import write_text_atomic

PRESETS = Path(__file__).resolve().parent / "configs"  # the presets shipped with hjepa


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
                check_limits(key, values[name], fields[name].metadata)
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
        if kinds[-1] is Ellipsis:  # tuple[int, ...]: any non-empty length
            kinds = (kinds[0],) * len(value) if isinstance(value, list | tuple) else ()
        if not kinds or not isinstance(value, list | tuple) or len(value) != len(kinds):
            count = len(kinds) or "one or more"
            raise ConfigError(f"{key}: expected a list of {count} numbers, got {value!r}")
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

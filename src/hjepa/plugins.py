"""Plug-ins: a user's modules that register envs, task sets and policies, imported by name.

Three ways in, all equivalent: `hjepa --import my_pkg COMMAND ...` (any command), the entry-point
group `hjepa.plugins` of an installed package (every entry point's module is imported when the
CLI starts), and Gymnasium's own `my_pkg:MyEnv-v0` env ids (the module part is imported before
the env is looked up, by Gymnasium and by hjepa's task-set registry).

A module that cannot be imported from `sys.path` is looked for in the working directory too
(which is then added to `sys.path`): the `hjepa` console script, unlike `python -m hjepa`, does
not put the working directory on the path, and `hjepa train configs/x.yaml` with
`env: examples.my_env:MyEnv-v0` should find `./examples/my_env.py` all the same.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib import metadata

from hjepa.errors import ConfigError

ENTRY_POINT_GROUP = "hjepa.plugins"


def import_plugins(modules: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Import the named modules, then every `hjepa.plugins` entry point; their names."""
    loaded = []
    for name in modules:
        _import(name, "--import")
        loaded.append(name)
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        _import(entry.module, f"entry point {entry.name!r} of group {ENTRY_POINT_GROUP}")
        loaded.append(entry.module)
    return loaded


def import_env_module(env_id: str) -> str:
    """For `module:EnvId`, import `module` (which registers the env); the bare `EnvId`."""
    if not isinstance(env_id, str) or not env_id:
        raise ConfigError(f"env id must be a non-empty string, got {env_id!r}")
    module, sep, bare = env_id.rpartition(":")
    if sep:
        _import(module, f"env id {env_id!r}")
    return bare


def _import(module: str, source: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        if _missing_top_level(exc, module) and _add_working_directory():
            _import(module, source)
            return
        raise ConfigError(f"{source}: cannot import module {module!r} ({exc})") from exc


def _missing_top_level(exc: ImportError, module: str) -> bool:
    """Whether `exc` says the top-level package of `module` itself was not found."""
    return isinstance(exc, ModuleNotFoundError) and exc.name == module.split(".")[0]


def _add_working_directory() -> bool:
    """Put the working directory on `sys.path`; False when it already is (nothing to retry)."""
    cwd = os.getcwd()
    if any(os.path.abspath(entry or os.curdir) == cwd for entry in sys.path):
        return False
    sys.path.append(cwd)
    importlib.invalidate_caches()
    return True

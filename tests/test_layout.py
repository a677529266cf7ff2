"""The package's shape: no import loop between modules or between top folders, short files,
and `envs/` independent of everything that learns or plans."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "hjepa"
MAX_LINES = 400


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names[".".join(parts).removesuffix(".__init__")] = path
    return names


def imported(path: Path, names: dict[str, Path]) -> set[str]:
    """Modules of the package that `path` imports (an imported name resolves to the longest
    module prefix; relative imports are not used in the package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            candidates = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in candidates:
            while name and name not in names:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    names = module_names()
    return {m: imported(p, names) - {m} for m, p in names.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import loop as a path [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def folder(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_cycle_finder_finds_a_loop():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_loop_between_modules():
    assert cycle(graph()) is None


def test_no_import_loop_between_folders():
    folders: dict[str, set[str]] = {}
    for module, deps in graph().items():
        folders.setdefault(folder(module), set()).update(
            folder(d) for d in deps if folder(d) != folder(module)
        )
    assert cycle(folders) is None


@pytest.mark.parametrize("below", ["hjepa.envs", "hjepa.jepa", "hjepa.nets", "hjepa.data"])
def test_lower_folders_do_not_reach_up(below):
    upper = {"hjepa.train", "hjepa.eval", "hjepa.agent", "hjepa.plan", "hjepa.experiment"}
    reached = {
        (module, dep)
        for module, deps in graph().items()
        if folder(module) == below
        for dep in deps
        if folder(dep) in upper
    }
    assert not reached


def test_no_file_over_the_limit():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"files over {MAX_LINES} lines: {long}"

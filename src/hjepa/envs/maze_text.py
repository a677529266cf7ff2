"""The text-map form of a maze layout (`hjepa.envs.maze` documents the format): parsing, with
errors that name the line and column of the first problem."""

import textwrap

import numpy as np

from hjepa.errors import ConfigError


def parse_text_map(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(h_doors [R, C-1], v_doors [R-1, C]) bool of a text map; ConfigError naming the line
    and column of the first problem."""
    lines = textwrap.dedent(text).strip("\n").split("\n")
    lines = [line.rstrip() for line in lines]
    if len(lines) < 3 or len(lines) % 2 == 0:
        raise ConfigError(f"text map: expected an odd number (>= 3) of lines, got {len(lines)}")
    width = len(lines[0])
    if width < 4 or (width - 1) % 3:
        raise ConfigError(f"text map line 1: expected 3 * columns + 1 characters, got {width}")
    rows, cols = len(lines) // 2, (width - 1) // 3
    h_doors, v_doors = np.zeros((rows, cols - 1), bool), np.zeros((rows - 1, cols), bool)
    for i, line in enumerate(lines):
        if len(line) > width:
            _bad(i, width, f"line longer than the first line ({width} characters)")
        line = line.ljust(width)
        if i % 2 == 0:
            _parse_corner_line(line, i, rows, v_doors)
        else:
            _parse_room_line(line, i, cols, h_doors)
    return h_doors, v_doors


def _bad(line: int, col: int, message: str) -> None:
    raise ConfigError(f"text map line {line + 1}, column {col + 1}: {message}")


def _parse_corner_line(line: str, i: int, rows: int, v_doors: np.ndarray) -> None:
    r = i // 2
    for j, ch in enumerate(line):
        if j % 3 == 0:
            if ch != "+":
                _bad(i, j, f"expected '+' (wall corner), got {ch!r}")
        elif ch not in "- ":
            _bad(i, j, f"expected '-' (wall) or ' ' (door), got {ch!r}")
        elif j % 3 == 2 and ch != line[j - 1]:
            _bad(i, j, "a wall segment must be '--' or '  ' (both characters alike)")
        elif ch == " " and r in (0, rows):
            _bad(i, j, "the outer border must be closed (no door)")
        elif ch == " ":
            v_doors[r - 1, j // 3] = True


def _parse_room_line(line: str, i: int, cols: int, h_doors: np.ndarray) -> None:
    r = i // 2
    for j, ch in enumerate(line):
        if j % 3 and ch != " ":
            _bad(i, j, f"expected ' ' inside a room, got {ch!r}")
        elif j % 3 == 0 and ch not in "| ":
            _bad(i, j, f"expected '|' (wall) or ' ' (door), got {ch!r}")
        elif j % 3 == 0 and ch == " " and j // 3 in (0, cols):
            _bad(i, j, "the outer border must be closed (no door)")
        elif j % 3 == 0 and ch == " ":
            h_doors[r, j // 3 - 1] = True

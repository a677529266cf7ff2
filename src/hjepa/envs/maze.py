"""Maze: a grid of R x C square rooms joined by doors, for long-horizon goals (H-JEPA testbed).

Geometry (default 3 x 3 rooms in a 64 px image, the same image size as TwoRooms so encoders are
shared): walls are `WALL_PX` = 4 px thick, rooms are square with side
`room_px = (size - (n + 1) * WALL_PX) // n` for n = max(R, C) (16 px by default), and the grid is
centred in the image, everything outside it being wall. A door is a `door_px` (default `DOOR_PX`
= 8) px gap centred on the wall segment between two neighbouring rooms. Coordinates as in
`hjepa.envs.arena`.

Layouts come from a seed (a random spanning tree over the rooms, so every room is reachable,
plus `extra_doors` random extra doors that create loops) or from a text map. The text map has
2R + 1 lines of 3C + 1 characters; `+` marks wall corners, `--` a horizontal wall and `|` a
vertical wall, a space where a wall would be is a door, and room cells are two spaces:

    +--+--+--+
    |     |  |
    +--+  +  +
    |        |
    +  +--+--+
    |        |
    +--+--+--+

The outer border must be closed and every room reachable. Trailing spaces may be omitted; a bad
map raises ConfigError naming the 1-based line and column (or the rooms no door leads to).
States are (x, y, room_row, room_col), where the room of a position is the one whose cell,
extended to the centre lines of its walls, contains it; the rooms follow the agent, so they are
not layout columns. A maze with `random_layout=True` adds a `layout` column, a 24-bit code of
its doors (`MazeLayout.code`), fixed within an episode: episodes with equal codes share a maze.
A fixed maze has no layout column, as every episode runs in the same maze. The maze's
goal-reaching task set lives in `hjepa.envs.maze_tasks`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from hjepa.envs.arena import (
    DEFAULT_SIZE,
    ArenaSim,
    as_flag,
    as_list,
    as_number,
    sample_in_mask,
)
from hjepa.envs.maze_text import parse_text_map
from hjepa.errors import ConfigError

WALL_PX = 4
DOOR_PX = 8
DEFAULT_ROOMS = (3, 3)


@dataclass(eq=False)
class MazeLayout:
    """Which doors are open: `h_doors[r, c]` joins rooms (r, c)-(r, c+1) ([R, C-1] bool),
    `v_doors[r, c]` joins rooms (r, c)-(r+1, c) ([R-1, C] bool)."""

    h_doors: np.ndarray
    v_doors: np.ndarray

    @property
    def rows(self) -> int:
        return self.h_doors.shape[0]

    @property
    def cols(self) -> int:
        return self.v_doors.shape[1]

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, MazeLayout)
            and np.array_equal(self.h_doors, other.h_doors)
            and np.array_equal(self.v_doors, other.v_doors)
        )

    @property
    def code(self) -> int:
        """A 24-bit code of the open doors (exact in float32), equal for equal layouts."""
        doors = np.concatenate([self.h_doors.ravel(), self.v_doors.ravel()]).astype(np.uint8)
        return int.from_bytes(hashlib.blake2b(doors.tobytes(), digest_size=3).digest(), "big")

    def neighbours(self, row: int, col: int) -> list[tuple[int, int]]:
        """Rooms reachable from (row, col) through one open door."""
        out = []
        if col > 0 and self.h_doors[row, col - 1]:
            out.append((row, col - 1))
        if col < self.cols - 1 and self.h_doors[row, col]:
            out.append((row, col + 1))
        if row > 0 and self.v_doors[row - 1, col]:
            out.append((row - 1, col))
        if row < self.rows - 1 and self.v_doors[row, col]:
            out.append((row + 1, col))
        return out

    def room_distances(self, start: tuple[int, int] = (0, 0)) -> dict[tuple[int, int], int]:
        """Breadth-first search: number of doors from `start` to every reachable room."""
        dist = {tuple(start): 0}
        frontier = [tuple(start)]
        while frontier:
            nxt = []
            for room in frontier:
                for other in self.neighbours(*room):
                    if other not in dist:
                        dist[other] = dist[room] + 1
                        nxt.append(other)
            frontier = nxt
        return dist

    def is_connected(self) -> bool:
        """Whether every room is reachable from every other."""
        return len(self.room_distances()) == self.rows * self.cols

    def to_text(self) -> str:
        """The text-map form (see the module docstring); `from_text(to_text())` round-trips."""
        lines = []
        for r in range(self.rows + 1):
            inner = 0 < r < self.rows
            cells = ["  " if inner and self.v_doors[r - 1, c] else "--" for c in range(self.cols)]
            lines.append("+" + "+".join(cells) + "+")
            if r < self.rows:
                gaps = [" " if self.h_doors[r, c] else "|" for c in range(self.cols - 1)]
                lines.append("|" + "".join("  " + g for g in gaps) + "  |")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> MazeLayout:
        """Parse a text map; ConfigError naming the line and column of the first problem, or
        the rooms that cannot be reached."""
        layout = cls(*parse_text_map(text))
        reached = layout.room_distances()
        cut_off = [(r, c) for r in range(layout.rows) for c in range(layout.cols)]
        cut_off = [room for room in cut_off if room not in reached]
        if cut_off:
            raise ConfigError(
                f"text map: the maze is not connected; no door path from room (0, 0) to rooms "
                f"(row, col) {cut_off}"
            )
        return layout

    @classmethod
    def random(
        cls, rows: int, cols: int, rng: np.random.Generator, extra_doors: int = 0
    ) -> MazeLayout:
        """A random spanning tree over the rooms (randomized Kruskal) plus `extra_doors` doors."""
        edges = [("h", r, c) for r in range(rows) for c in range(cols - 1)]
        edges += [("v", r, c) for r in range(rows - 1) for c in range(cols)]
        parent = list(range(rows * cols))
        layout = cls(np.zeros((rows, cols - 1), bool), np.zeros((rows - 1, cols), bool))
        closed = []
        for i in rng.permutation(len(edges)):
            kind, r, c = edges[i]
            a, b = r * cols + c, (r * cols + c + 1) if kind == "h" else ((r + 1) * cols + c)
            ra, rb = _find(parent, a), _find(parent, b)
            if ra == rb:
                closed.append(edges[i])
                continue
            parent[ra] = rb
            (layout.h_doors if kind == "h" else layout.v_doors)[r, c] = True
        for kind, r, c in closed[: max(0, int(extra_doors))]:
            (layout.h_doors if kind == "h" else layout.v_doors)[r, c] = True
        return layout


def _find(parent: list[int], i: int) -> int:
    """Union-find root with path halving."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@dataclass(frozen=True)
class MazeGeometry:
    """Pixel geometry of a rows x cols maze in a size x size image."""

    size: int
    rows: int
    cols: int
    door_px: int = DOOR_PX

    @property
    def room_px(self) -> int:
        return (self.size - (max(self.rows, self.cols) + 1) * WALL_PX) // max(self.rows, self.cols)

    @property
    def pitch(self) -> int:
        return self.room_px + WALL_PX

    @property
    def origin(self) -> tuple[int, int]:
        """(x, y) of the grid's top-left corner (the outer wall's outer edge)."""
        extent = np.array([self.cols, self.rows]) * self.pitch + WALL_PX
        ox, oy = (self.size - extent) // 2
        return int(ox), int(oy)

    def check(self) -> None:
        if self.rows < 1 or self.cols < 1 or self.rows * self.cols < 2:
            raise ConfigError(f"maze needs at least 2 rooms, got {self.rows} x {self.cols}")
        if self.door_px < 1:
            raise ConfigError(f"door_px must be >= 1, got {self.door_px}")
        if self.room_px < self.door_px + 2:
            raise ConfigError(
                f"{self.rows} x {self.cols} rooms do not fit in {self.size} px: rooms would be "
                f"{self.room_px} px, need >= door_px + 2 = {self.door_px + 2}"
            )

    def room_box(self, row, col) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) (x, y) of the interior of rooms (row, col) (arrays broadcast)."""
        ox, oy = self.origin
        x0 = ox + WALL_PX + np.asarray(col) * self.pitch
        y0 = oy + WALL_PX + np.asarray(row) * self.pitch
        low = np.stack([x0, y0], axis=-1).astype(np.float64)
        return low, low + self.room_px

    def room_centres(self) -> np.ndarray:
        """(x, y) float64 [rows, cols, 2] of every room's centre."""
        rr, cc = np.meshgrid(np.arange(self.rows), np.arange(self.cols), indexing="ij")
        low, high = self.room_box(rr, cc)
        return (low + high) / 2

    def room_index(self, positions: np.ndarray) -> np.ndarray:
        """(room_row, room_col) int64 [N, 2] of positions [N, 2] (x, y)."""
        ox, oy = self.origin
        col = np.floor((positions[:, 0] - ox - WALL_PX / 2) / self.pitch)
        row = np.floor((positions[:, 1] - oy - WALL_PX / 2) / self.pitch)
        rooms = np.stack([np.clip(row, 0, self.rows - 1), np.clip(col, 0, self.cols - 1)], 1)
        return rooms.astype(np.int64)

    def walls(self, layout: MazeLayout) -> np.ndarray:
        """Wall occupancy bool [size, size] of one layout."""
        walls = np.ones((self.size, self.size), dtype=bool)
        for r in range(self.rows):
            for c in range(self.cols):
                (x0, y0), (x1, y1) = (v.astype(int) for v in self.room_box(r, c))
                walls[y0:y1, x0:x1] = False
        door, mid = self.door_px, self.room_px // 2 - self.door_px // 2
        for r, c in zip(*np.nonzero(layout.h_doors), strict=True):
            (x0, y0), (x1, _) = (v.astype(int) for v in self.room_box(r, c))
            walls[y0 + mid : y0 + mid + door, x1 : x1 + WALL_PX] = False
        for r, c in zip(*np.nonzero(layout.v_doors), strict=True):
            (x0, y0), (_, y1) = (v.astype(int) for v in self.room_box(r, c))
            walls[y1 : y1 + WALL_PX, x0 + mid : x0 + mid + door] = False
        return walls


def maze_walls(spec: dict) -> np.ndarray:
    """Wall occupancy bool [size, size] of a `MazeSim.maze_spec()` dict; ConfigError if bad."""
    if not isinstance(spec, dict) or set(spec) != {"text_map", "door_px", "size"}:
        raise ConfigError(f"a maze spec is a dict with text_map, door_px and size, got {spec!r}")
    layout = MazeLayout.from_text(spec["text_map"])
    geometry = MazeGeometry(int(spec["size"]), layout.rows, layout.cols, int(spec["door_px"]))
    geometry.check()
    return geometry.walls(layout)


class MazeSim(ArenaSim):
    """N mazes of R x C rooms. One shared layout (from `text_map`, else from `layout_seed`)
    unless `random_layout=True`, which draws a new layout per env at every reset from `rng`.

    Reset options: `room` ((row, col), or one per env) picks the start room; `start` ((x, y) or
    [N, 2]) places the agents; `maze` (a `maze_spec()` dict, carried by the maze's tasks) must be
    this simulator's fixed maze (ConfigError otherwise). `layouts` holds the current `MazeLayout`
    of each env.
    """

    # "band" and "shortest_steps" annotate the maze's tasks (hjepa.envs.maze_tasks) for reports;
    # the simulator ignores them.
    option_keys = ("start", "room", "maze", "band", "shortest_steps")

    def __init__(
        self,
        num_envs: int,
        rooms: tuple[int, int] = DEFAULT_ROOMS,
        size: int = DEFAULT_SIZE,
        layout_seed: int = 0,
        text_map: str | None = None,
        random_layout: bool = False,
        extra_doors: int = 0,
        door_px: int = DOOR_PX,
        **kwargs,
    ):
        self.random_layout = as_flag("random_layout", random_layout)  # before the layout columns
        super().__init__(num_envs, size=size, **kwargs)
        self.fixed_layout = None
        if text_map is not None:
            self.fixed_layout = MazeLayout.from_text(text_map)
            rooms = (self.fixed_layout.rows, self.fixed_layout.cols)
        if not isinstance(rooms, list | tuple) or len(rooms) != 2:
            raise ConfigError(f"rooms: expected (rows, cols), got {rooms!r}")
        rows, cols = (as_number("rooms", n, int) for n in rooms)
        self.geometry = MazeGeometry(self.size, rows, cols, as_number("door_px", door_px, int))
        self.geometry.check()
        self.extra_doors = as_number("extra_doors", extra_doors, int)
        if self.fixed_layout is None:
            seed_rng = np.random.default_rng(layout_seed)
            self.fixed_layout = MazeLayout.random(*rooms, seed_rng, self.extra_doors)
        self._fixed_walls = self.geometry.walls(self.fixed_layout)
        self.layouts: list[MazeLayout] = [self.fixed_layout] * self.num_envs

    @property
    def layout_names(self) -> tuple[str, ...]:
        """("layout",) when every reset draws a new maze; none for a fixed maze."""
        return ("layout",) if self.random_layout else ()

    @property
    def state_names(self) -> tuple[str, ...]:
        return ("x", "y", "room_row", "room_col", *self.layout_names)

    def states(self) -> np.ndarray:
        """(x, y, room_row, room_col[, layout]) float32 [N, S]; the room follows the agent."""
        self._require_reset()
        rooms = self.geometry.room_index(self._pos)
        return np.concatenate([self._pos, rooms, self._layout], axis=1).astype(np.float32)

    def room_of(self, positions: np.ndarray) -> np.ndarray:
        """(room_row, room_col) int64 [N, 2] of positions [N, 2] (x, y) in pixels."""
        return self.geometry.room_index(np.asarray(positions, dtype=np.float64).reshape(-1, 2))

    def room_centres(self) -> np.ndarray:
        """(x, y) float64 [rows, cols, 2] of every room's centre (free in every layout)."""
        return self.geometry.room_centres()

    def maze_spec(self) -> dict:
        """The fixed maze as a JSON-friendly dict {"text_map", "door_px", "size"}: what a task
        annotates its maze with (`maze_walls` rebuilds the walls from it)."""
        return {
            "text_map": self.fixed_layout.to_text(),
            "door_px": self.geometry.door_px,
            "size": self.size,
        }

    def _check_task_maze(self, spec) -> None:
        if self.random_layout or not np.array_equal(maze_walls(spec), self._fixed_walls):
            raise ConfigError(
                "options['maze']: the task was drawn in another maze than this env's; sample "
                "the tasks with this env's env_kwargs (a fixed layout)"
            )

    def _make_layouts(self, options: dict) -> tuple[np.ndarray, np.ndarray]:
        if "maze" in options:
            self._check_task_maze(options["maze"])
        if self.random_layout:
            rows, cols = self.geometry.rows, self.geometry.cols
            self.layouts = [
                MazeLayout.random(rows, cols, self.rng, self.extra_doors)
                for _ in range(self.num_envs)
            ]
            walls = np.stack([self.geometry.walls(layout) for layout in self.layouts])
            codes = np.array([[layout.code] for layout in self.layouts], dtype=np.float32)
            return walls, codes
        walls = np.broadcast_to(self._fixed_walls, (self.num_envs, self.size, self.size))
        return walls, np.zeros((self.num_envs, 0), dtype=np.float32)

    def _start_positions(self, options: dict) -> np.ndarray:
        if "room" not in options:
            return sample_in_mask(self.rng, ~self._walls)
        rooms = np.array(as_list(options["room"], self.num_envs), dtype=np.int64).reshape(-1, 2)
        bad = (rooms < 0).any(1) | (rooms >= [self.geometry.rows, self.geometry.cols]).any(1)
        if bad.any():
            raise ConfigError(f"options['room']: room out of range for envs {np.flatnonzero(bad)}")
        low, high = self.geometry.room_box(rooms[:, 0], rooms[:, 1])
        return sample_in_mask(self.rng, ~self._walls, low, high)

"""The long-horizon maze's goal-reaching task set: start/goal pairs in bands of shortest-path
length (env steps), and the shortest paths themselves (for oracle subgoals).

Shortest paths run on the free pixels of a wall mask [H, W] (True = wall), in the coordinates of
`hjepa.envs.arena`: pixel (row i, column j) has its centre at (x, y) = (j + 0.5, i + 0.5) and a
position (x, y) lies in pixel (floor(y), floor(x)). The graph is the 8-connected grid of free
pixel centres: orthogonal steps cost 1 px, diagonal steps sqrt 2 px and are allowed only when
both orthogonal neighbours are free, so paths never cut a wall corner (as the arena's physics).
Every grid path is one the agent can follow, but a straight run at an angle between the grid's
directions becomes a staircase up to 1 / cos(22.5 deg) - 1 ~ 8 % longer, so the step counts are
an upper-bound-ish estimate of what an optimal agent needs (which also stops 4.5 px early).

Tasks: `BANDS` of shortest-path length in env steps, ceil(geodesic px / max_norm). The bands
longer than the maze's longest shortest path are dropped and the episodes are spread evenly
over the rest. Each task draws its start uniformly over the free pixel centres and its goal
uniformly among the free pixel centres whose shortest path from the start lies in the band and
that are farther than the success radius from it in a straight line (the start is redrawn when
no pixel qualifies). Tasks carry reset options the maze ignores ("band", "shortest_steps") or
checks ("maze", the layout they were drawn in, which also lets plots draw the walls).
"""

from __future__ import annotations

import heapq
import math
from functools import lru_cache

import numpy as np

from hjepa.envs.arena import DEFAULT_SIZE, GOAL_RADIUS
from hjepa.envs.maze import MazeSim, maze_walls
from hjepa.envs.tasks import PlotPlane
from hjepa.errors import ConfigError

# (lower inclusive, upper exclusive or None = open) shortest-path lengths in env steps.
BANDS = ((25, 50), (50, 100), (100, 200), (200, None))
# A start with no goal in its band is redrawn, at most this many times the free pixel count.
START_DRAWS_PER_PIXEL = 20
# Divisions by max_norm that land a hair above an integer still count as that integer.
_STEP_TOLERANCE = 1e-9
_NEIGHBOURS = [(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj]

TASK_PROTOCOL = (
    "start uniform over the maze's free pixels, goal uniform among the free pixels whose "
    "shortest path from the start lies in the band (bands of 25-50, 50-100, 100-200 and 200+ "
    "env steps, episodes spread evenly over the bands the maze has); shortest path = "
    "8-connected pixel-grid geodesic / max_norm, rounded up; success = within 4.5 px of the goal"
)


def band_name(band: tuple[int, int | None]) -> str:
    """A band's name: "25-50" for (25, 50), "200+" for (200, None)."""
    low, high = band
    return f"{low}+" if high is None else f"{low}-{high}"


def geodesic_px(walls: np.ndarray, start) -> np.ndarray:
    """Shortest-path length in px float64 [H, W] from the centre of `start`'s pixel ((x, y)) to
    every free pixel centre; np.inf on walls and pixels it cannot reach."""
    walls = _as_walls(walls)
    return _dijkstra(walls, _pixel(walls, start, "start"))[0].reshape(walls.shape)


def steps_for(distance_px, max_norm: float):
    """Env steps of `max_norm` px covering `distance_px` (array or scalar; inf stays inf)."""
    return np.ceil(np.asarray(distance_px, dtype=np.float64) / max_norm - _STEP_TOLERANCE)


def shortest_steps(walls: np.ndarray, start, goal, max_norm: float) -> int:
    """Env steps of the shortest path from `start` to `goal` ((x, y), pixel centres):
    ceil(geodesic px / max_norm); ConfigError if the goal cannot be reached."""
    walls = _as_walls(walls)
    distance = _dijkstra(walls, _pixel(walls, start, "start"))[0][_pixel(walls, goal, "goal")]
    if not np.isfinite(distance):
        raise ConfigError(f"goal {tuple(goal)} cannot be reached from start {tuple(start)}")
    return int(steps_for(distance, max_norm))


def shortest_path(walls: np.ndarray, start, goal) -> np.ndarray:
    """(x, y) float64 [K, 2]: the pixel centres of a shortest path from `start`'s pixel to
    `goal`'s, both included; ConfigError if the goal cannot be reached."""
    walls = _as_walls(walls)
    source, target = _pixel(walls, start, "start"), _pixel(walls, goal, "goal")
    distance, predecessor = _dijkstra(walls, source)
    if not np.isfinite(distance[target]):
        raise ConfigError(f"goal {tuple(goal)} cannot be reached from start {tuple(start)}")
    flat = [target]
    while flat[-1] != source:
        flat.append(int(predecessor[flat[-1]]))
    return _centres(np.array(flat[::-1]), walls.shape[1])


def waypoints(path: np.ndarray, spacing_px: float) -> np.ndarray:
    """(x, y) float64 [M, 2]: the points every `spacing_px` of arc length along `path`
    ([K, 2], e.g. `shortest_path`), after its start, ending with its last point."""
    if not spacing_px > 0:
        raise ConfigError(f"spacing_px must be > 0, got {spacing_px}")
    path = np.asarray(path, dtype=np.float64).reshape(-1, 2)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    marks = np.arange(spacing_px, arc[-1], spacing_px)
    marks = marks[marks < arc[-1] - _STEP_TOLERANCE]
    points = np.stack([np.interp(marks, arc, path[:, 0]), np.interp(marks, arc, path[:, 1])], 1)
    return np.concatenate([points, path[-1:]])


def longest_path_px(walls: np.ndarray) -> float:
    """Length in px of the maze's longest shortest path, by a double sweep (the pixel farthest
    from the farthest pixel): a lower bound, which on `configs/maze.yaml`'s maze equals the
    maximum over all pairs."""
    return max(float(np.max(d[np.isfinite(d)])) for _, d in _sweep(_as_walls(walls)))


def feasible_bands(walls: np.ndarray, max_norm: float) -> list[tuple[int, int | None]]:
    """The `BANDS` some start/goal pair of the maze lies in (pairs from the double sweep's ends,
    see `longest_path_px`)."""
    walls = _as_walls(walls)
    sweeps = [(source, steps_for(d, max_norm)) for source, d in _sweep(walls)]
    return [
        band
        for band in BANDS
        if any(_goal_pixels(walls, source, steps, band).size for source, steps in sweeps)
    ]


def sample_tasks(episodes: int, seed: int, env_kwargs: dict) -> list[dict]:
    """`episodes` reset options {"start", "goal", "band", "shortest_steps", "maze"} in the fixed
    maze of `env_kwargs`, band by band (module doc); the same seed gives the same tasks."""
    sim = MazeSim(num_envs=1, **env_kwargs)
    if sim.random_layout:
        raise ConfigError(
            "the maze task set needs a fixed layout (its start/goal pairs and path lengths "
            "belong to one maze): drop random_layout=True and pick the maze with layout_seed "
            "or text_map"
        )
    walls = sim.geometry.walls(sim.fixed_layout)
    bands = feasible_bands(walls, sim.max_norm)
    if not bands:
        longest = int(steps_for(longest_path_px(walls), sim.max_norm))
        raise ConfigError(
            f"the maze's longest shortest path is {longest} env steps, shorter than the "
            f"shortest band ({BANDS[0][0]} steps): use more rooms or a smaller max_norm"
        )
    rng = np.random.default_rng(seed)
    spec = sim.maze_spec()
    tasks = []
    for i, band in enumerate(bands):
        count = episodes // len(bands) + (i < episodes % len(bands))
        sampler = _BandSampler(walls, band, sim.max_norm)
        tasks += [{**sampler.draw(rng), "maze": spec} for _ in range(count)]
    return tasks


def task_plane(size: int = DEFAULT_SIZE) -> PlotPlane:
    """The maze in pixels (y down), each episode drawn over the walls of the maze its task
    was drawn in (the task's "maze")."""
    return PlotPlane(
        xlim=(0, size),
        ylim=(size, 0),
        xlabel="x (px)",
        ylabel="y (px)",
        background=lambda task: maze_walls(task["maze"]),
    )


class _BandSampler:
    """Draws tasks of one band; remembers the start pixels that have no goal in it."""

    def __init__(self, walls: np.ndarray, band: tuple[int, int | None], max_norm: float):
        self.walls, self.band, self.max_norm = walls, band, max_norm
        self.free = np.flatnonzero(~walls.ravel())
        self.dead_starts: set[int] = set()

    def draw(self, rng: np.random.Generator) -> dict:
        width = self.walls.shape[1]
        for _ in range(START_DRAWS_PER_PIXEL * len(self.free)):
            source = int(self.free[rng.integers(len(self.free))])
            if source in self.dead_starts:
                continue
            steps = steps_for(_dijkstra(self.walls, source)[0], self.max_norm)
            goals = _goal_pixels(self.walls, source, steps, self.band)
            if goals.size == 0:
                self.dead_starts.add(source)
                continue
            goal = int(goals[rng.integers(len(goals))])
            start_xy, goal_xy = _centres(np.array([source, goal]), width)
            return {
                "start": tuple(float(v) for v in start_xy),
                "goal": tuple(float(v) for v in goal_xy),
                "band": band_name(self.band),
                "shortest_steps": int(steps[goal]),
            }
        raise ConfigError(f"no start with a goal in band {band_name(self.band)} found")


def _goal_pixels(walls: np.ndarray, source: int, steps: np.ndarray, band) -> np.ndarray:
    """Flat indices of the goals for `source` in `band`: shortest path `steps` [H * W] inside
    it and farther than the success radius from the source in a straight line."""
    low, high = band
    in_band = (steps >= low) & (steps < (np.inf if high is None else high))
    centres = _centres(np.arange(walls.size), walls.shape[1])
    apart = np.hypot(*(centres - centres[source]).T) > GOAL_RADIUS
    return np.flatnonzero(in_band & apart)


def _sweep(walls: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(source, distances [H * W]) from the pixel farthest from the first free pixel, then from
    the pixel farthest from that one."""
    out, source = [], int(np.flatnonzero(~walls.ravel())[0])
    for _ in range(2):
        distance = _dijkstra(walls, source)[0]
        source = int(np.argmax(np.where(np.isfinite(distance), distance, -1.0)))
        out.append((source, _dijkstra(walls, source)[0]))
    return out


def _as_walls(walls) -> np.ndarray:
    walls = np.asarray(walls, dtype=bool)
    if walls.ndim != 2 or walls.all():
        raise ConfigError(
            f"walls: expected a bool [H, W] mask with a free pixel, got shape {walls.shape}"
        )
    return walls


def _pixel(walls: np.ndarray, point, name: str) -> int:
    """Flat index of the free pixel holding `point` (x, y); ConfigError if wall or outside."""
    x, y = (float(v) for v in np.asarray(point, dtype=np.float64).reshape(2))
    row, col = math.floor(y), math.floor(x)
    height, width = walls.shape
    if not (0 <= row < height and 0 <= col < width) or walls[row, col]:
        raise ConfigError(f"{name} ({x}, {y}) is in a wall or outside the {width} x {height} image")
    return row * width + col


def _centres(flat: np.ndarray, width: int) -> np.ndarray:
    """(x, y) float64 [N, 2] of the centres of flat pixel indices [N]."""
    return np.stack([flat % width + 0.5, flat // width + 0.5], axis=1).astype(np.float64)


def _dijkstra(walls: np.ndarray, source: int) -> tuple[np.ndarray, np.ndarray]:
    """(distance px float64 [H * W], predecessor int64 [H * W], -1 where none) from the flat
    pixel `source` over the free-pixel graph."""
    neighbours = _graph(walls.shape, walls.tobytes())
    distance = [math.inf] * walls.size
    predecessor = [-1] * walls.size
    distance[source] = 0.0
    heap, push, pop = [(0.0, source)], heapq.heappush, heapq.heappop
    while heap:
        d, node = pop(heap)
        if d > distance[node]:
            continue
        for other, cost in neighbours[node]:
            reached = d + cost
            if reached < distance[other]:
                distance[other] = reached
                predecessor[other] = node
                push(heap, (reached, other))
    return np.array(distance), np.array(predecessor, dtype=np.int64)


@lru_cache(maxsize=8)
def _graph(shape: tuple[int, int], wall_bytes: bytes) -> tuple[tuple[tuple[int, float], ...]]:
    """(neighbour, cost px) pairs of every flat pixel index (none for walls), cached per mask."""
    height, width = shape
    free = np.pad(~np.frombuffer(wall_bytes, dtype=bool).reshape(shape), 1)  # outside = wall
    rows, cols = np.nonzero(free[1:-1, 1:-1])
    neighbours: list[list[tuple[int, float]]] = [[] for _ in range(height * width)]
    for di, dj in _NEIGHBOURS:
        ok = free[rows + 1 + di, cols + 1 + dj]
        if di and dj:  # a diagonal step needs both orthogonal neighbours free
            ok &= free[rows + 1 + di, cols + 1] & free[rows + 1, cols + 1 + dj]
        cost = math.hypot(di, dj)
        sources = (rows[ok] * width + cols[ok]).tolist()
        targets = ((rows[ok] + di) * width + cols[ok] + dj).tolist()
        for source, target in zip(sources, targets, strict=True):
            neighbours[source].append((target, cost))
    return tuple(tuple(pairs) for pairs in neighbours)

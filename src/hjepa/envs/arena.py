"""Vectorized point-agent arena: N independent environments stepped together in numpy.

A point agent moves inside a square image of `size` x `size` pixels whose walls are a boolean
occupancy grid per environment, `walls[n, row, col]` (True = wall). Subclasses (`TwoRoomsSim`,
`MazeSim`) define the layouts and the start positions; this module does the physics, the
rendering and the checks.

Coordinates (the one convention used throughout `hjepa.envs`): a position is a continuous pair
(x, y) in pixel units, x along the columns (growing to the right) and y along the rows (growing
downwards). The origin (0, 0) is the top-left corner of the image, so pixel (row i, column j)
covers x in [j, j + 1) and y in [i, i + 1), its centre is (j + 0.5, i + 0.5), and the agent is
"in" pixel (floor(y), floor(x)). Everything outside the image counts as wall.

Actions are displacements (dx, dy) in pixels. Each component must lie in [-max_norm, max_norm]
(else `ActionError`); a displacement whose Euclidean norm exceeds `max_norm` is projected onto the
norm ball (scaled down to norm `max_norm`, direction kept). The move is resolved in sub-steps of
at most 0.5 px per axis, moving x then y in each sub-step; an axis move that would enter a wall
pixel stops at that pixel's edge, while the other axis keeps moving, so the agent slides along
walls. Because a sub-step changes the pixel index by at most one along one axis, the agent can
neither enter a wall pixel nor cross a wall (walls are at least one pixel thick), nor cut a corner
diagonally.

Observations are uint8 [N, 2, size, size]: channel 0 is the agent drawn as a Gaussian dot
(sigma 1.3 px, peak 255, the outer product of two 1-D Gaussians evaluated at the pixel centres),
channel 1 the walls (255 where wall). True states for probing are float32 [N, S] with columns
`state_names`: ("x", "y", *layout parameters of the subclass).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

from hjepa.errors import ActionError, ConfigError, HjepaError

DEFAULT_SIZE = 64
DEFAULT_MAX_NORM = 2.45
DOT_SIGMA = 1.3
# Success radius (px) of the goal-reaching envs over these arenas (hjepa.envs.gym_env).
GOAL_RADIUS = 4.5
# The dot is drawn out to this many sigmas; beyond, 255 * exp(-r^2 / 2) < 0.5 rounds to 0.
DOT_RADIUS_SIGMAS = 4.25
SUBSTEP_PX = 0.5
WALL_GREY = 128
# An agent blocked while moving right/down stops this far before the blocking pixel's edge.
_EDGE_EPS = 1e-3
# Component bound check tolerance, so float32 copies of +-max_norm are accepted.
_BOUND_RTOL = 1e-6


def check_actions(actions, num_envs: int, max_norm: float) -> np.ndarray:
    """Return `actions` as float64 [num_envs, 2]; raise ActionError naming what is wrong."""
    a = np.asarray(actions)
    if a.shape != (num_envs, 2):
        raise ActionError(f"actions: expected shape ({num_envs}, 2), got {a.shape}")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise ActionError(f"actions: expected a numeric array, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        bad = np.flatnonzero(~np.isfinite(a).all(axis=1)).tolist()
        raise ActionError(f"actions: contain NaN or Inf (envs {bad[:8]})")
    worst = float(np.abs(a).max()) if a.size else 0.0
    if worst > max_norm * (1 + _BOUND_RTOL):
        raise ActionError(
            f"actions: component {worst:.4g} outside [-{max_norm}, {max_norm}] (max_norm)"
        )
    return a


def project_to_ball(displacements: np.ndarray, max_norm: float) -> np.ndarray:
    """Scale rows of [N, 2] `displacements` with norm > `max_norm` down to norm `max_norm`."""
    norms = np.linalg.norm(displacements, axis=1, keepdims=True)
    scale = np.minimum(1.0, max_norm / np.maximum(norms, 1e-12))
    return displacements * scale


def is_wall(walls: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bool [N]: whether pixel (rows[n], cols[n]) of env n is a wall (outside the image is)."""
    num_envs, height, width = walls.shape
    outside = (rows < 0) | (rows >= height) | (cols < 0) | (cols >= width)
    r = np.clip(rows, 0, height - 1)
    c = np.clip(cols, 0, width - 1)
    return outside | walls[np.arange(num_envs), r, c]


def sample_in_mask(
    rng: np.random.Generator,
    allowed: np.ndarray,
    low: np.ndarray | None = None,
    high: np.ndarray | None = None,
    max_tries: int = 10_000,
) -> np.ndarray:
    """Positions float64 [N, 2] drawn uniformly from the allowed area of each env.

    `allowed` is bool [N, H, W] (True where a position may lie, e.g. `~walls`); `low`/`high`
    ([N, 2] or [2], (x, y) in pixels) optionally restrict the draw to a box, so the result is
    uniform over allowed pixels inside the box. Rejection sampling, vectorized over envs; raises
    ConfigError if some env has no allowed pixel in its box.
    """
    num_envs, height, width = allowed.shape
    low = np.broadcast_to(np.zeros(2) if low is None else np.asarray(low, float), (num_envs, 2))
    high_default = np.array([width, height], float)
    high = np.broadcast_to(high_default if high is None else np.asarray(high, float), (num_envs, 2))
    pos = np.zeros((num_envs, 2))
    pending = np.arange(num_envs)
    for _ in range(max_tries):
        span = high[pending] - low[pending]
        draw = low[pending] + rng.random((len(pending), 2)) * span
        ok = ~is_wall(~allowed[pending], *_cells(draw))
        pos[pending[ok]] = draw[ok]
        pending = pending[~ok]
        if len(pending) == 0:
            return pos
    raise ConfigError(f"no free position found for envs {pending[:8].tolist()} (empty region?)")


def _cells(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) int64 of the pixels holding positions [N, 2] (x, y)."""
    return np.floor(pos[:, 1]).astype(np.int64), np.floor(pos[:, 0]).astype(np.int64)


class ArenaSim:
    """N point-agent arenas stepped together; subclasses define layouts and start positions.

    API used by collectors: `reset(seed, options) -> (obs, states)`, `step(actions) -> (obs,
    states)`, `num_envs`, `size`, `action_dim`, `max_norm`, `observation_shape`, and the facts of
    the goal-env protocol (`hjepa.envs.goal`): `state_names`, `position_names` (x, y),
    `layout_names` (the subclass's layout columns), `units` (pixels).
    `rng` is the numpy Generator every random draw uses (reseeded by `reset(seed=...)`).

    Options understood by `reset` (subclasses add more, see `option_keys`):
    `{"start": (x, y)}` or an [N, 2] array places the agents there (must be free pixels).
    """

    action_dim = 2
    position_names = ("x", "y")
    layout_names: tuple[str, ...] = ()
    units = "px"
    option_keys: tuple[str, ...] = ("start",)

    def __init__(
        self,
        num_envs: int,
        size: int = DEFAULT_SIZE,
        max_norm: float = DEFAULT_MAX_NORM,
        sigma: float = DOT_SIGMA,
        seed: int | None = None,
    ):
        self.num_envs = as_number("num_envs", num_envs, int)
        self.size = as_number("size", size, int)
        self.max_norm, self.sigma = as_number("max_norm", max_norm), as_number("sigma", sigma)
        if self.num_envs < 1:
            raise ConfigError(f"num_envs must be >= 1, got {num_envs}")
        if self.size < 8:
            raise ConfigError(f"size must be >= 8 pixels, got {size}")
        if not self.max_norm > 0 or not self.sigma > 0:
            raise ConfigError(f"max_norm and sigma must be > 0, got {max_norm}, {sigma}")
        self.rng = np.random.default_rng(seed)
        # Side of the square window the dot is drawn in: DOT_RADIUS_SIGMAS sigmas each side.
        self._window = min(self.size, 2 * int(np.ceil(DOT_RADIUS_SIGMAS * self.sigma)) + 2)
        self._pos: np.ndarray | None = None
        self._walls = np.zeros((self.num_envs, self.size, self.size), dtype=bool)
        self._wall_u8 = np.zeros_like(self._walls, dtype=np.uint8)
        self._layout = np.zeros((self.num_envs, len(self.layout_names)), dtype=np.float32)

    # ----- public properties -------------------------------------------------------------
    @property
    def observation_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one observation: (2, size, size)."""
        return (2, self.size, self.size)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of the columns of `states`: ("x", "y", *layout_names)."""
        return ("x", "y", *self.layout_names)

    @property
    def positions(self) -> np.ndarray:
        """Agent positions float64 [N, 2] as (x, y) in pixels (a copy)."""
        self._require_reset()
        return self._pos.copy()

    @property
    def walls(self) -> np.ndarray:
        """Wall occupancy bool [N, size, size] of the current episode (read-only view)."""
        view = self._walls.view()
        view.flags.writeable = False
        return view

    # ----- episode API -------------------------------------------------------------------
    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Start a new episode in every env; returns (obs uint8 [N,2,H,W], states float32 [N,S])."""
        options = dict(options or {})
        self._check_options(options)
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        walls, layout = self._make_layouts(options)
        self._set_layouts(walls, layout)
        if "start" in options:
            self._pos = self._explicit_start(options["start"])
        else:
            self._pos = self._start_positions(options)
        return self._observe(), self.states()

    def step(self, actions) -> tuple[np.ndarray, np.ndarray]:
        """Move every agent by its action [N, 2] (dx, dy); returns (obs, states)."""
        self._require_reset()
        delta = project_to_ball(check_actions(actions, self.num_envs, self.max_norm), self.max_norm)
        self._move(delta)
        return self._observe(), self.states()

    def states(self) -> np.ndarray:
        """True states float32 [N, S]: agent x, y, then the layout parameters."""
        self._require_reset()
        return np.concatenate([self._pos.astype(np.float32), self._layout], axis=1)

    def observe_at(self, positions, name: str = "positions") -> np.ndarray:
        """Observations uint8 [N, 2, H, W] with the agents drawn at `positions` [N, 2] (or one
        (x, y) for all) in the current layouts, e.g. a goal image; the agents do not move.
        Errors name the positions as `name`."""
        self._require_reset()
        here = self._pos
        try:
            self._pos = self._explicit_start(positions, name)
            return self._observe()
        finally:
            self._pos = here

    def render_rgb(self) -> np.ndarray:
        """Human view uint8 [N, size, size, 3]: black floor, grey walls, red agent."""
        self._require_reset()
        agent = self._render_agent().astype(np.float32) / 255.0
        grey = self._walls.astype(np.float32) * WALL_GREY
        rgb = np.empty((self.num_envs, self.size, self.size, 3), dtype=np.uint8)
        rgb[..., 0] = np.maximum(grey, agent * 255.0).astype(np.uint8)
        rgb[..., 1] = rgb[..., 2] = (grey * (1.0 - agent)).astype(np.uint8)
        return rgb

    # ----- hooks for subclasses ----------------------------------------------------------
    def shared_layout(self) -> dict | None:
        """Reset options that give every env one layout drawn as a reset would draw it, or None
        where the simulator cannot pin a layout (the base arena's box never changes)."""
        return None

    def _make_layouts(self, options: dict) -> tuple[np.ndarray, np.ndarray]:
        """(walls bool [N, size, size], layout parameters float [N, len(layout_names)]).

        The base arena is an empty box whose only walls are the image border (one pixel).
        """
        walls = np.zeros((self.num_envs, self.size, self.size), dtype=bool)
        walls[:, [0, -1], :] = True
        walls[:, :, [0, -1]] = True
        return walls, np.zeros((self.num_envs, 0), dtype=np.float32)

    def _start_positions(self, options: dict) -> np.ndarray:
        """Start positions float64 [N, 2]; default: uniform over the free pixels."""
        return sample_in_mask(self.rng, ~self._walls)

    # ----- internals ---------------------------------------------------------------------
    def _check_options(self, options: dict) -> None:
        unknown = sorted(set(options) - set(self.option_keys))
        if unknown:
            raise ConfigError(f"unknown reset options {unknown}; known: {list(self.option_keys)}")

    def _require_reset(self) -> None:
        if self._pos is None:
            raise HjepaError(f"{type(self).__name__}: call reset() before step() or rendering")

    def _set_layouts(self, walls: np.ndarray, layout: np.ndarray) -> None:
        expected = (self.num_envs, self.size, self.size)
        if walls.shape != expected:
            raise ConfigError(f"layout walls: expected shape {expected}, got {walls.shape}")
        self._walls = np.ascontiguousarray(walls, dtype=bool)
        self._wall_u8 = self._walls.astype(np.uint8) * np.uint8(255)
        self._layout = np.asarray(layout, dtype=np.float32).reshape(self.num_envs, -1)

    def _explicit_start(self, start, name: str = "options['start']") -> np.ndarray:
        pos = np.broadcast_to(np.asarray(start, dtype=np.float64), (self.num_envs, 2)).copy()
        if not np.isfinite(pos).all():
            raise ConfigError(f"{name}: contains NaN or Inf")
        blocked = is_wall(self._walls, *_cells(pos))
        if blocked.any():
            bad = np.flatnonzero(blocked)[:8].tolist()
            raise ConfigError(f"{name}: position in a wall or outside (envs {bad})")
        return pos

    def _move(self, delta: np.ndarray) -> None:
        """Advance positions by `delta` [N, 2] with sub-stepped, axis-separated collisions."""
        biggest = float(np.abs(delta).max()) if delta.size else 0.0
        substeps = max(1, int(np.ceil(biggest / SUBSTEP_PX)))
        step = delta / substeps
        moving = [axis for axis in (0, 1) if np.any(step[:, axis] != 0)]
        for _ in range(substeps):
            for axis in moving:
                self._move_axis(axis, step[:, axis])

    def _move_axis(self, axis: int, d: np.ndarray) -> None:
        """Move along one axis (0 = x, 1 = y) by at most half a pixel, stopping at walls."""
        old = self._pos[:, axis]
        new = old + d
        target = np.floor(new).astype(np.int64)
        other = np.floor(self._pos[:, 1 - axis]).astype(np.int64)
        rows, cols = (other, target) if axis == 0 else (target, other)
        blocked = is_wall(self._walls, rows, cols)
        if blocked.any():
            # Moving forwards: stop just before the blocking pixel; backwards: at its far edge.
            stop = np.where(d > 0, np.maximum(old, target - _EDGE_EPS), target + 1.0)
            new = np.where(blocked, stop, new)
        self._pos[:, axis] = new

    def _render_agent(self, out: np.ndarray | None = None) -> np.ndarray:
        """Agent channel uint8 [N, size, size]: Gaussian dot, outer product of 1-D profiles.

        Only a square window of `_window` pixels around the agent is computed: every pixel
        outside it is more than DOT_RADIUS_SIGMAS sigmas from the dot, where it rounds to 0.
        """
        n, size, win = self.num_envs, self.size, self._window
        out = np.zeros((n, size, size), np.uint8) if out is None else out
        cells = np.floor(self._pos).astype(np.int64)
        start = np.clip(cells - win // 2 + 1, 0, size - win)  # [N, 2] (x0, y0)
        offsets = np.arange(win)
        centres = (start[:, :, None] + offsets).astype(np.float32) + np.float32(0.5)
        d2 = (centres - self._pos.astype(np.float32)[:, :, None]) ** 2  # [N, 2, win]
        prof = np.exp(np.float32(-0.5 / self.sigma**2) * d2)
        patch = prof[:, 1, :, None] * (prof[:, 0, None, :] * np.float32(255.0))
        patch += np.float32(0.5)  # round to nearest on the cast below
        rows = (start[:, 1, None] + offsets)[:, :, None]
        cols = (start[:, 0, None] + offsets)[:, None, :]
        out[np.arange(n)[:, None, None], rows, cols] = patch.astype(np.uint8)
        return out

    def _observe(self) -> np.ndarray:
        """Fresh observation uint8 [N, 2, size, size] (agent channel, static wall channel)."""
        obs = np.empty((self.num_envs, 2, self.size, self.size), dtype=np.uint8)
        obs[:, 0] = 0
        self._render_agent(obs[:, 0])
        obs[:, 1] = self._wall_u8
        return obs


def as_number(name: str, value, kind: type = float):
    """`value` as an int or float (`kind`); ConfigError naming `name` for anything else (a
    string, a bool, NaN or Inf, a fraction where an int is due), e.g. from --env-kwargs JSON."""
    good = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    if not good or not np.isfinite(value) or (kind is int and value != int(value)):
        raise ConfigError(f"{name}: expected {kind.__name__}, got {value!r}")
    return kind(value)


def as_flag(name: str, value) -> bool:
    """`value` as a bool; ConfigError naming `name` for anything else (e.g. the string "no")."""
    if not isinstance(value, bool | np.bool_):
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    return bool(value)


def as_env_array(value, num_envs: int, name: str, dtype=np.float64) -> np.ndarray:
    """Broadcast a scalar or length-N sequence option to an array [N]; ConfigError otherwise."""
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(num_envs, arr, dtype=dtype)
    if arr.shape != (num_envs,):
        raise ConfigError(f"{name}: expected a scalar or {num_envs} values, got shape {arr.shape}")
    return arr


def as_list(value, num_envs: int) -> list:
    """A scalar (str, tuple) repeated N times, or a length-N iterable as a list."""
    if isinstance(value, str | tuple) or not isinstance(value, Iterable):
        return [value] * num_envs
    items = list(value)
    if len(items) != num_envs:
        raise ConfigError(f"expected one value or {num_envs} values, got {len(items)}")
    return items

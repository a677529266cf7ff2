"""TwoRooms: the PLDM / EB-JEPA navigation task, two rooms joined by one door.

Geometry at the reference size of 64 px (coordinates as in `hjepa.envs.arena`: x = column,
y = row, origin at the image's top-left corner):

- a border wall `BORDER_PX` = 5 px thick on all four sides;
- one vertical wall `WALL_WIDTH_PX` = 3 px wide covering columns
  [wall_x - 1, wall_x + 2), so its centre line is x = wall_x + 0.5 (default wall_x = size // 2);
- one door through it, `2 * DOOR_HALF_PX` = 8 px tall, covering rows
  [door_y - 4, door_y + 4) (default door_y = size // 2);
- with `random_wall=True` every reset draws, per env, an integer wall_x uniformly in
  [pad, size - pad] with pad = `WALL_PADDING_PX` = 20 px and door_y in [pad, size - pad] with
  pad = `DOOR_PADDING_PX` = 10 px; both paddings scale with size / 64, the other sizes do not.

States are (x, y, wall_x, door_y). The agent is a Gaussian dot (sigma 1.3 px) and actions are
displacements of norm <= 2.45 px, as in `ArenaSim`. Left room = 0 (x < wall_x + 0.5), right
room = 1.
"""

from __future__ import annotations

import numpy as np

from hjepa.envs.arena import (
    DEFAULT_SIZE,
    ArenaSim,
    as_env_array,
    as_flag,
    as_list,
    as_number,
    sample_in_mask,
)
from hjepa.envs.tasks import PlotPlane
from hjepa.errors import ConfigError

REFERENCE_SIZE = 64
BORDER_PX = 5
WALL_WIDTH_PX = 3
DOOR_HALF_PX = 4
WALL_PADDING_PX = 20
DOOR_PADDING_PX = 10
ROOMS = {"left": 0, "right": 1, 0: 0, 1: 1}


def wall_columns(wall_x) -> tuple[np.ndarray, np.ndarray]:
    """(first, end) columns of the central wall, end exclusive, for wall centre columns."""
    first = np.asarray(wall_x, dtype=np.int64) - WALL_WIDTH_PX // 2
    return first, first + WALL_WIDTH_PX


def door_rows(door_y) -> tuple[np.ndarray, np.ndarray]:
    """(first, end) rows of the door, end exclusive, for door centres `door_y`."""
    centre = np.asarray(door_y, dtype=np.int64)
    return centre - DOOR_HALF_PX, centre + DOOR_HALF_PX


def paddings(size: int) -> tuple[int, int]:
    """(wall padding, door padding) in pixels for an image of `size` px."""
    scale = size / REFERENCE_SIZE
    return round(WALL_PADDING_PX * scale), round(DOOR_PADDING_PX * scale)


def check_geometry(size: int, wall_x: np.ndarray, door_y: np.ndarray) -> None:
    """Raise ConfigError unless both rooms are non-empty and the door lies inside the border."""
    first, end = wall_columns(wall_x)
    if (first <= BORDER_PX).any() or (end >= size - BORDER_PX).any():
        raise ConfigError(f"wall_x must leave both rooms non-empty in a {size} px arena")
    top, bottom = door_rows(door_y)
    if (top < BORDER_PX).any() or (bottom > size - BORDER_PX).any():
        raise ConfigError(f"door_y must keep the door inside the border of a {size} px arena")


def two_rooms_walls(size: int, wall_x, door_y) -> np.ndarray:
    """Wall occupancy bool [N, size, size] for per-env wall centre columns and door centres."""
    wall_x = np.atleast_1d(np.asarray(wall_x, dtype=np.int64))
    door_y = np.atleast_1d(np.asarray(door_y, dtype=np.int64))
    idx = np.arange(size)
    inner = (idx >= BORDER_PX) & (idx < size - BORDER_PX)
    border = ~(inner[:, None] & inner[None, :])
    first, end = wall_columns(wall_x)
    top, bottom = door_rows(door_y)
    in_wall = (idx[None, :] >= first[:, None]) & (idx[None, :] < end[:, None])  # [N, W]
    in_door = (idx[None, :] >= top[:, None]) & (idx[None, :] < bottom[:, None])  # [N, H]
    central = in_wall[:, None, :] & ~in_door[:, :, None]
    return border[None] | central


def room_of(states, wall_x=None):
    """Room 0 (left) / 1 (right) of states [..., S] whose columns are (x, y, wall_x, ...).

    Works on numpy arrays and torch tensors; `wall_x` overrides the state's wall column.
    """
    x = states[..., 0]
    wall = states[..., 2] if wall_x is None else wall_x
    right = x >= wall + 0.5
    return right.astype(np.int64) if isinstance(right, np.ndarray) else right.long()


def room_boxes(size: int, wall_x, rooms: list) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) [N, 2] sampling boxes in (x, y) covering the requested room of each env."""
    first, end = wall_columns(np.atleast_1d(wall_x))
    low = np.zeros((len(rooms), 2))
    high = np.full((len(rooms), 2), float(size))
    for i, room in enumerate(rooms):
        if room is None:
            continue
        if room not in ROOMS:
            raise ConfigError(f"room must be 'left', 'right', 0 or 1, got {room!r}")
        if ROOMS[room] == 0:
            high[i, 0] = first[i]
        else:
            low[i, 0] = end[i]
    return low, high


def sample_free_position(
    rng: np.random.Generator, wall_x, door_y, size: int = DEFAULT_SIZE, room=None
) -> np.ndarray:
    """Positions float64 [N, 2] uniform over free pixels, optionally in a given room.

    `wall_x`, `door_y`: [N] layout (e.g. `states[:, 2]`, `states[:, 3]`); `room`: None (anywhere
    free, the door included), "left"/"right"/0/1, or one such value per env.
    """
    wall_x = np.atleast_1d(np.asarray(wall_x)).astype(np.int64)
    door_y = np.atleast_1d(np.asarray(door_y)).astype(np.int64)
    walls = two_rooms_walls(size, wall_x, door_y)
    low, high = room_boxes(size, wall_x, as_list(room, len(wall_x)))
    return sample_in_mask(rng, ~walls, low, high)


class TwoRoomsSim(ArenaSim):
    """N TwoRooms arenas; a fixed centre wall unless `random_wall=True` (drawn per reset).

    Reset options: `room` ("left"/"right"/0/1, or one per env) picks the start room; `start`
    ((x, y) or [N, 2]) places the agents; `wall_x` / `door_y` (scalar or [N]) set the layout of
    this episode, overriding both the fixed layout and the random draw.
    """

    layout_names = ("wall_x", "door_y")
    option_keys = ("start", "room", "wall_x", "door_y")

    def __init__(
        self,
        num_envs: int,
        size: int = DEFAULT_SIZE,
        random_wall: bool = False,
        wall_x: int | None = None,
        door_y: int | None = None,
        **kwargs,
    ):
        super().__init__(num_envs, size=size, **kwargs)
        self.random_wall = as_flag("random_wall", random_wall)
        self.wall_x = self.size // 2 if wall_x is None else as_number("wall_x", wall_x, int)
        self.door_y = self.size // 2 if door_y is None else as_number("door_y", door_y, int)
        check_geometry(self.size, np.array([self.wall_x]), np.array([self.door_y]))
        self.wall_padding, self.door_padding = paddings(self.size)

    def draw_layout(self) -> tuple[np.ndarray, np.ndarray]:
        """(wall_x, door_y) int [N] for this episode: fixed, or drawn within the paddings."""
        n, size = self.num_envs, self.size
        if not self.random_wall:
            return np.full(n, self.wall_x), np.full(n, self.door_y)
        wall_x = self.rng.integers(self.wall_padding, size - self.wall_padding, n, endpoint=True)
        door_y = self.rng.integers(self.door_padding, size - self.door_padding, n, endpoint=True)
        return wall_x, door_y

    def _make_layouts(self, options: dict) -> tuple[np.ndarray, np.ndarray]:
        wall_x, door_y = self.draw_layout()
        if "wall_x" in options:
            wall_x = as_env_array(options["wall_x"], self.num_envs, "wall_x", np.int64)
        if "door_y" in options:
            door_y = as_env_array(options["door_y"], self.num_envs, "door_y", np.int64)
        check_geometry(self.size, wall_x, door_y)
        layout = np.stack([wall_x, door_y], axis=1).astype(np.float32)
        return two_rooms_walls(self.size, wall_x, door_y), layout

    def _start_positions(self, options: dict) -> np.ndarray:
        rooms = as_list(options.get("room"), self.num_envs)
        low, high = room_boxes(self.size, self._layout[:, 0], rooms)
        return sample_in_mask(self.rng, ~self._walls, low, high)

    def shared_layout(self) -> dict:
        wall_x, door_y = self.draw_layout()
        return {"wall_x": int(wall_x[0]), "door_y": int(door_y[0])}

    def room_of_agents(self) -> np.ndarray:
        """Room int64 [N] (0 = left, 1 = right) of each agent now."""
        return room_of(self.states())


# -- the goal-reaching task set (registered for both Two-Rooms ids in hjepa.envs)

TASK_PROTOCOL = (
    "start and goal uniform over the free pixels of different rooms (layout drawn as the env "
    "draws it); success = within 4.5 px of the goal"
)


def sample_tasks(episodes: int, seed: int, env_kwargs: dict) -> list[dict]:
    """`episodes` reset options {"wall_x", "door_y", "start", "goal"} (PLDM / EB-JEPA protocol):
    the layout drawn as the env would draw it, the start room left or right with equal odds,
    the start uniform over the free pixels of that room and the goal over the other room's."""
    sim = TwoRoomsSim(num_envs=1, **env_kwargs)
    rng = np.random.default_rng(seed)
    sim.rng = rng
    tasks = []
    for _ in range(episodes):
        wall_x, door_y = sim.draw_layout()
        room = int(rng.integers(2))
        start = sample_free_position(rng, wall_x, door_y, sim.size, room)[0]
        goal = sample_free_position(rng, wall_x, door_y, sim.size, 1 - room)[0]
        tasks.append(
            {
                "wall_x": int(wall_x[0]),
                "door_y": int(door_y[0]),
                "start": tuple(float(v) for v in start),
                "goal": tuple(float(v) for v in goal),
            }
        )
    return tasks


def task_plane(size: int = DEFAULT_SIZE) -> PlotPlane:
    """The arena in pixels (y down), each episode drawn over its own walls."""

    def walls(task: dict) -> np.ndarray:
        return two_rooms_walls(size, task["wall_x"], task["door_y"])[0]

    return PlotPlane(
        xlim=(0, size), ylim=(size, 0), xlabel="x (px)", ylabel="y (px)", background=walls
    )

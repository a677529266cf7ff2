"""Push-T as a goal-reaching pixel env: `hjepa/PushT-v0` (needs the extra `hjepa[pusht]`).

The simulator is `gym-pusht`'s `PushTEnv` (pymunk physics in a 512 x 512 workspace walled at
5 and 506; a round pusher of radius 15 that a PD controller drives towards the commanded
point for 0.1 s per action; a T-shaped block it pushes). hjepa sees it through the pixel
adapter (`GoalPixels`): observations are uint8 [3 * frame_stack, size, size] RGB frames (default
2 frames of 96 x 96, oldest first, so the pusher's velocity is visible); actions are the
pusher's target point normalized to [-1, 1]^2 (x, y over the 0-512 workspace: a = p / 256 - 1).
The simulator's fixed light-green target T is drawn in every frame (background) but plays no
part: its own success test never ends an episode, the task's goal does.

States (`GOAL_NAMES`, what starts and goals are): pusher x, y (px), block x, y (px, the
block's body origin: the middle of the top edge of the T's bar), block angle (rad, wrapped to
[-pi, pi)), pusher velocity x, y (px/s). The block stops when nothing pushes it, so its own
velocity is not part of the state (set to 0).

Success (DINO-WM's evaluation, which the Push-T planning papers share): the Euclidean norm of
the pusher's and the block's position errors together (4 numbers) under `POSITION_TOLERANCE`
px and the wrapped block-angle error under `ANGLE_TOLERANCE` rad (20 degrees). `distance` is
that 4-number position error in px. `info["state"]` (probed columns `STATE_NAMES`): pusher
and block positions, the block angle as (cos, sin), the pusher velocity; trajectory plots draw
the block (`agent_pos` = block x, y, image coordinates: y grows downwards).
"""

from __future__ import annotations

import gymnasium
import numpy as np

from hjepa.envs.goal_pixels import GoalPixels, GoalSpec
from hjepa.errors import ConfigError

PUSHT_ID = "hjepa/PushT-v0"
EXTRA_HINT = "Push-T needs the optional extra: pip install 'hjepa[pusht]' (gym-pusht)"
WORKSPACE = 512.0  # px: actions and positions live in [0, 512]
INSIDE = (20.0, 492.0)  # where a start or goal may put the pusher and the block's origin
POSITION_TOLERANCE = 20.0  # px, pusher and block positions together
ANGLE_TOLERANCE = np.pi / 9  # rad
MAX_SPEED = 2000.0  # px/s, a pusher velocity no PD step reaches
GOAL_NAMES = ("agent_x", "agent_y", "block_x", "block_y", "block_angle", "agent_vx", "agent_vy")
STATE_NAMES = ("agent_x", "agent_y", "block_x", "block_y", "block_cos", "block_sin")
STATE_NAMES += ("agent_vx", "agent_vy")
# The T in the block's body frame (px): the outline, corner by corner.
T_OUTLINE = np.array(
    [(-60, 0), (60, 0), (60, 30), (15, 30), (15, 120), (-15, 120), (-15, 30), (-60, 30)],
    dtype=np.float64,
)
BLOCK_CENTRE = np.array([0.0, 45.0])  # the T's centre of mass in its body frame
PUSHER_RADIUS = 15.0  # px
GOAL_COLOUR = (220, 30, 30)  # episode GIFs draw the goal in red


def simulator_class():
    """gym-pusht's `PushTEnv`; ConfigError naming the extra when it is not installed."""
    try:
        from gym_pusht.envs.pusht import PushTEnv
    except ImportError as exc:
        raise ConfigError(f"{EXTRA_HINT} ({exc})") from None
    return PushTEnv


def to_workspace(action) -> np.ndarray:
    """A normalized action in [-1, 1]^2 -> the pusher's target point (px) gym-pusht steps with."""
    return (np.asarray(action, dtype=np.float64) + 1.0) * (WORKSPACE / 2)


def wrap_angle(angle):
    """Angles wrapped to [-pi, pi)."""
    return (np.asarray(angle, dtype=np.float64) + np.pi) % (2 * np.pi) - np.pi


def position_error(state, goal) -> float:
    """px: the norm of the pusher's and the block's position errors together."""
    return float(np.linalg.norm(np.asarray(state)[:4] - np.asarray(goal)[:4]))


def angle_error(state, goal) -> float:
    """rad in [0, pi]: the wrapped block-angle error."""
    return float(abs(wrap_angle(state[4] - goal[4])))


def reached(state, goal) -> bool:
    """The success test (module docstring)."""
    return position_error(state, goal) < POSITION_TOLERANCE and (
        angle_error(state, goal) < ANGLE_TOLERANCE
    )


def get_state(sim) -> np.ndarray:
    """The `GOAL_NAMES` state of gym-pusht's simulator."""
    agent, block = sim.agent, sim.block
    return np.array(
        [*agent.position, *block.position, float(wrap_angle(block.angle)), *agent.velocity],
        dtype=np.float64,
    )


def set_state(sim, state) -> None:
    """Put the simulator in `state`, visible to its next frame: the block's angle is set before
    its position, so reading the state back gives `state` (the other order turns the block
    about its centre of mass)."""
    state = np.asarray(state, dtype=np.float64)
    sim.agent.position = tuple(state[0:2])
    sim.agent.velocity = tuple(state[5:7])
    sim.block.angle = float(state[4])
    sim.block.position = tuple(state[2:4])
    sim.block.velocity = (0.0, 0.0)
    sim.block.angular_velocity = 0.0
    for body in (sim.agent, sim.block):  # the renderer draws the shapes' cached poses
        sim.space.reindex_shapes_for_body(body)


def observe(state) -> np.ndarray:
    """The probed `STATE_NAMES` vector of a state."""
    s = np.asarray(state, dtype=np.float64)
    return np.array([*s[:4], np.cos(s[4]), np.sin(s[4]), *s[5:7]])


def block_outline(state) -> np.ndarray:
    """The T's corners in the workspace (px) [8, 2] for the state's block pose."""
    c, s = np.cos(state[4]), np.sin(state[4])
    rotation = np.array([[c, -s], [s, c]])
    return T_OUTLINE @ rotation.T + np.asarray(state[2:4], dtype=np.float64)


def _check(state) -> str | None:
    low, high = INSIDE
    if not ((state[:4] >= low) & (state[:4] <= high)).all():
        return f"pusher and block positions must lie in [{low}, {high}] px, got {state[:4]}"
    if np.hypot(*state[5:7]) > MAX_SPEED:
        return f"pusher speed {np.hypot(*state[5:7]):.0f} px/s exceeds {MAX_SPEED:.0f}"
    return None


SPEC = GoalSpec(
    goal_names=GOAL_NAMES,
    state_names=STATE_NAMES,
    get_state=get_state,
    set_state=set_state,
    distance=position_error,
    reached=reached,
    agent_pos=lambda s: (float(s[2]), float(s[3])),
    observe=observe,
    position_names=("block_x", "block_y"),
    units="px",
    check=_check,
)


class _Frames(gymnasium.Wrapper):
    """Between the simulator and the pixel adapter: `render()` draws the observation frame
    without the simulator's marker of the last action, and the simulator's own success test
    (its fixed target T) never ends an episode."""

    def step(self, action):
        obs, reward, _, truncated, info = self.env.step(action)
        self.env.unwrapped._last_action = None  # read by the simulator's renderer only
        return obs, reward, False, truncated, info


class PushT(GoalPixels):
    """Push-T as a goal-reaching pixel env (module docstring). `gaps`: the task set's goal
    distances in env steps (`hjepa.envs.pusht_tasks`; the env itself does not use them)."""

    def __init__(
        self,
        render_mode: str | None = None,
        size: int = 96,
        frame_stack: int = 2,
        gaps: tuple[int, ...] | list[int] = (25, 50, 75),
    ):
        check_gaps(gaps)
        sim = simulator_class()(
            obs_type="state",
            render_mode="rgb_array",
            observation_width=int(size),
            observation_height=int(size),
            visualization_width=int(size),
            visualization_height=int(size),
        )
        pixels = {"size": size, "grayscale": False, "frame_stack": frame_stack}
        super().__init__(_Frames(sim), SPEC, render_mode, **pixels)

    def render(self):
        """The frame with the goal drawn in red (the block's outline and the pusher's circle),
        or None without a render mode: what episode GIFs show."""
        frame = super().render()
        if frame is None or self.goal is None:
            return frame
        import cv2  # a dependency of gym-pusht

        scale = frame.shape[0] / WORKSPACE
        corners = np.rint(block_outline(self.goal) * scale).astype(np.int32)
        frame = cv2.polylines(np.ascontiguousarray(frame), [corners], True, GOAL_COLOUR, 1)
        pusher = tuple(int(v) for v in np.rint(self.goal[:2] * scale))
        return cv2.circle(frame, pusher, int(round(PUSHER_RADIUS * scale)), GOAL_COLOUR, 1)


def check_gaps(gaps) -> tuple[int, ...]:
    """`gaps` as a tuple of positive ints; ConfigError otherwise."""
    values = tuple(gaps) if isinstance(gaps, list | tuple) else None
    if not values or not all(isinstance(g, int) and not isinstance(g, bool) for g in values):
        raise ConfigError(f"gaps must be a non-empty list of env-step counts, got {gaps!r}")
    if min(values) < 1:
        raise ConfigError(f"gaps must be >= 1, got {list(values)}")
    return values

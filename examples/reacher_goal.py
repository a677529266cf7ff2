"""Gymnasium's Reacher-v5 (MuJoCo) as a goal-reaching pixel env: bring the fingertip to a point.

A plug-in in user style (hjepa does not ship it; needs `hjepa[mujoco]`): importing this module
registers `ReacherGoal-v0` and its task set, so `gymnasium.make("examples.reacher_goal:
ReacherGoal-v0")` and configs with `env: examples.reacher_goal:ReacherGoal-v0` work from the
repository root. MuJoCo draws off-screen through EGL (`MUJOCO_GL=egl`, set here unless the
environment already chose a backend).

- observations: uint8 [2, 64, 64], two stacked grayscale frames seen from straight above (the
  arm's reach fills the frame), oldest first; actions: the two joint torques in [-1, 1], scaled
  by `torque_scale` (0.3: uniform random torques then move the joints at about 3 rad/s, median,
  instead of 10 at Reacher's full torque, a speed two frames 0.02 s apart still show).
- states (q0, q1, q0_dot, q1_dot): joint angles (rad) and speeds (rad/s). A goal is a joint
  configuration at rest; its fingertip position is the target. Reacher's red target ball is
  hidden, so the goal image shows the arm at the goal and nothing else. Without a "start" the
  arm starts anywhere at rest (q0 uniform in [-pi, pi], q1 uniform in [-2.8, 2.8]).
- distance: between the fingertip and the goal's fingertip, in metres (link lengths 0.1 and
  0.11 m); success: within `tolerance` (0.02 m) with both joints under `speed_tolerance`
  (1 rad/s), i.e. nearly still there, as the goal image shows.
- `info["state"]`: fingertip (x, y), then cos / sin of both angles and the joint speeds.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
from gymnasium.envs.mujoco.reacher_v5 import ReacherEnv  # noqa: E402

from hjepa.envs.goal_pixels import GoalPixels, GoalSpec, register_goal_env  # noqa: E402
from hjepa.envs.tasks import PlotPlane  # noqa: E402

ENV_ID = "ReacherGoal-v0"
LINKS = (0.1, 0.11)  # m: shoulder to elbow, elbow to fingertip
TOLERANCE = 0.02  # m
SPEED_TOLERANCE = 1.0  # rad/s
TORQUE_SCALE = 0.3  # of Reacher's motors (gear 200) per unit of action
ELBOW_RANGE = 2.8  # rad, inside the joint's limit of 3
MIN_GAP = 0.1  # m between start and goal fingertips
TOP_DOWN = {
    "trackbodyid": -1,
    "distance": 0.55,
    "elevation": -90.0,
    "azimuth": 90.0,
    "lookat": np.zeros(3),
}


def fingertip(state) -> np.ndarray:
    """(x, y) of the fingertip, metres, of a state (q0, q1, ...)."""
    upper, lower = state[0], state[0] + state[1]  # the links' directions
    return np.array(
        [
            LINKS[0] * np.cos(upper) + LINKS[1] * np.cos(lower),
            LINKS[0] * np.sin(upper) + LINKS[1] * np.sin(lower),
        ]
    )


class OpenReacher(ReacherEnv):
    """Reacher with its target hidden, starting anywhere at rest (module docstring)."""

    def __init__(self, render_size: int = 128, torque_scale: float = 1.0):
        self.torque_scale = torque_scale
        super().__init__(
            render_mode="rgb_array",
            width=render_size,
            height=render_size,
            default_camera_config=TOP_DOWN,
        )
        self.model.geom_rgba[self.model.geom("target").id, 3] = 0.0

    def step(self, action):
        return super().step(self.torque_scale * np.asarray(action))

    def reset_model(self):
        qpos = self.init_qpos.copy()
        qpos[0] = self.np_random.uniform(-np.pi, np.pi)
        qpos[1] = self.np_random.uniform(-ELBOW_RANGE, ELBOW_RANGE)
        self.set_state(qpos, np.zeros(self.model.nv))
        return self._get_obs()


def reacher_spec(tolerance: float, speed_tolerance: float) -> GoalSpec:
    def set_state(env, state) -> None:
        qpos, qvel = env.data.qpos.copy(), env.data.qvel.copy()
        qpos[:2], qvel[:2] = state[:2], state[2:]
        env.set_state(qpos, qvel)

    def distance(state, goal) -> float:
        return float(np.linalg.norm(fingertip(state) - fingertip(goal)))

    def observe(state) -> np.ndarray:
        angles = np.concatenate([np.cos(state[:2]), np.sin(state[:2])])
        return np.concatenate([fingertip(state), angles, state[2:]])

    def check(state) -> str | None:
        if abs(state[1]) > 3.0:
            return f"elbow angle q1 = {state[1]} is beyond the joint's limit of 3 rad"
        return None

    return GoalSpec(
        goal_names=("q0", "q1", "q0_dot", "q1_dot"),
        state_names=(
            "fingertip_x",
            "fingertip_y",
            "cos_q0",
            "cos_q1",
            "sin_q0",
            "sin_q1",
            "q0_dot",
            "q1_dot",
        ),
        get_state=lambda env: np.concatenate([env.data.qpos[:2], env.data.qvel[:2]]),
        set_state=set_state,
        distance=distance,
        reached=lambda s, g: (
            distance(s, g) < tolerance and bool(np.all(np.abs(s[2:]) < speed_tolerance))
        ),
        agent_pos=lambda s: tuple(fingertip(s)),
        observe=observe,
        position_names=("fingertip_x", "fingertip_y"),
        units="m",
        check=check,
    )


def make_reacher_goal(
    render_mode: str | None = None,
    tolerance: float = TOLERANCE,
    speed_tolerance: float = SPEED_TOLERANCE,
    render_size: int = 128,
    torque_scale: float = TORQUE_SCALE,
) -> GoalPixels:
    """The goal env (module docstring)."""
    spec = reacher_spec(float(tolerance), float(speed_tolerance))
    pixels = {"size": 64, "grayscale": True, "frame_stack": 2}
    return GoalPixels(OpenReacher(render_size, float(torque_scale)), spec, render_mode, **pixels)


PROTOCOL = (
    f"start at rest anywhere (q0 uniform, |q1| <= {ELBOW_RANGE}); goal: a joint configuration "
    f"drawn the same way whose fingertip is >= {MIN_GAP} m from the start's; success = fingertip "
    f"within {TOLERANCE} m of the goal's with both joints under {SPEED_TOLERANCE} rad/s, "
    f"torques {TORQUE_SCALE} x Reacher's, 200 steps"
)


def sample_tasks(episodes: int, seed: int, env_kwargs: dict) -> list[dict]:
    """`episodes` options {"start": (q0, q1, 0, 0), "goal": (q0_g, q1_g, 0, 0)}."""
    rng = np.random.default_rng(seed)

    def draw() -> tuple[float, ...]:
        q0, q1 = rng.uniform(-np.pi, np.pi), rng.uniform(-ELBOW_RANGE, ELBOW_RANGE)
        return float(q0), float(q1), 0.0, 0.0

    tasks = []
    while len(tasks) < episodes:
        start, goal = draw(), draw()
        if np.linalg.norm(fingertip(start) - fingertip(goal)) >= MIN_GAP:
            tasks.append({"start": start, "goal": goal})
    return tasks


register_goal_env(
    ENV_ID,
    make_reacher_goal,
    sample_tasks,
    PROTOCOL,
    PlotPlane(xlim=(-0.22, 0.22), ylim=(-0.22, 0.22), xlabel="x (m)", ylabel="y (m)"),
)

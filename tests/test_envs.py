"""Tests for hjepa.envs: arena physics and rendering, TwoRooms, Maze, the Gymnasium API."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from hjepa.envs import SIM_REGISTRY, make_sim
from hjepa.envs.maze import MazeLayout, MazeSim
from hjepa.envs.two_rooms import (
    DOOR_HALF_PX,
    TwoRoomsSim,
    room_of,
    sample_free_position,
    wall_columns,
)
from hjepa.errors import ActionError, ConfigError

ENV_IDS = sorted(SIM_REGISTRY)


def rollout(sim, seed, steps=20, action_seed=0):
    """Observations and states of a reset plus `steps` random steps."""
    rng = np.random.default_rng(action_seed)
    obs, states = sim.reset(seed=seed)
    all_obs, all_states = [obs], [states]
    for _ in range(steps):
        obs, states = sim.step(rng.uniform(-sim.max_norm, sim.max_norm, (sim.num_envs, 2)))
        all_obs.append(obs)
        all_states.append(states)
    return np.stack(all_obs), np.stack(all_states)


def agent_in_wall(sim, states):
    rows = np.floor(states[:, 1]).astype(int)
    cols = np.floor(states[:, 0]).astype(int)
    return sim.walls[np.arange(sim.num_envs), rows, cols]


def reference_dot(positions, size, sigma):
    """Full-image Gaussian dot, computed naively."""
    centres = np.arange(size) + 0.5
    gx = np.exp(-((centres[None] - positions[:, :1]) ** 2) / (2 * sigma**2))
    gy = np.exp(-((centres[None] - positions[:, 1:2]) ** 2) / (2 * sigma**2))
    return 255 * gy[:, :, None] * gx[:, None, :]


# ----- API shape and determinism ------------------------------------------------------------
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sim_api_shapes(env_id):
    sim = make_sim(env_id, 3)
    obs, states = sim.reset(seed=0)
    assert obs.shape == (3, *sim.observation_shape) == (3, 2, 64, 64) and obs.dtype == np.uint8
    assert states.shape == (3, len(sim.state_names)) and states.dtype == np.float32
    assert sim.state_names[:2] == ("x", "y") and sim.action_dim == 2 and sim.max_norm == 2.45
    obs, states = sim.step(np.zeros((3, 2), np.float32))
    assert obs.shape == (3, 2, 64, 64) and states.shape == (3, len(sim.state_names))
    rgb = sim.render_rgb()
    assert rgb.shape == (3, 64, 64, 3) and rgb.dtype == np.uint8


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_rollout_different_seed_different(env_id):
    obs_a, states_a = rollout(make_sim(env_id, 4), seed=7)
    obs_b, states_b = rollout(make_sim(env_id, 4), seed=7)
    obs_c, states_c = rollout(make_sim(env_id, 4), seed=8)
    assert np.array_equal(obs_a, obs_b) and np.array_equal(states_a, states_b)
    assert not np.array_equal(states_a, states_c)


def test_reset_without_seed_continues_the_generator():
    sim = make_sim("hjepa/TwoRooms-v0", 4)
    first = sim.reset(seed=1)[1]
    second = sim.reset()[1]
    assert not np.array_equal(first, second)
    assert np.array_equal(sim.reset(seed=1)[1], first)


# ----- rendering ----------------------------------------------------------------------------
def test_observation_channels_match_positions_and_walls():
    sim = make_sim("hjepa/TwoRoomsRandomWall-v0", 32)
    obs, states = rollout(sim, seed=3, steps=10)
    expected = reference_dot(states[-1, :, :2].astype(np.float64), 64, 1.3)
    assert np.abs(obs[-1, :, 0].astype(float) - expected).max() <= 1.0
    assert np.array_equal(obs[-1, :, 1], sim.walls.astype(np.uint8) * 255)
    obs, _ = sim.reset(options={"start": (20.5, 30.5), "wall_x": 40})  # on a pixel centre
    assert (obs[:, 0].max(axis=(1, 2)) == 255).all() and (obs[:, 0, 30, 20] == 255).all()


def test_render_rgb_shows_walls_grey_and_agent_red():
    sim = make_sim("hjepa/TwoRooms-v0", 2)
    sim.reset(seed=0, options={"start": (20.5, 30.5)})
    rgb = sim.render_rgb()
    assert tuple(rgb[0, 30, 20]) == (255, 0, 0)
    assert tuple(rgb[0, 0, 0]) == (128, 128, 128) and tuple(rgb[0, 10, 40]) == (0, 0, 0)


# ----- physics -------------------------------------------------------------------------------
def test_agent_never_enters_a_wall_and_crosses_only_through_the_door():
    sim = make_sim("hjepa/TwoRoomsRandomWall-v0", 64)
    rng = np.random.default_rng(0)
    _, states = sim.reset(seed=0)
    door_y = states[:, 3]
    crossings = 0
    for t in range(1500):
        # Mostly full-norm moves with a persistent direction, so agents press against walls.
        if t % 10 == 0:
            angle = rng.uniform(0, 2 * np.pi, sim.num_envs)
        actions = 2.45 * np.stack([np.cos(angle), np.sin(angle)], 1) * rng.uniform(0.5, 1)
        new_states = sim.step(np.clip(actions, -2.45, 2.45))[1]
        assert not agent_in_wall(sim, new_states).any()
        crossed = room_of(new_states) != room_of(states)
        # A move is at most 2.45 px, so both ends lie within that of the 8 px door span.
        near_door = np.abs(new_states[:, 1] - door_y) <= DOOR_HALF_PX + 2.45
        near_door &= np.abs(states[:, 1] - door_y) <= DOOR_HALF_PX + 2.45
        assert not (crossed & ~near_door).any()
        crossings += crossed.sum()
        states = new_states
    assert crossings > 50  # the door is really used


def test_maze_agent_never_enters_a_wall():
    sim = MazeSim(32, random_layout=True, extra_doors=2)
    rng = np.random.default_rng(1)
    sim.reset(seed=2)
    for _ in range(500):
        states = sim.step(rng.uniform(-2.45, 2.45, (32, 2)))[1]
        assert not agent_in_wall(sim, states).any()


def test_agent_slides_along_a_wall_and_long_moves_are_projected():
    sim = TwoRoomsSim(2, door_y=48)
    _, states = sim.reset(options={"start": [(28.5, 12.0), (15.0, 15.0)]})
    first_wall_col = wall_columns(32)[0]
    for _ in range(5):
        states = sim.step([(2.0, 1.0), (2.45, 2.45)])[1]
    assert first_wall_col - 0.01 < states[0, 0] < first_wall_col  # stopped at the wall
    assert states[0, 1] == pytest.approx(17.0, abs=1e-5)  # still slid downwards
    travelled = np.hypot(states[1, 0] - 15.0, states[1, 1] - 15.0)
    assert travelled == pytest.approx(5 * 2.45, abs=1e-4)


@pytest.mark.parametrize(
    "actions, match",
    [
        (np.zeros((3, 2)), "shape"),
        (np.zeros((2, 3)), "shape"),
        (np.array([[0.0, np.nan], [0.0, 0.0]]), "NaN"),
        (np.array([[0.0, np.inf], [0.0, 0.0]]), "NaN"),
        (np.array([[3.0, 0.0], [0.0, 0.0]]), "outside"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric"),
    ],
)
def test_bad_actions_raise_action_error(actions, match):
    sim = make_sim("hjepa/TwoRooms-v0", 2)
    sim.reset(seed=0)
    with pytest.raises(ActionError, match=match):
        sim.step(actions)


def test_float32_bounds_are_accepted():
    sim = make_sim("hjepa/TwoRooms-v0", 1)
    sim.reset(seed=0)
    sim.step(np.full((1, 2), np.float32(2.45)))


# ----- TwoRooms -----------------------------------------------------------------------------
def test_random_wall_varies_per_reset_within_paddings():
    sim = make_sim("hjepa/TwoRoomsRandomWall-v0", 64)
    seen_walls = set()
    for seed in range(4):
        _, states = sim.reset(seed=seed)
        wall_x, door_y = states[:, 2], states[:, 3]
        assert ((wall_x >= 20) & (wall_x <= 44)).all() and ((door_y >= 10) & (door_y <= 54)).all()
        seen_walls.add(tuple(wall_x))
        assert len(set(wall_x)) > 5 and len(set(door_y)) > 5
        for n in range(0, 64, 8):  # the central wall and door really are where states say
            first, end = wall_columns(int(wall_x[n]))
            block = sim.walls[n, 5:59, first:end]  # interior rows, wall columns
            door = np.zeros(54, bool)
            door[int(door_y[n]) - DOOR_HALF_PX - 5 : int(door_y[n]) + DOOR_HALF_PX - 5] = True
            assert not block[door].any() and block[~door].all()
    assert len(seen_walls) == 4


def test_fixed_wall_and_room_and_layout_options():
    sim = make_sim("hjepa/TwoRooms-v0", 16)
    _, states = sim.reset(seed=0)
    assert (states[:, 2] == 32).all() and (states[:, 3] == 32).all()
    assert (room_of(sim.reset(options={"room": "left"})[1]) == 0).all()
    assert (room_of(sim.reset(options={"room": "right"})[1]) == 1).all()
    _, states = sim.reset(options={"wall_x": 25, "door_y": 15, "room": 1})
    assert (
        (states[:, 2] == 25).all() and (states[:, 3] == 15).all() and (room_of(states) == 1).all()
    )
    with pytest.raises(ConfigError, match="wall"):
        sim.reset(options={"start": (32.5, 10.0)})  # inside the central wall
    with pytest.raises(ConfigError, match="unknown reset options"):
        sim.reset(options={"colour": "red"})
    with pytest.raises(ConfigError, match="room"):
        sim.reset(options={"room": "kitchen"})


def test_sample_free_position_helper():
    rng = np.random.default_rng(0)
    wall_x, door_y = np.full(200, 40), np.full(200, 20)
    pos = sample_free_position(rng, wall_x, door_y, room="right")
    assert (pos[:, 0] >= 42).all() and (pos[:, 0] < 59).all() and (pos[:, 1] >= 5).all()
    pos = sample_free_position(rng, wall_x, door_y)
    states = np.concatenate([pos, wall_x[:, None], door_y[:, None]], 1)
    assert 0 < room_of(states).mean() < 1


# ----- Maze ---------------------------------------------------------------------------------
@pytest.mark.parametrize("extra_doors", [0, 3])
def test_maze_layouts_from_seeds_are_connected(extra_doors):
    for seed in range(20):
        layout = MazeLayout.random(3, 4, np.random.default_rng(seed), extra_doors)
        assert layout.is_connected()
        doors = layout.h_doors.sum() + layout.v_doors.sum()
        assert doors == 3 * 4 - 1 + extra_doors
    sim = MazeSim(8, random_layout=True)
    sim.reset(seed=0)
    assert all(layout.is_connected() for layout in sim.layouts)
    assert len({layout.to_text() for layout in sim.layouts}) > 1


def test_maze_layout_column_names_the_maze_and_rooms_are_not_layout():
    fixed = MazeSim(2, layout_seed=3)
    assert fixed.layout_names == () and fixed.reset(seed=0)[1].shape == (2, 4)
    sim = MazeSim(6, random_layout=True)
    assert sim.layout_names == ("layout",) and sim.state_names[-1] == "layout"
    states = sim.reset(seed=0)[1]
    codes = [layout.code for layout in sim.layouts]
    assert states[:, -1].tolist() == codes  # exact in float32
    texts = [layout.to_text() for layout in sim.layouts]
    assert len(set(codes)) == len(set(texts))
    rng = np.random.default_rng(0)
    for _ in range(40):  # the code stays while the agent changes rooms
        states = sim.step(rng.uniform(-1, 1, (6, 2)))[1]
        assert states[:, -1].tolist() == codes


TEXT_MAP = """\
+--+--+--+
|     |  |
+--+  +  +
|        |
+  +--+--+
|        |
+--+--+--+
"""


def test_a_maze_map_that_is_not_connected_is_refused():
    cut = TEXT_MAP.replace("|        |\n+--+--+--+", "|     |  |\n+--+--+--+").replace(
        "+  +--+--+", "+--+--+--+"
    )
    with pytest.raises(ConfigError, match=r"not connected.*rooms \(row, col\) \[\(2, 0\)"):
        MazeLayout.from_text(cut)


def test_text_map_round_trips_and_drives_the_walls():
    layout = MazeLayout.from_text(TEXT_MAP)
    assert (layout.rows, layout.cols) == (3, 3) and layout.to_text() == TEXT_MAP
    assert layout.is_connected()
    seeded = MazeLayout.random(4, 5, np.random.default_rng(3))
    assert MazeLayout.from_text(seeded.to_text()) == seeded
    sim = MazeSim(2, text_map=TEXT_MAP)
    _, states = sim.reset(seed=0, options={"room": (2, 0)})
    assert (states[:, 2] == 2).all() and (states[:, 3] == 0).all()
    assert not sim.walls[0, 32, 20:24].any()  # door between rooms (1, 0) and (1, 1)
    assert not sim.walls[0, 52, 20:24].any()  # door between rooms (2, 0) and (2, 1)


def test_maze_geometry_doors_match_the_layout():
    sim = MazeSim(1, text_map=TEXT_MAP)
    sim.reset(seed=0)
    walls = sim.walls[0]
    # Room interiors are 16 px at x, y in [4 + 20 k, 20 + 20 k); walls between them 4 px thick.
    assert not walls[12, 20:24].any()  # h door (0, 0)-(0, 1): open
    assert walls[12, 40:44].all()  # h wall (0, 1)-(0, 2): closed
    assert not walls[40:44, 12].any()  # v door (1, 0)-(2, 0): open
    assert walls[20:24, 12].all()  # v wall (0, 0)-(1, 0): closed


@pytest.mark.parametrize(
    "line, col, char, message",
    [
        (3, 5, "x", "line 3, column 5"),
        (1, 4, " ", "line 1, column 4"),
        (2, 1, " ", "line 2, column 1"),
        (2, 3, "#", "line 2, column 3"),
    ],
)
def test_bad_text_map_names_line_and_column(line, col, char, message):
    lines = TEXT_MAP.splitlines()
    text = lines[line - 1]
    lines[line - 1] = text[: col - 1] + char + text[col:]
    with pytest.raises(ConfigError, match=message):
        MazeLayout.from_text("\n".join(lines))


def test_bad_text_map_shape():
    with pytest.raises(ConfigError, match="odd number"):
        MazeLayout.from_text("+--+--+\n|  |  |\n")
    with pytest.raises(ConfigError, match="line 2"):
        MazeLayout.from_text("+--+--+\n|  |  |  |\n+--+--+\n")


# ----- Gymnasium API ------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_passes(env_id):
    env = gymnasium.make(env_id, render_mode="rgb_array")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    # The only warning: the action box is [-2.45, 2.45] (the task's units), not [-1, 1].
    others = [str(w.message) for w in caught if "symmetric and normalized" not in str(w.message)]
    assert others == []


def dot_centre(channel: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted (x, y) of an agent channel, in pixel coordinates."""
    w = channel.astype(np.float64)
    centres = np.arange(channel.shape[0]) + 0.5
    return float((w.sum(0) * centres).sum() / w.sum()), float((w.sum(1) * centres).sum() / w.sum())


def test_a_goal_in_a_wall_or_outside_names_the_goal():
    env = gymnasium.make("hjepa/TwoRooms-v0")
    with pytest.raises(ConfigError, match=r"options\['goal'\]: position in a wall or outside"):
        env.reset(seed=0, options={"goal": (500, 500)})
    with pytest.raises(ConfigError, match=r"options\['start'\]: position in a wall"):
        env.reset(seed=0, options={"start": (500, 500), "goal": (20, 20)})


def test_gymnasium_make_time_limit_goal_and_render():
    env = gymnasium.make("hjepa/TwoRooms-v0", render_mode="rgb_array")
    obs, info = env.reset(seed=0, options={"room": "left"})
    assert obs.shape == (2, 64, 64) and obs in env.observation_space
    assert info["state"].shape == (4,) and info["agent_pos"][0] < 32
    assert env.render().shape == (64, 64, 3)
    for t in range(200):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert reward == 0.0 and not terminated
        assert truncated == (t == 199)
    start = (20.0, 20.0)
    obs, info = env.reset(seed=0, options={"start": start, "goal": (24.0, 20.0)})
    goal_obs = info["goal_obs"]  # the same layout, the agent drawn at the goal
    assert np.array_equal(goal_obs[1], obs[1])
    assert dot_centre(goal_obs[0]) == pytest.approx((24.0, 20.0), abs=0.05)
    assert dot_centre(obs[0]) == pytest.approx(start, abs=0.05)  # the agent did not move
    _, reward, terminated, _, info = env.step(np.array([1.0, 0.0], np.float32))
    assert reward == pytest.approx(-3.0, abs=1e-4) and terminated and info["distance"] < 4.5
    with pytest.raises(ActionError, match="outside"):
        env.step(np.array([3.0, 0.0], np.float32))
    with pytest.raises(ActionError, match="shape"):
        env.step(np.zeros(3, np.float32))


def test_unknown_env_id_lists_known_ids():
    with pytest.raises(ConfigError, match="hjepa/TwoRooms-v0"):
        make_sim("hjepa/ThreeRooms-v0", 4)


def test_maze_room_helpers():
    sim = MazeSim(1)
    centres = sim.room_centres()
    assert centres.shape == (3, 3, 2) and centres[0, 0].tolist() == [12.0, 12.0]
    assert sim.room_of(centres.reshape(-1, 2)).tolist() == [
        [r, c] for r in range(3) for c in range(3)
    ]
    _, states = sim.reset(seed=0, options={"start": centres[1, 2]})
    assert states[0, 2:].tolist() == [1.0, 2.0]

"""Tests for hjepa.envs.maze_tasks: pixel-grid geodesics, shortest paths, the banded task set."""

import math
from collections import Counter

import gymnasium
import numpy as np
import pytest

from hjepa.envs.maze import MazeSim
from hjepa.envs.maze_tasks import (
    BANDS,
    band_name,
    feasible_bands,
    geodesic_px,
    longest_path_px,
    sample_tasks,
    shortest_path,
    shortest_steps,
    steps_for,
    task_plane,
    waypoints,
)
from hjepa.envs.tasks import goal_tasks
from hjepa.errors import ConfigError

# configs/maze.yaml's layout with 1 px moves (the preset moves 0.8 px: all four bands)
PRESET = {"rooms": [4, 4], "layout_seed": 152, "door_px": 5, "max_norm": 1.0}
SQRT2 = math.sqrt(2)


def box(height: int, width: int) -> np.ndarray:
    """Walls of an open room: a one-pixel border."""
    walls = np.ones((height, width), dtype=bool)
    walls[1:-1, 1:-1] = False
    return walls


def centre(row: int, col: int) -> tuple[float, float]:
    return (col + 0.5, row + 0.5)


@pytest.fixture(scope="module")
def preset_walls() -> np.ndarray:
    sim = MazeSim(1, **PRESET)
    return sim.geometry.walls(sim.fixed_layout)


@pytest.fixture(scope="module")
def preset_tasks() -> list[dict]:
    return sample_tasks(12, 0, PRESET)


def test_open_room_distances_are_octile():
    walls = box(12, 16)
    distance = geodesic_px(walls, (3.9, 2.1))  # any point of pixel (row 2, col 3)
    rows, cols = np.nonzero(~walls)
    dy, dx = np.abs(rows - 2), np.abs(cols - 3)
    octile = np.maximum(dx, dy) + (SQRT2 - 1) * np.minimum(dx, dy)
    np.testing.assert_allclose(distance[rows, cols], octile, atol=1e-12)
    assert np.isinf(distance[walls]).all()


def test_a_wall_with_a_door_forces_a_detour():
    walls = box(12, 15)
    walls[:, 7] = True
    walls[9, 7] = False  # a one-pixel door in row 9, entered straight (no corner cutting)
    distance = geodesic_px(walls, centre(2, 3))
    to_door = 7 + 3 * (SQRT2 - 1)  # (2, 3) -> (9, 6), and (9, 8) -> (2, 11)
    assert distance[2, 11] == pytest.approx(2 * to_door + 2)
    assert distance[2, 11] > 8  # the straight line
    walls[9, 7] = True
    assert np.isinf(geodesic_px(walls, centre(2, 3))[:, 8:]).all()


def test_diagonal_steps_do_not_cut_wall_corners():
    walls = np.ones((5, 5), dtype=bool)
    walls[1, 1] = walls[2, 2] = False
    assert np.isinf(geodesic_px(walls, centre(1, 1))[2, 2])
    walls[1, 2] = False
    assert geodesic_px(walls, centre(1, 1))[2, 2] == pytest.approx(2.0)
    with pytest.raises(ConfigError, match="start .* is in a wall"):
        geodesic_px(walls, centre(3, 3))


def test_shortest_path_follows_free_neighbours(preset_walls, preset_tasks):
    task = preset_tasks[-1]
    path = shortest_path(preset_walls, task["start"], task["goal"])
    assert tuple(path[0]) == task["start"] and tuple(path[-1]) == task["goal"]
    moves = np.diff(path, axis=0)
    assert np.abs(moves).max(axis=1).tolist() == [1.0] * len(moves)
    cells = np.floor(path).astype(int)
    assert not preset_walls[cells[:, 1], cells[:, 0]].any()
    diagonal = np.abs(moves).min(axis=1) == 1
    for (col, row), (dx, dy) in zip(cells[:-1][diagonal], moves[diagonal].astype(int), strict=True):
        assert not preset_walls[row, col + dx] and not preset_walls[row + dy, col]
    length = np.linalg.norm(moves, axis=1).sum()
    goal_col, goal_row = cells[-1]
    assert length == pytest.approx(geodesic_px(preset_walls, task["start"])[goal_row, goal_col])


def test_waypoints_are_spaced_along_the_path():
    path = np.array([[0.5, 0.5], [10.5, 0.5], [10.5, 4.5]])  # an L of 14 px
    points = waypoints(path, 3.0)
    expected = [[3.5, 0.5], [6.5, 0.5], [9.5, 0.5], [10.5, 2.5], [10.5, 4.5]]
    np.testing.assert_allclose(points, expected)
    np.testing.assert_allclose(waypoints(path, 7.0), [[7.5, 0.5], [10.5, 4.5]])  # no repeat
    np.testing.assert_allclose(waypoints(path[:1], 2.0), path[:1])
    with pytest.raises(ConfigError, match="spacing_px must be > 0"):
        waypoints(path, 0.0)


def test_preset_bands_and_longest_path(preset_walls):
    # 14 doors, but corners are cut: 173.2 px, measured over all pairs of free pixels
    assert longest_path_px(preset_walls) == pytest.approx(173.196, abs=1e-3)
    assert steps_for(longest_path_px(preset_walls), 1.0) == 174
    assert feasible_bands(preset_walls, 1.0) == list(BANDS[:3])
    assert feasible_bands(preset_walls, 0.8) == list(BANDS)  # 217 steps


def test_preset_tasks_are_seeded_spread_and_in_band(preset_walls, preset_tasks):
    assert preset_tasks == sample_tasks(12, 0, PRESET)
    assert preset_tasks != sample_tasks(12, 1, PRESET)
    assert [t["band"] for t in preset_tasks] == ["25-50"] * 4 + ["50-100"] * 4 + ["100-200"] * 4
    names = {band_name(band): band for band in BANDS}
    for task in preset_tasks:
        low, high = names[task["band"]]
        steps = shortest_steps(preset_walls, task["start"], task["goal"], 1.0)
        assert task["shortest_steps"] == steps and low <= steps < (high or math.inf)
        assert math.dist(task["start"], task["goal"]) > 4.5
    assert Counter(t["band"] for t in sample_tasks(5, 0, PRESET)) == {
        "25-50": 2,
        "50-100": 2,
        "100-200": 1,
    }


def test_the_200_plus_band_with_shorter_moves(preset_walls):
    tasks = sample_tasks(4, 0, {**PRESET, "max_norm": 0.8})
    assert [t["band"] for t in tasks] == ["25-50", "50-100", "100-200", "200+"]
    assert tasks[-1]["shortest_steps"] >= 200
    assert shortest_steps(preset_walls, tasks[-1]["start"], tasks[-1]["goal"], 0.8) >= 200


def test_small_mazes_drop_the_long_bands():
    tasks = sample_tasks(7, 0, {"max_norm": 2.45})  # 3 x 3 rooms: 141 px, 58 steps at most
    assert [t["band"] for t in tasks] == ["25-50"] * 4 + ["50-100"] * 3
    with pytest.raises(ConfigError, match="longest shortest path is 22 env steps"):
        sample_tasks(3, 0, {"rooms": [1, 2], "max_norm": 3.0})


def test_random_layouts_have_no_task_set():
    with pytest.raises(ConfigError, match="needs a fixed layout"):
        sample_tasks(4, 0, {**PRESET, "random_layout": True})


def test_gym_env_runs_a_task_and_the_oracle_path_reaches_it(preset_walls):
    tasks = goal_tasks("hjepa/Maze-v0", 3, 0, PRESET)
    assert [t["band"] for t in tasks] == ["25-50", "50-100", "100-200"]
    env = gymnasium.make("hjepa/Maze-v0", **PRESET)
    task = tasks[1]
    _, info = env.reset(seed=0, options=task)
    assert info["agent_pos"] == task["start"] and info["goal_obs"].shape == (2, 64, 64)
    here = np.array(task["start"])
    path = shortest_path(preset_walls, task["start"], task["goal"])
    steps = 0
    for point in waypoints(path, 1.0):
        _, _, terminated, _, info = env.step(np.clip(point - here, -1, 1).astype(np.float32))
        here, steps = np.array(info["agent_pos"]), steps + 1
        if terminated:
            break
    assert terminated and steps <= task["shortest_steps"] - 4  # success is 4.5 px early
    background = task_plane().background(task)
    assert np.array_equal(background, env.unwrapped.sim.walls[0])


def test_a_task_of_another_maze_is_refused():
    task = sample_tasks(1, 0, PRESET)[0]
    env = gymnasium.make("hjepa/Maze-v0", **{**PRESET, "layout_seed": 153})
    with pytest.raises(ConfigError, match="drawn in another maze"):
        env.reset(options=task)

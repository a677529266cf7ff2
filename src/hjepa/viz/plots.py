"""Plots saved into run folders (matplotlib, without a display)."""

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hjepa.io import atomic_write  # noqa: E402


def save_figure(fig, path: Path) -> None:
    """Save `fig` to `path` atomically (format from the suffix)."""
    atomic_write(path, lambda tmp: fig.savefig(tmp, format=Path(path).suffix.lstrip(".")))


def plot_rollout_error(result: dict, path: Path) -> None:
    """Relative latent error and, where measured, probed position error (in the env's units)
    against the rollout horizon."""
    fig, left = plt.subplots(figsize=(6, 3.5), dpi=120)
    horizon = result["horizon"]
    left.plot(horizon, result["rollout_latent_error"], "s-", color="tab:blue", alpha=0.7)
    left.set_xlabel("open-loop rollout horizon (steps)")
    left.set_ylabel("latent error / latent spread", color="tab:blue")
    if result["rollout_position_rmse"] is not None:
        right = left.twinx()
        right.plot(horizon, result["rollout_position_rmse"], "o-", color="tab:red")
        right.set_ylabel(f"probed position RMSE ({result['units']})", color="tab:red")
        encoder = result["position_rmse"]["mlp"]
        right.axhline(encoder, ls="--", color="tab:red", alpha=0.5, label="encoder (no rollout)")
        right.legend(loc="upper left", fontsize=8)
    left.set_title("World-model rollout error on held-out episodes")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_horizon_errors(result: dict, path: Path) -> None:
    """Probed position error of each H-JEPA level against the horizon in env steps
    (`hjepa.eval.hierarchy.horizon_errors`); horizons a level cannot predict are left out."""
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    horizons = np.asarray(result["horizons"], dtype=float)
    for k, errors in result["levels"].items():
        values = np.array([np.nan if e is None else e for e in errors], dtype=float)
        label = "level 1 (world model, chained)" if int(k) == 1 else f"level {k}"
        ax.plot(horizons, values, "o-", label=label)
    ax.set_xlabel("prediction horizon (env steps)")
    ax.set_ylabel(f"probed position RMSE ({result['units']})")
    ax.set_title("How far each level predicts (held-out episodes)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_trajectories(episodes: list[dict], path: Path, plane=None, labels=("", "")) -> None:
    """Paths of up to 16 goal-reaching episodes: `positions` ([T + 1, 2], the env's
    `info["agent_pos"]`) from the start (dot) towards `goal_position` (star), in the task set's
    `plane` (`hjepa.envs.tasks.PlotPlane`: axes, labels, wrapping, a background per task), or
    in axes fitted to the paths, labelled by `labels`, without one. Episodes without positions
    are left blank."""
    n = len(episodes)
    cols = min(max(n, 1), 4)
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.4 * rows), dpi=100, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, ep in zip(axes.flat, episodes, strict=False):
        _draw_episode(ax, ep, plane, labels)
    fig.suptitle("start (blue), goal (star), path (green: success, red: failure)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def _draw_episode(ax, ep: dict, plane, labels) -> None:
    points = np.asarray(ep["positions"], dtype=float).reshape(-1, 2)
    ax.set_title(f"{'ok' if ep['success'] else 'fail'} in {ep['steps']} steps", fontsize=8)
    if len(points) == 0:
        return
    if plane is not None and plane.background is not None:
        (x0, x1), (y0, y1) = plane.xlim, plane.ylim
        ax.imshow(
            plane.background(ep["task"]), cmap="Greys", vmin=0, vmax=2, extent=(x0, x1, y0, y1)
        )
    else:
        ax.axis("on")
        ax.tick_params(labelsize=6)
        ax.set_xlabel(plane.xlabel if plane else labels[0], fontsize=7)
        ax.set_ylabel(plane.ylabel if plane else labels[1], fontsize=7)
    wraps = plane.wraps if plane is not None else None
    colour = "tab:green" if ep["success"] else "tab:red"
    ax.plot(*_break_at_wraps(points, wraps).T, "-", color=colour, lw=1.2)
    ax.plot(*points[0], "o", color="tab:blue", ms=4)
    if ep.get("goal_position") is not None:
        ax.plot(*ep["goal_position"], "*", color="gold", ms=9, mec="k", mew=0.5)
    if plane is not None and plane.xlim is not None:
        ax.set_xlim(*plane.xlim)
    if plane is not None and plane.ylim is not None:
        ax.set_ylim(*plane.ylim)


def _break_at_wraps(points: np.ndarray, span: float | None) -> np.ndarray:
    """Points [T, 2] with a NaN row wherever x jumps by more than half of `span` (a wrapped
    angle), so the plotted line does not cross the whole plot."""
    if span is None or len(points) < 2:
        return points
    jumps = np.flatnonzero(np.abs(np.diff(points[:, 0])) > span / 2) + 1
    return np.insert(points, jumps, np.nan, axis=0)


def save_gif(frames: list, path: Path, scale: int = 4, fps: int = 15) -> None:
    """Frames uint8 [H, W, 3] -> an animated GIF, upscaled by `scale` (nearest)."""
    from PIL import Image

    images = [
        Image.fromarray(np.asarray(f)).resize((f.shape[1] * scale, f.shape[0] * scale), 0)
        for f in frames
    ]
    atomic_write(
        path,
        lambda tmp: images[0].save(
            tmp, "GIF", save_all=True, append_images=images[1:], duration=1000 // fps, loop=0
        ),
    )

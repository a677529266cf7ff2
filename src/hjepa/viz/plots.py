"""Plots saved into run folders (matplotlib, without a display)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_rollout_error(result: dict, path: Path) -> None:
    """Probed position error (px) and relative latent error against the rollout horizon."""
    fig, left = plt.subplots(figsize=(6, 3.5), dpi=120)
    horizon = result["horizon"]
    left.plot(horizon, result["rollout_position_rmse_px"], "o-", color="tab:red")
    left.set_xlabel("open-loop rollout horizon (steps)")
    left.set_ylabel("probed position RMSE (px)", color="tab:red")
    encoder_error = result["position_rmse_px"]["mlp"]
    left.axhline(encoder_error, ls="--", color="tab:red", alpha=0.5, label="encoder (no rollout)")
    right = left.twinx()
    right.plot(horizon, result["rollout_latent_error"], "s-", color="tab:blue", alpha=0.7)
    right.set_ylabel("latent error / latent spread", color="tab:blue")
    left.legend(loc="upper left", fontsize=8)
    left.set_title("World-model rollout error on held-out episodes")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

"""Atomic writes and results kept aside (hjepa.io)."""

import matplotlib.pyplot as plt

from hjepa.io import keep_earlier, write_json_atomic
from hjepa.viz.plots import save_figure


def test_keep_earlier_moves_results_aside_numbered(tmp_path):
    out = tmp_path / "plan"
    assert keep_earlier(out) is None  # nothing there yet
    out.mkdir()
    assert keep_earlier(out) is None  # an empty folder is not a result
    write_json_atomic(out / "summary.json", {"success": 1})
    assert keep_earlier(out) == tmp_path / "plan.1" and not out.exists()
    out.mkdir()
    write_json_atomic(out / "summary.json", {"success": 2})
    assert keep_earlier(out) == tmp_path / "plan.2"
    assert (tmp_path / "plan.1" / "summary.json").read_text() == '{\n  "success": 1\n}\n'


def test_figures_are_written_atomically(tmp_path):
    fig = plt.figure()
    save_figure(fig, tmp_path / "plot.png")
    plt.close(fig)
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"

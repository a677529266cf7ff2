"""Atomic writes and results kept aside (hjepa.io)."""

import matplotlib.pyplot as plt

from hjepa.io import fresh_results_folder, write_json_atomic
from hjepa.viz.plots import save_figure


def test_fresh_results_folder_keeps_earlier_results_numbered(tmp_path, capsys):
    out = tmp_path / "plan"
    assert fresh_results_folder(out) == out and out.is_dir()  # created
    assert fresh_results_folder(out) == out and not (tmp_path / "plan.1").exists()  # empty
    write_json_atomic(out / "summary.json", {"success": 1})
    fresh_results_folder(out)
    assert (
        not any(out.iterdir()) and "kept in " + str(tmp_path / "plan.1") in capsys.readouterr().out
    )
    write_json_atomic(out / "summary.json", {"success": 2})
    fresh_results_folder(out)
    assert (tmp_path / "plan.2" / "summary.json").is_file()
    assert (tmp_path / "plan.1" / "summary.json").read_text() == '{\n  "success": 1\n}\n'


def test_figures_are_written_atomically(tmp_path):
    fig = plt.figure()
    save_figure(fig, tmp_path / "plot.png")
    plt.close(fig)
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"

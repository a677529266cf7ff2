import subprocess
import sys

import pytest

from hjepa.cli import main


def test_info_lists_version_device_and_extras(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for word in ("hjepa", "torch", "device", "threads", "tensorboard"):
        assert word in out


def test_train_then_errors_are_one_clear_line(tmp_path, capsys):
    common = [
        "train",
        "configs/ijepa_shapes.yaml",
        "data.image_size=16",
        "data.num_samples=64",
        "model.embed_dim=16",
        "model.depth=1",
        "model.pred_dim=16",
        "model.pred_depth=1",
        "model.num_heads=2",
        "train.steps=2",
        "train.batch_size=8",
        "train.progress=false",
        f"train.run_dir={tmp_path}",
    ]
    assert main(common) == 0
    assert "run folder" in capsys.readouterr().out
    assert main(common) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*common, "--overwrite"]) == 0
    assert main([*common, "optim.lr_typo=1"]) == 2
    assert "unknown config key optim.lr_typo" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing.yaml")]) == 2
    assert "not found" in capsys.readouterr().err
    for bad in ("0", "-3"):  # argparse exits 2 with the reason
        with pytest.raises(SystemExit) as exit_info:
            main([*common, "--stop-after", bad])
        assert exit_info.value.code == 2
        assert "--stop-after: must be >= 1" in capsys.readouterr().err


def test_module_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "hjepa", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "hjepa" in done.stdout

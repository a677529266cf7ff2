"""A run records where its data is: found from any working directory, never collected anew by
eval or plan, refused when it is gone or is other data; one writer per run folder and store."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from hjepa.errors import HjepaError, LockedError
from hjepa.experiment import open_run
from hjepa.lock import exclusive
from hjepa.run_data import RECORD
from hjepa.train.trainer import train
from test_world_training import tiny


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    train(tiny(root, "train.steps=2"))
    return root


def test_a_run_records_its_store_relative_to_the_run_folder(trained):
    record = json.loads((trained / "two_rooms" / RECORD).read_text())["store"]
    assert record["relative"] == os.path.join("..", "data", "two_rooms")
    assert record["absolute"] == str((trained / "data" / "two_rooms").resolve())
    assert len(record["fingerprint"]) == 64


def test_a_run_opened_from_another_directory_finds_its_store_and_collects_nothing(
    trained, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    run = open_run(os.path.relpath(trained / "two_rooms"))
    assert run.store.path.resolve() == (trained / "data" / "two_rooms").resolve()
    assert list(tmp_path.iterdir()) == []  # nothing collected here


def test_a_copied_run_reads_the_same_data_and_a_moved_tree_its_own(trained, tmp_path):
    shutil.copytree(trained / "two_rooms", tmp_path / "copy")
    assert (
        open_run(tmp_path / "copy").store.path.resolve() == (trained / "data/two_rooms").resolve()
    )
    shutil.copytree(trained, tmp_path / "moved", ignore=shutil.ignore_patterns(".*lock"))
    moved = open_run(tmp_path / "moved" / "two_rooms")
    assert moved.store.path.resolve() == (tmp_path / "moved" / "data" / "two_rooms").resolve()


def test_a_missing_or_replaced_store_is_refused_naming_it(trained, tmp_path):
    shutil.copytree(trained, tmp_path / "t", ignore=shutil.ignore_patterns(".*lock"))
    store = tmp_path / "t" / "data" / "two_rooms"
    meta = json.loads((store / "meta.json").read_text())
    meta["shards"][0]["files"]["obs.npy"]["crc32"] = "0"  # other data, same shape
    (store / "meta.json").write_text(json.dumps(meta))
    record = json.loads((tmp_path / "t" / "two_rooms" / RECORD).read_text())
    record["store"]["absolute"] = str(tmp_path / "nowhere")
    (tmp_path / "t" / "two_rooms" / RECORD).write_text(json.dumps(record))
    with pytest.raises(HjepaError, match=f"{store}.*not the data the run"):
        open_run(tmp_path / "t" / "two_rooms")
    shutil.rmtree(store)
    with pytest.raises(HjepaError, match="trajectory store of the run .* is missing"):
        open_run(tmp_path / "t" / "two_rooms")
    assert not store.exists()  # and nothing was collected in its place


def test_a_locked_folder_is_refused_and_released_when_its_holder_is_killed(tmp_path):
    folder = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    refused = pytest.raises(LockedError, match="another hjepa process is writing the run folder")
    with refused, exclusive(folder, "run folder"):
        pass
    holder.kill()
    holder.wait()
    with exclusive(folder, "run folder"), exclusive(folder, "run folder"):  # re-entrant
        pass


HOLD_LOCK = """
import sys, time
from hjepa.lock import exclusive
with exclusive(sys.argv[1], "folder"):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("locked", ["two_rooms", "data/two_rooms"])
def test_a_run_folder_or_store_being_written_is_refused_to_a_second_run(tmp_path, locked):
    cfg = tiny(tmp_path, "train.steps=2")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path / locked)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError, match=f"writing the .* {tmp_path / locked}"):
            train(cfg)
        with pytest.raises(LockedError, match=f"writing the .* {tmp_path / locked}"):
            train(cfg, overwrite=True)
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "data" / "two_rooms").exists()  # the refused runs collected nothing

"""kill -9 in every phase (collection, training, checkpoint write, export, eval, plan), then the
documented recovery: the results equal an uninterrupted run's, bit for bit where resume applies.
More kill points, random moments included, in benchmarks/reliability.py."""

import pytest

from killing import CONCURRENT, Call, kill_and_recover, make_reference, run_twice_at_once

pytestmark = pytest.mark.slow

KILL_POINTS = {
    "collection (after one shard)": (
        "train",
        Call("hjepa.envs.collect", "TrajectoryWriter.commit_shard", 2),
    ),
    "training (step 6 of 12)": ("train", Call("hjepa.train.trainer", "train_step", 7)),
    "checkpoint write (temp file written, not renamed)": (
        "train",
        Call("hjepa.io", "os.replace", 2, match="last.pt"),
    ),
    "export (weights written, config not)": (
        "train",
        Call("hjepa.nets.export", "atomic_write", 2),
    ),
    "eval (probes fitted, results not written)": (
        "eval",
        Call("hjepa.eval.world_model", "write_json_atomic", 1),
    ),
    "plan (third episode)": ("plan", Call("hjepa.eval.planning", "run_episode", 3)),
    "hjepa collect (before its first shard)": (
        "collect",
        Call("hjepa.envs.collect", "TrajectoryWriter.commit_shard", 1),
    ),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    make_reference(root)
    return root


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_kill_then_the_documented_recovery_gives_the_uninterrupted_results(
    point, reference, tmp_path
):
    phase, kill = KILL_POINTS[point]
    outcome = kill_and_recover(phase, kill, tmp_path, reference)
    assert outcome["killed"], f"{kill} was never reached"
    assert outcome["recovered"] and outcome["differences"] == [], outcome


@pytest.mark.parametrize("case", CONCURRENT)
def test_the_same_run_started_twice_at_once_is_refused_once_and_done_once(
    case, reference, tmp_path
):
    outcome = run_twice_at_once(case, tmp_path, reference)
    assert outcome["one_refused"] and outcome["differences"] == [], outcome

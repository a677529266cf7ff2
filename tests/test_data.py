import torch

from hjepa.train.data import GlobalBatchSampler, StepCollator


def test_ranks_together_make_the_single_process_batch():
    single = list(GlobalBatchSampler(100, 8, 1, 0, seed=3, start=0, stop=20))
    ranks = [list(GlobalBatchSampler(100, 4, 2, r, seed=3, start=0, stop=20)) for r in range(2)]
    for step, batch in enumerate(single):
        shared = {i for i, _ in ranks[0][step]} | {i for i, _ in ranks[1][step]}
        assert shared == {i for i, _ in batch}
        assert all(s == step for _, s in batch)


def test_resume_offset_continues_the_same_sequence():
    full = list(GlobalBatchSampler(50, 8, 1, 0, seed=1, start=0, stop=30))
    tail = list(GlobalBatchSampler(50, 8, 1, 0, seed=1, start=17, stop=30))
    assert tail == full[17:]


def test_epochs_cover_the_dataset_without_repeats():
    batches = list(GlobalBatchSampler(40, 10, 1, 0, seed=0, start=0, stop=4))
    assert sorted(i for b in batches for i, _ in b) == list(range(40))


def test_collator_slices_global_extras_like_the_sampler():
    def extras(n, gen):
        return {"noise": torch.rand(n, generator=gen)}

    samples = [{"x": torch.tensor(float(i)), "step": 5} for i in range(4)]
    whole = StepCollator(extras, seed=0, world=1, rank=0)(samples)
    parts = [StepCollator(extras, seed=0, world=2, rank=r)(samples[r::2]) for r in range(2)]
    assert torch.equal(parts[0]["noise"], whole["noise"][0::2])
    assert torch.equal(parts[1]["noise"], whole["noise"][1::2])

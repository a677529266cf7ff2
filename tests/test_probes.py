"""The neighbour probe against a brute-force reference."""

import torch

from hjepa.eval.probes import NeighbourProbe


def brute_force(z, y, queries, k):
    mean, std = z.mean(0), z.std(0) + 1e-6
    bank, out = (z - mean) / std, []
    for q in (queries - mean) / std:
        order = sorted(range(len(bank)), key=lambda i: float((bank[i] - q).pow(2).sum()))
        out.append(y[order[:k]].mean(0))
    return torch.stack(out)


def test_neighbour_probe_matches_a_brute_force_search_in_any_chunking():
    gen = torch.Generator().manual_seed(0)
    z, y = (
        torch.randn(200, 6, generator=gen) * torch.arange(1, 7),
        torch.randn(200, 3, generator=gen),
    )
    queries = torch.randn(37, 6, generator=gen)
    expected = brute_force(z, y, queries, k=4)
    for chunk in (5, 1024):
        assert torch.allclose(NeighbourProbe(z, y, k=4, chunk=chunk)(queries), expected, atol=1e-6)


def test_neighbour_probe_recalls_training_states_and_caps_k():
    z, y = torch.randn(10, 4), torch.randn(10, 2)
    assert torch.allclose(NeighbourProbe(z, y, k=1)(z), y)
    assert torch.allclose(NeighbourProbe(z, y, k=50)(z[:3]), y.mean(0).expand(3, -1), atol=1e-6)

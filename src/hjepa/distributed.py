"""Process-group helpers. Everything here is a no-op in a single process, so library code can
call them unconditionally; `torchrun` sets the environment that turns them on."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    return rank() == 0


@contextmanager
def process_group(device: torch.device) -> Iterator[None]:
    """Join the process group `torchrun` describes (gloo on CPU, NCCL on CUDA) for the block, if
    any, and tear it down on the way out: a gloo group left for interpreter shutdown to destroy
    can abort the process after its work is done."""
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) <= 1 or is_distributed():
        yield
        return
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate `x` from all ranks along dim 0, keeping the autograd graph.

    Used by regularizers that need whole-batch statistics (VICReg, SIGReg). Each rank computes the
    same global loss; the gather's backward sums the ranks' gradients into each local slice and
    DDP then averages over ranks, which together give exactly the single-process gradient of the
    combined batch.
    """
    if not is_distributed():
        return x
    return torch.cat(dist_fn.all_gather(x), dim=0)


def all_reduce_mean(x: torch.Tensor) -> torch.Tensor:
    """Average a (detached) tensor over ranks, for logging."""
    if not is_distributed():
        return x
    x = x.detach().clone()
    dist.all_reduce(x)
    return x / world_size()

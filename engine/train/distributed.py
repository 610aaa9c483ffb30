"""Multi-GPU data parallelism for ``t2v train`` under ``torchrun`` / ``accelerate launch``.

When the launcher sets ``WORLD_SIZE`` > 1, :func:`init_distributed` joins the process group from
the environment (``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``; NCCL on CUDA, Gloo
otherwise) and pins each process to its GPU. Every rank draws the same step-seeded batch and
trains on its own slice of it (``indices[rank::world_size]`` — the sharding a
``DistributedSampler`` gives, but reproducible per step, so resume stays exact); gradients are
averaged by :class:`torch.nn.parallel.DistributedDataParallel`. Only rank 0 logs, validates,
shows the progress bar and writes checkpoints and the model folder.
"""

from __future__ import annotations

import dataclasses
import os

import torch


@dataclasses.dataclass(frozen=True)
class DistInfo:
    """This process's ``rank`` of ``world_size`` and its torch ``device``."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group when ``WORLD_SIZE`` > 1 (see the module docstring); else single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo(device=device)
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistInfo(rank=dist.get_rank(), world_size=dist.get_world_size(), device=device)


def wrap(module: torch.nn.Module, info: DistInfo) -> torch.nn.Module:
    """``module`` in DistributedDataParallel when distributed, else unchanged."""
    if not info.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [info.device.index] if info.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op for one process)."""
    if info.enabled:
        import torch.distributed as dist

        dist.barrier()

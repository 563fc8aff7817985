"""Where a training process runs: device, precision, threads, rank and world size; per-step random seeds.

Multi-process training: start with ``torchrun --nproc_per_node N -m core.train ...``; each process trains on
its own slice of every batch under DistributedDataParallel (gloo on CPU, NCCL on CUDA); rank 0 writes files.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from core.training.config import RunConfig


@dataclass(frozen=True)
class Context:
    """Where this process runs: device, precision, rank and world size."""

    device: torch.device
    rank: int = 0
    world: int = 1
    bf16: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def pick_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """CUDA, then Apple MPS, then CPU for ``auto``; otherwise the named device, which must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but this server has no CUDA GPU; choose auto or cpu")
    if device.type == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ValueError("device 'mps' was asked for, but this server has no Apple GPU; choose auto or cpu")
    return device


def setup_context(run: RunConfig) -> Context:
    """Threads, denormals, device and (under torchrun) the process group."""
    torch.set_num_threads(max(1, run.threads))
    torch.set_flush_denormal(True)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = pick_device(run.device, int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    bf16 = run.precision == "bf16" or (run.precision == "auto" and device.type == "cuda")
    return Context(device=device, rank=rank, world=world, bf16=bf16)


def close_context() -> None:
    """Leave the process group, if one was joined."""
    if dist.is_initialized():
        dist.destroy_process_group()


def autocast(ctx: Context):
    """bf16 autocast where enabled (no loss scaling needed), else a no-op context."""
    if not ctx.bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=ctx.device.type, dtype=torch.bfloat16)


def seed_step(seed: int, step: int, rank: int = 0) -> torch.Generator:
    """Seed this step's global RNG (noise, dropout; per rank) and return its batch generator (shared)."""
    torch.manual_seed((seed * 1_000_003 + step * 7_919 + rank * 104_729) % (2**63))
    return torch.Generator().manual_seed((seed * 1_000_003 + step) % (2**63))


def agree(ctx: Context, *flags: bool) -> list[bool]:
    """Combine per-rank flags (any rank true → true everywhere)."""
    if ctx.world == 1:
        return list(flags)
    tensor = torch.tensor([float(f) for f in flags], device=ctx.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return [bool(v) for v in tensor.tolist()]


def describe_device() -> str:
    """'NVIDIA H100 80GB HBM3 (CUDA)', 'Apple GPU (MPS)' or 'CPU, 2 cores (no GPU found)'."""
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        name = torch.cuda.get_device_name(0)
        return f"{name} (CUDA)" + (f" × {count}" if count > 1 else "")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "Apple GPU (MPS)"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"CPU, {cores} core{'s' if cores != 1 else ''} (no GPU found)"


def use_serving_threads(threads: int = 1) -> None:
    """Limit torch's intra-op threads in the web server.

    Many visitors share a few cores; sampling 64 pieces took 3.0 s with torch's default thread count
    on a busy two-core machine and 0.07 s with one thread.
    """
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)

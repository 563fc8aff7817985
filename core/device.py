"""Which compute device the studio uses, in words a person can read."""

from __future__ import annotations

import os


def describe_device() -> str:
    """'NVIDIA H100 80GB HBM3 (CUDA)', 'Apple GPU (MPS)' or 'CPU, 2 cores'. Imports torch lazily."""
    import torch

    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        name = torch.cuda.get_device_name(0)
        return f"{name} (CUDA)" + (f" × {count}" if count > 1 else "")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "Apple GPU (MPS)"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"CPU, {cores} core{'s' if cores != 1 else ''} (no GPU found)"


def has_gpu() -> bool:
    """True when CUDA or MPS is available."""
    import torch

    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps is not None and mps.is_available())


def use_serving_threads(threads: int = 1) -> None:
    """Limit torch's intra-op threads in the web server.

    Many visitors share a few cores; sampling 64 pieces took 3.0 s with torch's default thread count
    on a busy two-core machine and 0.07 s with one thread.
    """
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)

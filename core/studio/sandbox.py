"""What a training process may take from the server: memory, and room in the runs folder.

- **Memory.** On a CPU a training process starts with an address-space limit
  (:attr:`core.budgets.Budgets.training_address_space_mb`, ``RLIMIT_AS``, as the MIDI parse workers have):
  an allocation past it fails, and the run ends as "failed" with the reason in its status. The limit is not
  set where the run may use a GPU (a device other than ``cpu`` on a machine with an NVIDIA or AMD GPU
  driver): the CUDA driver reserves tens of gigabytes of address space at start and would fail under it.
  There the training-windows budget still bounds the data a run loads.
- **Disk.** No run starts while ``runs/`` holds more than :attr:`core.budgets.Budgets.disk_runs_bytes`;
  a teacher deletes old runs on the Storage page.
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Callable
from pathlib import Path

from core.budgets import BUDGETS, MB, format_bytes
from core.eviction import tree_bytes
from core.paths import runs_root

LIMITED_ENV = {"OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
"""Set in a limited process: OpenBLAS reserves a buffer per core at start (on a many-core server more
address space than the limit, and it then hangs instead of failing), and glibc a 64 MB arena per thread."""
GPU_DRIVER_NODES = (Path("/dev/nvidiactl"), Path("/dev/kfd"))
"""Device files that exist where a CUDA (NVIDIA) or ROCm (AMD) GPU can be used."""


def requested_device(config: dict) -> str:
    """The ``device`` of a training config, flat (``{"device": ...}``) or nested (``{"run": {...}}``)."""
    run = config.get("run") if isinstance(config.get("run"), dict) else {}
    return str(config.get("device") or run.get("device") or "auto")


def may_use_gpu(device: str) -> bool:
    """Whether a run asking for ``device`` could end up on a GPU here."""
    if device == "cpu":
        return False
    return sys.platform != "linux" or any(node.exists() for node in GPU_DRIVER_NODES)


def memory_limiter(
    config: dict, limit_mb: int = BUDGETS.training_address_space_mb
) -> Callable[[], None] | None:
    """A ``preexec_fn`` that caps the training process's address space, or None where it may use a GPU."""
    if may_use_gpu(requested_device(config)):
        return None
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    limit = limit_mb * MB if hard == resource.RLIM_INFINITY else min(limit_mb * MB, hard)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.environ.update(LIMITED_ENV)  # inherited by the program exec'd next

    return apply


def runs_disk_problem(max_bytes: int = BUDGETS.disk_runs_bytes) -> str | None:
    """Why no new run may start (the runs folder is over its disk budget), or None."""
    used = tree_bytes(runs_root())
    if used <= max_bytes:
        return None
    return (
        f"the training runs already take {format_bytes(used)} of disk, more than their "
        f"{format_bytes(max_bytes)} budget; a teacher can delete old runs on the Storage page"
    )

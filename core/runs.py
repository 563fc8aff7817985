"""Run-folder I/O: the files a training run writes and a dashboard reads.

Layout of ``runs/<run_id>/``::

    config.json          the full training config
    metrics.jsonl        one JSON object per logged step (appended, flushed each line)
    status.json          RunStatus, rewritten atomically
    samples/             step_<n>.npz (active, onset) and step_<n>_<i>.mid
    checkpoints/         last.pt, best.pt (best quality score) and mle.pt (end of the MLE phase),
                         written atomically
    STOP                 created by anyone who wants the run to end cleanly
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

import torch

STATES = ("starting", "running", "finished", "stopped", "failed")


@dataclass
class RunStatus:
    """What ``status.json`` holds."""

    state: str = "starting"
    message: str = ""
    step: int = 0
    total_steps: int = 0
    phase: str = ""
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    eta_s: float | None = None


class CheckpointError(ValueError):
    """A checkpoint file cannot be used; the message says why, in words a user understands."""


@contextlib.contextmanager
def _atomic_file(path: Path, mode: str) -> Iterator[IO]:
    """A temporary file beside ``path`` that replaces it only when fully written (removed on failure)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _readable(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _readable(tmp: str) -> None:
    """``mkstemp`` files are private (0600); give the final file the usual 0644."""
    os.chmod(tmp, 0o644)


def write_json_atomic(path: Path, obj: object) -> None:
    """Write JSON atomically: a reader sees the old file or the new one, never half of one."""
    with _atomic_file(path, "w") as handle:
        json.dump(obj, handle, indent=2, default=_json_default)


def save_checkpoint_atomic(obj: dict, path: Path) -> None:
    """``torch.save`` atomically; a failed write (a full disk) leaves the previous file untouched."""
    with _atomic_file(path, "wb") as handle:
        torch.save(obj, handle)


def load_checkpoint(path: Path, device: str = "cpu") -> dict:
    """Load a checkpoint dict safely (``weights_only=True``: no code in a file ever runs).

    Raises FileNotFoundError for a missing file and :class:`CheckpointError` for anything else that is
    not a checkpoint dict (truncated, empty, text, a pickle of arbitrary objects).
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as error:  # torch raises many types on damaged or hostile files
        raise CheckpointError(
            f"{path.name} is not a readable checkpoint: it is damaged, truncated or not a PyTorch "
            f"checkpoint of this studio ({type(error).__name__})"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path.name} is not a readable checkpoint (it holds no dictionary of weights)")
    return state


def _json_default(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _finite(value: object) -> object:
    """JSON has no NaN/inf: write them as null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


class RunFiles:
    """Paths and writers of one run folder."""

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.root = Path(run_dir)
        self.config = self.root / "config.json"
        self.metrics = self.root / "metrics.jsonl"
        self.status_file = self.root / "status.json"
        self.samples = self.root / "samples"
        self.checkpoints = self.root / "checkpoints"
        self.last = self.checkpoints / "last.pt"
        self.best = self.checkpoints / "best.pt"
        self.mle = self.checkpoints / "mle.pt"
        self.stop_file = self.root / "STOP"

    def create(self) -> None:
        """Make the folders."""
        self.samples.mkdir(parents=True, exist_ok=True)
        self.checkpoints.mkdir(parents=True, exist_ok=True)

    def write_config(self, config: dict) -> None:
        write_json_atomic(self.config, config)

    def append_metrics(self, record: dict) -> None:
        """Append one JSON line (non-finite floats become null)."""
        line = json.dumps({key: _finite(value) for key, value in record.items()}, default=_json_default)
        with self.metrics.open("a") as handle:
            handle.write(line + "\n")

    def write_status(self, status: RunStatus) -> None:
        status.updated_at = time.time()
        write_json_atomic(self.status_file, asdict(status))

    def stop_requested(self) -> bool:
        return self.stop_file.exists()


def read_status(run_dir: str | os.PathLike) -> dict | None:
    """The run's status dict, or None when it has not written one yet."""
    try:
        return json.loads(RunFiles(run_dir).status_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def read_metrics(run_dir: str | os.PathLike) -> list[dict]:
    """All complete metric lines (a line still being written is skipped)."""
    path = RunFiles(run_dir).metrics
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def request_stop(run_dir: str | os.PathLike) -> None:
    """Ask a running training process to checkpoint and end."""
    RunFiles(run_dir).stop_file.touch()

"""Run-folder I/O: the files a training run writes and a dashboard reads.

Layout of ``runs/<run_id>/``::

    config.json          the full training config
    metrics.jsonl        one JSON object per logged step (appended, flushed each line)
    status.json          RunStatus, rewritten atomically
    samples/             step_<n>.npz (active, onset) and step_<n>_<i>.mid
    checkpoints/         last.pt (everything to resume) and best.pt (the best quality score so far),
                         written atomically
    STOP                 created by anyone who wants the run to end cleanly
    job.json, train.log  the background process that trains it and its console (core.studio.jobs)
    requested_config.json  the settings it was started with from the app
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.files import json_ready, write_json_atomic, write_text_atomic


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
        self.stop_file = self.root / "STOP"
        self.job = self.root / "job.json"
        self.log = self.root / "train.log"
        self.requested_config = self.root / "requested_config.json"

    def create(self) -> None:
        """Make the folders."""
        self.samples.mkdir(parents=True, exist_ok=True)
        self.checkpoints.mkdir(parents=True, exist_ok=True)

    def write_config(self, config: dict) -> None:
        write_json_atomic(self.config, config)

    def keep_metrics_until(self, step: int) -> None:
        """Drop logged lines past ``step``: a resumed run repeats the steps after its last checkpoint."""
        kept = [record for record in read_metrics(self.root) if int(record.get("step", 0)) <= step]
        write_text_atomic(self.metrics, "".join(_metrics_line(record) + "\n" for record in kept))

    def append_metrics(self, record: dict) -> None:
        """Append one JSON line (non-finite floats become null)."""
        with self.metrics.open("a") as handle:
            handle.write(_metrics_line(record) + "\n")

    def write_status(self, status: RunStatus) -> None:
        status.updated_at = time.time()
        write_json_atomic(self.status_file, asdict(status))

    def stop_requested(self) -> bool:
        return self.stop_file.exists()


def _metrics_line(record: dict) -> str:
    """One JSON line (NaN and infinities become null)."""
    return json.dumps(json_ready(record))


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

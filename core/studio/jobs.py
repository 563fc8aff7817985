"""Background training jobs: start, watch, stop and resume ``python -m core.train`` as subprocesses.

The web app starts training through this module so that a run survives page reloads and every viewer sees
the same run. One run trains at a time per runs folder (a lock file guards the start; runs that wait for
the slot are queued by :mod:`core.studio.queue`). A run's own files (``status.json``, ``metrics.jsonl``,
checkpoints; see :mod:`core.training.runfiles`) are the source of truth; this module adds the process
bookkeeping in ``job.json``: ``pid`` and ``command`` once started, ``owner`` (the session token of the
student who asked for it, absent for a class run), ``label`` (the preset in words), ``queued_at``,
``resume`` and ``cancelled`` while it waits.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.files import read_json_or_none, write_json_atomic
from core.paths import REPO_ROOT, runs_root
from core.studio.sandbox import memory_limiter, runs_disk_problem
from core.training.runfiles import RunFiles, RunStatus

FINAL_STATES = ("finished", "stopped", "failed")
"""States a run's process writes last: after one, the process only exits."""
TRAINING_TOOLS = (b"core.train", b"core.jobs")
"""Command-line tools whose process trains a run (the pid check's guard against recycled pids)."""
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_children: dict[int, subprocess.Popen] = {}


class JobError(Exception):
    """A training job could not be started, found or stopped; the message is meant for the user."""


@dataclass(frozen=True)
class RunInfo:
    """One run folder as the dashboard shows it."""

    run_id: str
    path: Path
    state: str
    message: str
    step: int
    total_steps: int
    phase: str
    eta_s: float | None
    alive: bool
    updated_at: float
    owner: str | None = None
    label: str = ""
    queued_at: float | None = None

    @property
    def training(self) -> bool:
        """Its process runs and has not yet said how the run ended (it may take a moment to exit after)."""
        return self.alive and self.state not in FINAL_STATES

    @property
    def is_class_run(self) -> bool:
        """A run of the whole class (started by the teacher), not a student's own."""
        return self.owner is None

    @property
    def files(self) -> RunFiles:
        return RunFiles(self.path)

    @property
    def last_checkpoint(self) -> Path:
        return self.files.last

    @property
    def best_checkpoint(self) -> Path:
        return self.files.best

    @property
    def progress(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0


def check_run_id(run_id: str) -> str:
    """Accept only plain folder names (no separators, no ``..``): run ids come from the browser."""
    if not RUN_ID_PATTERN.match(run_id or ""):
        raise JobError(f"{run_id!r} is not a valid run name (letters, digits, '-', '_', '.', up to 64)")
    return run_id


def new_run_id(prefix: str = "run") -> str:
    """A fresh, sortable run id such as ``run-20261125-213000``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_id = f"{prefix}-{stamp}"
    suffix = 1
    while (runs_root() / run_id).exists():
        suffix += 1
        run_id = f"{prefix}-{stamp}-{suffix}"
    return check_run_id(run_id)


def _pid_alive(pid: int) -> bool:
    """Whether a run's training process still runs (this process never counts: a training process asks
    only after its own run ended, to hand the slot on)."""
    if pid == os.getpid():
        return False
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # guard against a recycled pid
        return any(tool in cmdline.read_bytes() for tool in TRAINING_TOOLS)
    return True


def run_info(run_id: str) -> RunInfo:
    """The effective state of one run: a run whose process died while 'running' is 'interrupted'."""
    path = runs_root() / check_run_id(run_id)
    if not path.is_dir():
        raise JobError(f"there is no run called {run_id!r}")
    files = RunFiles(path)
    status = read_json_or_none(files.status_file) or {}
    job = read_json_or_none(files.job) or {}
    alive = bool(job.get("pid")) and _pid_alive(int(job["pid"]))
    state = status.get("state", "starting" if alive else "unknown")
    message = status.get("message", "")
    if state in ("starting", "running") and not alive:
        state, message = "interrupted", "the training process ended without finishing; resume it to go on"
    if not job.get("pid") and job.get("queued_at") is not None:
        state, message = waiting_state(job)
    return RunInfo(
        run_id=run_id,
        path=path,
        state=state,
        message=message,
        step=int(status.get("step", 0)),
        total_steps=int(status.get("total_steps", 0)),
        phase=str(status.get("phase", "")),
        eta_s=status.get("eta_s"),
        alive=alive,
        updated_at=float(status.get("updated_at", job.get("queued_at") or path.stat().st_mtime)),
        owner=job.get("owner"),
        label=str(job.get("label", "")),
        queued_at=job.get("queued_at"),
    )


def waiting_state(job: dict) -> tuple[str, str]:
    """(state, message) of a run that has not started: "queued", or "cancelled" when taken off the queue."""
    if job.get("cancelled"):
        return "cancelled", "taken off the queue before it started"
    return "queued", "waiting for the training slot"


def list_runs() -> list[RunInfo]:
    """Every run, newest first."""
    runs = []
    for path in runs_root().iterdir():
        if path.is_dir() and RUN_ID_PATTERN.match(path.name):
            runs.append(run_info(path.name))
    return sorted(runs, key=lambda info: info.updated_at, reverse=True)


def active_run() -> RunInfo | None:
    """The run whose process is alive, if any."""
    return next((info for info in list_runs() if info.alive), None)


@contextmanager
def start_lock() -> Iterator[None]:
    """Held while a run is started or queued: one process at a time decides who gets the slot."""
    with open(runs_root() / ".start.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_run(
    config: dict, run_id: str | None = None, resume: bool = False, owner: str | None = None, label: str = ""
) -> str:
    """Start ``python -m core.train`` in the background now; refuses while another run is alive."""
    with start_lock():
        busy = active_run()
        if busy is not None:
            raise JobError(f"run {busy.run_id!r} is still training; stop it first (one run at a time)")
        run_id = check_run_id(run_id) if run_id else new_run_id()
        files = RunFiles(runs_root() / run_id)
        if resume and not files.last.exists():
            raise JobError(f"run {run_id!r} has no checkpoint to resume from")
        files.root.mkdir(parents=True, exist_ok=True)
        if not resume:
            write_json_atomic(files.requested_config, config)
        launch(run_id, resume, {"owner": owner, "label": label} if owner or label else {})
        return run_id


def launch(run_id: str, resume: bool, job: dict) -> int:
    """Start the training process of a prepared run folder (hold :func:`start_lock`); returns its pid.

    The process is ``python -m core.jobs train``: it trains, then starts the next queued run.

    ``job`` is the run's bookkeeping so far (owner, label); the pid and command are added to it. The process
    gets the memory limit of :mod:`core.studio.sandbox`. While the runs folder is over its disk budget
    nothing starts: the run is marked failed with the reason instead, and 0 is returned.
    """
    files = RunFiles(runs_root() / check_run_id(run_id))
    files.stop_file.unlink(missing_ok=True)
    if problem := runs_disk_problem():
        kept = {key: job[key] for key in ("owner", "label") if job.get(key) is not None}
        write_json_atomic(files.job, kept)
        files.write_status(RunStatus(state="failed", message=f"not started: {problem}"))
        return 0
    command = [sys.executable, "-m", "core.jobs", "train", "--run-dir", str(files.root)]
    if resume:
        command.append("--resume")
    else:
        command += ["--config", str(files.requested_config)]
    with open(files.log, "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=memory_limiter(
                read_json_or_none(files.requested_config if not resume else files.config) or {}
            ),
        )
    _children[process.pid] = process
    kept = {key: job[key] for key in ("owner", "label") if job.get(key) is not None}
    started = {"pid": process.pid, "command": command[1:], "started_at": time.time()}
    write_json_atomic(files.job, {**kept, **started})
    return process.pid


def stop_run(run_id: str, wait_s: float = 0.0) -> None:
    """Ask a run to checkpoint and end (stop file, then SIGTERM); optionally wait for it."""
    info = run_info(run_id)
    info.files.stop_file.touch()
    job = read_json_or_none(info.files.job) or {}
    if info.alive and job.get("pid"):
        os.kill(int(job["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while wait_s and time.monotonic() < deadline and run_info(run_id).alive:
        time.sleep(0.1)


def delete_run(run_id: str) -> None:
    """Remove a run folder and everything in it; refuses while the run trains."""
    info = run_info(run_id)
    if info.alive:
        raise JobError(f"run {run_id!r} is still training; stop it before deleting it")
    shutil.rmtree(info.path)


def latest_samples(run_id: str) -> tuple[int, np.ndarray, np.ndarray] | None:
    """(step, active, onset) of the newest sample batch a run wrote, or None before the first one."""
    folder = RunFiles(runs_root() / check_run_id(run_id)).samples
    files = sorted(folder.glob("step_*.npz")) if folder.is_dir() else []
    for path in reversed(files):
        try:
            with np.load(path, allow_pickle=False) as data:
                return int(path.stem.split("_")[1]), data["active"], data["onset"]
        except (OSError, ValueError, KeyError):
            continue  # being written or damaged: fall back to the previous batch
    return None


def tail_log(run_id: str, max_bytes: int = 4000) -> str:
    """The end of a run's console log (for a failed run's details)."""
    log = RunFiles(runs_root() / check_run_id(run_id)).log
    if not log.exists():
        return ""
    data = log.read_bytes()[-max_bytes:]
    return data.decode("utf-8", errors="replace")

"""Background training jobs: start, watch, stop and resume ``python -m core.train`` as subprocesses.

The web app starts training through this module so that a run survives page reloads and every viewer sees
the same run. One run trains at a time per runs folder (a lock file guards the start). A run's own files
(``status.json``, ``metrics.jsonl``, checkpoints; see :mod:`core.runs`) are the source of truth; this module
adds the process bookkeeping (``job.json``: pid and command) and the choice of the active generator.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNS_ENV = "GMS_RUNS_DIR"
DEFAULT_CHECKPOINT = REPO_ROOT / "checkpoints" / "default"
DEFAULT_CORPUS = REPO_ROOT / "data" / "chorales"
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

    @property
    def last_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "best.pt"

    @property
    def progress(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0


def runs_root() -> Path:
    """The folder holding every run (``runs/`` in the repository, or ``$GMS_RUNS_DIR``)."""
    root = Path(os.environ.get(RUNS_ENV) or REPO_ROOT / "runs")
    root.mkdir(parents=True, exist_ok=True)
    return root


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
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # guard against a recycled pid
        return b"core.train" in cmdline.read_bytes()
    return True


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def run_info(run_id: str) -> RunInfo:
    """The effective state of one run: a run whose process died while 'running' is 'interrupted'."""
    path = runs_root() / check_run_id(run_id)
    if not path.is_dir():
        raise JobError(f"there is no run called {run_id!r}")
    status = _read_json(path / "status.json") or {}
    job = _read_json(path / "job.json") or {}
    alive = bool(job.get("pid")) and _pid_alive(int(job["pid"]))
    state = status.get("state", "starting" if alive else "unknown")
    message = status.get("message", "")
    if state in ("starting", "running") and not alive:
        state, message = "interrupted", "the training process ended without finishing; resume it to go on"
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
        updated_at=float(status.get("updated_at", path.stat().st_mtime)),
    )


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
def _start_lock() -> Iterator[None]:
    with open(runs_root() / ".start.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_run(config: dict, run_id: str | None = None, resume: bool = False) -> str:
    """Start ``python -m core.train`` in the background; refuses while another run is alive."""
    with _start_lock():
        busy = active_run()
        if busy is not None:
            raise JobError(f"run {busy.run_id!r} is still training; stop it first (one run at a time)")
        run_id = check_run_id(run_id) if run_id else new_run_id()
        path = runs_root() / run_id
        if resume and not (path / "checkpoints" / "last.pt").exists():
            raise JobError(f"run {run_id!r} has no checkpoint to resume from")
        path.mkdir(parents=True, exist_ok=True)
        (path / "STOP").unlink(missing_ok=True)
        command = [sys.executable, "-m", "core.train", "--run-dir", str(path)]
        if resume:
            command.append("--resume")
        else:
            (path / "requested_config.json").write_text(json.dumps(config, indent=2))
            command += ["--config", str(path / "requested_config.json")]
        with open(path / "train.log", "ab") as log:
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        _children[process.pid] = process
        (path / "job.json").write_text(json.dumps({"pid": process.pid, "command": command[1:]}))
        return run_id


def stop_run(run_id: str, wait_s: float = 0.0) -> None:
    """Ask a run to checkpoint and end (stop file, then SIGTERM); optionally wait for it."""
    info = run_info(run_id)
    (info.path / "STOP").touch()
    job = _read_json(info.path / "job.json") or {}
    if info.alive and job.get("pid"):
        os.kill(int(job["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while wait_s and time.monotonic() < deadline and run_info(run_id).alive:
        time.sleep(0.1)


def latest_samples(run_id: str) -> tuple[int, np.ndarray, np.ndarray] | None:
    """(step, active, onset) of the newest sample batch a run wrote, or None before the first one."""
    folder = runs_root() / check_run_id(run_id) / "samples"
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
    log = runs_root() / check_run_id(run_id) / "train.log"
    if not log.exists():
        return ""
    data = log.read_bytes()[-max_bytes:]
    return data.decode("utf-8", errors="replace")


def _remember(choice: str, path: Path) -> None:
    """Record a chosen path (server-wide: every visitor sees the same choice)."""
    (runs_root() / f"active_{choice}.json").write_text(json.dumps({"path": str(Path(path).resolve())}))


def _recall(choice: str, default: Path) -> Path:
    """A recorded choice that still exists, else ``default``."""
    chosen = (_read_json(runs_root() / f"active_{choice}.json") or {}).get("path")
    return Path(chosen) if chosen and Path(chosen).exists() else default


def set_active_checkpoint(path: Path) -> None:
    """Make a checkpoint the generator the Generate page uses."""
    if not Path(path).exists():
        raise JobError(f"no checkpoint at {path}")
    _remember("checkpoint", path)


def active_checkpoint() -> Path:
    """The chosen generator checkpoint, or the shipped default when none was chosen (or it vanished)."""
    return _recall("checkpoint", DEFAULT_CHECKPOINT)


def set_active_corpus(folder: Path) -> None:
    """Make a folder of MIDI files the corpus the Train page trains on."""
    if not Path(folder).is_dir():
        raise JobError(f"no corpus folder at {folder}")
    _remember("corpus", folder)


def active_corpus() -> Path:
    """The chosen training corpus, or the bundled chorales when none was chosen (or it vanished)."""
    return _recall("corpus", DEFAULT_CORPUS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.jobs", description="List and stop training runs.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list runs, newest first")
    stop = sub.add_parser("stop", help="ask a run to checkpoint and end")
    stop.add_argument("run_id")
    args = parser.parse_args(argv)
    try:
        if args.command == "stop":
            stop_run(args.run_id, wait_s=30)
            print(run_info(args.run_id).state)
            return 0
        for info in list_runs():
            print(f"{info.run_id}\t{info.state}\t{info.step}/{info.total_steps}\t{info.message}")
    except JobError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The training queue: runs wait their turn for the server's one training slot.

A queued run is a run folder whose ``job.json`` has ``queued_at`` and no pid yet (see
:mod:`core.studio.jobs`). The queue's order: the class's runs (the teacher's) first, then students' own
runs in the order they were asked for. :func:`advance` starts the head of the queue whenever no run is
training; a run's training process calls it when the run ends (``python -m core.jobs train``) and the
app on every page load, so a queued run starts even when nobody watches. Everything is decided under
:func:`core.studio.jobs.start_lock`, so several server processes sharing one runs folder agree.

Who may do what (:func:`require_control`): the teacher controls every run; a student controls only the
runs they asked for. Students queue small presets only, one run at a time, each with a time budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.files import read_json_or_none, write_json_atomic
from core.paths import runs_root
from core.studio import jobs
from core.studio.roles import RoleError, Visitor
from core.training.presets import preset_config
from core.training.runfiles import RunFiles

STUDENT_PRESETS = ("Quick check", "Classroom")
"""The presets a student may queue: a few seconds to about two minutes each."""
MAX_STUDENT_MINUTES = 10.0


@dataclass(frozen=True)
class Ticket:
    """A queued run: its id and its place (1 = next to start)."""

    run_id: str
    position: int


def submit(config: dict, owner: str | None = None, label: str = "", run_id: str | None = None) -> str:
    """Queue a new run (``owner`` None: a class run); starts it at once when the slot is free."""
    with jobs.start_lock():
        prefix = "class" if owner is None else "student"
        run_id = jobs.check_run_id(run_id) if run_id else jobs.new_run_id(prefix)
        files = RunFiles(runs_root() / run_id)
        files.root.mkdir(parents=True, exist_ok=False)
        write_json_atomic(files.requested_config, config)
        _write_waiting(files, owner, label, resume=False)
        _advance_locked()
    return run_id


def resubmit(run_id: str) -> None:
    """Queue a stopped or interrupted run to resume from its last checkpoint."""
    with jobs.start_lock():
        info = jobs.run_info(run_id)
        if info.alive or info.state == "queued":
            raise jobs.JobError(f"run {run_id!r} is already training or queued")
        if not info.last_checkpoint.exists():
            raise jobs.JobError(f"run {run_id!r} has no checkpoint to resume from")
        _write_waiting(info.files, info.owner, info.label, resume=True)
        _advance_locked()


def _write_waiting(files: RunFiles, owner: str | None, label: str, resume: bool) -> None:
    job = {"owner": owner, "label": label, "queued_at": time.time(), "resume": resume}
    write_json_atomic(files.job, {key: value for key, value in job.items() if value is not None})


def waiting() -> list[jobs.RunInfo]:
    """The queued runs in the order they will start."""
    queued = [info for info in jobs.list_runs() if info.state == "queued"]
    return sorted(queued, key=lambda info: (not info.is_class_run, info.queued_at or 0.0))


def tickets() -> dict[str, Ticket]:
    """Each queued run's place in the queue, by run id."""
    return {info.run_id: Ticket(info.run_id, place) for place, info in enumerate(waiting(), start=1)}


def advance() -> str | None:
    """Start the head of the queue when no run is training; returns the started run's id, if any."""
    with jobs.start_lock():
        return _advance_locked()


def _advance_locked() -> str | None:
    if jobs.active_run() is not None:
        return None
    for info in waiting():
        job = read_json_or_none(info.files.job) or {}
        resume = bool(job.get("resume"))
        if resume and not info.last_checkpoint.exists():
            write_json_atomic(info.files.job, {**job, "cancelled": True})
            continue
        jobs.launch(info.run_id, resume, job)
        return info.run_id
    return None


def cancel(run_id: str) -> None:
    """Take a queued run off the queue (it stays listed as "cancelled")."""
    with jobs.start_lock():
        info = jobs.run_info(run_id)
        if info.state != "queued":
            raise jobs.JobError(f"run {run_id!r} is not waiting in the queue")
        write_json_atomic(info.files.job, {**(read_json_or_none(info.files.job) or {}), "cancelled": True})


def stop_or_cancel(run_id: str, visitor: Visitor) -> None:
    """Stop a training run or take a queued one off the queue, if ``visitor`` may."""
    info = jobs.run_info(run_id)
    require_control(info, visitor, "stop this run")
    if info.state == "queued":
        cancel(run_id)
    else:
        jobs.stop_run(run_id)


def may_control(info: jobs.RunInfo, visitor: Visitor) -> bool:
    """The teacher controls every run; a student only the runs they asked for."""
    return visitor.teacher or (info.owner is not None and info.owner == visitor.owner)


def require_control(info: jobs.RunInfo, visitor: Visitor, action: str) -> None:
    """Raise :class:`RoleError` unless ``visitor`` may act on the run."""
    if not may_control(info, visitor):
        owner = "the class" if info.is_class_run else "another student"
        raise RoleError(
            f"Only the teacher or whoever started it can {action}: run {info.run_id} is {owner}'s."
        )


def visible_runs(visitor: Visitor) -> list[jobs.RunInfo]:
    """The runs a visitor sees: every run for the teacher; the class's runs and their own for a student."""
    runs = jobs.list_runs()
    return runs if visitor.teacher else [r for r in runs if r.is_class_run or r.owner == visitor.owner]


def student_config(preset: str, corpus: str, minutes: float) -> dict:
    """A student's run: one of :data:`STUDENT_PRESETS`, on ``corpus``, stopped after ``minutes``."""
    if preset not in STUDENT_PRESETS:
        raise RoleError(f"Students can train the {' or '.join(STUDENT_PRESETS)} presets only.")
    budget = min(max(float(minutes), 0.1), MAX_STUDENT_MINUTES)
    return preset_config(preset, data_dir=corpus, max_minutes=budget)


def submit_own(config: dict, visitor: Visitor, label: str) -> str:
    """Queue a student's own run; one queued or training run per student at a time."""
    if not visitor.owner:
        raise RoleError("This session has no space of its own to train in.")
    mine = [r for r in jobs.list_runs() if r.owner == visitor.owner and (r.alive or r.state == "queued")]
    if mine:
        busy = mine[0]
        raise jobs.JobError(f"your run {busy.run_id} is still {busy.state}: wait for it or stop it first")
    return submit(config, owner=visitor.owner, label=label)

"""The training queue: order, positions, who may stop what, students' limits, and a budgeted student run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.files import write_json_atomic
from core.paths import DEFAULT_CORPUS, RUNS_ENV
from core.studio import jobs, queue
from core.studio.roles import RoleError, Visitor
from core.training.presets import preset_config

TEACHER = Visitor(owner="teacher-token", teacher=True)
ALICE = Visitor(owner="alice-token", teacher=False)
BOB = Visitor(owner="bob-token", teacher=False)


@pytest.fixture(autouse=True)
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    return tmp_path / "runs"


@pytest.fixture
def slot(monkeypatch: pytest.MonkeyPatch) -> dict:
    """A pretend training slot: ``busy`` says whether a run holds it; ``launched`` lists started runs."""
    state: dict = {"busy": True, "launched": []}

    def fake_active_run():
        return object() if state["busy"] else None

    def fake_launch(run_id: str, resume: bool, job: dict) -> int:
        state["launched"].append((run_id, resume))
        state["busy"] = True
        write_json_atomic(jobs.run_info(run_id).files.job, {"owner": job.get("owner"), "pid": 0})
        return 0

    monkeypatch.setattr(jobs, "active_run", fake_active_run)
    monkeypatch.setattr(jobs, "launch", fake_launch)
    return state


def own(visitor: Visitor) -> str:
    return queue.submit_own(
        queue.student_config("Quick check", str(DEFAULT_CORPUS), 3), visitor, "Quick check"
    )


def test_runs_wait_while_the_slot_is_busy_and_class_runs_go_first(slot: dict) -> None:
    alice = own(ALICE)
    time.sleep(0.01)
    bob = own(BOB)
    time.sleep(0.01)
    lesson = queue.submit({"mle_steps": 10}, label="Classroom")
    assert [info.state for info in jobs.list_runs()] == ["queued"] * 3
    assert {run_id: t.position for run_id, t in queue.tickets().items()} == {lesson: 1, alice: 2, bob: 3}
    assert slot["launched"] == []
    slot["busy"] = False
    assert queue.advance() == lesson
    assert queue.advance() is None  # the slot is taken again
    assert slot["launched"] == [(lesson, False)]


def test_a_run_starts_at_once_when_the_slot_is_free(slot: dict) -> None:
    slot["busy"] = False
    run_id = queue.submit({"mle_steps": 10})
    assert slot["launched"] == [(run_id, False)]


def test_students_stop_only_their_own_runs_and_the_teacher_stops_any(slot: dict) -> None:
    lesson = queue.submit({"mle_steps": 10})
    alice, bob = own(ALICE), own(BOB)
    for run_id in (lesson, bob):
        with pytest.raises(RoleError, match="Only the teacher or whoever started it"):
            queue.stop_or_cancel(run_id, ALICE)
    queue.stop_or_cancel(alice, ALICE)
    assert jobs.run_info(alice).state == "cancelled"
    queue.stop_or_cancel(bob, TEACHER)
    queue.stop_or_cancel(lesson, TEACHER)
    assert queue.tickets() == {}


def test_a_student_sees_the_class_runs_and_their_own(slot: dict) -> None:
    lesson = queue.submit({"mle_steps": 10})
    alice, bob = own(ALICE), own(BOB)
    assert {r.run_id for r in queue.visible_runs(ALICE)} == {lesson, alice}
    assert {r.run_id for r in queue.visible_runs(TEACHER)} == {lesson, alice, bob}


def test_one_run_per_student_small_presets_and_a_capped_budget(slot: dict) -> None:
    own(ALICE)
    with pytest.raises(jobs.JobError, match="still queued"):
        own(ALICE)
    with pytest.raises(RoleError, match="presets only"):
        queue.student_config("Full", str(DEFAULT_CORPUS), 3)
    config = queue.student_config("Classroom", str(DEFAULT_CORPUS), 500)
    assert config["max_minutes"] == queue.MAX_STUDENT_MINUTES
    assert config["data_dir"] == str(DEFAULT_CORPUS)


def test_resuming_needs_a_checkpoint(slot: dict, runs_dir: Path) -> None:
    slot["busy"] = False
    run_id = queue.submit({"mle_steps": 10})
    slot["busy"] = False
    with pytest.raises(jobs.JobError, match="no checkpoint"):
        queue.resubmit(run_id)
    last = runs_dir / run_id / "checkpoints" / "last.pt"
    last.parent.mkdir(parents=True)
    last.write_bytes(b"x")
    queue.resubmit(run_id)
    assert slot["launched"][-1] == (run_id, True)


def test_a_students_run_trains_and_ends_at_its_time_budget() -> None:
    config = queue.student_config("Quick check", str(DEFAULT_CORPUS), minutes=0.1)
    run_id = queue.submit_own(
        {**config, "mle_steps": 100_000, "checkpoint_every": 1000}, ALICE, "Quick check"
    )
    deadline = time.monotonic() + 120
    while jobs.run_info(run_id).alive or jobs.run_info(run_id).state == "queued":
        assert time.monotonic() < deadline, jobs.tail_log(run_id)
        time.sleep(0.5)
    info = jobs.run_info(run_id)
    assert info.state == "stopped", jobs.tail_log(run_id)
    assert "time limit" in info.message
    assert info.owner == ALICE.owner and info.label == "Quick check"


def test_the_next_queued_run_starts_by_itself_when_the_one_before_ends() -> None:
    tiny = preset_config("Quick check", mle_steps=4, gan_steps=2, eval_every=0, sample_every=0)
    first = queue.submit(tiny, label="Quick check")
    second = queue.submit_own(tiny, ALICE, "Quick check")
    assert jobs.run_info(second).state == "queued"
    deadline = time.monotonic() + 120
    while jobs.run_info(second).state != "finished":  # nobody calls advance(): the first run hands on
        assert time.monotonic() < deadline, jobs.tail_log(first) + jobs.tail_log(second)
        time.sleep(0.5)
    assert jobs.run_info(first).state == "finished"

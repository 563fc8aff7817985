"""Background training jobs: start, one-at-a-time, stop, interrupted runs, active choices."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from core.paths import DEFAULT_CHECKPOINT, RUNS_ENV
from core.studio import choices, jobs
from core.training.presets import preset_config


@pytest.fixture(autouse=True)
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    return tmp_path / "runs"


def wait_until(predicate, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


@pytest.mark.parametrize("bad", ["", "../etc", "a/b", ".hidden", "x" * 65, "name with space"])
def test_run_ids_from_the_browser_are_checked(bad: str) -> None:
    with pytest.raises(jobs.JobError):
        jobs.check_run_id(bad)


def test_quick_run_trains_in_the_background_and_finishes() -> None:
    run_id = jobs.start_run(preset_config("Quick check"))
    with pytest.raises(jobs.JobError, match="one run at a time"):
        jobs.start_run(preset_config("Quick check"))
    wait_until(lambda: not jobs.run_info(run_id).alive)
    info = jobs.run_info(run_id)
    assert info.state == "finished", jobs.tail_log(run_id)
    assert info.step == info.total_steps == 40
    assert info.last_checkpoint.exists()
    step, active, onset = jobs.latest_samples(run_id)
    assert step == 40 and active.shape == onset.shape and active.ndim == 3
    assert [r.run_id for r in jobs.list_runs()] == [run_id]


def test_stop_ends_a_run_with_a_checkpoint_and_resume_continues() -> None:
    config = preset_config("Quick check", mle_steps=100_000, checkpoint_every=1000)
    run_id = jobs.start_run(config)
    wait_until(lambda: jobs.run_info(run_id).step > 0)
    jobs.stop_run(run_id, wait_s=60)
    info = jobs.run_info(run_id)
    assert info.state == "stopped", info.message
    assert info.last_checkpoint.exists()
    stopped_at = info.step
    jobs.start_run({}, run_id=run_id, resume=True)
    wait_until(lambda: jobs.run_info(run_id).step > stopped_at)
    jobs.stop_run(run_id, wait_s=60)
    assert jobs.run_info(run_id).state == "stopped"


def test_a_dead_process_shows_as_interrupted(runs_dir: Path) -> None:
    folder = runs_dir / "run-dead"
    folder.mkdir(parents=True)
    (folder / "status.json").write_text(json.dumps({"state": "running", "step": 5, "total_steps": 10}))
    (folder / "job.json").write_text(json.dumps({"pid": 2**22 + 12345}))
    info = jobs.run_info("run-dead")
    assert info.state == "interrupted" and not info.alive
    assert jobs.active_run() is None
    with pytest.raises(jobs.JobError, match="no checkpoint"):
        jobs.start_run({}, run_id="run-dead", resume=True)


def test_active_checkpoint_and_corpus_default_and_choice(tmp_path: Path) -> None:
    assert choices.active_checkpoint() == DEFAULT_CHECKPOINT
    assert choices.active_corpus().name == "chorales"
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"x")
    choices.set_active_checkpoint(checkpoint)
    assert choices.active_checkpoint() == checkpoint.resolve()
    checkpoint.unlink()
    assert choices.active_checkpoint() == DEFAULT_CHECKPOINT
    with pytest.raises(choices.ChoiceError):
        choices.set_active_corpus(tmp_path / "missing")

"""AppTest: the Train page starts a tiny background run, shows its progress and curves, and stops it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.paths import RUNS_ENV
from core.studio import jobs

PAGE = "../../pages/train.py"


@pytest.fixture(autouse=True)
def isolated_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    yield tmp_path / "runs"
    for info in jobs.list_runs():
        if info.alive:
            jobs.stop_run(info.run_id, wait_s=30)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def progress_text(at: AppTest) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else ""


def test_page_renders_without_runs() -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Train the GAN"
    assert at.radio[0].value == "Classroom"
    assert not button(at, "Start training").disabled


def test_quick_preset_starts_reports_progress_and_stops() -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.radio[0].set_value("Quick check").run()
    button(at, "Start training").click().run()
    assert not at.exception
    deadline = time.monotonic() + 60
    while "step 0 of" in progress_text(at) or not progress_text(at):
        assert time.monotonic() < deadline, "no progress reported"
        time.sleep(0.5)
        at.run()
    assert "of 40" in progress_text(at)
    assert button(at, "Start training").disabled  # one run at a time
    run_id = jobs.list_runs()[0].run_id
    if jobs.run_info(run_id).alive:
        button(at, "Stop (saves a checkpoint)").click().run()
    deadline = time.monotonic() + 60
    while jobs.run_info(run_id).alive:
        assert time.monotonic() < deadline, "run did not stop"
        time.sleep(0.3)
    at.run()
    assert not at.exception
    assert jobs.run_info(run_id).state in ("stopped", "finished")
    assert at.get("plotly_chart"), "live curves are drawn from metrics.jsonl"
    assert any(r["run"] == run_id for r in at.dataframe[0].value.to_dict("records"))


def test_baseline_models_are_offered_with_a_time_budget() -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox[0].set_value("lstm_lm").run()
    assert not at.exception
    assert any(s.label == "Time budget (minutes)" for s in at.slider)
    assert not at.radio, "presets are for the GAN"

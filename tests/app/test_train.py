"""AppTest: the Train page starts, queues, shows and stops runs, for the teacher and for students."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.paths import RUNS_ENV
from core.studio import choices, jobs, queue, roles
from core.studio.choices import ClassSettings, set_class_settings
from tests.support.runs import fake_run

PAGE = "../../pages/train.py"
PIN = "2468"


@pytest.fixture(autouse=True)
def isolated_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    monkeypatch.delenv(roles.TEACHER_PIN_ENV, raising=False)
    yield jobs.runs_root()
    for info in jobs.list_runs():
        if info.state == "queued":
            queue.cancel(info.run_id)
        if info.alive:
            jobs.stop_run(info.run_id, wait_s=30)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def progress_text(at: AppTest) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else ""


def page(pin: bool = False) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if pin:
        at.secrets[roles.TEACHER_PIN_ENV] = PIN
    return at.run()


def sign_in(at: AppTest) -> AppTest:
    at.session_state[roles.TEACHER_KEY] = roles._digest(PIN)
    return at.run()


def wait_for(at: AppTest, predicate, what: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)
        at.run()


def test_page_renders_without_runs() -> None:
    at = page()
    assert not at.exception
    assert at.title[0].value == "Train the GAN"
    assert at.radio[0].value == "Classroom"
    assert not button(at, "Start training").disabled


def test_quick_preset_starts_reports_progress_in_words_and_stops() -> None:
    at = page()
    at.radio[0].set_value("Quick check").run()
    button(at, "Start training").click().run()
    assert not at.exception
    wait_for(at, lambda: "step" in progress_text(at) and "step 0 of" not in progress_text(at), "no progress")
    assert "of 40" in progress_text(at)
    assert "pretraining (imitation)" in progress_text(at) or "adversarial game" in progress_text(at)
    run_id = jobs.list_runs()[0].run_id
    if jobs.run_info(run_id).alive:
        button(at, "Stop (saves a checkpoint)").click().run()
    wait_for(at, lambda: not jobs.run_info(run_id).alive, "run did not stop", 60)
    at.run()
    assert not at.exception
    assert jobs.run_info(run_id).state in ("stopped", "finished")
    assert at.get("plotly_chart"), "live curves are drawn from metrics.jsonl"
    assert any(r["run"] == run_id for r in at.dataframe[0].value.to_dict("records"))


def test_a_second_run_waits_in_the_queue_with_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "active_run", lambda: object())  # the slot is taken
    at = page()
    button(at, "Start training").click().run()
    assert not at.exception
    assert any("number 1 in the queue" in info.value for info in at.info)
    assert at.dataframe[0].value["where"].tolist() == ["queue place 1"]
    button(at, "Take it off the queue").click().run()
    assert jobs.list_runs()[0].state == "cancelled"


def test_use_as_the_generator_takes_the_run_just_finished(
    isolated_runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 1: the run picker kept the previous run, so its checkpoint was activated instead."""
    fake_run(isolated_runs, "class-old", state="failed", message="ValueError: too short")
    at = page()
    assert at.selectbox(key="chosen_run").value == "class-old"

    def finished_at_once(config: dict, owner=None, label: str = "", run_id=None) -> str:
        fake_run(isolated_runs, "class-new")
        return "class-new"

    monkeypatch.setattr(queue, "submit", finished_at_once)
    button(at, "Start training").click().run()
    assert at.selectbox(key="chosen_run").value == "class-new"
    assert not button(at, "Use as the generator").disabled
    button(at, "Use as the generator").click().run()
    assert choices.active_checkpoint() == (isolated_runs / "class-new" / "checkpoints" / "best.pt").resolve()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this server has a CUDA GPU")
def test_asking_for_cuda_without_a_gpu_fails_with_the_reason_on_the_page() -> None:
    """Defect 3: the run showed "unknown", "step 0 of 0" and no message."""
    at = page()
    at.radio[0].set_value("Custom").run()
    next(s for s in at.selectbox if s.label == "Device").set_value("cuda").run()
    button(at, "Start training").click().run()
    run_id = jobs.list_runs()[0].run_id
    wait_for(at, lambda: jobs.run_info(run_id).state == "failed", "the run did not fail", 60)
    at.run()
    assert not at.exception
    assert any("no CUDA GPU" in error.value for error in at.error)
    assert "step 0 of 0" not in progress_text(at)


def test_curves_and_progress_are_named_in_words(isolated_runs: Path) -> None:
    """Defect 7: pretraining loss under `loss_g`, legends `d_real`/`d_fake`, "mle step 30 of 1300"."""
    records = [{"step": s, "phase": "mle", "loss_g": 3.0 - s / 100} for s in range(1, 31)]
    records += [
        {"step": s, "phase": "gan", "loss_g": 0.7, "loss_d": 1.2, "d_real": 0.6, "d_fake": 0.4}
        for s in range(31, 41)
    ]
    records.append({"step": 40, "phase": "gan", "q_score": 0.4})
    fake_run(isolated_runs, "class-1", state="stopped", step=40, total_steps=1300, records=records)
    at = page()
    assert not at.exception
    names = {trace["name"] for chart in at.get("plotly_chart") for trace in _traces(chart)}
    assert {"D(x): real pieces judged real", "D(G(z)): generated pieces judged real"} <= names
    assert "imitation loss of the generator" in names and "loss_g" not in names
    assert at.dataframe[0].value["where"].tolist() == ["adversarial game, step 40 of 1,300"]
    assert any("discriminator joins" in caption.value for caption in at.caption)


def _traces(chart) -> list[dict]:
    return json.loads(chart.proto.spec)["data"]


def test_a_student_cannot_stop_or_activate_a_class_run(isolated_runs: Path) -> None:
    fake_run(isolated_runs, "class-1")
    at = page(pin=True)
    assert not at.exception
    assert "Start training" not in labels(at) and "Use as the class's generator" not in labels(at)
    assert "Resume this run" in labels(at) and button(at, "Resume this run").disabled
    button(at, "Use as my generator").click().run()
    assert choices.active_checkpoint().name == "default", "the class's generator is unchanged"
    assert any("Your Generate page now uses" in s.value for s in at.success)


def test_the_teacher_lets_students_train_and_a_student_queues_their_own_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs, "active_run", lambda: object())  # keep runs in the queue
    teacher = sign_in(page(pin=True))
    assert "Start training" in labels(teacher)
    teacher.toggle[0].set_value(True).run()
    button(teacher, "Save for the class").click().run()
    assert choices.class_settings().students_may_train

    student = page(pin=True)
    assert student.radio(key="own_preset").options == list(queue.STUDENT_PRESETS)
    button(student, "Queue my run").click().run()
    assert not student.exception
    run_id = jobs.list_runs()[0].run_id
    assert jobs.run_info(run_id).owner and jobs.run_info(run_id).label == "Quick check"
    assert any("number 1 in the queue" in info.value for info in student.info)

    other = page(pin=True)
    assert not other.dataframe, "another student does not see it"
    teacher.run()
    assert run_id in teacher.dataframe[0].value["run"].tolist()
    assert "Take it off the queue" in labels(teacher)
    button(student, "Take it off the queue").click().run()
    assert jobs.run_info(run_id).state == "cancelled"


def test_students_see_a_closed_door_until_the_teacher_opens_it() -> None:
    set_class_settings(ClassSettings(students_may_train=False))
    at = page(pin=True)
    assert "Queue my run" not in labels(at)
    assert any("when the teacher allows it" in info.value for info in at.info)


def test_baseline_models_are_offered_with_a_time_budget() -> None:
    at = page()
    at.selectbox[0].set_value("lstm_lm").run()
    assert not at.exception
    assert any(s.label == "Time budget (minutes)" for s in at.slider)
    assert not at.radio, "presets are for the GAN"


def test_the_teacher_stops_a_students_run_from_the_run_list(
    isolated_runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "active_run", lambda: object())  # keep runs in the queue
    lesson = queue.submit({"mle_steps": 10}, label="Classroom")
    theirs = queue.submit_own({"mle_steps": 10}, roles.Visitor("a student", False), "Quick check")
    teacher = sign_in(page(pin=True))
    teacher.selectbox(key="chosen_run").set_value(theirs).run()
    button(teacher, "Take this run off the queue").click().run()
    assert not teacher.exception
    assert jobs.run_info(theirs).state == "cancelled" and jobs.run_info(lesson).state == "queued"
    student = page(pin=True)
    assert "Take this run off the queue" not in labels(student), "a student cannot stop the class's run"

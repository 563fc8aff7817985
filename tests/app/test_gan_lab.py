"""AppTest: GAN Lab loads the shipped GAN, steps D and G on fixed batches, and shows the critic."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.studio import roles
from tests.support.midi_files import make_midi

PAGE = "../../pages/gan_lab.py"
LAB_KEY = "gan_lab_stepper"


pytestmark = pytest.mark.usefixtures("fresh_server_folders", "one_thread")


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def loaded(fresh: bool = True) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception
    next(s for s in at.select_slider if s.label == "Samples in each batch").set_value(4)
    next(t for t in at.toggle if t.label == "Start the discriminator from scratch").set_value(fresh)
    button(at, "Load").click().run()
    assert not at.exception
    return at


def metric(at: AppTest, label: str) -> float:
    return float(next(m for m in at.metric if m.label == label).value)


def test_a_student_sees_why_the_lab_is_the_teachers() -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.secrets[roles.TEACHER_PIN_ENV] = "2468"
    at.run()
    assert not at.exception
    assert any("Only the teacher can step the GAN" in c.value for c in at.caption)
    assert not [b for b in at.button if b.label == "Load"]


def test_the_teacher_loads_steps_and_watches_both_players() -> None:
    at = loaded()
    stepper = at.session_state[LAB_KEY]
    assert stepper.critic_source == "fresh" and len(stepper.real) == 4
    gap = metric(at, "mean D(x)") - metric(at, "mean D(G(z))")
    for _ in range(3):
        button(at, "Step D").click().run()
    assert not at.exception
    assert any("After 3 D steps and 0 G steps" in s.value for s in at.subheader)
    assert metric(at, "mean D(x)") - metric(at, "mean D(G(z))") > gap
    button(at, "Step G").click().run()
    button(at, "Step both").click().run()
    assert not at.exception
    assert (stepper.reading.d_steps, stepper.reading.g_steps) == (4, 2)
    charts = at.get("plotly_chart")
    assert len(charts) >= 4  # dots, history, the fixed-noise piece, the critic
    assert at.get("audio")


def test_the_rules_change_between_steps_and_the_critic_judges_a_real_chorale() -> None:
    at = loaded()
    next(s for s in at.selectbox if s.label == "Objective").set_value("minimax").run()
    button(at, "Step G").click().run()
    assert not at.exception
    assert at.session_state[LAB_KEY].settings.objective == "minimax"
    assert metric(at, "G's loss") < 0  # log(1 − D(G(z)))
    at.radio[0].set_value("A real chorale (held-out test split)").run()
    assert not at.exception
    assert any(m.label == "SVM: chorale-likeness" for m in at.metric)
    assert any(m.label == "Discriminator: D(x)" for m in at.metric)


def test_the_critic_judges_an_uploaded_midi_file_and_refuses_a_broken_one() -> None:
    at = loaded()
    at.radio[0].set_value("A MIDI file").run()
    notes = [(60 + (i % 5), 0.25 * i, 0.25 * i + 0.5) for i in range(24)]
    at.file_uploader[0].set_value(("mine.mid", make_midi(notes), "audio/midi")).run()
    assert not at.exception
    assert any(m.label == "Discriminator: D(x)" for m in at.metric)
    at.file_uploader[0].set_value(("broken.mid", b"MThd not really", "audio/midi")).run()
    assert not at.exception
    assert "cannot be read" in at.error[0].value

"""AppTest: the "Bach or bot?" page: the teacher opens a round, a listener plays both clips before
answering, answers are stored once, a reload continues, results and the reveal, close and reset."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.studio import roles
from core.studio.listening.store import ListeningStore

PAGE = "../../pages/listening.py"
PIN = "2468"


pytestmark = pytest.mark.usefixtures("fresh_server_folders", "one_thread")


def page(pin: bool = False, listener: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    if pin:
        at.secrets[roles.TEACHER_PIN_ENV] = PIN
    if listener:
        at.query_params["listener"] = listener
    return at.run()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def open_round(at: AppTest, pairs: int = 2) -> AppTest:
    next(s for s in at.slider if s.label == "Pairs").set_value(pairs)
    button(at, "Open a new round").click().run()
    assert not at.exception
    return at


def store() -> ListeningStore:
    return ListeningStore()


def test_a_student_waits_for_the_teacher() -> None:
    at = page(pin=True)
    assert not at.exception
    assert "No listening test has been opened" in at.info[0].value
    assert not [b for b in at.button if b.label == "Open a new round"]


def test_the_teacher_opens_a_round_and_a_listener_answers_after_playing_both_clips() -> None:
    at = open_round(page())
    (info,) = [store().latest_round()]
    assert info.is_open and info.settings["n_pairs"] == 2 and info.settings["pick"] == "svm"
    assert len(store().pairs(info.id)) == 3  # and the attention check
    button(at, "Start the test").click().run()
    assert "Pair 1 of 3" in at.get("progress")[0].proto.text
    assert button(at, "A is Bach").disabled and button(at, "B is Bach").disabled
    button(at, "Play clip A").click().run()
    assert len(at.get("audio")) == 1 and button(at, "A is Bach").disabled
    button(at, "Play clip B").click().run()
    assert len(at.get("audio")) == 2 and not button(at, "A is Bach").disabled
    button(at, "A is Bach").click().run()
    assert not at.exception
    assert "Answer 1 saved" in at.success[0].value
    assert "Pair 2 of 3" in at.get("progress")[0].proto.text
    (answer,) = store().answers(info.id)
    assert answer.chosen_clip == "A" and answer.experience == "unsaid"
    assert any("1 listener." in m.value for m in at.markdown)  # live results for the teacher


def test_a_reload_continues_where_the_listener_was() -> None:
    at = open_round(page())
    button(at, "Start the test").click().run()
    listener = at.query_params["listener"]  # the address the page set
    assert listener == at.session_state["listening_listener"]
    button(at, "Play clip A").click().run()
    again = page(listener=listener)  # a new session, the same address
    assert not again.exception
    assert "Pair 1 of 3" in again.get("progress")[0].proto.text
    assert len(again.get("audio")) == 1  # clip A was opened before the reload
    assert not [b for b in again.button if b.label == "Start the test"]


def test_reveal_close_csv_and_reset() -> None:
    at = open_round(page())
    round_id = store().latest_round().id
    button(at, "Reveal the answers").click().run()
    assert not at.exception
    assert any("what the machines said" in s.value for s in at.subheader)
    assert at.dataframe and at.get("download_button")
    button(at, "Close the round").click().run()
    assert not store().round(round_id).is_open
    assert "This round is closed" in at.info[0].value
    button(at, "Open it again").click().run()
    button(at, "Delete every answer").click().run()
    assert not at.exception
    reset = store().round(round_id)
    assert reset.is_open and not reset.revealed and store().answers(round_id) == []


def test_students_see_results_only_once_revealed() -> None:
    open_round(page())
    student = page(pin=True)
    assert "appear here when the teacher reveals" in student.caption[-1].value
    store().set_revealed(store().latest_round().id, True)
    student.run()
    assert any("Class results" in s.value for s in student.subheader)

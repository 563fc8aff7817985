"""The listening test's store and listener plans: exactly-once answers, the play-both rule, closing,
resetting, a restart that loses nothing, and many listeners writing at once."""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
from pathlib import Path

import pytest

from core.studio.listening.plan import ListenerSession, listener_plan
from core.studio.listening.store import (
    ListeningError,
    ListeningStore,
    Pair,
    new_listener_id,
)


def pairs(n: int = 3) -> list[Pair]:
    """``n`` test pairs and an attention check, with tiny stand-in MIDI bytes."""
    made = [
        Pair(i, "test", f"real{i}".encode(), f"fake{i}".encode(), f"chorale {i}", f"generated {i}", {})
        for i in range(n)
    ]
    judges = {"svm_real": 80.0, "svm_other": 1.0, "d_real": 0.7, "d_other": 0.1}
    return [*made, Pair(n, "attention", b"real", b"noise", "chorale x", "random notes", judges)]


@pytest.fixture
def store(tmp_path: Path) -> ListeningStore:
    return ListeningStore(tmp_path / "listening.sqlite3")


def open_session(store: ListeningStore, experience: str = "none") -> ListenerSession:
    if store.latest_round() is None:
        store.open_round({"n_pairs": 3}, pairs())
    session = ListenerSession(store, store.latest_round(), new_listener_id())
    session.join(experience)
    return session


def listen_and_answer(session: ListenerSession, correctly: bool = True) -> bool:
    item = session.current()
    session.play(item, "A")
    session.play(item, "B")
    other = "B" if item.real_clip == "A" else "A"
    return session.answer(item, item.real_clip if correctly else other)


def test_the_database_is_in_wal_mode_with_a_busy_timeout(store: ListeningStore) -> None:
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store._connect() as db:
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_an_answer_is_stored_exactly_once(store: ListeningStore) -> None:
    session = open_session(store)
    item = session.current()
    session.play(item, "A")
    session.play(item, "B")
    assert session.answer(item, "A") is True
    assert session.answer(item, "B") is False  # a double click or a retry stores nothing more
    (answer,) = store.answers(session.round.id)
    assert answer.chosen_clip == "A" and answer.correct == (item.real_clip == "A")
    assert answer.experience == "none" and answer.shown_as == 1
    assert session.current() != item


def test_no_answer_before_both_clips_were_opened(store: ListeningStore) -> None:
    session = open_session(store)
    item = session.current()
    with pytest.raises(ListeningError, match="play both clips"):
        session.answer(item, "A")
    session.play(item, "B")
    with pytest.raises(ListeningError, match="play both clips"):
        session.answer(item, "A")
    assert session.played(item) == {"B"}
    session.play(item, "A")
    assert session.answer(item, "A")


def test_a_listener_must_join_and_the_round_must_be_open(store: ListeningStore) -> None:
    store.open_round({}, pairs())
    stranger = ListenerSession(store, store.latest_round(), new_listener_id())
    item = stranger.current()
    with pytest.raises(ListeningError, match="start the test"):
        stranger.answer(item, "A")
    session = open_session(store)
    store.set_state(session.round.id, "closed")
    with pytest.raises(ListeningError, match="closed"):
        listen_and_answer(session)
    with pytest.raises(ListeningError, match="listener id"):
        store.join(session.round.id, "../../etc", "none")
    with pytest.raises(ListeningError, match="experience"):
        store.join(session.round.id, new_listener_id(), "expert")


def test_a_new_store_on_the_same_file_continues_where_the_listener_was(store: ListeningStore) -> None:
    session = open_session(store)
    listen_and_answer(session)
    item = session.current()
    session.play(item, "A")
    restarted = ListeningStore(store.path)  # a server restart, or a reload in a new session
    again = ListenerSession(restarted, restarted.latest_round(), session.listener)
    assert again.joined and again.current() == item and again.played(item) == {"A"}
    assert again.items == session.items  # the same order and the same sides
    assert len(again.answered()) == 1


def test_plans_are_random_per_listener_and_fixed_per_listener() -> None:
    kinds = ["test"] * 8 + ["attention"]
    plans = [listener_plan(1, new_listener_id(), kinds) for _ in range(20)]
    for plan in plans:
        assert sorted(item.position for item in plan) == list(range(9))
        assert [item.shown_as for item in plan] == list(range(1, 10))
    assert len({tuple(item.position for item in plan) for plan in plans}) > 10
    assert {item.real_clip for plan in plans for item in plan} == {"A", "B"}
    assert listener_plan(1, "00ff00ff00ff00ff", kinds) == listener_plan(1, "00ff00ff00ff00ff", kinds)
    assert listener_plan(1, "00ff00ff00ff00ff", kinds) != listener_plan(2, "00ff00ff00ff00ff", kinds)


def test_close_reveal_reset_and_a_new_round(store: ListeningStore) -> None:
    session = open_session(store)
    listen_and_answer(session)
    round_id = session.round.id
    store.set_revealed(round_id, True)
    store.set_state(round_id, "closed")
    assert store.round(round_id).revealed and not store.round(round_id).is_open
    store.reset(round_id)
    reset = store.round(round_id)
    assert reset.is_open and not reset.revealed and store.answers(round_id) == []
    assert not ListenerSession(store, reset, session.listener).joined
    newer = store.open_round({"n_pairs": 1}, pairs(1))
    assert store.latest_round().id == newer and not store.round(round_id).is_open


def test_csv_has_one_row_per_answer_and_no_personal_data(store: ListeningStore) -> None:
    first, second = open_session(store, "theory"), open_session(store, "unsaid")
    for session in (first, second):
        listen_and_answer(session)
        listen_and_answer(session, correctly=False)
    rows = list(csv.DictReader(io.StringIO(store.csv(first.round.id))))
    assert len(rows) == 4
    assert {row["experience"] for row in rows} == {"theory", "unsaid"}
    assert {row["correct"] for row in rows} == {"0", "1"}
    assert set(rows[0]) == {
        "round", "listener", "experience", "pair", "kind", "shown_as", "real_clip", "chosen_clip",
        "correct", "answered_at_utc", "real_source", "other_source",
    }  # fmt: skip


def test_many_listeners_answering_at_once_store_every_answer_exactly_once(store: ListeningStore) -> None:
    store.open_round({}, pairs(5))
    round_info = store.latest_round()
    sessions = [ListenerSession(store, round_info, new_listener_id()) for _ in range(12)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(sessions))

    def listener(session: ListenerSession) -> None:
        try:
            session.join("instrument")
            start.wait()
            while (item := session.current()) is not None:
                session.play(item, "A")
                session.play(item, "B")
                session.answer(item, "A")
                session.answer(item, "A")  # every answer sent twice
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=listener, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    answers = store.answers(round_info.id)
    assert len(answers) == 12 * 6
    assert len({(a.listener, a.position) for a in answers}) == len(answers)

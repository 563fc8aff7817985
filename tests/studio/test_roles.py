"""Roles: without a PIN everyone is the teacher; with one, only a session that entered it."""

from __future__ import annotations

import pytest

from core.studio import roles


@pytest.fixture(autouse=True)
def no_pin_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(roles.TEACHER_PIN_ENV, raising=False)


def test_without_a_pin_everyone_is_the_teacher() -> None:
    assert not roles.pin_configured()
    assert roles.is_teacher({})
    roles.require_teacher({}, "stop a class run")  # no error


def test_the_environment_pin_comes_before_the_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    assert roles.teacher_pin({roles.TEACHER_PIN_ENV: " 2468 "}) == "2468"
    monkeypatch.setenv(roles.TEACHER_PIN_ENV, "1357")
    assert roles.teacher_pin({roles.TEACHER_PIN_ENV: "2468"}) == "1357"


def test_a_blank_pin_is_no_pin() -> None:
    assert not roles.pin_configured({roles.TEACHER_PIN_ENV: "  "})


def test_with_a_pin_a_session_is_a_student_until_it_signs_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(roles.TEACHER_PIN_ENV, "2468")
    session: dict = {}
    assert not roles.is_teacher(session)
    with pytest.raises(roles.RoleError, match="Only the teacher can stop a class run"):
        roles.require_teacher(session, "stop a class run")
    assert not roles.sign_in(session, "1111")
    assert not roles.is_teacher(session)
    assert roles.sign_in(session, "2468")
    assert roles.is_teacher(session)
    roles.sign_out(session)
    assert not roles.is_teacher(session)


def test_changing_the_pin_signs_the_teacher_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(roles.TEACHER_PIN_ENV, "2468")
    session: dict = {}
    assert roles.sign_in(session, "2468")
    monkeypatch.setenv(roles.TEACHER_PIN_ENV, "9999")
    assert not roles.is_teacher(session)


def test_a_session_cannot_make_itself_the_teacher_by_setting_a_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(roles.TEACHER_PIN_ENV, "2468")
    assert not roles.is_teacher({roles.TEACHER_KEY: True})
    assert not roles.is_teacher({roles.TEACHER_KEY: "anything"})


def test_too_many_wrong_pins_lock_the_session_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(roles.TEACHER_PIN_ENV, "2468")
    session: dict = {}
    for _ in range(roles.MAX_ATTEMPTS):
        assert not roles.sign_in(session, "0000")
    assert roles.seconds_locked(session) > 0
    with pytest.raises(roles.RoleError, match="Too many wrong PINs"):
        roles.sign_in(session, "2468")
    _, last = session[roles.ATTEMPTS_KEY]
    assert roles.seconds_locked(session, now=last + roles.LOCKOUT_S + 1) == 0

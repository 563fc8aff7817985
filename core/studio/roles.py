"""Who may change what every visitor sees: the teacher, who knows the class PIN, and the students.

Whoever starts the server chooses: without a PIN (a laptop running ``make demo``) there is one role and
everyone is the teacher. With a PIN (the ``GMS_TEACHER_PIN`` environment variable, or the same key in
Streamlit's secrets, ``.streamlit/secrets.toml``) a visitor is a student until they enter it. Only the teacher
starts, stops, resumes, deletes and activates the server-wide (class) runs and sets the class corpus and
the class default model; a student changes only their own space (:mod:`core.studio.spaces`).

A session remembers a digest of the PIN it signed in with, not a flag: changing the PIN signs every
teacher session out. Wrong PINs are counted per session, and a session that has made
:data:`MAX_ATTEMPTS` wrong tries must wait :data:`LOCKOUT_S` seconds before the next.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

TEACHER_PIN_ENV = "GMS_TEACHER_PIN"
"""The environment variable (or Streamlit secret) that holds the teacher's PIN."""
TEACHER_KEY = "gms_teacher_pin_digest"
"""The session-state key where a signed-in teacher's session keeps the digest of the PIN it used."""
ATTEMPTS_KEY = "gms_teacher_pin_attempts"
MAX_ATTEMPTS = 5
LOCKOUT_S = 30.0


class RoleError(PermissionError):
    """Something only the teacher may do was asked for by a student; the message is meant for the user."""


@dataclass(frozen=True)
class Visitor:
    """Who is acting: the session's own token (the owner of the runs it asks for) and its role."""

    owner: str
    teacher: bool


OPERATOR = Visitor(owner="", teacher=True)
"""Whoever runs the server's command line tools: they may do everything."""


def teacher_pin(secrets: Mapping[str, object] | None = None) -> str | None:
    """The configured PIN: the environment variable first, then ``secrets``; None when neither sets one."""
    value = os.environ.get(TEACHER_PIN_ENV)
    if not value and secrets is not None:
        value = secrets.get(TEACHER_PIN_ENV)
    text = str(value).strip() if value is not None else ""
    return text or None


def pin_configured(secrets: Mapping[str, object] | None = None) -> bool:
    """Whether this server has a teacher PIN (and so has students at all)."""
    return teacher_pin(secrets) is not None


def _digest(pin: str) -> str:
    return hashlib.sha256(("gms-teacher:" + pin).encode("utf-8")).hexdigest()


def is_teacher(session: Mapping[str, object], secrets: Mapping[str, object] | None = None) -> bool:
    """Whether a session may act for the class: always without a PIN, else once it signed in with it."""
    pin = teacher_pin(secrets)
    if pin is None:
        return True
    remembered = session.get(TEACHER_KEY)
    return isinstance(remembered, str) and hmac.compare_digest(remembered, _digest(pin))


def seconds_locked(session: Mapping[str, object], now: float | None = None) -> float:
    """How long this session must wait before it may try a PIN again (0 when it may try now)."""
    failures, last = session.get(ATTEMPTS_KEY) or (0, 0.0)
    if failures < MAX_ATTEMPTS:
        return 0.0
    return max(0.0, last + LOCKOUT_S - (time.time() if now is None else now))


def sign_in(
    session: MutableMapping[str, object], entered: str, secrets: Mapping[str, object] | None = None
) -> bool:
    """Make the session the teacher's when ``entered`` is the PIN; False (and one try used) otherwise.

    Raises :class:`RoleError` while the session is locked out after too many wrong tries.
    """
    pin = teacher_pin(secrets)
    if pin is None:
        return True
    wait = seconds_locked(session)
    if wait > 0:
        raise RoleError(f"Too many wrong PINs: try again in {wait:.0f} s.")
    if hmac.compare_digest(_digest(str(entered).strip()), _digest(pin)):
        session[TEACHER_KEY] = _digest(pin)
        session.pop(ATTEMPTS_KEY, None)
        return True
    failures, _ = session.get(ATTEMPTS_KEY) or (0, 0.0)
    session[ATTEMPTS_KEY] = (failures + 1, time.time())
    return False


def sign_out(session: MutableMapping[str, object]) -> None:
    """Make the session a student's again."""
    session.pop(TEACHER_KEY, None)


def require_teacher(
    session: Mapping[str, object], action: str, secrets: Mapping[str, object] | None = None
) -> None:
    """Raise :class:`RoleError` ("Only the teacher can <action>…") unless the session is the teacher's."""
    if not is_teacher(session, secrets):
        raise RoleError(f"Only the teacher can {action}; enter the teacher PIN in the sidebar first.")

"""AppTest: the sidebar's teacher sign-in (the PIN from Streamlit's secrets or the environment)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.studio import roles


def role_page() -> None:
    import streamlit as st

    from pages.shared.roles import is_teacher, role_panel

    role_panel()
    st.write("teacher" if is_teacher() else "student")


@pytest.fixture(autouse=True)
def no_pin_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(roles.TEACHER_PIN_ENV, raising=False)


def shown_role(at: AppTest) -> str:
    return at.markdown[-1].value


def test_without_a_pin_there_is_no_sign_in_and_everyone_is_the_teacher() -> None:
    at = AppTest.from_function(role_page).run()
    assert not at.exception
    assert shown_role(at) == "teacher"
    assert not at.sidebar.text_input


def test_a_pin_in_the_secrets_makes_a_student_until_the_pin_is_entered() -> None:
    at = AppTest.from_function(role_page)
    at.secrets[roles.TEACHER_PIN_ENV] = "2468"
    at.run()
    assert shown_role(at) == "student"
    at.sidebar.text_input[0].input("1111")
    at.sidebar.button[0].click().run()
    assert shown_role(at) == "student"
    assert "not the teacher PIN" in at.sidebar.error[0].value
    at.sidebar.text_input[0].input("2468")
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert shown_role(at) == "teacher"
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert shown_role(at) == "student"


def test_a_pin_in_the_environment_works_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(roles.TEACHER_PIN_ENV, "1357")
    at = AppTest.from_function(role_page).run()
    assert shown_role(at) == "student"
    at.sidebar.text_input[0].input("1357")
    at.sidebar.button[0].click().run()
    assert shown_role(at) == "teacher"

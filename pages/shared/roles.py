"""The teacher's sign-in and the role checks every page uses (see :mod:`core.studio.roles`)."""

from collections.abc import Mapping

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from core.studio import roles
from core.studio.roles import Visitor
from core.studio.spaces import Space, space_of, visitor_of


def secrets() -> Mapping[str, object]:
    """Streamlit's secrets as a plain mapping (empty when the server has no secrets file)."""
    try:
        value = st.secrets.get(roles.TEACHER_PIN_ENV)
    except (StreamlitSecretNotFoundError, FileNotFoundError, KeyError):
        return {}
    return {} if value is None else {roles.TEACHER_PIN_ENV: value}


def pin_configured() -> bool:
    """Whether this server has a teacher PIN (without one, everyone is the teacher)."""
    return roles.pin_configured(secrets())


def is_teacher() -> bool:
    """Whether this session may change what the whole class sees."""
    return roles.is_teacher(st.session_state, secrets())


def teacher_only_note(action: str) -> None:
    """A caption telling a student why a control is missing."""
    st.caption(f"Only the teacher can {action}. Enter the teacher PIN in the sidebar if you are the teacher.")


def _sign_in_form() -> None:
    with st.form("teacher_sign_in", clear_on_submit=True, border=False):
        entered = st.text_input("Teacher PIN", type="password", help="Set by whoever started this server.")
        if not st.form_submit_button("Sign in as the teacher"):
            return
    try:
        signed_in = roles.sign_in(st.session_state, entered, secrets())
    except roles.RoleError as error:
        st.error(str(error))
        return
    if signed_in:
        st.rerun()
    st.error("That is not the teacher PIN.")


def role_panel() -> None:
    """The sidebar's role box: who you are here, the PIN form for students, sign-out for the teacher."""
    if not pin_configured():
        return
    with st.sidebar:
        if is_teacher():
            st.success("You are signed in as the **teacher**: your changes apply to the whole class.")
            if st.button("Sign out", key="teacher_sign_out"):
                roles.sign_out(st.session_state)
                st.rerun()
        else:
            st.info("You are a **student**: what you change here stays in your own session.")
            _sign_in_form()


def visitor() -> Visitor:
    """This session as someone who acts: its own token and its role."""
    return visitor_of(st.session_state, is_teacher())


def my_space() -> Space:
    """This session's own choices (generator, corpus for own runs)."""
    return space_of(st.session_state)

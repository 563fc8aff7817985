"""Make sure a page runs inside the app's navigation (``streamlit_app.py``), whatever address opened it.

Streamlit decides at server start whether the app is a "pages folder" app (because ``pages/`` exists)
and changes its mind only once ``st.navigation`` has run. Until then, a page opened by its address
(``/generate?seed=7``) as the server's first visit runs on its own: without the app's navigation, tab
icon or teacher sign-in, and every later visit too. :func:`inside_the_app` ends that state and reruns
the visit through the app, which keeps the address.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def inside_the_app() -> None:
    """Rerun through ``streamlit_app.py`` when this page was started on its own (a fresh server's first
    visit by address); does nothing otherwise."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()

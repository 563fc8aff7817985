"""Glossary: the studio's words and symbols in plain language."""

import streamlit as st

from core.studio.glossary import TERMS, matching
from pages.shared.app import inside_the_app

inside_the_app()  # a fresh server's first visit by address runs through the app
st.title("Glossary")
st.write(
    "The words and symbols the studio uses, explained in plain language. Type a word to find it; "
    "sources are given where you can read more."
)
query = st.text_input("Find a word", placeholder="for example: discriminator, temperature, D(x)")
terms = matching(query) if query.strip() else list(TERMS)
if not terms:
    st.info(f"No entry mentions “{query}”. Try a shorter word.")
for term in terms:
    st.markdown(f"#### {term.name}\n{term.definition}")
    if term.source:
        st.caption(f"Source: {term.source}")

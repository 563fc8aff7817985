"""GAN Music Studio: the Streamlit entry point. It only sets up the page and the navigation."""

import streamlit as st

st.set_page_config(page_title="GAN Music Studio", page_icon="🎼", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    ]
)
navigation.run()

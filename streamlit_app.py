"""GAN Music Studio: the Streamlit entry point: the page, the navigation and the teacher's sign-in."""

import streamlit as st

from core.studio import queue
from pages.shared.roles import role_panel

# The tab icon is an emoji: Streamlit draws it in the browser, where a material icon would be fetched
# from a font server on every page (nothing may be downloaded at run time).
st.set_page_config(page_title="GAN Music Studio", page_icon="🎼", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/dataset.py", title="Dataset", icon=":material/library_music:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("pages/generate.py", title="Generate & rank", icon=":material/piano:"),
        st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/listening.py", title="Bach or bot?", icon=":material/hearing:"),
        st.Page("pages/gan_lab.py", title="GAN Lab", icon=":material/science:"),
        st.Page("pages/glossary.py", title="Glossary", icon=":material/menu_book:"),
        st.Page("pages/storage.py", title="Storage", icon=":material/hard_drive:"),
    ]
)
role_panel()
queue.advance()  # a run left waiting (its predecessor crashed, say) starts on the next page load
navigation.run()

"""GAN Music Studio: the Streamlit entry point. It only sets up the page and the navigation."""

import streamlit as st

st.set_page_config(page_title="GAN Music Studio", page_icon=":material/music_note:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/dataset.py", title="Dataset", icon=":material/library_music:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("pages/generate.py", title="Generate & rank", icon=":material/piano:"),
        st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    ]
)
navigation.run()

"""Widgets several pages share (not pages themselves: Streamlit ignores subfolders of ``pages/``)."""

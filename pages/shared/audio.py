"""The one cached audio player of the site."""

import streamlit as st

from core.audio import AudioRenderError, render_wav


@st.cache_data(max_entries=64, show_spinner="Rendering audio…")
def rendered(midi: bytes) -> tuple[bytes, str]:
    """The WAV of a MIDI file and a note on how it was made (cached across sessions)."""
    audio = render_wav(midi)
    return audio.wav, audio.note


def audio_player(midi: bytes, caption: bool = False) -> bytes | None:
    """An audio player for a piece (returns its WAV), or a sentence saying why it cannot be played."""
    try:
        wav, note = rendered(midi)
    except AudioRenderError as error:
        st.warning(f"This piece could not be rendered to audio: {error}")
        return None
    st.audio(wav, format="audio/wav")
    if caption:
        st.caption(note)
    return wav

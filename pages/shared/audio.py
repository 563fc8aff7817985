"""The one cached audio player of the site."""

import streamlit as st

from core.audio import AudioRenderError, render_wav
from core.budgets import BUDGETS
from core.studio.memcache import content_key, named_cache


def rendered(midi: bytes) -> tuple[bytes, str]:
    """The WAV of a MIDI file and a note on how it was made, cached across sessions in memory bounded by
    :attr:`core.budgets.Budgets.audio_cache_bytes` (and on disk by the render cache)."""
    cache = named_cache("audio", BUDGETS.audio_cache_bytes)
    key = content_key(midi)
    found = cache.get(key)
    if found is None:
        with st.spinner("Rendering audio…"):
            audio = render_wav(midi)
        found = (audio.wav, audio.note)
        cache.put(key, found)
    return found


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

"""MIDI → WAV: FluidSynth with the soundfont bundled in pretty_midi, bounded in time and size, normalised,
cached by content hash; sine waves when FluidSynth is not installed.

``render_wav(midi, RenderConfig())`` is the whole API; :class:`AudioRenderError` says why a render failed.
"""

from core.audio.config import AudioRenderError, RenderConfig, RenderedAudio
from core.audio.engines import fluidsynth_available, soundfont_path
from core.audio.render import render_wav
from core.audio.wav import wav_rms_dbfs

__all__ = [
    "AudioRenderError",
    "RenderConfig",
    "RenderedAudio",
    "fluidsynth_available",
    "render_wav",
    "soundfont_path",
    "wav_rms_dbfs",
]

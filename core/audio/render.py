"""The one render function: prepare the MIDI, pick the engine, render, trim, normalise, cache.

FluidSynth runs directly, bounded in time and output size (:mod:`core.audio.engines`); every MIDI is first
rewritten so that it plays and stops (:mod:`core.audio.prepare`). When FluidSynth is not installed,
``PrettyMIDI.synthesize`` (sine waves, pure numpy) is the fallback; the result says so in ``engine`` and
``note``. Both engines are normalised to the same loudness (a target RMS with a peak limit) and written as
16-bit PCM. Renders are cached by content hash (:mod:`core.audio.cache`).

MIDI given as bytes is parsed with pretty_midi directly: pass untrusted uploads through
:func:`core.midi.load_midi` first (the command line does).
"""

from __future__ import annotations

import io
from typing import Literal

import pretty_midi

from core.audio.cache import cache_key, load_cached, store_cached
from core.audio.config import DEFAULT_RENDER, AudioRenderError, RenderConfig, RenderedAudio
from core.audio.engines import fluidsynth_available, render_fluidsynth, render_sine, sine_note, soundfont_path
from core.audio.prepare import prepare_midi
from core.audio.wav import encode_wav, normalise, trim


def render_wav(midi: pretty_midi.PrettyMIDI | bytes, config: RenderConfig = DEFAULT_RENDER) -> RenderedAudio:
    """Render MIDI to a normalised 16-bit WAV with FluidSynth, or with sine waves when it is not installed.

    Raises :class:`AudioRenderError` for unreadable or empty MIDI, a missing soundfont, a FluidSynth that
    fails, times out or writes too much, and audio that comes out silent.
    """
    prepared = prepare_midi(_as_pretty_midi(midi), config.max_seconds, config.tail_s)
    if prepared.end_s <= 0:
        raise AudioRenderError("the MIDI has no notes to play")
    engine = _choose_engine(config)
    key = cache_key(prepared.data, config, engine)
    if config.use_cache and (hit := load_cached(key, config)) is not None:
        return hit
    if engine == "fluidsynth":
        samples = render_fluidsynth(prepared, config)
        note = "Rendered with FluidSynth and the TimGM6mb General MIDI soundfont."
    else:
        samples = render_sine(prepared, config)
        note = sine_note(config)
    samples = normalise(trim(samples, prepared.end_s, config), config)
    note = " ".join([note, *(change[0].upper() + change[1:] + "." for change in prepared.changes)])
    result = RenderedAudio(
        wav=encode_wav(samples, config.sample_rate),
        sample_rate=config.sample_rate,
        seconds=len(samples) / config.sample_rate,
        engine=engine,
        note=note,
    )
    if config.use_cache:
        store_cached(key, result, config)
    return result


def _as_pretty_midi(midi: pretty_midi.PrettyMIDI | bytes) -> pretty_midi.PrettyMIDI:
    if isinstance(midi, pretty_midi.PrettyMIDI):
        return midi
    try:
        return pretty_midi.PrettyMIDI(io.BytesIO(bytes(midi)))
    except Exception as error:  # mido/pretty_midi raise many unrelated types on bad input
        raise AudioRenderError(
            f"the MIDI data could not be read ({type(error).__name__}: {error})"
        ) from error


def _choose_engine(config: RenderConfig) -> Literal["fluidsynth", "sine"]:
    if config.engine == "sine":
        return "sine"
    if fluidsynth_available(config.fluidsynth_binary):
        soundfont_path(config.soundfont)  # a missing soundfont is an error, never a silent fallback
        return "fluidsynth"
    if config.engine == "fluidsynth":
        raise AudioRenderError(f"FluidSynth ({config.fluidsynth_binary}) is not installed")
    return "sine"

"""Four voices written out as a standard MIDI file: four named tracks (Soprano, Alto, Tenor, Bass), one
channel each, the programs of an ensemble, the key and metre, and a marker at every phrase end."""

from __future__ import annotations

import io

import mido
import numpy as np

from core.music.voices import (
    ENSEMBLES,
    FERMATA_TEXT,
    MIDI_TICKS_PER_QUARTER,
    STEPS_PER_QUARTER,
    VOICE_NAMES,
    Voices,
    VoicesError,
    key_name,
)


def _pickup_signature(pickup_steps: int, denominator: int) -> tuple[int, int]:
    """A time signature exactly ``pickup_steps`` sixteenths long, in the piece's denominator if it can."""
    for candidate in (denominator, 8, 16):
        if (pickup_steps * candidate) % 16 == 0:
            return pickup_steps * candidate // 16, candidate
    raise AssertionError("unreachable: every length is a whole number of sixteenths")


def _midi_key(tonic: int, mode: str) -> str:
    """mido's key-signature name: "Bb", "F#m"."""
    name = key_name(tonic, mode).split()[0]
    return name + ("m" if mode == "minor" else "")


def voices_to_midi(
    voices: Voices, ensemble: str = "choir", *, velocity: int = 80, title: str | None = None
) -> bytes:
    """A format-1 MIDI file: a conductor track (tempo, time and key signature, a "fermata" marker at each
    phrase end), then tracks "Soprano", "Alto", "Tenor", "Bass" on channels 1–4 with the GM programs of
    ``ensemble`` (a key of :data:`ENSEMBLES`). A pickup (``bar_offset``) is written as a short first bar."""
    if ensemble not in ENSEMBLES:
        raise VoicesError(f"unknown ensemble {ensemble!r}; choose one of {', '.join(ENSEMBLES)}")
    ticks = MIDI_TICKS_PER_QUARTER // STEPS_PER_QUARTER
    numerator, denominator = voices.time_signature
    conductor: list[tuple[int, mido.MetaMessage]] = []
    if title:  # MIDI text is bytes; write UTF-8 (mido writes str as Latin-1, which cannot hold every title)
        conductor.append((0, mido.MetaMessage("track_name", name=title.encode().decode("latin-1"))))
    conductor.append((0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(voices.tempo_bpm))))
    if voices.bar_offset:
        pickup = _pickup_signature(voices.bar_offset, denominator)
        conductor.append((0, _time_signature(*pickup)))
    conductor.append((voices.bar_offset * ticks, _time_signature(numerator, denominator)))
    conductor.append((0, mido.MetaMessage("key_signature", key=_midi_key(voices.tonic, voices.mode))))
    for step in np.flatnonzero(voices.phrase_end):
        conductor.append((int(step) * ticks, mido.MetaMessage("marker", text=FERMATA_TEXT)))
    tracks = [_midi_track(conductor)]
    notes = voices.notes()
    for voice, program in enumerate(ENSEMBLES[ensemble]):
        events: list[tuple[int, mido.Message]] = [
            (0, mido.MetaMessage("track_name", name=VOICE_NAMES[voice])),
            (0, mido.Message("program_change", channel=voice, program=program)),
        ]
        for row in notes[notes["voice"] == voice]:
            pitch = int(row["pitch"])
            events.append((int(row["end"]) * ticks, mido.Message("note_off", channel=voice, note=pitch)))
            events.append(
                (
                    int(row["start"]) * ticks,
                    mido.Message("note_on", channel=voice, note=pitch, velocity=velocity),
                )
            )
        tracks.append(_midi_track(events))
    midi = mido.MidiFile(type=1, ticks_per_beat=MIDI_TICKS_PER_QUARTER, tracks=tracks)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _time_signature(numerator: int, denominator: int) -> mido.MetaMessage:
    return mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)


def _midi_track(events: list[tuple[int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    """Absolute-tick events as a track: sorted by tick, note-offs before note-ons at the same tick (the
    order they were listed in), then an end-of-track event."""
    track, previous = mido.MidiTrack(), 0
    ordered = sorted(
        range(len(events)), key=lambda index: (events[index][0], events[index][1].type == "note_on")
    )
    for index in ordered:
        tick, message = events[index]
        track.append(message.copy(time=tick - previous))
        previous = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track

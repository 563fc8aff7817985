"""Small MIDI files built by the tests themselves (no binary fixtures)."""

from __future__ import annotations

import io

import pretty_midi


def make_midi(
    notes: list[tuple[int, float, float]] | None = None,
    *,
    tempo: float = 120.0,
    program: int = 0,
    is_drum: bool = False,
    resolution: int = 480,
) -> bytes:
    """Return the bytes of a one-instrument MIDI file with (pitch, start_s, end_s) notes."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo, resolution=resolution)
    inst = pretty_midi.Instrument(program=program, is_drum=is_drum)
    for pitch, start, end in notes or [(60, 0.0, 0.5), (64, 0.5, 1.0), (67, 1.0, 2.0)]:
        inst.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=start, end=end))
    pm.instruments.append(inst)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()

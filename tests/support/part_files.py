"""Multi-track MIDI files built by the tests: one named track per part, markers, meter, key (no fixtures)."""

from __future__ import annotations

import io

import mido

SATB = ("Soprano", "Alto", "Tenor", "Bass")

Note = tuple[int, float, float]
"""(MIDI pitch, start, end) in quarter notes."""


def make_parts(
    parts: dict[str, list[Note]],
    *,
    markers: list[tuple[str, float]] = (),
    marker_type: str = "marker",
    tempo_bpm: float = 120.0,
    time_signature: tuple[int, int] = (4, 4),
    key: str | None = None,
    programs: dict[str, int] | None = None,
    ticks_per_quarter: int = 480,
) -> bytes:
    """A format-1 file: a conductor track (tempo, meter, key, ``markers`` as ``(text, quarter)`` meta events
    of ``marker_type``), then one track per part, named after it, each on its own channel."""
    conductor = [
        (0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm))),
        (0, mido.MetaMessage("time_signature", numerator=time_signature[0], denominator=time_signature[1])),
    ]
    if key is not None:
        conductor.append((0, mido.MetaMessage("key_signature", key=key)))
    conductor += [(round(q * ticks_per_quarter), mido.MetaMessage(marker_type, text=t)) for t, q in markers]
    tracks = [_track(conductor)]
    for index, (name, notes) in enumerate(parts.items()):
        channel = index if index < 9 else index + 1
        events = [(0, mido.MetaMessage("track_name", name=name))]
        program = (programs or {}).get(name, 0)
        events.append((0, mido.Message("program_change", channel=channel, program=program)))
        for pitch, start, end in notes:
            on, off = round(start * ticks_per_quarter), round(end * ticks_per_quarter)
            events.append((off, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
            events.append((on, mido.Message("note_on", channel=channel, note=pitch, velocity=90)))
        tracks.append(_track(events))
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_quarter, tracks=tracks)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _track(events: list[tuple[int, mido.Message]]) -> mido.MidiTrack:
    """Absolute-tick events as a track (stable order: at equal ticks, note-offs were listed first)."""
    track, previous = mido.MidiTrack(), 0
    for tick, message in sorted(events, key=lambda item: item[0]):
        track.append(message.copy(time=tick - previous))
        previous = tick
    return track


def satb(
    soprano: list[Note], alto: list[Note], tenor: list[Note], bass: list[Note], **kwargs: object
) -> bytes:
    """A four-part file with tracks named Soprano, Alto, Tenor and Bass."""
    return make_parts(dict(zip(SATB, (soprano, alto, tenor, bass), strict=True)), **kwargs)


def chorale_like(bars: int = 4, **kwargs: object) -> bytes:
    """A four-part 4/4 piece of quarter notes on a C major chord and a G major chord, bar by bar."""
    chords = [(72, 67, 64, 48), (71, 67, 62, 43)]
    voices: list[list[Note]] = [[], [], [], []]
    for beat in range(bars * 4):
        chord = chords[(beat // 4) % 2]
        for voice, pitch in enumerate(chord):
            voices[voice].append((pitch, float(beat), float(beat + 1)))
    return satb(*voices, **kwargs)

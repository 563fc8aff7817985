"""Four voices as a MusicXML 4.0 score (partwise), written with the standard library only.

:func:`voices_to_musicxml` writes one part per voice (Soprano, Alto, Tenor, Bass; treble, treble, treble
8vb and bass clefs), ``divisions`` = 4 per quarter note (one division per sixteenth step), the key and time
signature, the tempo, and the notes bar by bar: a note that crosses a bar line, or whose length has no
single note value, is written as tied notes; a fermata sits on each voice's note (or rest) at every phrase
end. Leading silence shorter than a bar (the padding of a pickup) becomes a short first bar ("implicit",
numbered 0). Spelling follows the key: each pitch class takes the name nearest the key on the line of
fifths, and accidentals are written where the key signature and earlier notes of the bar do not imply
them.

Reference: MusicXML 4.0, W3C Music Notation Community Group, https://www.w3.org/2021/06/musicxml40/.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from core.music.voices import ENSEMBLES, N_VOICES, REST, STEPS_PER_QUARTER, VOICE_NAMES, Voices, key_fifths

DIVISIONS = STEPS_PER_QUARTER
"""Divisions per quarter note: one per sixteenth step."""
DOCTYPE = (
    '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
    '"http://www.musicxml.org/dtds/partwise.dtd">'
)
NOTE_VALUES = {1: ("16th", 0), 2: ("eighth", 0), 3: ("eighth", 1), 4: ("quarter", 0), 6: ("quarter", 1),
               7: ("quarter", 2), 8: ("half", 0), 12: ("half", 1), 14: ("half", 2), 16: ("whole", 0),
               24: ("whole", 1), 28: ("whole", 2), 32: ("breve", 0), 48: ("breve", 1)}  # fmt: skip
"""Length in sixteenths → (note type, dots): the lengths one written note can have."""
CLEFS = (("G", 2, 0), ("G", 2, 0), ("G", 2, -1), ("F", 4, 0))
"""(sign, line, octave change) of each voice's clef: treble, treble, treble 8vb, bass."""
LETTERS_BY_FIFTHS = "FCGDAEB"
ACCIDENTALS = {-2: "flat-flat", -1: "flat", 0: "natural", 1: "sharp", 2: "double-sharp"}
SOFTWARE = "GAN Music Studio"


@dataclass(frozen=True)
class Spelling:
    """A written pitch: letter, alteration in semitones and octave (MusicXML's step, alter, octave)."""

    step: str
    alter: int
    octave: int


def spell(pitch: int, fifths: int, minor: bool = False) -> Spelling:
    """The spelling of a MIDI pitch in a key: the name of its pitch class nearest the key's centre on the
    line of fifths (F♯ rather than G♭ in C major, B♭ rather than A♯), octave of the written letter."""
    pitch_class = pitch % 12
    position = (pitch_class * 7) % 12  # C=0, G=1, ... F#=6, C#=7 ... F=11 on the line of fifths, mod 12
    centre = fifths + (3.5 if minor else 2.0)
    candidates = (position - 12, position, position + 12)
    best = min(candidates, key=lambda p: (abs(p - centre), -p))
    letter = LETTERS_BY_FIFTHS[(best + 1) % 7]
    alter = (best + 1) // 7
    octave = (pitch - alter) // 12 - 1
    return Spelling(letter, alter, octave)


def key_alterations(fifths: int) -> dict[str, int]:
    """Letter → alteration the key signature gives it."""
    if fifths >= 0:
        return {LETTERS_BY_FIFTHS[index]: 1 for index in range(fifths)}
    return {LETTERS_BY_FIFTHS[6 - index]: -1 for index in range(-fifths)}


def split_length(length: int) -> list[int]:
    """A length in sixteenths as note values that can be written (largest first), e.g. 5 → [4, 1]."""
    values = sorted(NOTE_VALUES, reverse=True)
    parts = []
    while length > 0:
        value = next(value for value in values if value <= length)
        parts.append(value)
        length -= value
    return parts


@dataclass
class _Event:
    """A note or rest inside one bar: start (steps from the bar line), length, pitch (REST for a rest),
    whether it continues a tie from before / into after, and whether it carries a fermata."""

    start: int
    length: int
    pitch: int
    tie_before: bool
    tie_after: bool
    fermata: bool


def _voice_events(voices: Voices, voice: int, bars: list[tuple[int, int]]) -> list[list[_Event]]:
    """Per bar, the events of one voice: its notes and rests cut at bar lines."""
    pitch, onset = voices.pitch[:, voice], voices.onset[:, voice]
    boundary = np.ones(voices.n_steps + 1, bool)
    boundary[1:-1] = onset[1:] | (pitch[1:] != pitch[:-1])
    starts = np.flatnonzero(boundary[:-1])
    ends = np.append(starts[1:], voices.n_steps)
    per_bar: list[list[_Event]] = [[] for _ in bars]
    bar_starts = np.array([start for start, _ in bars])
    origin = bars[0][0] if bars else voices.n_steps
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        value = int(pitch[start])
        fermata = bool(voices.phrase_end[start:end].any())
        position = max(start, origin)
        while position < end:
            bar = int(np.searchsorted(bar_starts, position, side="right") - 1)
            bar_start, bar_length = bars[bar]
            piece_end = min(end, bar_start + bar_length)
            tie_before, tie_after = position > start, piece_end < end
            event = _Event(position - bar_start, piece_end - position, value, tie_before, tie_after, fermata)
            event.fermata = fermata and not tie_before
            per_bar[bar].append(event)
            position = piece_end
    return per_bar


def _bars(voices: Voices) -> tuple[list[tuple[int, int]], int]:
    """(start step, length) of every bar, and the steps of leading silence left out before the first.

    A pickup: with ``bar_offset`` > 0 the first bar is the ``bar_offset`` steps before the first bar line;
    with silence in all four voices for less than a bar before a bar line, that silence is left out and
    the rest of the bar becomes the first (short) bar. The last bar may be short too.
    """
    bar, total = voices.steps_per_bar, voices.n_steps
    first_line = voices.bar_offset
    silent = voices.pitch.max(axis=1) < 0 if total else np.zeros(0, bool)
    lead = int(np.argmax(~silent)) if (~silent).any() else 0
    skip = 0
    if first_line == 0 and 0 < lead < bar and lead < total:
        skip = lead
        first_line = bar
    bars = []
    if first_line > skip:
        bars.append((skip, first_line - skip))
    position = first_line
    while position < total:
        bars.append((position, min(bar, total - position)))
        position += bar
    return bars, skip


def voices_to_musicxml(
    voices: Voices, title: str = "Chorale", *, composer: str | None = None, ensemble: str = "choir"
) -> bytes:
    """A partwise MusicXML 4.0 document (UTF-8 bytes) of the four voices; see the module docstring.

    ``ensemble`` (a key of :data:`core.music.voices.ENSEMBLES`) sets each part's MIDI program for playback.
    """
    if ensemble not in ENSEMBLES:
        raise ValueError(f"unknown ensemble {ensemble!r}; choose one of {', '.join(ENSEMBLES)}")
    root = ET.Element("score-partwise", version="4.0")
    ET.SubElement(ET.SubElement(root, "work"), "work-title").text = title
    identification = ET.SubElement(root, "identification")
    if composer:
        ET.SubElement(identification, "creator", type="composer").text = composer
    encoding = ET.SubElement(identification, "encoding")
    ET.SubElement(encoding, "software").text = SOFTWARE
    ET.SubElement(encoding, "supports", element="accidental", type="yes")
    part_list = ET.SubElement(root, "part-list")
    for voice, program in enumerate(ENSEMBLES[ensemble]):
        _score_part(part_list, voice, program)
    bars, _ = _bars(voices)
    for voice in range(N_VOICES):
        _part(root, voices, voice, bars)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{DOCTYPE}\n{body}\n'.encode()


def _score_part(part_list: ET.Element, voice: int, program: int) -> None:
    part_id = f"P{voice + 1}"
    score_part = ET.SubElement(part_list, "score-part", id=part_id)
    ET.SubElement(score_part, "part-name").text = VOICE_NAMES[voice]
    ET.SubElement(score_part, "part-abbreviation").text = VOICE_NAMES[voice][0] + "."
    instrument = ET.SubElement(score_part, "score-instrument", id=f"{part_id}-I1")
    ET.SubElement(instrument, "instrument-name").text = VOICE_NAMES[voice]
    midi = ET.SubElement(score_part, "midi-instrument", id=f"{part_id}-I1")
    ET.SubElement(midi, "midi-channel").text = str(voice + 1)
    ET.SubElement(midi, "midi-program").text = str(program + 1)  # MusicXML counts programs from 1


def _part(root: ET.Element, voices: Voices, voice: int, bars: list[tuple[int, int]]) -> None:
    part = ET.SubElement(root, "part", id=f"P{voice + 1}")
    fifths = key_fifths(voices.tonic, voices.mode)
    minor = voices.mode == "minor"
    pickup = bars and bars[0][1] < voices.steps_per_bar and len(bars) > 1
    for index, (events, (_, length)) in enumerate(zip(_voice_events(voices, voice, bars), bars, strict=True)):
        number = index if pickup else index + 1
        measure = ET.SubElement(part, "measure", number=str(number))
        if index == 0 and pickup:
            measure.set("implicit", "yes")
        if index == 0:
            _attributes(measure, voices, voice, fifths)
            if voice == 0:
                _tempo(measure, voices.tempo_bpm)
        resting = all(event.pitch == REST for event in events) and not any(event.fermata for event in events)
        if resting and length == voices.steps_per_bar:  # a whole-bar rest (music21 reads it as a full bar)
            _whole_bar_rest(measure, length)
            continue
        accidentals = dict(key_alterations(fifths))
        for event in events:
            _write_event(measure, event, fifths, minor, accidentals)


def _attributes(measure: ET.Element, voices: Voices, voice: int, fifths: int) -> None:
    attributes = ET.SubElement(measure, "attributes")
    ET.SubElement(attributes, "divisions").text = str(DIVISIONS)
    key = ET.SubElement(attributes, "key")
    ET.SubElement(key, "fifths").text = str(fifths)
    ET.SubElement(key, "mode").text = voices.mode
    numerator, denominator = voices.time_signature
    time = ET.SubElement(attributes, "time")
    ET.SubElement(time, "beats").text = str(numerator)
    ET.SubElement(time, "beat-type").text = str(denominator)
    sign, line, octave_change = CLEFS[voice]
    clef = ET.SubElement(attributes, "clef")
    ET.SubElement(clef, "sign").text = sign
    ET.SubElement(clef, "line").text = str(line)
    if octave_change:
        ET.SubElement(clef, "clef-octave-change").text = str(octave_change)


def _tempo(measure: ET.Element, tempo_bpm: float) -> None:
    direction = ET.SubElement(measure, "direction", placement="above")
    metronome = ET.SubElement(ET.SubElement(direction, "direction-type"), "metronome")
    ET.SubElement(metronome, "beat-unit").text = "quarter"
    ET.SubElement(metronome, "per-minute").text = f"{tempo_bpm:g}"
    ET.SubElement(direction, "sound", tempo=f"{tempo_bpm:g}")


def _whole_bar_rest(measure: ET.Element, length: int) -> None:
    note = ET.SubElement(measure, "note")
    ET.SubElement(note, "rest", measure="yes")
    ET.SubElement(note, "duration").text = str(length)
    ET.SubElement(note, "voice").text = "1"


def _write_event(
    measure: ET.Element, event: _Event, fifths: int, minor: bool, accidentals: dict[str, int]
) -> None:
    """One event as one or more notes (tied where it is a note), updating the bar's accidentals."""
    pieces = split_length(event.length)
    spelling = spell(event.pitch, fifths, minor) if event.pitch != REST else None
    for index, length in enumerate(pieces):
        tie_before = event.tie_before or index > 0
        tie_after = event.tie_after or index < len(pieces) - 1
        note = ET.SubElement(measure, "note")
        if spelling is None:
            ET.SubElement(note, "rest")
        else:
            _pitch(note, spelling)
        ET.SubElement(note, "duration").text = str(length)
        if spelling is not None:
            for kind, present in (("stop", tie_before), ("start", tie_after)):
                if present:
                    ET.SubElement(note, "tie", type=kind)
        ET.SubElement(note, "voice").text = "1"
        note_type, dots = NOTE_VALUES[length]
        ET.SubElement(note, "type").text = note_type
        for _ in range(dots):
            ET.SubElement(note, "dot")
        if spelling is not None:
            shown = accidentals.get(spelling.step + str(spelling.octave), accidentals.get(spelling.step, 0))
            if index == 0 and not event.tie_before:  # a note tied over from the last bar shows none
                if spelling.alter != shown:
                    ET.SubElement(note, "accidental").text = ACCIDENTALS[spelling.alter]
                accidentals[spelling.step + str(spelling.octave)] = spelling.alter
        _notations(note, spelling is not None, tie_before, tie_after, event.fermata and index == 0)


def _pitch(note: ET.Element, spelling: Spelling) -> None:
    pitch = ET.SubElement(note, "pitch")
    ET.SubElement(pitch, "step").text = spelling.step
    if spelling.alter:
        ET.SubElement(pitch, "alter").text = str(spelling.alter)
    ET.SubElement(pitch, "octave").text = str(spelling.octave)


def _notations(note: ET.Element, pitched: bool, tie_before: bool, tie_after: bool, fermata: bool) -> None:
    if not (fermata or (pitched and (tie_before or tie_after))):
        return
    notations = ET.SubElement(note, "notations")
    if pitched:
        for kind, present in (("stop", tie_before), ("start", tie_after)):
            if present:
                ET.SubElement(notations, "tied", type=kind)
    if fermata:
        ET.SubElement(notations, "fermata", type="upright")

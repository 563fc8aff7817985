"""MusicXML of four voices: well formed, and music21 reads back the same pitches, durations and fermatas."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.midi.parser import load_midi
from core.music.musicxml import Spelling, spell, split_length, voices_to_musicxml
from core.music.voice_parts import voices_from_score
from core.music.voices import ENSEMBLES, REST, VOICE_NAMES, Voices
from core.paths import DEFAULT_CORPUS

music21 = pytest.importorskip("music21")


def parse(xml: bytes):
    return music21.converter.parseData(xml.decode("utf-8"), format="musicxml")


def part_notes(part) -> list[tuple[int, float, float]]:
    """(MIDI pitch, offset, length) in sixteenths of every note of a part, ties merged."""
    return [
        (int(n.pitch.midi), float(n.offset) * 4, float(n.quarterLength) * 4)
        for n in part.stripTies().flatten().notes
    ]


def voice_notes(voices: Voices, voice: int, lead: int = 0) -> list[tuple[int, float, float]]:
    notes = voices.notes()
    rows = notes[notes["voice"] == voice]
    return [(int(r["pitch"]), float(r["start"] - lead), float(r["end"] - r["start"])) for r in rows]


def fermata_offsets(part) -> list[float]:
    found = []
    for item in part.flatten().notesAndRests:
        if any(isinstance(mark, music21.expressions.Fermata) for mark in item.expressions):
            found.append(float(item.offset) * 4)
    return found


def sample_voices(**changes: object) -> Voices:
    """Two bars of 4/4 in G minor: a soprano note tied over the bar line, a five-sixteenth note, an F#
    and a B-flat, rests in the tenor, phrase ends at steps 12 and 31."""
    pitch = np.full((32, 4), REST, np.int16)
    pitch[0:12, 0], pitch[12:20, 0], pitch[20:32, 0] = 74, 72, 70  # D5, C5 across the bar line, Bb4
    pitch[0:5, 1], pitch[5:16, 1], pitch[16:32, 1] = 66, 67, 66  # F#4 for 5 sixteenths
    pitch[4:12, 2], pitch[20:32, 2] = 62, 62
    pitch[:, 3] = np.repeat([43, 43, 50, 43], 8)
    onset = np.zeros((32, 4), bool)
    onset[8, 3] = True  # the bass repeats its G2
    phrase_end = np.zeros(32, bool)
    phrase_end[[12, 31]] = True
    values = {"pitch": pitch, "onset": onset, "phrase_end": phrase_end, "tonic": 7, "mode": "minor"}
    return Voices(**{**values, **changes})


def test_the_document_is_partwise_musicxml_4_with_four_named_parts():
    xml = voices_to_musicxml(sample_voices(), title="Test chorale", composer="Nobody")
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE score-partwise PUBLIC')
    root = ET.fromstring(xml)
    assert root.tag == "score-partwise" and root.get("version") == "4.0"
    assert [name.text for name in root.iter("part-name")] == list(VOICE_NAMES)
    assert [part.get("id") for part in root.findall("part")] == ["P1", "P2", "P3", "P4"]
    assert {d.text for d in root.iter("divisions")} == {"4"}
    assert root.findtext("work/work-title") == "Test chorale"
    measures = [len(part.findall("measure")) for part in root.findall("part")]
    assert measures == [2, 2, 2, 2]
    for part in root.findall("part"):  # every bar of every part adds up to a full bar
        for measure in part.findall("measure"):
            assert sum(int(d.text) for d in measure.iter("duration")) == 16


def test_music21_reads_back_the_same_notes_key_metre_and_fermatas():
    voices = sample_voices()
    score = parse(voices_to_musicxml(voices))
    assert [part.partName for part in score.parts] == list(VOICE_NAMES)
    for voice, part in enumerate(score.parts):
        assert part_notes(part) == voice_notes(voices, voice), VOICE_NAMES[voice]
        key = part.recurse().getElementsByClass(music21.key.KeySignature).first()
        assert key.sharps == -2
        assert part.recurse().getElementsByClass(music21.meter.TimeSignature).first().ratioString == "4/4"
    assert fermata_offsets(score.parts[0]) == [12.0, 20.0]  # the notes sounding at steps 12 and 31
    assert fermata_offsets(score.parts[2]) == [12.0, 20.0]  # a rest, then a note
    tenor = score.parts[2].flatten().notesAndRests
    rests = [(float(r.offset) * 4, float(r.quarterLength) * 4) for r in tenor if r.isRest]
    assert rests == [(0.0, 4.0), (12.0, 4.0), (16.0, 4.0)]


def test_ties_accidentals_and_spelling():
    score = parse(voices_to_musicxml(sample_voices()))
    soprano = list(score.parts[0].flatten().notes)
    assert [n.tie.type if n.tie else None for n in soprano] == [None, "start", "stop", None]
    assert [n.nameWithOctave for n in soprano] == ["D5", "C5", "C5", "B-4"]
    alto = list(score.parts[1].flatten().notes)
    assert alto[0].nameWithOctave == "F#4" and alto[0].pitch.accidental.displayStatus
    assert [n.quarterLength for n in alto[:2]] == [1.0, 0.25]  # five sixteenths: a quarter tied to a 16th


def test_an_unwritable_length_becomes_tied_notes():
    assert split_length(5) == [4, 1] and split_length(11) == [8, 3] and split_length(16) == [16]
    assert split_length(15) == [14, 1]


def test_spelling_follows_the_key():
    assert spell(66, 0) == Spelling("F", 1, 4)  # F#4 in C major
    assert spell(70, 0) == Spelling("B", -1, 4)  # Bb4
    assert spell(68, 0) == Spelling("G", 1, 4)  # G#4 rather than Ab4
    assert spell(59, -6) == Spelling("C", -1, 4)  # Cb4 in Gb major
    assert spell(65, 5) == Spelling("E", 1, 4)  # E#4 in B major
    assert spell(63, -3, minor=True) == Spelling("E", -1, 4)  # Eb4 in C minor
    assert spell(71, -3, minor=True) == Spelling("B", 0, 4)  # the leading tone of C minor


def test_leading_silence_becomes_a_pickup_bar():
    pitch = np.full((20, 4), REST, np.int16)
    pitch[12:20] = [72, 67, 64, 48]  # a quarter-note pickup after three beats of padding, then a bar
    pitch[16:20] = [74, 67, 65, 47]
    voices = Voices(pitch, phrase_end=np.eye(20, dtype=bool)[16])
    xml = voices_to_musicxml(voices)
    first = ET.fromstring(xml).find("part/measure")
    assert first.get("number") == "0" and first.get("implicit") == "yes"
    score = parse(xml)
    for voice, part in enumerate(score.parts):
        assert part_notes(part) == voice_notes(voices, voice, lead=12)
    assert fermata_offsets(score.parts[0]) == [4.0]
    assert score.parts[0].getElementsByClass(music21.stream.Measure).first().paddingLeft == 3.0


def test_a_bar_offset_is_a_pickup_bar_too():
    voices = sample_voices(bar_offset=4)
    root = ET.fromstring(voices_to_musicxml(voices))
    durations = [sum(int(d.text) for d in m.iter("duration")) for m in root.find("part").findall("measure")]
    assert durations == [4, 16, 12]
    score = parse(voices_to_musicxml(voices))
    for voice, part in enumerate(score.parts):
        assert part_notes(part) == voice_notes(voices, voice)


def test_compound_metre_and_the_ensemble_program():
    voices = sample_voices(steps_per_beat=6, beats_per_bar=2, tonic=2, mode="major")
    xml = voices_to_musicxml(voices, ensemble="strings")
    root = ET.fromstring(xml)
    assert [p.text for p in root.iter("midi-program")] == [str(p + 1) for p in ENSEMBLES["strings"]]
    score = parse(xml)
    assert (
        score.parts[0].recurse().getElementsByClass(music21.meter.TimeSignature).first().ratioString == "6/8"
    )
    assert score.parts[0].recurse().getElementsByClass(music21.key.KeySignature).first().sharps == 2
    for voice, part in enumerate(score.parts):
        assert part_notes(part) == voice_notes(voices, voice)
    with pytest.raises(ValueError, match="unknown ensemble"):
        voices_to_musicxml(voices, ensemble="banjo")


grids = st.integers(1, 48).flatmap(
    lambda steps: st.tuples(
        st.lists(
            st.lists(st.sampled_from([REST, 55, 61, 62, 70]), min_size=4, max_size=4),
            min_size=steps,
            max_size=steps,
        ),
        st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=steps, max_size=steps),
        st.sampled_from([(4, 4), (4, 3), (6, 4), (8, 3)]),
    )
)


@settings(max_examples=20, deadline=None)
@given(grid=grids)
def test_any_voices_round_trip_through_music21(grid):
    pitch, onset, (steps_per_beat, beats_per_bar) = grid
    pitch = np.array(pitch)
    pitch[0] = [70, 62, 61, 55]  # no leading silence (that would become a pickup bar)
    voices = Voices(pitch, np.array(onset), steps_per_beat=steps_per_beat, beats_per_bar=beats_per_bar)
    score = parse(voices_to_musicxml(voices))
    for voice, part in enumerate(score.parts):
        assert part_notes(part) == voice_notes(voices, voice)


def test_a_bundled_chorale_round_trips():
    voices = voices_from_score(load_midi(DEFAULT_CORPUS / "bwv269.mid"))
    score = parse(voices_to_musicxml(voices, title="Aus meines Herzens Grunde", composer="J. S. Bach"))
    lead = int(np.argmax(voices.pitch.max(axis=1) >= 0))  # the padded pickup
    for voice, part in enumerate(score.parts):
        assert part_notes(part) == voice_notes(voices, voice, lead)
    expected = (np.flatnonzero(voices.phrase_end) - lead).astype(float).tolist()
    assert fermata_offsets(score.parts[0]) == expected and len(expected) == 8

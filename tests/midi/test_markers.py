"""Markers, text events and track names travel from the file through the sandboxed worker to the Score."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.midi.parser import MidiParser
from core.midi.protocol import decode_array, score_from_frames, score_to_frames
from core.midi.score import MAX_TEXT_CHARS, NOTE_DTYPE, Score, clean_text
from tests.support.midi_files import make_midi
from tests.support.part_files import chorale_like, make_parts, satb


@pytest.fixture(scope="module")
def parser():
    with MidiParser() as shared:
        yield shared


def test_markers_come_with_their_times_in_seconds(parser):
    data = chorale_like(bars=2, markers=[("fermata", 3.0), ("fermata", 7.0)], tempo_bpm=120.0)
    score = parser.parse(data, "four.mid")
    assert [text for text, _ in score.markers] == ["fermata", "fermata"]
    np.testing.assert_allclose([time for _, time in score.markers], [1.5, 3.5], atol=1e-6)


def test_text_and_cue_events_count_as_markers_and_are_sorted(parser):
    for kind in ("text", "cue_marker"):
        data = chorale_like(markers=[("late", 6.0), ("early", 2.0)], marker_type=kind, tempo_bpm=60.0)
        assert parser.parse(data).markers == [("early", 2.0), ("late", 6.0)]


def test_lyrics_are_not_markers(parser):
    data = chorale_like(markers=[("Ach", 0.0)], marker_type="lyrics")
    assert parser.parse(data).markers == []


def test_track_names_are_indexed_by_the_track_field(parser):
    score = parser.parse(satb([(72, 0, 4)], [(67, 0, 4)], [(64, 0, 4)], [(48, 0, 4)]))
    assert score.track_names == ["Soprano", "Alto", "Tenor", "Bass"]
    for name, pitch in zip(score.track_names, (72, 67, 64, 48), strict=True):
        track = int(score.notes["track"][score.notes["pitch"] == pitch][0])
        assert score.track_name(track) == name
    assert score.track_name(7) == "" and score.track_name(-1) == ""


def test_a_file_without_names_or_markers(parser):
    score = parser.parse(make_midi())
    assert score.track_names == [""] and score.markers == []


def test_utf8_names_are_read_back_and_long_ones_cut(parser):
    data = make_parts({"Bäss": [(48, 0, 1)], "x" * 500: [(60, 0, 1)]}, markers=[("\x07bell\x00", 0.0)])
    score = parser.parse(data)
    assert score.track_names == ["Bäss", "x" * MAX_TEXT_CHARS]
    assert score.markers == [("bell", 0.0)]


def test_clean_text():
    assert clean_text("Sopran\tI ") == "SopranI"
    assert clean_text("Alt\u00e9") == "Alté"  # not valid UTF-8 bytes once encoded as Latin-1: kept
    assert clean_text("ab", limit=1) == "a"


def test_protocol_round_trip_keeps_names_and_markers():
    score = Score(
        name="x.mid",
        notes=np.zeros(0, dtype=[("pitch", "u1")]),
        beat_times=np.arange(3.0),
        downbeat_times=np.zeros(1),
        tempo_bpm=60.0,
        duration_s=2.0,
        track_names=["Soprano", ""],
        markers=[("fermata", 1.25)],
    )
    frames = score_to_frames(score)
    header = json.loads(frames[0])
    arrays = {name: decode_array(frame) for name, frame in zip(header["arrays"], frames[1:], strict=True)}
    with pytest.raises(ValueError, match="dtype"):  # notes of the wrong dtype are refused
        score_from_frames(header["score"], arrays)
    arrays["notes"] = np.zeros(0, dtype=NOTE_DTYPE)
    back = score_from_frames(header["score"], arrays)
    assert back.track_names == ["Soprano", ""] and back.markers == [("fermata", 1.25)]


def test_protocol_accepts_an_answer_without_the_new_fields():
    scalars = {
        "name": "a",
        "tempo_bpm": 100,
        "duration_s": 1,
        "time_signatures": [],
        "key_signatures": [],
        "n_tracks": 1,
        "n_instruments": 1,
    }
    arrays = {"notes": np.zeros(0, NOTE_DTYPE), "beat_times": np.zeros(1), "downbeat_times": np.zeros(1)}
    score = score_from_frames(scalars, arrays)
    assert score.track_names == [] and score.markers == []


def test_to_pretty_midi_keeps_names_and_markers(parser):
    score = parser.parse(chorale_like(markers=[("fermata", 4.0)], tempo_bpm=120.0))
    pm = score.to_pretty_midi()
    assert [inst.name for inst in pm.instruments] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert [(text.text, text.time) for text in pm.text_events] == [("fermata", 2.0)]

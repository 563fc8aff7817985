"""Guarded MIDI loading: valid files parse correctly, hostile ones become MidiRejected with a clear reason."""

from __future__ import annotations

import io
import struct
import subprocess
import sys

import numpy as np
import pretty_midi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.midi.parser import MidiLimits, MidiParser, MidiRejected, Score, load_midi
from core.midi.precheck import check_structure
from core.midi.worker import check_notes, max_polyphony, notes_array
from core.paths import REPO_ROOT
from tests.support.hostile_midi import event, mtrk, smf
from tests.support.midi_files import make_midi

TEMPO_120 = b"\xff\x51\x03\x07\xa1\x20"


# --- raw MIDI builders -------------------------------------------------------------------------------------


def one_note_track(division: int = 96, channel: int = 0, pitch: int = 60) -> bytes:
    """Tempo 120, one note from beat 1 to beat 2 (0.5 s to 1.0 s)."""
    return mtrk(
        event(0, *TEMPO_120),
        event(division, 0x90 | channel, pitch, 100),
        event(division, 0x80 | channel, pitch, 0),
    )


def many_notes_track(n_notes: int, step: int = 1) -> bytes:
    """``n_notes`` short notes in sequence, written with running status."""
    body = bytearray(event(0, 0x90, 60, 100))
    body += event(step, 60, 0)
    for index in range(1, n_notes):
        body += event(0, 48 + index % 24, 100) + event(step, 48 + index % 24, 0)
    return mtrk(bytes(body))


@pytest.fixture(scope="module")
def parser():
    with MidiParser() as shared:
        yield shared


def rejected(parser: MidiParser, data: bytes) -> str:
    with pytest.raises(MidiRejected) as info:
        parser.parse(data, "test.mid")
    return str(info.value)


# --- valid files -------------------------------------------------------------------------------------------


def test_single_track_notes_tempo_and_beats(parser):
    score = parser.parse(make_midi(), "song.mid")
    assert isinstance(score, Score) and score.name == "song.mid"
    assert score.notes["pitch"].tolist() == [60, 64, 67]
    np.testing.assert_allclose(score.notes["start"], [0.0, 0.5, 1.0], atol=1e-3)
    np.testing.assert_allclose(score.notes["end"], [0.5, 1.0, 2.0], atol=1e-3)
    assert score.tempo_bpm == pytest.approx(120.0)
    assert score.duration_s == pytest.approx(2.0, abs=1e-3)
    np.testing.assert_allclose(score.beat_times[:4], [0.0, 0.5, 1.0, 1.5], atol=1e-3)
    assert not score.notes["is_drum"].any()


def test_multi_track_programs_meter_and_key(parser):
    pm = pretty_midi.PrettyMIDI(initial_tempo=90.0, resolution=480)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0.0))
    pm.key_signature_changes.append(pretty_midi.KeySignature(2, 0.0))
    for program, pitches in ((0, (48, 52)), (40, (72, 76))):
        inst = pretty_midi.Instrument(program=program)
        inst.notes = [pretty_midi.Note(80, p, i * 2 / 3, (i + 1) * 2 / 3) for i, p in enumerate(pitches)]
        pm.instruments.append(inst)
    buffer = io.BytesIO()
    pm.write(buffer)
    score = parser.parse(buffer.getvalue(), "duet.mid")
    assert score.n_instruments == 2 and score.n_tracks == 3
    assert score.tempo_bpm == pytest.approx(90.0, abs=0.01)  # tempo is stored in whole microseconds
    assert score.time_signatures == [(3, 4, 0.0)] and score.key_signatures == [(2, 0.0)]
    by_track = {track: sorted(score.notes[score.notes["track"] == track]["pitch"]) for track in (0, 1)}
    assert by_track == {0: [48, 52], 1: [72, 76]}
    assert set(score.notes["program"][score.notes["track"] == 1]) == {40}
    np.testing.assert_allclose(np.diff(score.downbeat_times[:3]), 2.0, atol=1e-3)  # 3 beats at 90 bpm


def test_load_midi_from_path_and_bytes(tmp_path):
    path = tmp_path / "tune.mid"
    path.write_bytes(make_midi([(62, 0.0, 1.0)]))
    assert load_midi(path).name == "tune.mid"
    score = load_midi(path.read_bytes(), name="again.mid")
    assert score.name == "again.mid" and score.notes["pitch"].tolist() == [62]


def test_rmid_wrapper_is_unwrapped(parser):
    midi = make_midi()
    data_chunk = b"data" + struct.pack("<I", len(midi)) + midi + b"\0" * (len(midi) & 1)
    riff = b"RIFF" + struct.pack("<I", 4 + len(data_chunk)) + b"RMID" + data_chunk
    assert parser.parse(riff, "wrapped.rmi").notes["pitch"].tolist() == [60, 64, 67]


def test_high_resolution_is_rescaled_with_notes_in_place(parser):
    data = smf(one_note_track(division=7680), file_format=0, division=7680)
    assert check_structure(data, MidiLimits()).target_ticks_per_beat == 960
    score = parser.parse(data)
    np.testing.assert_allclose([score.notes["start"][0], score.notes["end"][0]], [0.5, 1.0], atol=1e-4)


def test_unknown_chunks_are_skipped(parser):
    data = smf(b"XFIH" + struct.pack(">I", 3) + b"abc", one_note_track(), n_tracks=1)
    assert parser.parse(data).notes["pitch"].tolist() == [60]


def test_parse_many_keeps_order_with_two_workers():
    files = [("a.mid", make_midi([(60, 0, 1)])), ("bad.mid", b"nope"), ("c.mid", make_midi([(72, 0, 1)]))]
    with MidiParser(workers=2) as parser:
        results = list(parser.parse_many(files * 3))
    assert [name for name, _ in results] == [name for name, _ in files * 3]
    assert [r.notes["pitch"][0] if isinstance(r, Score) else None for _, r in results[:3]] == [60, None, 72]
    assert isinstance(results[4][1], MidiRejected)


# --- hostile files: container and header --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (make_midi()[:60], "truncated"),
        (np.random.default_rng(7).integers(0, 256, 3000, dtype=np.uint8).tobytes(), "not a MIDI file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG image"),
        (b"MThd" + bytes(1 << 20), "the limit is 1 MB"),
        (smf(one_note_track(), n_tracks=65535), "65,535 tracks"),
        (smf(one_note_track(), n_tracks=3), "declares 3 tracks but contains 1"),
        (smf(one_note_track(), division=0xE728), "SMPTE"),
        (smf(one_note_track(), division=0), "0 ticks per beat"),
        (smf(one_note_track(), one_note_track(), file_format=2), "format 2"),
        (smf(mtrk(event(0, 0x99, 36, 100), event(96, 0x89, 36, 0))), "only has drums"),
        (smf(mtrk(event(0, *TEMPO_120))), "no notes"),
    ],
    ids=[
        "empty",
        "truncated",
        "random",
        "png",
        "too-large",
        "65535-tracks",
        "missing-tracks",
        "smpte",
        "tpb-0",
        "format-2",
        "drums-only",
        "no-notes",
    ],
)
def test_hostile_container_is_rejected(parser, data, reason):
    assert reason in rejected(parser, data)


def test_oversized_path_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.mid"
    path.write_bytes(bytes(3 * (1 << 20) + 300_000))
    with pytest.raises(MidiRejected, match=r"the file is 3\.3 MB; the limit is 1 MB"):
        load_midi(path)


# --- hostile files: events ---------------------------------------------------------------------------------


def test_delta_time_longer_than_four_bytes(parser):
    five_byte_delta = b"\x81\x80\x80\x80\x00"
    data = smf(mtrk(five_byte_delta + bytes([0x90, 60, 100]), event(96, 0x80, 60, 0)))
    assert "longer than the 4 bytes" in rejected(parser, data)


def test_note_years_out(parser):
    slowest_tempo = b"\xff\x51\x03\xff\xff\xff"  # 16.8 s per beat
    far = event(0x0FFFFFFF, 0x80, 60, 0)  # the largest delta a 4-byte field holds
    data = smf(mtrk(event(0, *slowest_tempo), event(0, 0x90, 60, 100), far), division=24)
    assert "years" in rejected(parser, data)


def test_implausible_tick_count_at_fast_tempo(parser):
    fastest_tempo = b"\xff\x51\x03\x00\x00\x01"  # 1 microsecond per beat: short in seconds, huge in ticks
    data = smf(mtrk(event(0, *fastest_tempo), event(0, 0x90, 60, 100), event(0x0FFFFFFF, 0x80, 60, 0)))
    assert "implausible" in rejected(parser, data)


@pytest.mark.parametrize(
    ("events", "reason"),
    [
        ((event(0, 60, 100),), "data without a status byte"),
        ((event(0, 0xF4),), "undefined status byte 0xF4"),
        ((event(0, 0x90, 200, 100),), "invalid data byte"),
        ((event(0, 0xFF, 0x51, 0x03, 0, 0, 0),), "tempo of zero"),
        ((event(0, 0xFF, 0x01, 0x7F, 0x41),), "ends in the middle of an event"),
        ((event(0, 0xFF, 0x59, 0x02, 20, 0), event(0, 0x90, 60, 100), event(9, 0x80, 60, 0)), "damaged"),
    ],
    ids=["no-status", "undefined-status", "data-byte", "tempo-0", "cut-meta", "bad-key-signature"],
)
def test_damaged_events_are_rejected(parser, events, reason):
    assert reason in rejected(parser, smf(mtrk(*events)))


def test_too_many_notes(parser):
    assert "50,001 notes; the limit is 50,000" in rejected(parser, smf(many_notes_track(50_001)))


def test_too_many_simultaneous_notes(parser):
    chord = [event(0, 0x90 | channel, pitch, 100) for channel in range(3) for pitch in range(20, 120)]
    release = [
        event(96 if i == 0 else 0, 0x80 | c, p, 0)
        for i, (c, p) in enumerate((c, p) for c in range(3) for p in range(20, 120))
    ]
    assert "300 notes sounding at once; the limit is 256" in rejected(parser, smf(mtrk(*chord, *release)))


def test_post_parse_note_checks():
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(90, 60 + i, i * 0.5, i * 0.5 + 1.0) for i in range(5)]
    pm.instruments.append(inst)
    notes = notes_array(pm)
    assert max_polyphony(notes["start"], notes["end"]) == 2  # touching notes do not overlap
    with pytest.raises(MidiRejected, match="5 notes; the limit is 4"):
        check_notes(notes, MidiLimits(max_notes=4))
    with pytest.raises(MidiRejected, match="2 notes sounding at once; the limit is 1"):
        check_notes(notes, MidiLimits(max_polyphony=1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(14, 400), st.integers(0, 255)), min_size=1, max_size=6))
def test_corrupted_bytes_give_score_or_rejection(parser, edits):
    data = bytearray(make_midi([(60, 0, 0.5), (64, 0.25, 1.0)]))
    for position, value in edits:
        data[position % len(data)] = value
    try:
        assert isinstance(parser.parse(bytes(data)), Score)
    except MidiRejected as error:
        assert str(error)


# --- the sandbox -------------------------------------------------------------------------------------------


def test_timeout_kills_worker_and_next_parse_works():
    slow = smf(many_notes_track(45_000))
    with MidiParser(MidiLimits(timeout_s=0.15)) as parser:
        with pytest.raises(MidiRejected, match="took too long"):
            parser.parse(slow)
        assert parser.parse(make_midi()).notes["pitch"].tolist() == [60, 64, 67]


def test_memory_cap_gives_rejection():
    with MidiParser(MidiLimits(worker_memory_mb=4)) as parser:
        with pytest.raises(MidiRejected, match="memory"):
            parser.parse(smf(many_notes_track(45_000)))
        assert parser.parse(make_midi()).notes["pitch"].tolist() == [60, 64, 67]


# --- CLI ---------------------------------------------------------------------------------------------------


def test_cli_check_prints_one_line_per_file(tmp_path):
    good, bad = tmp_path / "good.mid", tmp_path / "bad.mid"
    good.write_bytes(make_midi())
    bad.write_bytes(smf(one_note_track(), file_format=2))
    result = subprocess.run(
        [sys.executable, "-m", "core.midi_io", "check", str(good), str(bad)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [line[:2] for line in lines] == [[str(good), "ok"], [str(bad), "error"]]
    assert lines[0][2].startswith("3 notes") and "format 2" in lines[1][2]


def test_cli_help():
    result = subprocess.run(
        [sys.executable, "-m", "core.midi_io", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "check" in result.stdout

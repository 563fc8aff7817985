"""Four explicit voices: from parsed MIDI files, to MIDI and piano-rolls, transposition, windows, metre."""

from __future__ import annotations

import io

import mido
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.midi.parser import MidiParser
from core.music.pianoroll import RollSpec, roll_notes
from core.music.voice_parts import convert_score, voice_of_name, voices_from_score
from core.music.voices import (
    ENSEMBLES,
    METRE_FEATURES,
    PITCH_RANGES,
    REST,
    VOICE_NAMES,
    Voices,
    VoicesError,
    key_fifths,
    key_name,
    meter_grid,
    metre_features,
    time_signature_of,
    tonic_from_name,
)
from core.music.voices_midi import voices_to_midi
from tests.support.midi_files import make_midi
from tests.support.part_files import chorale_like, make_parts, satb


@pytest.fixture(scope="module")
def parser():
    with MidiParser() as shared:
        yield shared


def parse_voices(parser: MidiParser, data: bytes, **options: object) -> Voices:
    return voices_from_score(parser.parse(data, "test.mid"), **options)


def reason(parser: MidiParser, data: bytes, **options: object) -> str:
    with pytest.raises(VoicesError) as info:
        parse_voices(parser, data, **options)
    return str(info.value)


def small_voices(**changes: object) -> Voices:
    """Two bars of 4/4: S sings C5 for a bar, then again; A quarter notes (the last two the same G4);
    T re-strikes C4 every half note; B quarter notes, then a rest. Phrase ends at steps 16 and 28."""
    pitch = np.full((32, 4), REST, np.int16)
    pitch[0:16, 0] = 72
    pitch[16:32, 0] = 72
    pitch[:, 1] = np.repeat([67, 65, 64, 62, 64, 65, 67, 67], 4)
    pitch[:, 2] = 60
    pitch[0:28, 3] = np.repeat([48, 53, 55, 48, 53, 55, 43], 4)
    onset = np.zeros((32, 4), bool)
    onset[[0, 16], 0] = True
    onset[28, 1] = True  # the repeated G4 of the alto
    onset[[0, 8, 16, 24], 2] = True  # the tenor re-strikes its C4
    phrase_end = np.zeros(32, bool)
    phrase_end[[16, 28]] = True
    values = {"pitch": pitch, "onset": onset, "phrase_end": phrase_end, "tempo_bpm": 90.0}
    return Voices(**{**values, **changes})


# --- from a file ------------------------------------------------------------------------------------


def test_four_named_parts_become_voices_with_held_and_repeated_notes(parser):
    data = satb(
        [(72, 0, 2), (72, 2, 3), (74, 3, 4)],  # a half note, then the same pitch again: two onsets
        [(67, 0, 4)],
        [(64, 0, 1), (64, 1, 2), (65, 2, 4)],
        [(48, 0, 4)],
    )
    voices = parse_voices(parser, data)
    assert voices.n_steps == 16 and voices.time_signature == (4, 4) and voices.tempo_bpm == pytest.approx(120)
    assert voices.pitch[:, 0].tolist() == [72] * 12 + [74] * 4
    assert np.flatnonzero(voices.onset[:, 0]).tolist() == [0, 8, 12]
    assert np.flatnonzero(voices.onset[:, 1]).tolist() == [0]
    assert np.flatnonzero(voices.onset[:, 2]).tolist() == [0, 4, 8]
    assert voices.pitch[:, 3].tolist() == [48] * 16


def test_fermata_markers_become_phrase_ends_at_their_steps(parser):
    data = chorale_like(bars=4, markers=[("fermata", 3.0), ("Fermata ", 7.5), ("rit.", 9.0)])
    voices = parse_voices(parser, data)
    assert np.flatnonzero(voices.phrase_end).tolist() == [12, 30]


def test_fermata_as_a_text_event_at_a_faster_tempo(parser):
    data = chorale_like(bars=2, markers=[("fermata", 4.0)], marker_type="text", tempo_bpm=144.0)
    assert np.flatnonzero(parse_voices(parser, data).phrase_end).tolist() == [16]


def test_parts_are_found_by_name_in_any_order(parser):
    parts = {"Basso": [(48, 0, 4)], "Tenore": [(55, 0, 4)], "Alto": [(64, 0, 4)], "Canto": [(72, 0, 4)]}
    voices = parse_voices(parser, make_parts(parts))
    assert voices.pitch[0].tolist() == [72, 64, 55, 48]


def test_crossing_named_voices_keep_their_names(parser):
    voices = parse_voices(parser, satb([(64, 0, 4)], [(67, 0, 4)], [(55, 0, 4)], [(48, 0, 4)]))
    assert voices.pitch[0].tolist() == [64, 67, 55, 48]


def test_four_unnamed_parts_are_taken_from_the_highest_down(parser):
    parts = {
        "Violin II": [(64, 0, 4)],
        "Cello": [(48, 0, 4)],
        "Violin I": [(72, 0, 4)],
        "Viola": [(55, 0, 4)],
    }
    conversion = convert_score(parser.parse(make_parts(parts)))
    assert conversion.voices.pitch[0].tolist() == [72, 64, 55, 48]
    assert "highest down" in conversion.remarks[0]


def test_extra_parts_are_left_out_by_name(parser):
    parts = {
        "Horn 1": [(79, 0, 4)],
        "Soprano": [(72, 0, 4)],
        "Alto": [(67, 0, 4)],
        "Tenor": [(64, 0, 4)],
        "Bass": [(48, 0, 4)],
        "Basso continuo": [(36, 0, 4)],
    }
    conversion = convert_score(parser.parse(make_parts(parts)))
    assert conversion.voices.pitch[0].tolist() == [72, 67, 64, 48]
    assert conversion.remarks == ["left out 2 other parts: Horn 1, Basso continuo"]


def test_drums_are_not_a_part(parser):
    data = make_parts(
        {"S": [(72, 0, 4)], "A": [(67, 0, 4)], "T": [(64, 0, 4)], "B": [(48, 0, 4)], "Kit": [(36, 0, 1)]}
    )
    midi = mido.MidiFile(file=io.BytesIO(data))  # move the kit to channel 10, the drums
    for message in midi.tracks[5]:
        if hasattr(message, "channel"):
            message.channel = 9
    buffer = io.BytesIO()
    midi.save(file=buffer)
    assert parse_voices(parser, buffer.getvalue()).pitch[0].tolist() == [72, 67, 64, 48]


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: make_midi(), "has one part"),
        (lambda: make_parts({"A": [(60, 0, 1)], "B": [(48, 0, 1)], "C": [(40, 0, 1)]}), "has 3 parts"),
        (
            lambda: make_parts({f"Violin {n}": [(60 + n, 0, 1)] for n in range(5)}),
            "5 parts (Violin 0, Violin 1",
        ),
        (
            lambda: make_parts(
                {n: [(60, 0, 1)] for n in ("Soprano 1", "Soprano 2", "Alto", "Tenor", "Bass")}
            ),
            "Soprano 1 and Soprano 2 could both be the soprano",
        ),
        (lambda: satb([(96, 0, 1)], [(67, 0, 1)], [(60, 0, 1)], [(48, 0, 1)]), "Soprano part goes up to C7"),
        (lambda: satb([(72, 0, 1)], [(67, 0, 1)], [(60, 0, 1)], [(24, 0, 1)]), "below the bass range"),
    ],
    ids=["one part", "three parts", "five unnamed", "two sopranos", "too high", "too low"],
)
def test_files_that_cannot_be_voices_say_why(parser, build, words):
    assert words in reason(parser, build())


def test_a_metre_change_inside_the_piece_is_refused(parser):
    data = chorale_like(bars=4)
    midi = mido.MidiFile(file=io.BytesIO(data))
    midi.tracks[0].insert(-1, mido.MetaMessage("time_signature", numerator=3, denominator=4, time=480 * 8))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    assert "the metre changes (4/4 in bar 1, then 3/4 in bar 3)" in reason(parser, buffer.getvalue())


def test_a_different_last_bar_is_allowed(parser):
    notes = [[(p, q, q + 1) for q in range(11)] for p in (72, 67, 64, 48)]
    data = satb(*notes)
    midi = mido.MidiFile(file=io.BytesIO(data))
    midi.tracks[0].insert(-1, mido.MetaMessage("time_signature", numerator=3, denominator=4, time=480 * 8))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    voices = parse_voices(parser, buffer.getvalue())
    assert voices.time_signature == (4, 4) and voices.n_steps == 44


def test_a_short_first_bar_is_a_pickup(parser):
    notes = [[(p, 0, 1), (p, 1, 5)] for p in (72, 67, 64, 48)]
    data = satb(*notes)
    midi = mido.MidiFile(file=io.BytesIO(data))
    conductor = midi.tracks[0]
    index = next(i for i, m in enumerate(conductor) if m.type == "time_signature")
    conductor[index] = mido.MetaMessage("time_signature", numerator=1, denominator=4)
    conductor.insert(-1, mido.MetaMessage("time_signature", numerator=4, denominator=4, time=480))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    voices = parse_voices(parser, buffer.getvalue())
    assert voices.bar_offset == 4 and voices.step_in_bar()[[0, 4, 19]].tolist() == [12, 0, 15]


def test_chords_inside_a_part_keep_the_outer_note_or_are_refused(parser):
    data = satb(
        [(72, 0, 2), (76, 0, 1)],  # soprano: a chord for a beat, then C5 alone
        [(67, 0, 2)],
        [(64, 0, 2)],
        [(48, 0, 2), (43, 1, 2)],  # bass: G2 joins C3 for the second beat
    )
    conversion = convert_score(parser.parse(data))
    voices = conversion.voices
    assert voices.pitch[:, 0].tolist() == [76] * 4 + [72] * 4
    assert np.flatnonzero(voices.onset[:, 0]).tolist() == [0, 4]
    assert voices.pitch[:, 3].tolist() == [48] * 4 + [43] * 4
    expected = "Soprano part holds two notes at once in 4 sixteenths (first in bar 1)"
    assert any(expected in remark for remark in conversion.remarks)
    assert any("its lowest note was kept" in remark for remark in conversion.remarks)
    assert "the Soprano part sings two notes at once" in reason(parser, data, chords="reject")


def test_key_from_the_file_from_an_override_or_estimated(parser):
    assert parse_voices(parser, chorale_like(key="Em")).key_name == "E minor"
    assert parse_voices(parser, chorale_like(key="Em"), key=(7, "major")).key_name == "G major"
    estimated = parse_voices(parser, chorale_like())  # C and G major chords, no key signature
    assert estimated.key_name in ("C major", "G major")


def test_ranges_can_be_switched_off(parser):
    data = satb([(96, 0, 1)], [(67, 0, 1)], [(60, 0, 1)], [(48, 0, 1)])
    assert parse_voices(parser, data, ranges=None).pitch[0, 0] == 96


# --- back to MIDI -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"beats_per_bar": 3},
        {"steps_per_beat": 6, "beats_per_bar": 2},
        {"bar_offset": 4},
        {"mode": "minor"},
    ],
    ids=["4/4", "3/4", "6/8", "pickup", "minor"],
)
def test_midi_round_trip_keeps_everything(parser, changes):
    voices = small_voices(**changes)
    back = parse_voices(parser, voices_to_midi(voices, "strings"))
    for name in ("pitch", "onset", "phrase_end"):
        np.testing.assert_array_equal(getattr(back, name), getattr(voices, name), err_msg=name)
    for name in ("steps_per_beat", "beats_per_bar", "bar_offset", "tonic", "mode"):
        assert getattr(back, name) == getattr(voices, name), name
    assert back.tempo_bpm == pytest.approx(voices.tempo_bpm, abs=1e-3)


def test_midi_has_four_named_tracks_on_four_channels_with_the_ensemble(parser):
    for ensemble, programs in ENSEMBLES.items():
        midi = mido.MidiFile(file=io.BytesIO(voices_to_midi(small_voices(), ensemble, title="Test")))
        assert len(midi.tracks) == 5
        for voice, track in enumerate(midi.tracks[1:]):
            assert [m.name for m in track if m.type == "track_name"] == [VOICE_NAMES[voice]]
            assert {m.channel for m in track if hasattr(m, "channel")} == {voice}
            assert [m.program for m in track if m.type == "program_change"] == [programs[voice]]
        markers = [m.text for m in midi.tracks[0] if m.type == "marker"]
        assert markers == ["fermata", "fermata"]
    with pytest.raises(VoicesError, match="unknown ensemble"):
        voices_to_midi(small_voices(), "kazoo")


def test_a_title_in_any_script_survives_midi(parser):
    title = "Ich dank’ dir, lieber Herre — 主"
    score = parser.parse(voices_to_midi(small_voices(), title=title))
    midi = mido.MidiFile(file=io.BytesIO(voices_to_midi(small_voices(), title=title)))
    raw = next(m.name for m in midi.tracks[0] if m.type == "track_name")
    assert raw.encode("latin-1").decode("utf-8") == title and score.n_instruments == 4


pitch_grids = st.integers(1, 40).flatmap(
    lambda steps: st.tuples(
        st.lists(
            st.lists(st.sampled_from([REST, 55, 60, 62, 67]), min_size=4, max_size=4),
            min_size=steps,
            max_size=steps,
        ),
        st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=steps, max_size=steps),
        st.lists(st.booleans(), min_size=steps, max_size=steps),
    )
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grids=pitch_grids)
def test_any_voices_survive_midi(parser, grids):
    pitch, onset, phrase_end = grids
    pitch = np.array(pitch)
    pitch[-1] = [67, 62, 60, 55]  # every voice sounds (a silent voice would be a track without notes)
    voices = Voices(pitch, np.array(onset), np.array(phrase_end))
    back = parse_voices(parser, voices_to_midi(voices), ranges=None)
    np.testing.assert_array_equal(back.pitch, voices.pitch)
    np.testing.assert_array_equal(back.onset, voices.onset)
    np.testing.assert_array_equal(back.phrase_end, voices.phrase_end)


# --- the container ---------------------------------------------------------------------------------------


def test_onsets_are_normalised():
    pitch = np.array([[60, -1, 60, 62]] * 3)
    pitch[2, 0] = 62
    voices = Voices(pitch, np.ones((3, 4), bool))
    assert voices.onset[:, 1].tolist() == [False] * 3  # a rest never starts a note
    assert Voices(pitch).onset[:, 0].tolist() == [True, False, True]  # a pitch change always does


def test_notes_of_the_voices():
    notes = small_voices().notes()
    soprano = notes[notes["voice"] == 0]
    assert [(r["pitch"], r["start"], r["end"]) for r in soprano] == [(72, 0, 16), (72, 16, 32)]
    bass = notes[notes["voice"] == 3]
    assert bass["end"].max() == 28 and len(bass) == 7


def test_to_roll_shares_unison_cells_and_keeps_onsets():
    roll = small_voices().to_roll()
    assert roll.active.shape == (32, RollSpec().n_pitches) and roll.tempo_bpm == pytest.approx(90.0)
    column = 72 - RollSpec().lowest_pitch
    assert roll.onset[:, column].nonzero()[0].tolist() == [0, 16]
    assert len(roll_notes(roll)) == len(small_voices().notes())
    unison = Voices(np.array([[60, 60, 55, 48]] * 4))
    assert unison.to_roll().active.sum(axis=1).tolist() == [3] * 4
    with pytest.raises(VoicesError, match="steps per beat"):
        small_voices().to_roll(RollSpec(steps_per_beat=2))


def test_transposition_moves_the_key_with_the_notes():
    voices = small_voices(tonic=7, mode="major")
    up = voices.transpose(3)
    assert up.tonic == 10 and up.key_name == "Bb major" and up.mode == "major"
    np.testing.assert_array_equal(up.pitch[voices.pitch >= 0], voices.pitch[voices.pitch >= 0] + 3)
    assert (up.pitch[voices.pitch < 0] == REST).all()
    np.testing.assert_array_equal(up.onset, voices.onset)
    assert voices.transpose(-8).key_name == "B major"
    assert small_voices(tonic=9, mode="minor").transpose(-2).key_name == "G minor"


def test_transposition_out_of_range_is_refused_with_a_reason():
    with pytest.raises(VoicesError, match=r"moved by \+13 semitones, the Soprano part goes up to C#6"):
        small_voices().transpose(13)
    assert small_voices().transpose(13, ranges=None).pitch[0, 0] == 85
    with pytest.raises(VoicesError, match="MIDI range"):
        small_voices().transpose(60, ranges=None)


def test_window_pads_and_restarts_held_notes():
    voices = small_voices()
    window = voices.window(4, 32)
    assert window.n_steps == 32 and window.bar_offset == 12
    assert window.onset[0].tolist() == [True, True, True, True]  # held notes start in the window
    assert (window.pitch[28:] == REST).all() and np.flatnonzero(window.phrase_end).tolist() == [12, 24]


def test_metre_features():
    features = metre_features(24, steps_per_beat=6, beats_per_bar=2, bar_offset=0)  # 6/8
    assert features.shape == (24, len(METRE_FEATURES)) and features.dtype == np.float32
    columns = {name: features[:, index] for index, name in enumerate(METRE_FEATURES)}
    assert np.flatnonzero(columns["bar_start"]).tolist() == [0, 12]
    assert np.flatnonzero(columns["beat_start"]).tolist() == [0, 6, 12, 18]
    assert columns["eighth_start"][:4].tolist() == [1, 0, 1, 0]
    np.testing.assert_allclose(columns["bar_phase_sin"] ** 2 + columns["bar_phase_cos"] ** 2, 1.0, rtol=1e-6)
    shifted = small_voices(bar_offset=4).metre_features()
    assert np.flatnonzero(shifted[:, 0]).tolist() == [4, 20]


GRIDS = [((4, 4), (4, 4)), ((3, 4), (4, 3)), ((3, 2), (8, 3)), ((12, 8), (6, 4)), ((6, 8), (6, 2)),
         ((2, 2), (8, 2)), ((3, 8), (2, 3)), ((6, 4), (12, 2))]  # fmt: skip


@pytest.mark.parametrize(("meter", "grid"), GRIDS)
def test_meter_grid_and_back(meter, grid):
    assert meter_grid(*meter) == grid
    assert time_signature_of(*grid) == meter


def test_meter_too_fine_for_the_grid():
    with pytest.raises(VoicesError, match="sixteenth"):
        meter_grid(3, 32)


def test_keys():
    assert [key_fifths(t, "major") for t in (0, 7, 5, 10, 6, 11)] == [0, 1, -1, -2, -6, 5]
    assert [key_fifths(t, "minor") for t in (9, 4, 2, 6, 3)] == [0, 1, -1, 3, -6]
    assert key_name(1, "major") == "Db major" and key_name(1, "minor") == "C# minor"
    assert [tonic_from_name(n) for n in ("Bb", "F#", "E-", "c", "Cb")] == [10, 6, 3, 0, 11]
    with pytest.raises(VoicesError):
        tonic_from_name("H")


def test_voice_names():
    assert voice_of_name("Soprano") == (0, 2) and voice_of_name("Tenor 2") == (2, 2)
    assert voice_of_name("Bass Continuo") == (3, 1) and voice_of_name("S.") == (0, 2)
    assert voice_of_name("Alto Oboe 2 Violin 2") == (1, 1)
    assert voice_of_name("Violin") is None and voice_of_name("Soprano and Alto") is None


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"pitch": np.zeros((4, 3))}, "[T, 4]"),
        ({"pitch": np.full((4, 4), 128)}, "MIDI numbers"),
        ({"mode": "dorian"}, "major or minor"),
        ({"tonic": 12}, "tonic 0–11"),
        ({"steps_per_beat": 5}, "no metre"),
        ({"bar_offset": 16}, "within one bar"),
        ({"phrase_end": np.zeros(3, bool)}, "phrase_end [T]"),
        ({"onset": np.ones((1, 4), bool)}, "onset must be [T, 4]"),
        ({"tempo_bpm": 0.0}, "positive"),
    ],
)
def test_invalid_voices_are_refused(changes, words):
    with pytest.raises(VoicesError) as info:
        small_voices(**changes)
    assert words in str(info.value)


def test_pitch_ranges_cover_the_data():
    assert len(PITCH_RANGES) == 4 and all(low < high for low, high in PITCH_RANGES)
    assert [low for low, _ in PITCH_RANGES] == sorted((low for low, _ in PITCH_RANGES), reverse=True)

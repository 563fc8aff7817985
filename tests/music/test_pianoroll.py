"""Tests of the piano-roll codec: Score → roll, roll → MIDI → roll, and the roll helpers."""

from __future__ import annotations

import io

import mido
import numpy as np
import pretty_midi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from core.midi.parser import MidiParser
from core.midi.score import NOTE_DTYPE, Score
from core.music.pianoroll import (
    DEFAULT_VELOCITY,
    PianoRoll,
    RollSpec,
    fold_pitches,
    note_starts,
    roll_from_arrays,
    roll_notes,
    roll_to_midi_bytes,
    roll_to_pretty_midi,
    score_to_roll,
    transpose,
    window,
)
from tests.support.midi_files import make_midi

SPEC = RollSpec()


def score_from_midi(data: bytes, name: str = "test") -> Score:
    """A Score as the contract describes it, parsed here with pretty_midi (no worker process)."""
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    rows = [
        (n.pitch, n.velocity, inst.program, inst.is_drum, track, n.start, n.end)
        for track, inst in enumerate(pm.instruments)
        for n in inst.notes
    ]
    notes = np.sort(np.array(rows, dtype=NOTE_DTYPE), order="start")
    meters = [(ts.numerator, ts.denominator, ts.time) for ts in pm.time_signature_changes]
    return Score(
        name=name,
        notes=notes,
        beat_times=pm.get_beats(),
        downbeat_times=pm.get_downbeats(),
        tempo_bpm=float(pm.get_tempo_changes()[1][0]),
        duration_s=pm.get_end_time(),
        time_signatures=meters,
    )


def roll_of(notes: list[tuple[int, float, float]], **kwargs) -> PianoRoll:
    return score_to_roll(score_from_midi(make_midi(notes, **kwargs)))


def column(pitch: int) -> int:
    return pitch - SPEC.lowest_pitch


@st.composite
def valid_rolls(draw: st.DrawFn) -> PianoRoll:
    """Rolls whose onsets lie inside ``active``, every run starts at an onset, velocity 1–127 per note."""
    spec = RollSpec(
        steps_per_beat=draw(st.sampled_from([1, 2, 3, 4, 6])),
        lowest_pitch=draw(st.integers(0, 60)),
        n_pitches=draw(st.integers(12, 48)),
    )
    n_steps = draw(st.integers(1, 40))
    shape = (n_steps, spec.n_pitches)
    active = draw(hnp.arrays(bool, shape))
    onset = draw(hnp.arrays(bool, shape))
    levels = draw(hnp.arrays(np.uint8, shape, elements=st.integers(1, 127)))
    tempo, beats_per_bar = draw(st.floats(30.0, 240.0)), draw(st.integers(1, 7))
    return valid_roll(active, onset, levels, spec, tempo, beats_per_bar)


def valid_roll(
    active: np.ndarray,
    onset: np.ndarray,
    levels: np.ndarray,
    spec: RollSpec,
    tempo: float,
    beats_per_bar: int,
) -> PianoRoll:
    """A valid roll from any arrays: each note takes the level drawn at its first cell as its velocity."""
    roll = roll_from_arrays(active, onset, spec=spec, tempo_bpm=tempo, beats_per_bar=beats_per_bar)
    starts = note_starts(roll.active, roll.onset)
    steps = np.arange(roll.n_steps)[:, None]
    run_start = np.maximum.accumulate(np.where(starts, steps, 0), axis=0)
    velocity = np.take_along_axis(levels, run_start, axis=0)
    roll.velocity = np.where(roll.active, velocity, 0).astype(np.uint8)
    return roll


@settings(max_examples=60, deadline=None)
@given(valid_rolls())
def test_roll_to_midi_and_back_is_identity(roll: PianoRoll) -> None:
    back = score_to_roll(score_from_midi(roll_to_midi_bytes(roll)), roll.spec)
    assert back.n_steps == roll.n_steps
    np.testing.assert_array_equal(back.active, roll.active)
    np.testing.assert_array_equal(back.onset, roll.onset)
    np.testing.assert_array_equal(back.velocity, roll.velocity)
    assert back.beats_per_bar == roll.beats_per_bar
    assert back.tempo_bpm == pytest.approx(roll.tempo_bpm, rel=1e-4)


def test_round_trip_through_the_guarded_loader() -> None:
    rng = np.random.default_rng(7)
    rolls = []
    for n_steps, tempo, beats_per_bar in [(64, 100.0, 4), (37, 73.5, 3), (20, 180.0, 6), (5, 60.0, 2)]:
        shape = (n_steps, SPEC.n_pitches)
        levels = rng.integers(1, 128, shape).astype(np.uint8)
        active, onset = rng.random(shape) < 0.3, rng.random(shape) < 0.3
        rolls.append(valid_roll(active, onset, levels, SPEC, tempo, beats_per_bar))
    rolls[-1].active[-2:] = rolls[-1].onset[-2:] = False  # trailing silence
    rolls[-1].velocity[-2:] = 0
    files = [(f"{i}.mid", roll_to_midi_bytes(roll)) for i, roll in enumerate(rolls)]
    with MidiParser() as parser:
        scores = [score for _, score in parser.parse_many(files)]
    for roll, score in zip(rolls, scores, strict=True):
        back = score_to_roll(score)
        for name in ("active", "onset", "velocity"):
            np.testing.assert_array_equal(getattr(back, name), getattr(roll, name))
        assert back.beats_per_bar == roll.beats_per_bar


def test_held_and_restruck_notes_differ() -> None:
    held = roll_of([(60, 0.0, 2.0)])
    restruck = roll_of([(60, 0.0, 1.0), (60, 1.0, 2.0)])
    np.testing.assert_array_equal(held.active, restruck.active)
    assert held.onset[:, column(60)].nonzero()[0].tolist() == [0]
    assert restruck.onset[:, column(60)].nonzero()[0].tolist() == [0, 8]
    assert len(roll_to_pretty_midi(held).instruments[0].notes) == 1
    assert len(roll_to_pretty_midi(restruck).instruments[0].notes) == 2


def test_half_second_at_120_bpm_is_four_sixteenths() -> None:
    roll = roll_of([(60, 0.0, 0.5), (64, 0.5, 1.0)], tempo=120.0)
    assert roll.n_steps == 8
    assert roll.active[:4, column(60)].all() and not roll.active[4:, column(60)].any()
    assert roll.active[4:, column(64)].all()


def test_note_shorter_than_a_step_keeps_one_step() -> None:
    roll = roll_of([(60, 0.0, 0.01), (62, 0.5, 1.0)], tempo=120.0)
    assert roll.active[:, column(60)].nonzero()[0].tolist() == [0]


def unison_score(velocities: tuple[int, int]) -> Score:
    notes = np.array(
        [(60, velocities[0], 0, False, 0, 0.0, 1.0), (60, velocities[1], 0, False, 1, 0.5, 1.5)],
        dtype=NOTE_DTYPE,
    )
    return Score("unison", notes, np.arange(4) * 0.5, np.array([0.0]), 120.0, 1.5)


def test_overlapping_notes_merge_with_max_velocity() -> None:
    roll = score_to_roll(unison_score((100, 120)))
    cells = roll.velocity[:, column(60)]
    assert cells[:4].tolist() == [100] * 4
    assert cells[4:12].tolist() == [120] * 8
    assert roll.active[:12, column(60)].all()
    assert roll.onset[:, column(60)].nonzero()[0].tolist() == [0, 4]


def test_velocities_never_sum_and_are_clipped_to_127() -> None:
    roll = score_to_roll(unison_score((200, 255)))
    assert roll.velocity.max() == 127
    assert roll.velocity.dtype == np.uint8


def test_out_of_range_pitches_fold_by_octaves() -> None:
    folded = fold_pitches(np.array([20, 35, 36, 83, 84, 100, 127]), SPEC)
    assert folded.tolist() == [44, 47, 36, 83, 72, 76, 79]
    roll = roll_of([(24, 0.0, 0.5), (96, 0.0, 0.5)])
    assert roll.active[0].nonzero()[0].tolist() == [column(36), column(72)]


def test_drums_are_dropped() -> None:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    piano, drums = pretty_midi.Instrument(0), pretty_midi.Instrument(0, is_drum=True)
    piano.notes.append(pretty_midi.Note(90, 60, 0.0, 1.0))
    drums.notes.append(pretty_midi.Note(90, 42, 0.0, 2.0))
    pm.instruments += [piano, drums]
    buffer = io.BytesIO()
    pm.write(buffer)
    roll = score_to_roll(score_from_midi(buffer.getvalue()))
    assert roll.active.sum() == 8
    assert roll.active[:8, column(60)].all()


def tempo_change_midi(tempi: list[float], ticks_per_beat: int = 480) -> bytes:
    """One quarter note per beat, tempo ``tempi[i]`` from bar ``i`` on (4 beats per bar)."""
    track = mido.MidiTrack()
    for bar, bpm in enumerate(tempi):
        track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
        for beat in range(4):
            pitch = 60 + 4 * bar + beat
            track.append(mido.Message("note_on", note=pitch, velocity=90, time=0))
            track.append(mido.Message("note_off", note=pitch, velocity=0, time=ticks_per_beat))
    midi = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_tempo_changes_keep_the_grid_beat_synchronous() -> None:
    roll = score_to_roll(score_from_midi(tempo_change_midi([120.0, 60.0, 200.0])))
    assert roll.n_steps == 48
    starts = roll_notes(roll)
    assert starts["start"].tolist() == list(range(0, 48, 4))
    assert (starts["end"] - starts["start"]).tolist() == [4] * 12
    assert roll.tempo_bpm == pytest.approx(120.0)


def meter_midi(numerator: int, denominator: int) -> bytes:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, 0.0))
    inst = pretty_midi.Instrument(0)
    inst.notes.append(pretty_midi.Note(90, 60, 0.0, 3.0))
    pm.instruments.append(inst)
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("meter", "beats_per_bar", "beat_bpm"),
    [((4, 4), 4, 120.0), ((3, 4), 3, 120.0), ((2, 2), 2, 60.0), ((6, 8), 2, 80.0), ((12, 8), 4, 80.0)],
)
def test_meter_sets_beats_per_bar_and_beat_tempo(meter, beats_per_bar, beat_bpm) -> None:
    roll = score_to_roll(score_from_midi(meter_midi(*meter)))
    assert roll.beats_per_bar == beats_per_bar
    assert roll.tempo_bpm == pytest.approx(beat_bpm)
    assert roll.n_steps == round(3.0 * beat_bpm / 60.0 * 4)


def test_trailing_silence_survives_the_midi_round_trip() -> None:
    roll = roll_from_arrays(np.zeros((16, 48), bool))
    roll.active[0, 10] = roll.onset[0, 10] = True
    roll.velocity[0, 10] = 64
    back = score_to_roll(score_from_midi(roll_to_midi_bytes(roll)))
    assert back.n_steps == 16
    np.testing.assert_array_equal(back.active, roll.active)


def test_midi_uses_program_tempo_and_default_velocity() -> None:
    active = np.zeros((8, 48), bool)
    active[:4, column(60)] = True
    roll = roll_from_arrays(active, velocity=np.zeros((8, 48), np.uint8))
    pm = roll_to_pretty_midi(roll, program=19, tempo_bpm=60.0)
    (note,) = pm.instruments[0].notes
    assert pm.instruments[0].program == 19
    assert (note.pitch, note.velocity) == (60, DEFAULT_VELOCITY)
    assert (note.start, note.end) == pytest.approx((0.0, 1.0))
    assert pm.get_tempo_changes()[1][0] == pytest.approx(60.0)


def test_roll_from_arrays_derives_onsets_and_velocity() -> None:
    active = np.zeros((6, 48), bool)
    active[1:3, 0] = active[4:6, 0] = True
    onset = np.zeros_like(active)
    onset[2, 0] = onset[0, 5] = True
    roll = roll_from_arrays(active, onset)
    assert roll.onset[:, 0].nonzero()[0].tolist() == [1, 2, 4]
    assert not roll.onset[:, 5].any()
    assert roll.velocity[active].min() == DEFAULT_VELOCITY and roll.velocity[~active].max() == 0
    assert [(r["start"], r["end"]) for r in roll_notes(roll)] == [(1, 2), (2, 3), (4, 6)]


def test_roll_rejects_wrong_shapes() -> None:
    with pytest.raises(ValueError, match=r"\[T, 48\]"):
        roll_from_arrays(np.zeros((4, 12), bool))
    with pytest.raises(ValueError, match="octave"):
        RollSpec(n_pitches=8)


def test_transpose_moves_notes_and_drops_those_leaving_the_range() -> None:
    active = np.zeros((2, 48), bool)
    active[0, 0] = active[1, 46] = True
    roll = roll_from_arrays(active)
    up = transpose(roll, 2)
    assert up.active[0].nonzero()[0].tolist() == [2] and not up.active[1].any()
    down = transpose(roll, -1)
    assert not down.active[0].any() and down.active[1].nonzero()[0].tolist() == [45]
    assert (up.onset <= up.active).all() and up.velocity[0, 2] == DEFAULT_VELOCITY


def test_window_marks_held_notes_and_pads_with_silence() -> None:
    roll = roll_of([(60, 0.0, 1.0)], tempo=120.0)
    part = window(roll, 4, 8)
    assert part.n_steps == 8
    assert part.onset[0, column(60)]
    assert part.active[:4, column(60)].all() and not part.active[4:].any()
    with pytest.raises(ValueError):
        window(roll, -1, 4)


def test_empty_score_gives_an_empty_roll_that_writes_midi() -> None:
    empty = Score("empty", np.zeros(0, NOTE_DTYPE), np.zeros(0), np.zeros(0), 120.0, 0.0)
    roll = score_to_roll(empty)
    assert roll.n_steps == 0 and roll.active.shape == (0, 48)
    assert roll_to_midi_bytes(roll).startswith(b"MThd")

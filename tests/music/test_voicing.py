"""The S/A/T/B voice split, voice crossings and vocal ranges on hand-built rolls."""

from __future__ import annotations

import math

import numpy as np

from core.music import voicing
from tests.support.rolls import P, roll


def batch(notes: list[tuple[int, int, int]], steps: int = 16) -> tuple[np.ndarray, np.ndarray]:
    active, onset = roll(notes, steps)
    return active[None], onset[None]


def test_split_voices_sorts_four_note_steps_and_leaves_the_others_out() -> None:
    # steps 0-3: four notes; 4-7: three (a unison); 8-11: five; 12-15: silence
    four = [(48, 0, 4), (55, 0, 4), (64, 0, 4), (72, 0, 4)]
    three = [(48, 4, 4), (60, 4, 4), (67, 4, 4)]
    five = [(48, 8, 4), (52, 8, 4), (55, 8, 4), (60, 8, 4), (64, 8, 4)]
    active, _ = batch([*four, *three, *five])
    voices = voicing.split_voices(active)
    assert voices.shape == (1, 16, 4)
    assert voices[0, 0].tolist() == [72, 64, 55, 48]  # soprano first
    assert (voices[0, 4:] == voicing.REST).all()
    assert voicing.voiced_steps(voices)[0].tolist() == [True] * 4 + [False] * 12
    # four of the twelve sounding steps have exactly four notes
    assert voicing.four_voice_step_share(active)[0] == 4 / 12


def test_split_voices_honours_lowest_pitch() -> None:
    active = np.zeros((1, 1, P), dtype=bool)
    active[0, 0, [0, 4, 7, 12]] = True
    assert voicing.split_voices(active, lowest_pitch=24)[0, 0].tolist() == [36, 31, 28, 24]


def test_voice_crossing_needs_explicit_voices() -> None:
    voices = np.array([[[72, 67, 64, 48], [72, 74, 64, 48], [72, 67, 64, 48], [-1, 67, 64, 48]]])
    # one of the three voiced steps has the alto above the soprano; the fourth step has a resting soprano
    assert voicing.voice_crossing_share(voices)[0] == 1 / 3
    active, _ = batch([(48, 0, 8), (64, 0, 8), (67, 0, 8), (74, 0, 8)])
    assert voicing.voice_crossing_share(voicing.split_voices(active))[0] == 0.0  # sorted by construction


def test_range_violations_count_notes_not_steps() -> None:
    # soprano: C5 for 6 steps, then A5 (above G5) for 2 steps; the others in range throughout
    voices = np.tile(np.array([72, 64, 55, 48]), (1, 8, 1))
    voices[0, 6:, 0] = 81
    outside, notes = voicing.range_violation_counts(voices)
    assert notes[0].tolist() == [2, 1, 1, 1]
    assert outside[0].tolist() == [1, 0, 0, 0]
    assert voicing.out_of_range_note_share(voices)[0] == 1 / 5
    assert voicing.out_of_range_note_share_per_voice(voices)[0].tolist() == [0.5, 0, 0, 0]


def test_range_notes_use_onsets_for_repeated_pitches() -> None:
    active, onset = batch([(40, 0, 4), (40, 4, 4), (55, 0, 8), (64, 0, 8), (72, 0, 8)], steps=8)
    voices = voicing.split_voices(active)
    _, notes = voicing.range_violation_counts(voices, onset)
    assert notes[0].tolist() == [1, 1, 1, 2]  # the bass E2 is struck twice
    assert voicing.range_violation_counts(voices)[1][0].tolist() == [1, 1, 1, 1]  # without onsets: one


def test_bass_below_e2_is_out_of_range() -> None:
    active, onset = batch([(38, 0, 4), (55, 0, 4), (64, 0, 4), (72, 0, 4)], steps=4)
    voices = voicing.split_voices(active)
    assert voicing.out_of_range_note_share_per_voice(voices, onset)[0].tolist() == [0, 0, 0, 1]


def test_empty_rolls_give_nan() -> None:
    empty = np.zeros((2, 16, P), dtype=bool)
    voices = voicing.split_voices(empty)
    for value in (
        voicing.four_voice_step_share(empty),
        voicing.voice_crossing_share(voices),
        voicing.out_of_range_note_share(voices, empty),
    ):
        assert value.shape == (2,) and all(math.isnan(v) for v in value)

"""Parallel fifths and octaves between voices, and melodic steps and leaps, on hand-built chorales."""

from __future__ import annotations

import math

import numpy as np

from core.music import voice_leading as vl
from core.music.voicing import split_voices
from tests.support.rolls import P, roll

# (soprano, alto, tenor, bass) MIDI pitches; each chord lasts two beats
I_IV_V_I = [(72, 64, 55, 48), (72, 65, 57, 53), (71, 62, 55, 43), (72, 64, 55, 48)]
WITH_PARALLEL_FIFTH = [(72, 67, 64, 48), (69, 65, 60, 53), (74, 71, 62, 55), (72, 67, 64, 48)]
"""I–IV–V–I where tenor and bass move up from C4/F3 to D4/G3: one parallel fifth, nothing else."""


def four_part(chords: list[tuple[int, ...]], length: int = 8) -> np.ndarray:
    notes = [(pitch, i * length, length) for i, chord in enumerate(chords) for pitch in chord]
    return roll(notes, len(chords) * length)[0][None]


def test_textbook_progression_has_no_parallels() -> None:
    voices = split_voices(four_part(I_IV_V_I))
    assert vl.parallel_perfect_events(voices).sum() == 0
    assert vl.parallel_perfects_per_bar(voices)[0] == 0.0
    assert vl.bars_with_parallels_share(voices)[0] == 0.0


def test_one_parallel_fifth_is_found_once() -> None:
    voices = split_voices(four_part(WITH_PARALLEL_FIFTH))
    events = vl.parallel_perfect_events(voices)
    assert events.sum() == 1 and events[0, 16] == 1  # where V arrives
    assert vl.parallel_perfects_per_bar(voices)[0] == 0.5  # two bars
    assert vl.bars_with_parallels_share(voices)[0] == 0.5
    assert vl.parallel_perfect_events(voices, intervals=(0,)).sum() == 0  # it is a fifth, not an octave


def test_parallel_octaves_and_compound_fifths_count() -> None:
    octaves = split_voices(four_part([(72, 64, 55, 48), (74, 65, 57, 50)]))  # S and B up a step: C/C to D/D
    assert vl.parallel_perfect_events(octaves, intervals=(0,)).sum() == 1
    twelfth = split_voices(four_part([(67, 64, 52, 48), (69, 64, 52, 50)]))  # B–S a twelfth, then again
    assert vl.parallel_perfect_events(twelfth, intervals=(7,)).sum() == 1


def test_contrary_motion_and_held_chords_are_not_parallels() -> None:
    contrary = split_voices(four_part([(67, 64, 60, 48), (74, 65, 62, 43)]))  # fifth to twelfth, contrary
    assert vl.parallel_perfect_events(contrary).sum() == 0
    restruck = four_part([I_IV_V_I[0]] * 4, length=1)  # the same chord struck on four 16ths
    assert vl.parallel_perfect_events(split_voices(restruck)).sum() == 0


def test_moves_are_not_followed_across_more_than_a_beat_without_voices() -> None:
    first, second = WITH_PARALLEL_FIFTH[1], WITH_PARALLEL_FIFTH[2]
    notes = [(p, 0, 4) for p in first] + [(p, 4 + 6, 4) for p in second] + [(60, 4, 6), (67, 4, 6)]
    voices = split_voices(roll(notes, 16)[0][None])  # six steps of a two-note sonority in between
    assert vl.parallel_perfect_events(voices).sum() == 0
    assert vl.parallel_perfect_events(voices, max_gap=8).sum() == 1


def test_melodic_steps_and_leaps() -> None:
    line = np.array([[60, 60, 62, -1, 64, 67, 67, 79, 72]])
    size, changed = vl.melodic_moves(line)
    assert size[changed].tolist() == [2, 2, 3, 12, 7]  # the rest is skipped, the repeated G is no move
    assert vl.stepwise_motion_share(line)[0] == 2 / 5
    assert vl.leap_share(line)[0] == 1 / 5  # only the octave is larger than a fifth


def test_outer_lines_are_the_highest_and_lowest_notes() -> None:
    active = four_part(I_IV_V_I)
    top, bottom = vl.outer_lines(active)
    assert top[0, ::8].tolist() == [72, 72, 71, 72]
    assert bottom[0, ::8].tolist() == [48, 53, 43, 48]
    assert vl.stepwise_motion_share(top)[0] == 1.0
    assert vl.leap_share(bottom)[0] == 1 / 3  # F3 down to G2 is ten semitones


def test_empty_rolls_give_nan() -> None:
    empty = np.zeros((2, 32, P), dtype=bool)
    voices = split_voices(empty)
    top, bottom = vl.outer_lines(empty)
    for value in (
        vl.parallel_perfects_per_bar(voices),
        vl.bars_with_parallels_share(voices),
        vl.stepwise_motion_share(top),
        vl.leap_share(bottom),
    ):
        assert value.shape == (2,) and all(math.isnan(v) for v in value)

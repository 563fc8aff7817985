"""Cadences in the local key on hand-built four-part progressions in C major."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.music import cadences as cd
from core.music.arrays import note_start_cells
from tests.support.rolls import P, roll

TONIC, SUBDOMINANT, DOMINANT = (72, 64, 55, 48), (72, 65, 57, 53), (71, 62, 55, 43)
SUBMEDIANT = (72, 64, 57, 45)  # A minor, A in the bass
DOMINANT_7 = (71, 65, 55, 43)  # G7 without fifth
DOMINANT_6 = (74, 67, 55, 47)  # G major with B in the bass
FINAL_TONIC = (72, 64, 60, 48)  # C major without fifth: tripled root and the third


def four_part(chords: list[tuple[int, ...]], length: int = 8) -> tuple[np.ndarray, np.ndarray]:
    notes = [(pitch, i * length, length) for i, chord in enumerate(chords) for pitch in chord]
    active, onset = roll(notes, len(chords) * length)
    return active[None], onset[None]


def grid(chords: list[tuple[int, ...]], length: int = 8) -> cd.ChordGrid:
    return cd.chord_grid(four_part(chords, length)[0])


def test_local_keys_of_a_c_major_progression() -> None:
    g = grid([TONIC, SUBDOMINANT, DOMINANT, TONIC])
    assert g.keys.shape == (1, 16) and (g.keys == 0).all()  # C major at every eighth
    assert g.positions_per_bar == 8 and g.n_bars == 2


def test_textbook_progression_has_one_authentic_cadence() -> None:
    g = grid([TONIC, SUBDOMINANT, DOMINANT, TONIC])
    assert cd.progressions(g, "V", "I").sum() == 1
    assert cd.authentic_cadences_per_bar(g)[0] == 0.5  # one in two bars
    assert cd.dominant_tonic_progressions_per_bar(g)[0] == 0.5
    assert cd.plagal_cadences_per_bar(g)[0] == 0.0
    assert cd.deceptive_cadences_per_bar(g)[0] == 0.0


def test_dominant_seventh_and_fifthless_tonic_count() -> None:
    assert cd.authentic_cadences_per_bar(grid([TONIC, SUBDOMINANT, DOMINANT_7, FINAL_TONIC]))[0] == 0.5


def test_inverted_dominant_is_no_authentic_cadence_but_a_dominant_tonic_progression() -> None:
    g = grid([TONIC, SUBDOMINANT, DOMINANT_6, TONIC])
    assert cd.authentic_cadences_per_bar(g)[0] == 0.0
    assert cd.dominant_tonic_progressions_per_bar(g)[0] == 0.5


def test_plagal_and_deceptive_cadences() -> None:
    assert cd.plagal_cadences_per_bar(grid([TONIC, SUBDOMINANT, TONIC]))[0] == pytest.approx(1 / 1.5)
    deceptive = grid([TONIC, SUBDOMINANT, DOMINANT, SUBMEDIANT])
    assert cd.deceptive_cadences_per_bar(deceptive)[0] == 0.5
    assert cd.authentic_cadences_per_bar(deceptive)[0] == 0.0


def test_a_suspension_on_the_beat_does_not_hide_the_cadence() -> None:
    v_sus = (72, 62, 55, 43)  # C over G: the 4-3 suspension, unnamed, resolves to V on the eighth
    g = grid(
        [TONIC, TONIC, SUBDOMINANT, SUBDOMINANT, v_sus, DOMINANT, TONIC, TONIC], length=2
    )  # V only on the 'and' of beat 3
    assert cd.progressions(g, "V", "I").sum() == 1
    assert cd.authentic_cadences_per_bar(g)[0] == 1.0  # one bar


def test_half_cadence_is_a_dominant_that_arrives_and_rests() -> None:
    active, onset = four_part(
        [TONIC, DOMINANT, TONIC, SUBDOMINANT, DOMINANT, DOMINANT, DOMINANT, DOMINANT], length=4
    )  # one chord a beat, V struck again
    starts = note_start_cells(active, onset)
    assert cd.half_cadence_positions(cd.chord_grid(active), starts).sum() == 0
    active, onset = four_part(
        [TONIC, SUBDOMINANT, TONIC, SUBDOMINANT, TONIC, DOMINANT, TONIC, SUBDOMINANT], length=4
    )
    long_v, long_v_onset = four_part([DOMINANT], length=32)
    active = np.concatenate([active, long_v], axis=1)
    onset = np.concatenate([onset, long_v_onset], axis=1)
    g = cd.chord_grid(active)
    positions = cd.half_cadence_positions(g, note_start_cells(active, onset))
    assert positions.sum() == 1 and positions[0, 16]  # the V that arrives on bar 3 and is held
    assert cd.half_cadences_per_bar(g, note_start_cells(active, onset))[0] == 0.25


def test_phrase_end_share() -> None:
    active, _ = four_part([TONIC, SUBDOMINANT, DOMINANT, TONIC, TONIC, SUBDOMINANT, DOMINANT, SUBMEDIANT])
    g = cd.chord_grid(active)
    phrase_end = np.zeros((1, 64), dtype=bool)
    phrase_end[0, 24:32] = True  # a fermata over the first I: an authentic cadence
    assert cd.phrase_ends_with_authentic_cadence_share(g, phrase_end)[0] == 1.0
    phrase_end[0, 56:64] = True  # and one over vi: deceptive
    assert cd.phrase_ends_with_authentic_cadence_share(g, phrase_end)[0] == 0.5
    assert math.isnan(cd.phrase_ends_with_authentic_cadence_share(g, np.zeros((1, 64), bool))[0])


def test_empty_rolls_give_nan() -> None:
    empty = np.zeros((2, 64, P), dtype=bool)
    g = cd.chord_grid(empty)
    assert (g.keys == -1).all()
    for value in (
        cd.authentic_cadences_per_bar(g),
        cd.dominant_tonic_progressions_per_bar(g),
        cd.plagal_cadences_per_bar(g),
        cd.deceptive_cadences_per_bar(g),
        cd.half_cadences_per_bar(g, empty),
    ):
        assert value.shape == (2,) and all(math.isnan(v) for v in value)

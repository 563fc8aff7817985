"""Chord names of pitch-class sets and the beat-chord shares, on hand-built chords."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.music import chords, harmony
from tests.support.rolls import P, roll

C, E, F, G, A, B, D = 0, 4, 5, 7, 9, 11, 2
I_IV_V_I = [(72, 64, 55, 48), (72, 65, 57, 53), (71, 62, 55, 43), (72, 64, 55, 48)]


def four_part(chords_: list[tuple[int, ...]], length: int = 8) -> np.ndarray:
    notes = [(pitch, i * length, length) for i, chord in enumerate(chords_) for pitch in chord]
    return roll(notes, len(chords_) * length)[0][None]


def name(*pcs: int) -> tuple[str | None, int]:
    mask = chords.mask_of(pcs)
    code = int(chords.CHORD_QUALITY[mask])
    return (chords.QUALITIES[code] if code >= 0 else None), int(chords.CHORD_ROOT[mask])


def test_chord_table_names_triads_and_sevenths_with_their_roots() -> None:
    assert name(C, E, G) == ("major", C)
    assert name(A, C, E) == ("minor", A)
    assert name(B, D, F) == ("diminished", B)
    assert name(G, B, D, F) == ("dominant seventh", G)
    assert name(G, B, F) == ("dominant seventh", G)  # V7 without its fifth
    assert name(D, F, A, C) == ("minor seventh", D)
    assert name(B, D, F, 8) == ("diminished seventh", D)  # symmetric: lowest pitch class from C
    assert name(C, E) == (None, -1)  # a bare third is ambiguous without the bass
    assert name(C, 1, D) == (None, -1)


def test_chord_names_read_a_bare_third_over_its_root_in_the_bass() -> None:
    mask = np.array([chords.mask_of((C, E)), chords.mask_of((C, E)), chords.mask_of((C, E, G))])
    quality, root = chords.chord_names(mask, np.array([C, E, E]))
    assert quality.tolist() == [chords.MAJOR, chords.NO_CHORD, chords.MAJOR]
    assert root.tolist() == [C, chords.NO_CHORD, C]


def test_tertian_subsets() -> None:
    for pcs in [(C,), (C, 1), (C, E, G), (G, B, D, F), (C, E, G, B)]:
        assert chords.TERTIAN_SUBSET[chords.mask_of(pcs)], pcs
    for pcs in [(C, 1, D), (C, E, F, G), (C, D, E, G), (C, F, G)]:  # cluster, added 4th, added 2nd, sus4
        assert not chords.TERTIAN_SUBSET[chords.mask_of(pcs)], pcs
    assert not chords.TERTIAN_SUBSET[0]


def test_beat_pitch_class_sets_and_bass() -> None:
    active = four_part(I_IV_V_I)
    sets = harmony.beat_pitch_class_sets(active)
    assert sets.shape == (1, 8)
    assert sets[0, 0] == chords.mask_of((C, E, G)) and sets[0, 4] == chords.mask_of((G, B, D))
    assert harmony.beat_bass_pitch_classes(active)[0].tolist() == [C, C, F, F, G, G, C, C]


def test_textbook_progression_is_all_triads() -> None:
    sets = harmony.beat_pitch_class_sets(four_part(I_IV_V_I))
    assert harmony.major_minor_triad_share(sets)[0] == 1.0
    assert harmony.seventh_chord_share(sets)[0] == 0.0
    assert harmony.non_tertian_share(sets)[0] == 0.0
    assert harmony.chord_types_per_1000_beats(sets)[0] == pytest.approx(1000 * 3 / 8)  # C, F, G major


def test_seventh_chord_and_cluster_shares() -> None:
    v7 = (67, 65, 59, 43)  # G7 without fifth: G, F, B over G
    cluster = (62, 61, 60, 48)  # C, C#, D
    sets = harmony.beat_pitch_class_sets(four_part([I_IV_V_I[0], v7, cluster, I_IV_V_I[0]], length=4))
    assert harmony.seventh_chord_share(sets)[0] == 0.25
    assert harmony.non_tertian_share(sets)[0] == 0.25
    assert harmony.major_minor_triad_share(sets)[0] == 0.5
    assert harmony.chord_types_per_1000_beats(sets)[0] == pytest.approx(1000 * 2 / 4)  # C major, G7


def test_shares_count_sounding_beats_only_and_silence_gives_nan() -> None:
    active = np.zeros((2, 16, P), dtype=bool)
    active[0, :4] = four_part([I_IV_V_I[0]], length=4)[0]
    sets = harmony.beat_pitch_class_sets(active)
    assert harmony.major_minor_triad_share(sets)[0] == 1.0  # one sounding beat of four
    for share in (
        harmony.major_minor_triad_share(sets),
        harmony.seventh_chord_share(sets),
        harmony.non_tertian_share(sets),
        harmony.chord_types_per_1000_beats(sets),
    ):
        assert math.isnan(share[1])

"""Degenerate rolls: each kind breaks what it says it breaks; the sanity flags."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.reference import bundled_windows
from core.music.musicianship import theory_metrics
from core.ranking import negatives as neg
from tests.support.rolls import STEPS, P, chorale_like_windows


@pytest.fixture(scope="module")
def real() -> tuple[np.ndarray, np.ndarray]:
    """Forty real chorale windows (validation split of the bundled corpus)."""
    active, onset = bundled_windows("valid")
    return active[::7][:40], onset[::7][:40]


def test_every_kind_has_the_roll_shape_and_onsets_inside_notes(real) -> None:
    sets = neg.degenerate_set(*real, 7, seed=1)
    assert set(sets) == set(neg.DEGENERATE_KINDS)
    for kind, (active, onset) in sets.items():
        assert active.shape == onset.shape == (7, STEPS, P), kind
        assert not (onset & ~active).any(), kind


def test_parallel_voices_add_parallel_fifths_and_octaves(real) -> None:
    shadowed = neg.parallel_voices(*real, np.random.default_rng(0), 40)
    before = theory_metrics(*real)["parallel_perfects_per_bar"].mean()
    after = theory_metrics(*shadowed)["parallel_perfects_per_bar"].mean()
    assert after > before + 1.0
    assert theory_metrics(*shadowed)["four_voice_step_share"].mean() > 0.5  # still four parts, mostly


def test_clusters_are_not_built_from_thirds() -> None:
    active, onset = neg.clusters(np.random.default_rng(0), 20, STEPS, P)
    assert theory_metrics(active, onset)["non_tertian_share"].mean() > 0.9


def test_real_moved_out_of_key_loses_its_key_and_its_triads(real) -> None:
    moved = theory_metrics(*neg.out_of_key(*real, np.random.default_rng(0), 40))
    original = theory_metrics(*real)
    assert moved["key_strength"].mean() < original["key_strength"].mean() - 0.1
    assert moved["triad_share"].mean() < original["triad_share"].mean() / 2


def test_degenerate_rolls_mix() -> None:
    real_a, real_o = chorale_like_windows(10, seed=2)
    active, onset = neg.degenerate_rolls(real_a, real_o, 24, seed=1)
    assert active.shape == (24, STEPS, P) and onset.shape == active.shape


def test_sanity_flags() -> None:
    real_a, real_o = chorale_like_windows(2, seed=1)
    chord_a, chord_o = neg.constant_chords(np.random.default_rng(0), 1, STEPS, P)
    silent_a = np.zeros((1, STEPS, P), bool)
    silent_a[0, 3, 20] = True
    active = np.concatenate([real_a, chord_a, silent_a, real_a[:1]])
    onset = np.concatenate([real_o, chord_o, neg.onsets_from_active(silent_a), real_o[:1]])
    flags = neg.sanity_flags(active, onset)
    assert flags[0] == () and flags[1] == ()
    assert "constant chord" in flags[2]
    assert "near-silent" in flags[3]
    assert flags[4] == ("duplicate",)

"""Features of hand-built piano-rolls with known values."""

from __future__ import annotations

import numpy as np
import pytest

from core.music.features import FEATURE_MEANINGS, FEATURE_NAMES, features_batch, note_spans, piece_features
from tests.support.rolls import LOW, P, chorale_like_windows, roll


def feature(values: np.ndarray, name: str) -> float:
    return float(values[FEATURE_NAMES.index(name)])


def test_names_are_unique_and_documented() -> None:
    assert 35 <= len(FEATURE_NAMES) <= 50
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert all(FEATURE_MEANINGS[name] for name in FEATURE_NAMES)


def test_held_triad_then_silence() -> None:
    values = piece_features(*roll([(60, 0, 16), (64, 0, 16), (67, 0, 16)], steps=32))
    assert feature(values, "polyphony_mean") == pytest.approx(1.5)
    assert feature(values, "silence_rate") == pytest.approx(0.5)
    assert feature(values, "pitch_range") == 7
    assert feature(values, "pitch_mean") == pytest.approx((60 + 64 + 67) / 3)
    assert feature(values, "note_length_mean") == 16
    assert feature(values, "scale_consistency") == 1.0
    for ic, share in [(3, 1 / 3), (4, 1 / 3), (5, 1 / 3), (0, 0.0), (6, 0.0)]:
        assert feature(values, f"vertical_ic{ic}") == pytest.approx(share)
    assert feature(values, "pc_degree_0") == pytest.approx(1 / 3)  # C is the key note of C major


def test_melody_moves() -> None:
    values = piece_features(*roll([(60, 0, 4), (62, 4, 4), (67, 8, 4), (65, 12, 4)], steps=16))
    assert feature(values, "top_interval_mean") == pytest.approx(3.0)
    assert feature(values, "top_step_share") == pytest.approx(2 / 3)
    assert feature(values, "top_leap_share") == 0.0
    assert feature(values, "top_motion_rate") == pytest.approx(3 / 15)
    assert feature(values, "onbeat_onset_share") == 1.0
    assert feature(values, "polyphony_spread") == 0.0


def test_restruck_note_counts_twice() -> None:
    active, onset = roll([(60, 0, 8)], steps=8)
    onset[4, 60 - LOW] = True
    _, _, lengths = note_spans(active[None], onset[None])
    assert lengths.tolist() == [4, 4]
    assert feature(piece_features(active, onset), "note_length_mean") == 4


def test_bar_repetition_of_a_looped_bar() -> None:
    bar = [(60, 0, 4), (64, 4, 4), (67, 8, 8)]
    looped = [(p, s + 16 * b, n) for b in range(4) for p, s, n in bar]
    assert feature(piece_features(*roll(looped)), "bar_repetition") == 1.0


def test_key_relative_histogram_ignores_transposition() -> None:
    active, onset = chorale_like_windows(4, seed=3)
    shifted_a, shifted_o = np.roll(active, 2, axis=2), np.roll(onset, 2, axis=2)
    pcs = [FEATURE_NAMES.index(f"pc_degree_{k}") for k in range(12)]
    np.testing.assert_allclose(
        features_batch(active, onset)[:, pcs], features_batch(shifted_a, shifted_o)[:, pcs]
    )


def test_batch_matches_single_and_empty_is_finite() -> None:
    active, onset = chorale_like_windows(3, seed=1)
    active[2] = False
    batch = features_batch(active, onset)
    np.testing.assert_allclose(batch[0], piece_features(active[0], onset[0]))
    assert np.isfinite(batch).all()
    assert batch.shape == (3, len(FEATURE_NAMES))


def test_shape_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="bool"):
        features_batch(np.zeros((2, 8, P), bool), np.zeros((2, 9, P), bool))

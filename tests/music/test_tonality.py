"""Batched Krumhansl–Kessler keys, key strength, local keys and first/last key agreement."""

from __future__ import annotations

import math

import numpy as np

from core.music import tonality
from core.music.theory import estimate_key
from tests.support.rolls import P, roll

C_MAJOR_CADENCE = [(72, 64, 55, 48), (72, 65, 57, 53), (71, 62, 55, 43), (72, 64, 55, 48)]


def four_part(chords: list[tuple[int, ...]], length: int = 16, shift: int = 0) -> np.ndarray:
    notes = [(pitch + shift, i * length, length) for i, chord in enumerate(chords) for pitch in chord]
    return roll(notes, len(chords) * length)[0]


def piece(bars_in_c: int, bars_in_f_sharp: int) -> np.ndarray:
    """A roll of I–IV–V–I in C, one chord a bar, then the same a tritone higher (F# major)."""
    c_major, f_sharp_major = four_part(C_MAJOR_CADENCE), four_part(C_MAJOR_CADENCE, shift=6)
    return np.concatenate([*[c_major] * (bars_in_c // 4), *[f_sharp_major] * (bars_in_f_sharp // 4)])[None]


def test_batched_keys_agree_with_the_single_roll_estimate() -> None:
    weights = np.random.default_rng(0).random((20, 12))
    keys, strength = tonality.estimate_keys(weights)
    for row, key, value in zip(weights, keys, strength, strict=True):
        single = estimate_key(row)
        assert key == single.tonic + (12 if single.mode == "minor" else 0)
        assert math.isclose(value, single.correlation)


def test_flat_or_silent_distributions_have_no_key() -> None:
    keys, strength = tonality.estimate_keys(np.array([np.zeros(12), np.ones(12)]))
    assert keys.tolist() == [tonality.NO_KEY] * 2 and np.isnan(strength).all()


def test_key_strength_is_high_for_a_cadence_and_nan_for_silence() -> None:
    rolls = np.concatenate([piece(4, 0), np.zeros((1, 64, P), dtype=bool)])
    strength = tonality.key_strength(rolls)
    assert strength[0] > 0.8 and math.isnan(strength[1])
    chromatic = np.zeros((1, 12, P), dtype=bool)
    chromatic[0, np.arange(12), 24 + np.arange(12)] = True
    assert math.isnan(tonality.key_strength(chromatic)[0])  # every pitch class equally long


def test_local_keys_follow_a_modulation() -> None:
    keys = tonality.local_keys(piece(4, 4), np.array([0, 32, 96, 112]), before=32, after=16)
    assert keys[0].tolist() == [0, 0, 6, 6]  # C major, then F# major


def test_first_last_key_agreement() -> None:
    assert tonality.first_last_key_agreement(piece(16, 0))[0] == 1.0
    assert tonality.first_last_key_agreement(piece(8, 8))[0] == 0.0  # modulates to F# major
    assert tonality.first_last_key_agreement(piece(12, 4))[0] == 0.0
    assert math.isnan(tonality.first_last_key_agreement(piece(4, 0))[0])  # too short to compare
    assert math.isnan(tonality.first_last_key_agreement(np.zeros((1, 256, P), dtype=bool))[0])

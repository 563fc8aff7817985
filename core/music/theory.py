"""Music theory helpers shared by the statistics, the metrics and the plots: pitch names and keys.

Keys are found with the Krumhansl & Kessler (1982) probe-tone profiles: the key whose profile correlates
best with a piece's pitch-class distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
"""Krumhansl & Kessler (1982) key profiles, tonic first."""
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
"""Semitones of the major scale above its tonic."""


def note_name(pitch: int) -> str:
    """Scientific pitch name of a MIDI pitch: 60 → ``C4``."""
    return f"{PITCH_NAMES[int(pitch) % 12]}{int(pitch) // 12 - 1}"


@dataclass(frozen=True)
class KeyEstimate:
    """A key found by correlating a pitch-class distribution with the Krumhansl–Kessler profiles."""

    tonic: int
    mode: str
    correlation: float

    @property
    def name(self) -> str:
        """E.g. ``"G major"``."""
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"


def _key_profiles() -> np.ndarray:
    """``[24, 12]``: the major profile on each tonic 0–11, then the minor one."""
    rotations = [np.roll(profile, tonic) for profile in (MAJOR_PROFILE, MINOR_PROFILE) for tonic in range(12)]
    return np.stack(rotations)


def estimate_key(pitch_class_weights: np.ndarray) -> KeyEstimate | None:
    """The best-correlated of the 24 keys (Krumhansl–Kessler), or None for silence or a flat distribution."""
    weights = np.asarray(pitch_class_weights, dtype=np.float64)
    if weights.std() == 0:
        return None
    profiles = _key_profiles()
    z_profiles = (profiles - profiles.mean(axis=1, keepdims=True)) / profiles.std(axis=1, keepdims=True)
    correlations = z_profiles @ ((weights - weights.mean()) / weights.std()) / 12
    best = int(correlations.argmax())
    return KeyEstimate(best % 12, "major" if best < 12 else "minor", float(correlations[best]))


def key_name(weights: np.ndarray) -> str:
    """The estimated key of a pitch-class distribution as words, or "unknown"."""
    estimate = estimate_key(weights)
    return estimate.name if estimate else "unknown"

"""Hand-built piano-roll windows for the tests: chorale-like four-voice windows and single rolls."""

from __future__ import annotations

import numpy as np

LOW = 36
STEPS = 64
P = 48
SCALE = np.array([0, 2, 4, 5, 7, 9, 11])


def chorale_like_windows(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four diatonic voices moving stepwise in notes of 2–8 steps: a stand-in for real windows."""
    rng = np.random.default_rng(seed)
    active = np.zeros((n, STEPS, P), dtype=bool)
    onset = np.zeros_like(active)
    for i in range(n):
        key = rng.integers(0, 12)
        for centre in (48, 55, 62, 69):
            degree = rng.integers(0, 7)
            t = 0
            while t < STEPS:
                length = int(rng.choice([2, 4, 4, 4, 8]))
                degree = int(np.clip(degree + rng.integers(-1, 2), 0, 6))
                pitch = centre - 6 + key % 3 + SCALE[degree]
                active[i, t : t + length, pitch - LOW] = True
                onset[i, t, pitch - LOW] = True
                t += length
    return active, onset


def roll(notes: list[tuple[int, int, int]], steps: int = STEPS) -> tuple[np.ndarray, np.ndarray]:
    """(MIDI pitch, start step, length) notes -> active, onset [steps, P]."""
    active = np.zeros((steps, P), dtype=bool)
    onset = np.zeros_like(active)
    for pitch, start, length in notes:
        active[start : start + length, pitch - LOW] = True
        onset[start, pitch - LOW] = True
    return active, onset

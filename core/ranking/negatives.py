"""Degenerate rolls a ranker must always score below music, and the sanity flags that sort them last.

Constant chords, independent random cells, near-silence, a looped bar and real windows with their steps
shuffled are what a model that fails sounds like; the ranker's negatives include them, and
:func:`sanity_flags` catches the worst of them among generated candidates.
"""

from __future__ import annotations

import numpy as np


def onsets_from_active(active: np.ndarray) -> np.ndarray:
    """Onsets where a pitch starts sounding (no re-strikes of held notes)."""
    active = np.asarray(active, dtype=bool)
    onset = active.copy()
    onset[..., 1:, :] &= ~active[..., :-1, :]
    return onset


def constant_chords(
    rng: np.random.Generator, n: int, steps: int, n_pitches: int
) -> tuple[np.ndarray, np.ndarray]:
    """One random 2–5 note chord per roll, held or re-struck every 1, 2, 4, 8 or 16 steps."""
    active = np.zeros((n, steps, n_pitches), dtype=bool)
    onset = np.zeros_like(active)
    for i in range(n):
        pitches = rng.choice(n_pitches, size=rng.integers(2, 6), replace=False)
        active[i][:, pitches] = True
        every = int(rng.choice([1, 2, 4, 8, 16, steps]))
        onset[i][::every, pitches] = True
    return active, onset


def noise_rolls(
    rng: np.random.Generator, n: int, steps: int, n_pitches: int, density: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Independent random cells (density per roll drawn from 0.02–0.15 unless given)."""
    densities = rng.uniform(0.02, 0.15, size=n) if density is None else np.full(n, density)
    active = rng.random((n, steps, n_pitches)) < densities[:, None, None]
    return active, onsets_from_active(active)


def near_silent_rolls(
    rng: np.random.Generator, n: int, steps: int, n_pitches: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rolls with one to three short notes and silence elsewhere."""
    active = np.zeros((n, steps, n_pitches), dtype=bool)
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            start = rng.integers(0, steps)
            active[i, start : start + rng.integers(1, 5), rng.integers(n_pitches)] = True
    return active, onsets_from_active(active)


def looped_bars(
    active: np.ndarray, onset: np.ndarray, rng: np.random.Generator, n: int, steps_per_bar: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Real windows whose first bar is repeated over the whole window."""
    pick = rng.integers(0, len(active), size=n)
    reps = -(-active.shape[1] // steps_per_bar)
    a = np.tile(active[pick, :steps_per_bar], (1, reps, 1))[:, : active.shape[1]]
    o = np.tile(onset[pick, :steps_per_bar], (1, reps, 1))[:, : active.shape[1]]
    return a, o


def shuffled_steps(
    active: np.ndarray, rng: np.random.Generator, n: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Real windows with their time steps in random order (pitch content kept, time structure lost)."""
    n = len(active) if n is None else n
    pick = rng.integers(0, len(active), size=n)
    order = np.argsort(rng.random((n, active.shape[1])), axis=1)
    shuffled = np.take_along_axis(active[pick], order[:, :, None], axis=1)
    return shuffled, onsets_from_active(shuffled)


def degenerate_rolls(
    real_active: np.ndarray, real_onset: np.ndarray, n: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` degenerate negatives, a fifth each of constant chords, noise, near-silence, loops, shuffles."""
    rng = np.random.default_rng(seed)
    _, steps, n_pitches = real_active.shape
    share = max(n // 5, 1)
    parts = [
        constant_chords(rng, share, steps, n_pitches),
        noise_rolls(rng, share, steps, n_pitches),
        near_silent_rolls(rng, share, steps, n_pitches),
        looped_bars(real_active, real_onset, rng, share),
        shuffled_steps(real_active, rng, n - 4 * share),
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def distinct_chords(active: np.ndarray) -> np.ndarray:
    """Number of different non-empty sets of sounding pitches per roll [N, T, P]."""
    packed = np.packbits(np.asarray(active, dtype=bool), axis=2)
    counts = np.zeros(len(packed), dtype=int)
    for i, roll in enumerate(packed):
        rows = roll[roll.any(axis=1)]
        counts[i] = len(np.unique(rows, axis=0)) if len(rows) else 0
    return counts


def sanity_flags(active: np.ndarray, onset: np.ndarray, min_polyphony: float = 0.5) -> list[tuple[str, ...]]:
    """Per roll, the degenerate traits that sort it last: near-silent, constant chord, duplicate."""
    active = np.asarray(active, dtype=bool)
    onset = np.asarray(onset, dtype=bool)
    mean_poly = active.sum(axis=2).mean(axis=1)
    chords = distinct_chords(active)
    seen: set[bytes] = set()
    flags = []
    for i in range(len(active)):
        marks = []
        if mean_poly[i] < min_polyphony:
            marks.append("near-silent")
        if 0 < chords[i] <= 2:
            marks.append("constant chord")
        key = np.packbits(active[i]).tobytes() + np.packbits(onset[i] & active[i]).tobytes()
        if key in seen:
            marks.append("duplicate")
        seen.add(key)
        flags.append(tuple(marks))
    return flags

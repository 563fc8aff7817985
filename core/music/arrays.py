"""Small array helpers shared by the music-theory metrics (numpy, batched over rolls)."""

from __future__ import annotations

import numpy as np


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den as float64, NaN where den is 0 (a share of nothing is undefined)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den > 0)


def previous_index(defined: np.ndarray) -> np.ndarray:
    """int[N, T]: index of the last step before each step where ``defined`` (bool[N, T]) holds, else -1."""
    defined = np.asarray(defined, dtype=bool)
    steps = np.where(defined, np.arange(defined.shape[1]), -1)
    last = np.maximum.accumulate(steps, axis=1)
    previous = np.full_like(last, -1)
    previous[:, 1:] = last[:, :-1]
    return previous


def take_steps(values: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``values`` [N, T, ...] at the step ``steps`` [N, T] of each position (-1 reads step 0)."""
    index = np.clip(steps, 0, None).reshape(steps.shape + (1,) * (values.ndim - 2))
    return np.take_along_axis(values, index, axis=1)


def per_bar_counts(events: np.ndarray, steps_per_bar: int) -> np.ndarray:
    """float64[N, bars]: ``events`` [N, T] (counts per step) summed per bar; a last partial bar counts."""
    n, t = events.shape
    n_bars = max(-(-t // steps_per_bar), 1)
    padded = np.zeros((n, n_bars * steps_per_bar))
    padded[:, :t] = events
    return padded.reshape(n, n_bars, steps_per_bar).sum(axis=2)


def note_start_cells(active: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """bool[N, T, P]: where a note starts, at an onset or where its pitch begins to sound."""
    active = np.asarray(active, dtype=bool)
    starts = np.asarray(onset, dtype=bool) & active
    starts[:, 0] |= active[:, 0]
    starts[:, 1:] |= active[:, 1:] & ~active[:, :-1]
    return starts

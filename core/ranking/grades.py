"""Chorale-likeness grades from 0 to 100: where a piece stands among real chorale windows.

A grade compares a number with the same number measured on real windows the ranker never trained on
(the validation split of the bundled chorales, windows that start with music):

- the piece's grade is the percentile of its SVM decision value among the real windows' values:
  60 means it scores at least as high as 60 % of real chorale windows;
- a feature's grade says how ordinary the piece's value would be in a real chorale. For a feature
  where lower is better (parallel fifths and octaves) it is the share of real windows with at least
  that value (no parallels: 100); where higher is better, the share with at most that value; for the
  others, twice the smaller of the shares at or below and at or above the value, capped at 100 (a
  value at the real median or inside a common tie: 100; beyond every real window: 0).

Percentile ranks of this kind are the "percentile rank" of norm-referenced tests; the same idea puts a
generated piece on the scale of real music in listening tests such as "Bach or Mock" (DeepBach,
Hadjeres et al. 2017).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def share_at_most(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Share of the sorted ``reference`` values that are ≤ each of ``values``."""
    reference = np.asarray(reference, dtype=np.float64)
    return np.searchsorted(reference, values, side="right") / max(len(reference), 1)


def share_at_least(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Share of the sorted ``reference`` values that are ≥ each of ``values``."""
    reference = np.asarray(reference, dtype=np.float64)
    return 1.0 - np.searchsorted(reference, values, side="left") / max(len(reference), 1)


def piece_grades(real_scores: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """0–100 per piece: percentile of its decision value among the real windows' (sorted ``real_scores``)."""
    return 100.0 * share_at_most(real_scores, np.asarray(scores, dtype=np.float64))


def feature_grade(reference: np.ndarray, values: np.ndarray, better: str = "close to real") -> np.ndarray:
    """0–100 per value of one feature against its sorted real ``reference`` (see the module docstring)."""
    values = np.asarray(values, dtype=np.float64)
    if better == "lower":
        share = share_at_least(reference, values)
    elif better == "higher":
        share = share_at_most(reference, values)
    else:
        below, above = share_at_most(reference, values), share_at_least(reference, values)
        share = np.minimum(1.0, 2.0 * np.minimum(below, above))
    return 100.0 * share


def feature_grades(references: np.ndarray, features: np.ndarray, better: Sequence[str]) -> np.ndarray:
    """float64[N, F]: :func:`feature_grade` of every column of ``features`` [N, F]; ``references`` is
    [F, M] (each row sorted), ``better`` one direction per feature."""
    features = np.atleast_2d(np.asarray(features, dtype=np.float64))
    columns = [feature_grade(references[j], features[:, j], better[j]) for j in range(features.shape[1])]
    return np.stack(columns, axis=1)

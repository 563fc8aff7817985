"""Are the SVM's picks better than random picks of the same candidates?

The candidates are cut into groups of ``candidates`` (in order); from each group the ranker keeps its
``keep`` best (:func:`core.ranking.pipeline.ranking_order`: unflagged pieces by score first), and
``draws`` times ``keep`` pieces are drawn at random from each group. Both are judged against real
windows by

- the classifier two-sample test (:func:`c2st_features`, ``classifier_two_sample_test`` of
  :mod:`core.music.metrics`): for the picks, its accuracy averaged over ``draws`` classifier
  seeds (each seed draws its own real subset and train/test halves); for random picks, draw ``i``
  uses classifier seed ``i``, so both averages see the same classifier splits;
- the music-theory metrics of ``PICK_METRICS``: which is closer to the real mean;
- the share of pieces whose first beat is silent.
"""

from __future__ import annotations

import numpy as np

from core.models.base import Samples
from core.music.features import features_batch
from core.music.metrics import classifier_two_sample_test
from core.music.musicianship import theory_metrics
from core.ranking.pipeline import ranking_flags, ranking_order
from core.ranking.svm import Ranker

PICK_METRICS = (
    "parallel_perfects_per_bar",
    "triad_share",
    "sixteenth_onset_beat_share",
    "authentic_cadences_per_bar",
)
"""The theory metrics on which the picks must be closer to the real chorales than random picks."""


def c2st_features(active: np.ndarray, onset: np.ndarray, lowest_pitch: int = 36) -> np.ndarray:
    """What the two-sample classifier sees: the 44 roll features of :mod:`core.music.features`.

    Fixed whatever the ranker uses, so a ranker is never judged by the classifier it was built from;
    the music-theory metrics are compared one by one instead."""
    return features_batch(active, onset, lowest_pitch)


def top_and_random_groups(
    ranker: Ranker,
    active: np.ndarray,
    onset: np.ndarray,
    candidates: int,
    keep: int,
    draws: int,
    seed: int,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """(indices of the ranker's picks, ``draws`` index arrays of random picks), group by group."""
    features = ranker.features(active, onset)
    scores = ranker.score(features)
    flags = ranking_flags(Samples(active, onset))
    rng = np.random.default_rng(seed)
    top, random_draws = [], [[] for _ in range(draws)]
    for start in range(0, len(active) - candidates + 1, candidates):
        group = np.arange(start, start + candidates)
        order = ranking_order(scores[group], [flags[i] for i in group])
        top.extend(group[order[:keep]])
        for picks in random_draws:
            picks.extend(rng.choice(group, size=keep, replace=False))
    return np.array(top, dtype=int), [np.array(p, dtype=int) for p in random_draws]


def silent_first_beat_share(active: np.ndarray, steps_per_beat: int = 4) -> float:
    """Share of pieces whose first beat has no sounding note."""
    if not len(active):
        return float("nan")
    return float((~np.asarray(active)[:, :steps_per_beat].any(axis=(1, 2))).mean())


def picks_versus_random(
    ranker: Ranker,
    active: np.ndarray,
    onset: np.ndarray,
    real: tuple[np.ndarray, np.ndarray],
    candidates: int = 32,
    keep: int = 4,
    draws: int = 20,
    seed: int = 0,
) -> dict:
    """The comparison of the module docstring, as a JSON-ready dict."""
    top, random_draws = top_and_random_groups(ranker, active, onset, candidates, keep, draws, seed)
    real_x = c2st_features(*real)
    x = c2st_features(active, onset)
    top_acc = [classifier_two_sample_test(real_x, x[top], seed=i)[0] for i in range(draws)]
    random_acc = [classifier_two_sample_test(real_x, x[p], seed=i)[0] for i, p in enumerate(random_draws)]
    real_theory = theory_metrics(*real)
    theory = theory_metrics(active, onset)
    metrics = {}
    for name in PICK_METRICS:
        real_value = float(np.nanmean(real_theory[name]))
        top_value = float(np.nanmean(theory[name][top]))
        random_value = float(np.mean([np.nanmean(theory[name][p]) for p in random_draws]))
        metrics[name] = {
            "real": real_value,
            "top_k": top_value,
            "random_picks": random_value,
            "picks_closer": abs(top_value - real_value) < abs(random_value - real_value),
        }
    return {
        "candidates": len(active),
        "group": candidates,
        "keep": keep,
        "draws": draws,
        "c2st_top_k": float(np.mean(top_acc)),
        "c2st_random_picks": float(np.mean(random_acc)),
        "c2st_random_picks_sd": float(np.std(random_acc)),
        "c2st_difference": float(np.mean(random_acc) - np.mean(top_acc)),
        "theory": metrics,
        "silent_first_beat": {
            "candidates": silent_first_beat_share(active),
            "top_k": silent_first_beat_share(active[top]),
        },
    }

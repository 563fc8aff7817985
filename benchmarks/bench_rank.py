"""Ranking and evaluation figures: features per window, ranker fit, scoring 32 candidates, evaluating 512.

Run as ``python benchmarks/bench_rank.py`` (uses the bundled chorales). Prints figures next to the
targets they are meant to meet; asserts nothing. The "generator" is the shuffled-steps baseline, so
no checkpoint is needed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.evaluation.baselines import BaselineSampler
from core.evaluation.evaluate import EvalConfig, evaluate
from core.evaluation.real import corpus_real_data
from core.music.features import features_batch
from core.music.musicianship import theory_metrics
from core.ranking.pipeline import rank_samples
from core.ranking.svm import fit_on_rolls

TARGETS = {
    "features per window (ms)": 0.2,
    "features + theory metrics per window (ms)": 0.5,
    "evaluate 512 (s)": 30.0,
}


def best_of(repeats: int, function, *args, **kwargs) -> tuple[object, float]:
    """``(result, fastest seconds)`` over ``repeats`` calls."""
    best = float("inf")
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return result, best


def main() -> int:
    real = corpus_real_data()
    train_active, train_onset = real.train
    figures: dict[str, float] = {}

    idx = np.random.default_rng(0).choice(len(train_active), 1000, replace=len(train_active) < 1000)
    _, seconds = best_of(5, features_batch, train_active[idx], train_onset[idx])
    figures["features per window (ms)"] = seconds  # seconds for 1,000 windows = ms per window
    _, seconds = best_of(5, theory_metrics, train_active[idx[:512]], train_onset[idx[:512]])
    figures["theory metrics per window (ms)"] = seconds * 1000 / 512
    figures["features + theory metrics per window (ms)"] = (
        figures["features per window (ms)"] + figures["theory metrics per window (ms)"]
    )

    generator = BaselineSampler("shuffled", real)
    negatives = generator.sample(1000, seed=10_000)
    start = time.perf_counter()
    ranker = fit_on_rolls(real.train, (negatives.active, negatives.onset))
    figures["ranker fit (s)"] = time.perf_counter() - start

    candidates = generator.sample(32, seed=1)
    _, seconds = best_of(5, rank_samples, candidates, ranker, 4)
    figures["rank 32 candidates (ms)"] = seconds * 1000

    start = time.perf_counter()
    evaluate(generator, real, ranker, EvalConfig(n=512))
    figures["evaluate 512 (s)"] = time.perf_counter() - start

    print(
        f"ranker: C={ranker.info['C']:g}, gamma={ranker.info['gamma']:.4g}, "
        f"{ranker.info['n_support_vectors']} support vectors, "
        f"CV balanced accuracy {np.mean(ranker.info['cv_balanced_accuracy']):.3f}"
    )
    for name, value in figures.items():
        target = TARGETS.get(name)
        suffix = f"  (target ≤ {target:g})" if target is not None else ""
        print(f"{name:28s} {value:10.3f}{suffix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ranking and evaluation figures: the ranker's features per window, ranking 32 candidates, evaluating 512.

Run as ``python benchmarks/bench_rank.py`` (uses the bundled chorales and the shipped ranker; add
``--fit`` to time a refit of the ranker too). Prints figures next to the targets they are meant to meet;
asserts nothing. The candidates are the shuffled-steps baseline, so no model is needed.
"""

from __future__ import annotations

import argparse
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
from core.ranking.features import ranker_features
from core.ranking.pipeline import rank_samples
from core.ranking.reference import fit_reference_ranker, load_ranker

TARGETS = {
    "roll features per window (ms)": 0.2,
    "features + theory metrics per window (ms)": 0.5,
    "rank 32 candidates (ms)": 100.0,
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fit", action="store_true", help="also time a refit of the shipped ranker")
    args = parser.parse_args()
    real = corpus_real_data()
    train_active, train_onset = real.train
    figures: dict[str, float] = {}

    idx = np.random.default_rng(0).choice(len(train_active), 1000, replace=len(train_active) < 1000)
    active, onset = train_active[idx], train_onset[idx]
    _, seconds = best_of(5, features_batch, active, onset)
    figures["roll features per window (ms)"] = seconds  # seconds for 1,000 windows = ms per window
    _, seconds = best_of(5, theory_metrics, active, onset)
    figures["theory metrics per window (ms)"] = seconds
    _, seconds = best_of(5, ranker_features, active, onset)
    figures["features + theory metrics per window (ms)"] = seconds

    ranker = load_ranker()
    generator = BaselineSampler("shuffled", real)
    candidates = generator.sample(32, seed=1)
    _, seconds = best_of(5, rank_samples, candidates, ranker, 4)
    figures["rank 32 candidates (ms)"] = seconds * 1000

    start = time.perf_counter()
    evaluate(generator, real, ranker, EvalConfig(n=512))
    figures["evaluate 512 (s)"] = time.perf_counter() - start

    if args.fit:
        start = time.perf_counter()
        fit_reference_ranker()
        figures["ranker refit incl. sampling (s)"] = time.perf_counter() - start

    print(
        f"ranker: C={ranker.info['C']:g}, gamma={ranker.info['gamma']:.4g}, "
        f"{ranker.info['n_support_vectors']} support vectors, {len(ranker.params.scaler_mean)} features"
    )
    for name, value in figures.items():
        target = TARGETS.get(name)
        suffix = f"  (target ≤ {target:g})" if target is not None else ""
        print(f"{name:44s} {value:10.3f}{suffix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

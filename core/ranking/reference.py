"""The one shipped ranker: exactly what it is fitted on, how to fit it again, and how it is loaded.

Every generator is ranked and graded by the same SVM (``checkpoints/ranker/ranker.npz``), so scores
and grades compare across models; nothing is fitted per checkpoint. It is fitted once on:

- **real**: the 4-bar windows (hop one bar, 4/4 pieces) of the bundled chorales' *train* split that
  start on a bar line with music (:func:`core.ranking.features.starts_with_music`);
- **negatives**: ``degenerate_per_kind`` rolls of every kind of
  :data:`core.ranking.negatives.DEGENERATE_KINDS` (made from those real windows or from nothing), and
  the fixed set of generated pieces in :data:`GENERATED_NEGATIVES` (the three shipped checkpoints,
  fixed seeds that no evaluation uses);
- **grades**: the *validation* split's windows that start with music (never seen in fitting), and for
  the "better than N % of generated pieces" percentile the pieces of :data:`GENERATED_REFERENCE`
  (the same checkpoints, other seeds).

The test split is never used here. C and gamma were chosen on the validation split (which pair's
picks are closest to real music by the two-sample test, docs/evaluation.md), so the grid is one point.

    python -m core.rank fit          (:mod:`core.cli.rank`)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.data.reference import bundled_windows
from core.paths import CHECKPOINTS_DIR, REPO_ROOT
from core.ranking.features import starts_with_music
from core.ranking.negatives import degenerate_set
from core.ranking.svm import Ranker, RankerConfig, fit_on_rolls
from core.sampling.model import load_model

RANKER_PATH = CHECKPOINTS_DIR / "ranker" / "ranker.npz"
"""The shipped ranker (``.npz`` numbers + ``.json`` metadata; model card in the folder's README.md)."""


@dataclass(frozen=True)
class GeneratedNegatives:
    """``n`` pieces of 4 bars sampled from a shipped checkpoint with ``seed``, at temperature 1."""

    name: str
    checkpoint: str
    """Relative to the repository."""
    n: int
    seed: int


GENERATED_NEGATIVES: tuple[GeneratedNegatives, ...] = (
    GeneratedNegatives("LSTM-vs-LSTM GAN", "checkpoints/default", 1200, 10_000),
    GeneratedNegatives("next-step LSTM", "checkpoints/lstm_lm", 600, 10_000),
    GeneratedNegatives("CNN-GAN", "checkpoints/cnn_gan", 600, 10_000),
)


GENERATED_REFERENCE: tuple[GeneratedNegatives, ...] = tuple(
    GeneratedNegatives(source.name, source.checkpoint, 200, 30_000) for source in GENERATED_NEGATIVES
)
"""Generated pieces a piece's score is placed among (never used in fitting)."""


@dataclass(frozen=True)
class ReferenceRecipe:
    """Everything the shipped ranker is fitted on (see the module docstring)."""

    degenerate_per_kind: int = 300
    degenerate_seed: int = 1
    generated: tuple[GeneratedNegatives, ...] = GENERATED_NEGATIVES
    generated_reference: tuple[GeneratedNegatives, ...] = GENERATED_REFERENCE
    svm: RankerConfig = field(default_factory=lambda: RankerConfig(c_grid=(10.0,), gamma_scales=(1.0,)))


def real_windows(split: str, bars: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The bundled chorales' windows of one split that start on a bar line with music."""
    active, onset = bundled_windows(split, bars)
    keep = starts_with_music(active)
    return active[keep], onset[keep]


def negative_rolls(
    recipe: ReferenceRecipe, real: tuple[np.ndarray, np.ndarray]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The recipe's negatives by name: every degenerate kind, then every generated set."""
    negatives = degenerate_set(*real, recipe.degenerate_per_kind, recipe.degenerate_seed)
    return {**negatives, **generated_rolls(recipe.generated)}


def generated_rolls(sources: tuple[GeneratedNegatives, ...]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The pieces of each source, by name."""
    rolls = {}
    for source in sources:
        samples = load_model(REPO_ROOT / source.checkpoint).sample(source.n, 4, source.seed)
        rolls[source.name] = (samples.active, samples.onset)
    return rolls


def fit_reference_ranker(recipe: ReferenceRecipe = ReferenceRecipe()) -> Ranker:
    """Fit the shipped ranker from the recipe (about a minute on one core; sampling included)."""
    real = real_windows("train")
    info = {
        "fitted_on": "bundled chorales, train split, 4-bar windows that start with music",
        "generated_negatives": [vars(source) for source in recipe.generated],
        "generated_reference": [vars(source) for source in recipe.generated_reference],
        "degenerate_per_kind": recipe.degenerate_per_kind,
        "degenerate_seed": recipe.degenerate_seed,
    }
    return fit_on_rolls(
        real,
        negative_rolls(recipe, real),
        recipe.svm,
        info,
        grade_windows=real_windows("valid"),
        grade_source="bundled chorales, validation split, 4-bar windows that start with music",
        generated_reference=_stacked(generated_rolls(recipe.generated_reference)),
    )


def _stacked(rolls: dict[str, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([a for a, _ in rolls.values()]), np.concatenate([o for _, o in rolls.values()])


def load_ranker(path: str | Path = RANKER_PATH) -> Ranker:
    """The ranker at ``path`` (the shipped one by default), read once per process and file version."""
    path = Path(path).with_suffix(".npz")
    stamp = path.stat().st_mtime if path.exists() else 0.0
    return _load(str(path), stamp)


@lru_cache(maxsize=4)
def _load(path: str, stamp: float) -> Ranker:
    del stamp  # part of the cache key: a refitted file is read again
    return Ranker.load(path)

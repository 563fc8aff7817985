"""The one shipped ranker: what it was fitted on, and noise never outranking the test split's chorales."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.models.base import Samples
from core.paths import CHECKPOINTS_DIR
from core.ranking import negatives as neg
from core.ranking.pipeline import ranking_flags, ranking_order
from core.ranking.reference import GENERATED_NEGATIVES, RANKER_PATH, load_ranker, real_windows

SHUFFLED_MISS = (
    "missed: one of 200 shuffled rolls (score -1.82) ranks above one of the 250 real test windows, a slow "
    "passage of long notes whose features leave the training windows' range (SVM decision value 0.03, range "
    "excess 1.91, score -1.88); every other real window scores 0.18 or more. Penalty and search were chosen "
    "on the validation split"
)
NOISE_KINDS = (
    "random rolls",
    "clusters",
    pytest.param("shuffled real", marks=pytest.mark.xfail(strict=True, reason=SHUFFLED_MISS)),
)


@pytest.fixture(scope="module")
def ranker():
    return load_ranker()


@pytest.fixture(scope="module")
def test_windows() -> tuple[np.ndarray, np.ndarray]:
    """The test split's windows that start with music, each distinct window once (chorales repeat
    whole passages, and a repeat would be flagged as a duplicate)."""
    active, onset = real_windows("test")
    _, first = np.unique(np.packbits(active, axis=2).reshape(len(active), -1), axis=0, return_index=True)
    keep = np.sort(first)
    return active[keep], onset[keep]


def test_one_ranker_ships_with_its_model_card_and_none_per_checkpoint() -> None:
    assert RANKER_PATH.exists() and RANKER_PATH.with_suffix(".json").exists()
    assert (RANKER_PATH.parent / "README.md").exists()
    assert sorted(p.parent.name for p in CHECKPOINTS_DIR.rglob("ranker.npz")) == ["ranker"]


def test_the_metadata_says_what_it_was_fitted_on() -> None:
    meta = json.loads(RANKER_PATH.with_suffix(".json").read_text())
    assert "train split" in meta["fitted_on"] and "validation split" in meta["grades_from"]
    assert set(neg.DEGENERATE_KINDS) <= set(meta["negatives"])
    assert {g.name for g in GENERATED_NEGATIVES} <= set(meta["negatives"])
    checkpoints = [g["checkpoint"] for g in meta["generated_negatives"]]
    assert checkpoints == [g.checkpoint for g in GENERATED_NEGATIVES]


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_noise_always_ranks_below_every_real_test_window(ranker, test_windows, kind) -> None:
    rolls = neg.degenerate_set(*test_windows, 200, seed=7)[kind]
    active = np.concatenate([test_windows[0], rolls[0]])
    onset = np.concatenate([test_windows[1], rolls[1]])
    features = ranker.features(active, onset)
    order = ranking_order(ranker.score(features), ranking_flags(Samples(active, onset)))
    n_real = len(test_windows[0])
    assert set(order[:n_real]) == set(range(n_real)), f"a {kind} roll outranks a real chorale window"


def test_real_test_windows_grade_around_the_middle(ranker, test_windows) -> None:
    grades = ranker.grade(ranker.score_rolls(*test_windows))
    assert 30 < np.median(grades) < 70
    assert np.mean(grades < 5) < 0.1

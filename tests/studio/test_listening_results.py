"""Class results: Wilson intervals and exact binomial p-values against known values, the attention check,
experience groups, per-pair shares, and humans vs the SVM vs the discriminator."""

from __future__ import annotations

import pytest

from core.studio.listening.results import (
    Share,
    binomial_p_value,
    judge_scores,
    summarise,
    verdicts,
    wilson_interval,
)
from core.studio.listening.store import Answer, Pair


@pytest.mark.parametrize(
    ("correct", "total", "low", "high"),
    [
        (5, 10, 0.2366, 0.7634),  # the textbook values of Wilson's 95 % interval
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_interval_matches_published_values(correct: int, total: int, low: float, high: float) -> None:
    assert wilson_interval(correct, total) == pytest.approx((low, high), abs=5e-4)


def test_wilson_interval_without_answers_is_everything() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("correct", "total", "p"),
    [(9, 10, 0.021484375), (5, 10, 1.0), (0, 5, 0.0625), (60, 100, 0.056887933), (0, 0, 1.0)],
)
def test_exact_binomial_p_values(correct: int, total: int, p: float) -> None:
    assert binomial_p_value(correct, total) == pytest.approx(p, rel=1e-6)


def test_share_sentence() -> None:
    assert Share(0, 0).sentence() == "no answers yet"
    assert Share(6, 8).sentence() == "75 % correct (95 % interval 41–93 %, 8 answers)"


def pairs() -> list[Pair]:
    judges = [
        {"svm_real": 90.0, "svm_other": 10.0, "d_real": 0.6, "d_other": 0.2},  # both judges right
        {"svm_real": 20.0, "svm_other": 70.0, "d_real": None, "d_other": None},  # SVM wrong, no D
    ]
    made = [Pair(i, "test", b"", b"", "", "", judges[i]) for i in range(2)]
    return [*made, Pair(2, "attention", b"", b"", "", "", {})]


def answer(listener: str, position: int, correct: bool, experience: str = "none") -> Answer:
    return Answer(listener, position, 1, "A", "A" if correct else "B", correct, 0.0, experience)


def test_summary_drops_listeners_who_failed_the_attention_check() -> None:
    answers = [
        answer("a", 0, True, "theory"), answer("a", 1, True, "theory"), answer("a", 2, True, "theory"),
        answer("b", 0, True), answer("b", 1, False), answer("b", 2, True),
        answer("c", 0, False), answer("c", 1, False), answer("c", 2, False),  # called random notes Bach
        answer("d", 0, False, "instrument"),  # has not reached the attention check yet
    ]  # fmt: skip
    results = summarise(answers, pairs())
    assert results.listeners == 4 and results.excluded == 1 and results.excluded_ids == {"c"}
    assert (results.overall.correct, results.overall.total) == (3, 5)
    assert list(results.by_experience) == ["none", "instrument", "theory"]
    assert (results.by_experience["theory"].correct, results.by_experience["theory"].total) == (2, 2)
    assert results.per_pair[0] == Share(2, 3) and results.per_pair[1] == Share(1, 2)
    assert results.attention == Share(2, 3)


def test_verdicts_and_judge_scores_compare_the_class_with_the_machines() -> None:
    answers = [answer("a", 0, True), answer("b", 0, True), answer("a", 1, False), answer("b", 1, True)]
    rows = verdicts(summarise(answers, pairs()), pairs())
    assert [(r.position, r.svm_right, r.d_right) for r in rows] == [(0, True, True), (1, False, None)]
    scores = judge_scores(rows)
    assert scores["class (majority)"] == Share(1, 2)  # pair 1 is a tie: not a majority
    assert scores["SVM"] == Share(1, 2) and scores["discriminator"] == Share(1, 1)

"""Grades from 0 to 100: percentiles among real values, in the direction each feature is better."""

from __future__ import annotations

import numpy as np

from core.ranking import grades

REAL = np.sort(np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.25, 0.5, 1.0]))  # e.g. parallels per bar


def test_piece_grade_is_the_percentile_among_real_scores() -> None:
    scores = np.sort(np.arange(100.0))
    np.testing.assert_allclose(grades.piece_grades(scores, [-1.0, 49.0, 99.0, 500.0]), [0, 50, 100, 100])


def test_lower_is_better_counts_real_windows_at_least_as_bad() -> None:
    values = grades.feature_grade(REAL, np.array([0.0, 0.25, 0.5, 2.0]), "lower")
    np.testing.assert_allclose(values, [100, 40, 20, 0])


def test_higher_is_better_counts_real_windows_at_most_as_good() -> None:
    values = grades.feature_grade(REAL, np.array([-1.0, 0.0, 1.0]), "higher")
    np.testing.assert_allclose(values, [0, 60, 100])


def test_close_to_real_is_100_in_the_middle_and_0_beyond_every_real_value() -> None:
    middle = np.sort(np.linspace(0.0, 1.0, 101))
    values = grades.feature_grade(middle, np.array([0.5, 0.25, 0.0, -0.1, 1.1]), "close to real")
    np.testing.assert_allclose(values, [100, 51.5, 2.0, 0, 0], atol=0.1)
    assert grades.feature_grade(REAL, np.array([0.0]), "close to real")[0] == 100  # inside a common tie


def test_feature_grades_take_one_direction_per_column() -> None:
    references = np.stack([REAL, REAL])
    table = grades.feature_grades(references, np.array([[0.5, 0.5]]), ["lower", "higher"])
    np.testing.assert_allclose(table, [[20, 90]])

"""The training run's quality record carries four music-theory numbers of the fresh samples."""

from __future__ import annotations

import numpy as np
import pytest

from core.models.base import Samples
from core.music.musicianship import theory_metrics
from core.training.data import WindowSet
from core.training.loop import QUALITY_THEORY_METRICS, quality_record
from tests.support.rolls import chorale_like_windows


@pytest.fixture(scope="module")
def data() -> WindowSet:
    train, valid = chorale_like_windows(40, seed=1), chorale_like_windows(20, seed=2)
    return WindowSet(*train, *valid)


def test_theory_numbers_are_the_samples_means(data: WindowSet) -> None:
    samples = Samples(*chorale_like_windows(16, seed=3))
    record = quality_record(samples, data, 36)
    theory = theory_metrics(samples.active, samples.onset)
    for key, name in QUALITY_THEORY_METRICS.items():
        assert record[key] == pytest.approx(np.nanmean(theory[name])), key
    assert record["q_triad_share"] >= 0 and "q_score" in record


def test_silent_samples_leave_out_what_they_cannot_define(data: WindowSet) -> None:
    silent = np.zeros((4, 64, 48), bool)
    record = quality_record(Samples(silent, silent), data, 36)
    assert "q_parallels_per_bar" not in record  # no four-note step: undefined, not NaN in the log

"""AppTest: the Train page's fixed-noise strip plays one snapshot per sample interval of the shown run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.studio import jobs
from tests.support.rolls import chorale_like_windows
from tests.support.runs import fake_run

PAGE = "../../pages/train.py"


pytestmark = pytest.mark.usefixtures("fresh_server_folders")


def run_with_snapshots(steps: list[int]) -> Path:
    folder = fake_run(jobs.runs_root(), "run-strip", step=steps[-1] if steps else 0)
    (folder / "samples").mkdir()
    for index, step in enumerate(steps):
        active, onset = chorale_like_windows(2, seed=index)
        np.savez(folder / "samples" / f"step_{step:07d}.npz", active=active, onset=onset)
    return folder


def strip_expander(at: AppTest):
    return next(e for e in at.expander if "Hear the generator learn" in e.label)


def test_the_strip_shows_every_snapshot_with_its_audio() -> None:
    run_with_snapshots([100, 200, 300])
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    expander = strip_expander(at)
    assert "3 snapshots" in expander.label and "same random noise" in expander.caption[0].value
    before = len(at.get("audio"))  # the live view's latest sample; the strip renders nothing yet
    next(t for t in at.toggle if t.label == "Show the snapshots").set_value(True).run()
    assert not at.exception
    titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    for step in ("Step 100", "Step 200", "Step 300"):
        assert any(step in spec for spec in titles), step
    assert len(at.get("audio")) == before + 3


def test_a_run_without_snapshots_says_when_they_come() -> None:
    run_with_snapshots([])
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert "after the run's first sample interval" in strip_expander(at).caption[1].value

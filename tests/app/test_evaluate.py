"""AppTest: the Evaluate page measures the active generator on demand and explains the result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.studio import choices

PAGE = "../../pages/evaluate.py"
TIMEOUT = 60


@pytest.fixture(autouse=True)
def runs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("GMS_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Sampling on a busy two-core machine is many times faster on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def small_checkpoint(small_checkpoint_folder: Path) -> Path:
    """The small generator as the active checkpoint."""
    choices.set_active_checkpoint(small_checkpoint_folder)
    return small_checkpoint_folder


def test_evaluation_runs_on_demand_and_fills_the_table(small_checkpoint: Path) -> None:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not at.dataframe  # nothing is computed before the button
    at.selectbox[0].set_value(64).run()
    at.button(key="evaluate").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert {"real (held out)", "generated", "SVM top picks", "random picks"} <= set(table.columns)
    assert {"baseline: random cells", "baseline: shuffled real"} <= set(table.columns)
    rows = table.set_index("metric")
    assert rows.loc["n_rolls", "generated"] == 64
    assert rows.loc["n_rolls", "SVM top picks"] == 8  # 2 groups of 32, 4 kept from each
    assert 0.0 <= rows.loc["c2st_accuracy", "generated"] <= 1.0
    assert any("Two-sample test" in info.value and "p-value" in info.value for info in at.info)
    assert len(at.get("plotly_chart")) == 4
    assert "ckpt" in at.caption[0].value and str(small_checkpoint.parent) not in at.caption[0].value


def test_results_stay_after_a_rerun_and_follow_the_settings(small_checkpoint: Path) -> None:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    at.selectbox[0].set_value(64).run()
    at.button(key="evaluate").click().run()
    at.run()
    assert at.dataframe  # cached result shown again
    at.selectbox[0].set_value(128).run()
    assert not at.dataframe  # new settings wait for the button


def test_missing_generator_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(choices, "DEFAULT_CHECKPOINT", tmp_path / "no-such-checkpoint")
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "no trained generator" in at.info[0].value
    assert not at.button


def test_broken_checkpoint_shows_an_error_not_a_trace(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "model.pt").write_bytes(b"not a checkpoint")
    (folder / "config.json").write_text("{}")
    choices.set_active_checkpoint(folder)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    at.button(key="evaluate").click().run()
    assert not at.exception
    assert "evaluation failed" in at.error[0].value


def test_page_runs_inside_the_app_navigation(small_checkpoint: Path) -> None:
    at = AppTest.from_file("../../streamlit_app.py", default_timeout=TIMEOUT).run()
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception
    assert at.title[0].value.endswith("Evaluate")
    assert at.button(key="evaluate")

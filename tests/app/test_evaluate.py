"""AppTest: the Evaluate page measures a model of the visitor's choice on demand and explains the result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.paths import DEFAULT_CHECKPOINT
from core.studio import choices
from core.studio.catalog import checkpoint_label

PAGE = "../../pages/evaluate.py"
TIMEOUT = 90
IDENTIFIER = r"^[a-z0-9]+(_[a-z0-9]+)+$"


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
    """The small generator as the class's active checkpoint."""
    choices.set_active_checkpoint(small_checkpoint_folder)
    return small_checkpoint_folder


def evaluated(n: int = 64) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    next(s for s in at.selectbox if s.label == "Generated pieces").set_value(n).run()
    at.button(key="evaluate").click().run()
    return at


def test_evaluation_runs_on_demand_and_fills_both_tables(small_checkpoint: Path) -> None:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not at.dataframe  # nothing is computed before the button
    at = evaluated()
    assert not at.exception
    musician, statistics = (frame.value.set_index("measure") for frame in at.dataframe[:2])
    columns = {"real chorales (held out)", "generated", "SVM top picks", "random picks"}
    assert columns | {"baseline: random cells", "baseline: shuffled real"} <= set(musician.columns)
    assert "parallel fifths and octaves per bar" in musician.index
    assert float(musician.loc["parallel fifths and octaves per bar", "real chorales (held out)"]) < 0.2
    assert statistics.loc["pieces measured", "generated"] == "64"
    assert statistics.loc["pieces measured", "SVM top picks"] == "8"  # 2 groups of 32, 4 kept from each
    assert 0.0 <= float(statistics.loc["a classifier tells it from real (0.5 = cannot)", "generated"]) <= 1.0
    assert any("Two-sample test" in info.value and "p-value" in info.value for info in at.info)
    assert any("random picks" in m.value and "draws" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 4
    caption = next(c.value for c in at.caption if c.value.startswith("Model:"))
    assert "ckpt" in caption and str(small_checkpoint.parent) not in caption


def test_tables_are_readable_plain_names_short_cells_and_dashes(small_checkpoint: Path) -> None:
    # Reported: identifiers as metric names, a long "what it measures" column squeezed to one letter per
    # line, "None" in empty cells. Names are words, cells are short, meanings live in a glossary.
    at = evaluated()
    for frame in at.dataframe[:2]:
        table = frame.value
        assert not table["measure"].str.match(IDENTIFIER).any()
        cells = table.drop(columns="measure").to_numpy().ravel()
        assert all(isinstance(cell, str) and len(cell) <= 8 for cell in cells)
        assert "None" not in cells and "nan" not in cells
        assert all(len(name) <= 60 for name in table["measure"])
    musician = at.dataframe[0].value.set_index("measure")
    assert musician.loc["steps where two voices cross", "generated"] == "–"  # no voices of its own
    glossaries = [e for e in at.expander if e.label == "What each measure means"]
    assert len(glossaries) == 2
    assert "Kostka & Payne" in glossaries[0].markdown[0].value


def test_model_choice_is_per_visitor_and_offers_the_shipped_model(small_checkpoint: Path) -> None:
    # Reported: once a run was made the class's generator, Evaluate could not measure the shipped model.
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    choice = at.selectbox(key="evaluate-model")
    assert choice.value == small_checkpoint  # defaults to the class's active generator
    assert checkpoint_label(DEFAULT_CHECKPOINT) in choice.options  # the shipped model, by name
    choice.set_value(DEFAULT_CHECKPOINT).run()
    assert not at.exception
    caption = next(c.value for c in at.caption if c.value.startswith("Model:"))
    assert "checkpoints/default" in caption
    assert choices.active_checkpoint() == small_checkpoint  # the class's choice is untouched


def test_results_stay_after_a_rerun_and_follow_the_settings(small_checkpoint: Path) -> None:
    at = evaluated()
    at.run()
    assert at.dataframe  # cached result shown again
    next(s for s in at.selectbox if s.label == "Generated pieces").set_value(128).run()
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

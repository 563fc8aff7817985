"""AppTest: Generate & rank samples candidates, ranks them with the SVM and plays the best."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.paths import RUNS_ENV
from core.studio import choices

PAGE = "../../pages/generate.py"


@pytest.fixture(autouse=True)
def active_small_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_checkpoint_folder: Path
) -> Iterator[Path]:
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    choices.set_active_checkpoint(small_checkpoint_folder)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield small_checkpoint_folder
    torch.set_num_threads(threads)


def generate(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Generate and rank").click()
    return at.run()


def test_controls_render_with_the_active_checkpoint_first(active_small_checkpoint: Path) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox[0].value == active_small_checkpoint
    assert [s.label for s in at.slider][:2] == ["Candidates to generate", "Pieces to keep"]


def test_generate_gives_a_ranked_table_scores_chart_and_audio() -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.slider[0].set_value(8).run()  # candidates
    at.slider[1].set_value(3).run()  # keep
    at = generate(at)
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["rank"]) == list(range(1, 9))
    scores = table["SVM score"].tolist()
    unflagged = [s for s, flags in zip(scores, table["flags"], strict=True) if not flags]
    assert unflagged == sorted(unflagged, reverse=True)
    assert len(at.expander) == 3
    assert at.get("audio"), "the best piece is rendered and playable"
    charts = at.get("plotly_chart")
    assert len(charts) >= 2  # scores bar chart and the best piece's piano-roll
    assert any("Why this score" in m.value for m in at.markdown)


def test_same_seed_gives_the_same_ranking_and_results_survive_reruns() -> None:
    at = generate(AppTest.from_file(PAGE, default_timeout=60).run())
    first = at.dataframe[0].value["SVM score"].tolist()
    at.run()  # any widget interaction reruns the script: the results stay
    assert at.dataframe[0].value["SVM score"].tolist() == first
    again = generate(AppTest.from_file(PAGE, default_timeout=60).run())
    assert again.dataframe[0].value["SVM score"].tolist() == first


def test_a_broken_checkpoint_gives_a_message_not_a_trace(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.pt").write_bytes(b"not a checkpoint")
    (broken / "config.json").write_text("{}")
    choices.set_active_checkpoint(broken)
    at = generate(AppTest.from_file(PAGE, default_timeout=60).run())
    assert not at.exception
    assert at.error and "Could not generate" in at.error[0].value

"""AppTest: the Compare page shows every model's tables (musician's view, then statistics), the summary and
the JSB benchmark table, readable at any width."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation import compare

PAGE = "../../pages/compare.py"
IDENTIFIER = r"^[a-z0-9]+(_[a-z0-9]+)+$"


def row(**values: float | None) -> dict:
    base = dict.fromkeys(compare.METRICS, 0.5)
    return {**base, **values}


def fake_result() -> dict:
    return {
        "real": row(polyphony=3.9, c2st_accuracy=None, copy_rate=0.0, parallel_perfects_per_bar=0.05),
        "models": {
            "lstm_gan": {
                "generated": row(polyphony=3.8, c2st_accuracy=0.7, parallel_perfects_per_bar=0.6),
                "top_k": row(polyphony=3.9),
            },
            "lstm_lm": {
                "generated": row(polyphony=3.2, c2st_accuracy=0.9, parallel_perfects_per_bar=None),
                "top_k": row(polyphony=3.5),
            },
            "cnn_gan": {"generated": row(polyphony=5.0, c2st_accuracy=0.97), "top_k": row(polyphony=4.4)},
        },
        "settings": {
            "n": 64,
            "seed": 0,
            "candidates": 32,
            "keep": 4,
            "ranker": "checkpoints/ranker/ranker.npz",
        },
        "jsb": {"table": [{"model": "LSTM (Bai et al. 2018)", "test NLL (nats/frame)": 8.45}]},
    }


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "baselines.json"
    monkeypatch.setattr(compare, "RESULTS_PATH", path)
    return path


def measures(at: AppTest, index: int):
    return at.dataframe[index].value.set_index("measure")


def test_without_results_the_page_says_how_to_make_them(results: Path) -> None:
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Compare the models"
    assert "python -m core.compare" in at.info[0].value
    assert not at.dataframe


def test_tables_have_real_chorales_and_every_model(results: Path) -> None:
    results.write_text(json.dumps(fake_result()))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    labels = [compare.MODEL_LABELS[m] for m in ("lstm_gan", "lstm_lm", "cnn_gan")]
    musician, statistics = measures(at, 0), measures(at, 1)
    assert {"real chorales (held out)", *labels, "closest to real"} <= set(musician.columns)
    parallels = musician.loc["parallel fifths and octaves per bar"]
    assert parallels["real chorales (held out)"] == "0.05" and parallels[labels[1]] == "–"
    assert statistics.loc["notes sounding together", labels[1]] == "3.2"
    assert statistics.loc["notes sounding together", "closest to real"] == labels[0]
    text = " ".join(m.value for m in at.markdown)
    assert "hardest to tell apart" in text and "supports the seed's claim" in text
    assert at.dataframe[2].value.iloc[0]["test NLL (nats/frame)"] == pytest.approx(8.45)


def test_tables_are_readable_plain_names_short_cells_and_dashes(results: Path) -> None:
    # Reported: cut off at 1400 px with one letter per line in "what it measures", code identifiers as
    # metric names, "None" in empty cells.
    results.write_text(json.dumps(fake_result()))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    for frame in at.dataframe[:2]:
        table = frame.value
        assert "what it measures" not in table.columns
        assert not table["measure"].str.match(IDENTIFIER).any()
        numbers = table.drop(columns=["measure", "closest to real"]).to_numpy().ravel()
        assert all(isinstance(cell, str) and len(cell) <= 8 for cell in numbers)
        assert "None" not in numbers and "nan" not in numbers
    glossaries = [e for e in at.expander if e.label == "What each measure means"]
    assert len(glossaries) == 2 and "Kostka & Payne" in glossaries[0].markdown[0].value


def test_switching_to_the_svm_picks_shows_the_top_k_rows(results: Path) -> None:
    results.write_text(json.dumps(fake_result()))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert at.radio[0].options == ["Every sample", "The SVM's picks (best of each group)"]
    at.radio[0].set_value("top_k").run()
    assert measures(at, 1).loc["notes sounding together", compare.MODEL_LABELS["cnn_gan"]] == "4.4"


def test_a_model_with_its_own_voices_offers_that_view(results: Path) -> None:
    result = fake_result()
    result["models"]["lstm_gan"]["own_voices"] = {"parallel_perfects_per_bar": 0.1}
    results.write_text(json.dumps(result))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.radio[0].set_value("own_voices").run()
    assert not at.exception
    parallels = measures(at, 0).loc["parallel fifths and octaves per bar"]
    assert (
        parallels[compare.MODEL_LABELS["lstm_gan"]] == "0.1"
        and parallels[compare.MODEL_LABELS["cnn_gan"]] == "–"
    )


def test_summary_sentences_follow_the_numbers() -> None:
    result = fake_result()
    result["models"]["lstm_lm"]["generated"]["c2st_accuracy"] = 0.52
    sentences = " ".join(compare.summary_sentences(result))
    assert "does not support" in sentences
    assert compare.closest_to_real(result)["c2st_accuracy"] == "lstm_lm"

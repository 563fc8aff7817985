"""AppTest: the Compare page shows the three models' table, the summary and the JSB benchmark table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation import compare

PAGE = "../../pages/compare.py"


def row(**values: float) -> dict:
    base = dict.fromkeys(compare.METRICS, 0.5)
    return {**base, **values}


def fake_result() -> dict:
    return {
        "real": row(polyphony=3.9, c2st_accuracy=None, copy_rate=0.0),
        "models": {
            "lstm_gan": {"generated": row(polyphony=3.8, c2st_accuracy=0.7), "top_k": row(polyphony=3.9)},
            "lstm_lm": {"generated": row(polyphony=3.2, c2st_accuracy=0.9), "top_k": row(polyphony=3.5)},
            "cnn_gan": {"generated": row(polyphony=5.0, c2st_accuracy=0.97), "top_k": row(polyphony=4.4)},
        },
        "settings": {"n": 64, "seed": 0, "candidates": 32, "keep": 4, "ranker_from": "lstm_gan"},
        "jsb": {"table": [{"model": "LSTM (Bai et al. 2018)", "test NLL (nats/frame)": 8.45}]},
    }


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "baselines.json"
    monkeypatch.setattr(compare, "RESULTS_PATH", path)
    return path


def test_without_results_the_page_says_how_to_make_them(results: Path) -> None:
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Compare the three models"
    assert "python -m core.compare" in at.info[0].value
    assert not at.dataframe


def test_table_has_real_and_the_three_models(results: Path) -> None:
    results.write_text(json.dumps(fake_result()))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    table = at.dataframe[0].value
    labels = [compare.MODEL_LABELS[m] for m in ("lstm_gan", "lstm_lm", "cnn_gan")]
    assert {"metric", "real (held out)", *labels, "closest to real"} <= set(table.columns)
    polyphony = table[table["metric"] == "polyphony"].iloc[0]
    assert polyphony[labels[1]] == pytest.approx(3.2)
    assert polyphony["closest to real"] == labels[0]
    text = " ".join(m.value for m in at.markdown)
    assert "hardest to tell apart" in text and "supports the seed's claim" in text
    assert at.dataframe[1].value.iloc[0]["test NLL (nats/frame)"] == pytest.approx(8.45)


def test_switching_to_the_svm_picks_shows_the_top_k_rows(results: Path) -> None:
    results.write_text(json.dumps(fake_result()))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.radio[0].set_value("top_k").run()
    table = at.dataframe[0].value
    polyphony = table[table["metric"] == "polyphony"].iloc[0]
    assert polyphony[compare.MODEL_LABELS["cnn_gan"]] == pytest.approx(4.4)


def test_summary_sentences_follow_the_numbers() -> None:
    result = fake_result()
    result["models"]["lstm_lm"]["generated"]["c2st_accuracy"] = 0.52
    sentences = " ".join(compare.summary_sentences(result))
    assert "does not support" in sentences
    assert compare.closest_to_real(result)["c2st_accuracy"] == "lstm_lm"

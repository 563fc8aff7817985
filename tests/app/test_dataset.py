"""AppTest: the Dataset page shows the bundled corpus, checks uploads and chooses the training corpus."""

from __future__ import annotations

import io
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from core.paths import DEFAULT_CORPUS
from core.studio import choices
from tests.support.midi_files import make_midi

PAGE = "../../pages/dataset.py"
TIMEOUT = 60


@pytest.fixture(autouse=True)
def runs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("GMS_RUNS_DIR", str(tmp_path / "runs"))


def upload_page(tmp_path, monkeypatch, files) -> AppTest:
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    at.radio[0].set_value("Upload MIDI files").run()
    at.file_uploader[0].set_value([(name, data, "audio/midi") for name, data in files]).run()
    return at


def report_rows(at: AppTest) -> list[dict]:
    return at.dataframe[0].value.to_dict("records")


def test_bundled_corpus_shows_statistics_and_a_piece() -> None:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 7  # six statistics and the piano-roll
    assert "Piano-roll of" in charts[-1].proto.spec
    assert at.selectbox[0].options[0].startswith("bwv")
    assert any("0 rejected" in markdown.value for markdown in at.markdown)


def test_render_audio_shows_a_player() -> None:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.get("audio")
    at.button(key="render_audio").click().run()
    assert not at.exception
    assert len(at.get("audio")) == 1


def test_bundled_corpus_becomes_the_training_corpus() -> None:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    at.button(key="use_corpus").click().run()
    assert not at.exception
    assert choices.active_corpus().resolve() == DEFAULT_CORPUS.resolve()
    assert "bundled Bach chorales" in at.success[0].value


def test_upload_reports_the_corrupt_file_and_keeps_the_good_one(tmp_path, monkeypatch) -> None:
    files = [("good.mid", make_midi()), ("corrupt.mid", b"MThd\x00\x00\x00\x06garbage")]
    at = upload_page(tmp_path, monkeypatch, files)
    assert not at.exception
    rows = {row["file"]: row for row in report_rows(at)}
    assert rows["good.mid"]["status"] == "accepted"
    assert rows["corrupt.mid"]["status"] == "rejected"
    assert rows["corrupt.mid"]["details"]  # the reason
    assert len(at.get("plotly_chart")) == 7
    assert at.selectbox[0].options == ["good.mid"]


def test_zip_upload_lists_each_member(tmp_path, monkeypatch) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("chorales/one.mid", make_midi())
        archive.writestr("chorales/notes.txt", b"hello")
    at = upload_page(tmp_path, monkeypatch, [("set.zip", buffer.getvalue())])
    assert not at.exception
    rows = {row["file"]: row["status"] for row in report_rows(at)}
    assert rows == {"chorales/one.mid": "accepted", "chorales/notes.txt": "rejected"}
    at.button(key="use_corpus").click().run()
    assert [path.name for path in choices.active_corpus().iterdir()] == ["one.mid"]


def test_upload_becomes_the_training_corpus(tmp_path, monkeypatch) -> None:
    good = make_midi([(60, 0.0, 1.0), (64, 1.0, 2.0)])
    at = upload_page(tmp_path, monkeypatch, [("../evil name.mid", good), ("bad.mid", b"junk")])
    at.button(key="use_corpus").click().run()
    assert not at.exception
    folder = choices.active_corpus()
    assert folder.parent == tmp_path / "cache" / "corpora"
    assert [(path.name, path.read_bytes()) for path in folder.iterdir()] == [("evil name.mid", good)]
    assert "uploaded corpus" in at.success[0].value


def test_upload_with_nothing_accepted_explains_itself(tmp_path, monkeypatch) -> None:
    at = upload_page(tmp_path, monkeypatch, [("bad.mid", b"junk")])
    assert not at.exception
    assert report_rows(at)[0]["status"] == "rejected"
    assert at.warning and not at.get("plotly_chart")


def test_page_runs_inside_the_app_navigation() -> None:
    at = AppTest.from_file("../../streamlit_app.py", default_timeout=TIMEOUT).run()
    at.switch_page("pages/dataset.py").run()
    assert not at.exception
    assert at.title[0].value.endswith("Dataset")

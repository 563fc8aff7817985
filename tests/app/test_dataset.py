"""AppTest: the Dataset page shows the bundled corpus, checks uploads and chooses the training corpus."""

from __future__ import annotations

import io
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from core.paths import DEFAULT_CORPUS
from core.studio import choices, roles
from core.studio.catalog import corpus_label
from core.studio.spaces import SPACE_KEY
from tests.support.midi_files import make_midi

PAGE = "../../pages/dataset.py"
TIMEOUT = 60


@pytest.fixture(autouse=True)
def runs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("GMS_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv(roles.TEACHER_PIN_ENV, raising=False)


def upload_page(tmp_path, monkeypatch, files) -> AppTest:
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    at.radio[0].set_value("Upload MIDI files").run()
    at.file_uploader[0].set_value([(name, data, "audio/midi") for name, data in files]).run()
    return at


def chords(bars: int, root: int = 48) -> bytes:
    """A piece of alternating chords, one per beat at 120 bpm in 4/4: ``bars`` bars long."""
    notes = []
    for beat in range(4 * bars):
        chord = (root, root + 4, root + 7) if beat % 2 == 0 else (root + 2, root + 5, root + 9)
        notes += [(pitch, beat * 0.5, beat * 0.5 + 0.5) for pitch in chord]
    return make_midi(notes)


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
        archive.writestr("chorales/one.mid", chords(6))
        archive.writestr("chorales/notes.txt", b"hello")
    at = upload_page(tmp_path, monkeypatch, [("set.zip", buffer.getvalue())])
    assert not at.exception
    rows = {row["file"]: row["status"] for row in report_rows(at)}
    assert rows == {"chorales/one.mid": "accepted", "chorales/notes.txt": "rejected"}
    at.button(key="use_corpus").click().run()
    assert [path.name for path in choices.active_corpus().iterdir()] == ["one.mid"]


def test_upload_becomes_the_training_corpus(tmp_path, monkeypatch) -> None:
    good = chords(6)
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


def test_a_corpus_too_short_to_train_on_is_refused_with_how_long_is_enough(tmp_path, monkeypatch) -> None:
    """Defect 5: a short corpus was accepted, then the run failed with "no training windows"."""
    one_tick = make_midi([(60, 0.0, 0.001)])
    at = upload_page(tmp_path, monkeypatch, [("short.mid", chords(2)), ("tick.mid", one_tick)])
    assert not at.exception
    rows = {row["file"]: row for row in report_rows(at)}
    assert rows["tick.mid"]["for training"].startswith("too short to train on: 0.1 of the 4 bars")
    assert rows["short.mid"]["for training"].startswith("too short to train on: 2.0 of the 4 bars")
    at.button(key="use_corpus").click().run()
    assert not at.exception
    assert "at least 4 bars of 4/4" in at.error[0].value
    assert choices.active_corpus().resolve() == DEFAULT_CORPUS.resolve()


def test_a_corpus_with_few_windows_is_allowed_with_a_warning(tmp_path, monkeypatch) -> None:
    at = upload_page(tmp_path, monkeypatch, [("six.mid", chords(6))])
    assert report_rows(at)[0]["for training"] == "gives 3 training windows"
    assert any("Only 3 training windows" in warning.value for warning in at.warning)


def test_the_chosen_corpus_has_one_name_on_both_pages_at_once(tmp_path, monkeypatch) -> None:
    """Defect 6: a raw id on Train, another name on Dataset, whose caption lagged one click behind."""
    at = upload_page(tmp_path, monkeypatch, [("six.mid", chords(6))])
    assert "bundled Bach chorales" in at.caption[-1].value
    at.button(key="use_corpus").click().run()
    label = corpus_label(choices.active_corpus())
    assert label.startswith("an uploaded corpus (")
    assert label in at.caption[-1].value, "the caption names the corpus just chosen"
    train = AppTest.from_file("../../pages/train.py", default_timeout=TIMEOUT).run()
    assert any(label in caption.value for caption in train.caption)


def test_a_student_chooses_a_corpus_for_their_own_runs_only(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(roles.TEACHER_PIN_ENV, "2468")
    at = upload_page(tmp_path, monkeypatch, [("six.mid", chords(6))])
    at.button(key="use_corpus").click().run()
    assert not at.exception
    assert at.button(key="use_corpus").label == "Use this corpus for my own runs"
    assert choices.active_corpus().resolve() == DEFAULT_CORPUS.resolve(), "the class's corpus is unchanged"
    assert "Your own runs will now train on an uploaded corpus" in at.success[0].value
    assert at.session_state[SPACE_KEY]["corpus"]

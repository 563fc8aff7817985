"""AppTest: the Storage page shows disk and memory against the budgets; only the teacher deletes runs and
uploaded corpora, never the run holding the class's generator nor the class's corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.studio.choices import set_active_checkpoint, set_active_corpus

PAGE = "../../pages/storage.py"
CORPUS = "0123456789abcdef01234567"


@pytest.fixture
def folders(tmp_path, monkeypatch) -> dict[str, Path]:
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    monkeypatch.setenv("GMS_RUNS_DIR", str(runs))
    monkeypatch.setenv("GMS_CACHE_DIR", str(cache))
    monkeypatch.delenv("GMS_TEACHER_PIN", raising=False)
    for run_id in ("old-run", "class-model"):
        (runs / run_id / "checkpoints").mkdir(parents=True)
        (runs / run_id / "status.json").write_text(json.dumps({"state": "finished", "step": 10}))
        (runs / run_id / "checkpoints" / "best.pt").write_bytes(bytes(3000))
    (cache / "corpora" / CORPUS).mkdir(parents=True)
    (cache / "corpora" / CORPUS / "a.mid").write_bytes(bytes(500))
    (cache / "audio").mkdir()
    (cache / "audio" / "k.wav").write_bytes(bytes(2000))
    return {"runs": runs, "cache": cache}


def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.info, *at.success, *at.error)]
    return " ".join(str(part) for part in parts)


def test_the_page_shows_each_folder_against_its_budget(folders) -> None:
    at = page()
    bars = [bar.proto.text for bar in at.get("progress")]
    assert any(text.startswith("Rendered audio: 2 KB of 512 MB") for text in bars), bars
    assert any(text.startswith("Training runs: ") and "of 4 GB" in text for text in bars), bars
    assert any(text.startswith("Uploaded corpora: 500 bytes of 256 MB (1 items)") for text in bars), bars
    assert "Disk: caches" in at.info[0].value and "Memory:" in at.info[0].value


def test_the_teacher_deletes_a_run_and_a_corpus(folders) -> None:
    at = page()
    at.selectbox(key="delete_run_choice").set_value("old-run").run()
    at.button(key="delete_run").click().run()
    assert not (folders["runs"] / "old-run").exists()
    assert (folders["runs"] / "class-model").exists()
    assert "Run old-run was deleted" in at.success[0].value
    at.selectbox(key="delete_corpus_choice").set_value(CORPUS).run()
    at.button(key="delete_corpus").click().run()
    assert not (folders["cache"] / "corpora" / CORPUS).exists()
    assert "was deleted" in at.success[0].value


def test_the_class_generator_and_the_class_corpus_are_never_deleted(folders) -> None:
    set_active_checkpoint(folders["runs"] / "class-model" / "checkpoints" / "best.pt")
    set_active_corpus(folders["cache"] / "corpora" / CORPUS)
    at = page()
    at.selectbox(key="delete_run_choice").set_value("class-model").run()
    at.button(key="delete_run").click().run()
    assert "holds the class's generator" in at.error[0].value
    at.selectbox(key="delete_corpus_choice").set_value(CORPUS).run()
    at.button(key="delete_corpus").click().run()
    assert "in use" in at.error[0].value
    assert (folders["runs"] / "class-model" / "checkpoints" / "best.pt").exists()
    assert (folders["cache"] / "corpora" / CORPUS / "a.mid").exists()


def test_a_student_sees_the_usage_but_cannot_delete(folders, monkeypatch) -> None:
    monkeypatch.setenv("GMS_TEACHER_PIN", "4321")
    at = page()
    assert not at.button and not at.selectbox
    assert "Only the teacher can delete runs and uploaded corpora" in texts(at)
    assert (folders["runs"] / "old-run").exists()


def test_home_shows_disk_and_memory_against_the_budgets_in_one_line(folders) -> None:
    at = AppTest.from_file("../../streamlit_app.py", default_timeout=60).run()
    assert not at.exception, at.exception
    (line,) = [c.value for c in at.caption if c.value.startswith("Disk: caches ")]
    assert "of 1.1 GB, training runs " in line and "of 4 GB. Memory: cached uploads and audio " in line
    assert line.endswith("Details on the Storage page.")

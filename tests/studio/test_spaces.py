"""A visitor's own space, the class's choices (teacher only), and the catalogue's keys and names."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.files import write_json_atomic
from core.paths import DEFAULT_CHECKPOINT, DEFAULT_CORPUS, RUNS_ENV
from core.studio import catalog, choices, spaces
from core.studio.roles import RoleError, Visitor

STUDENT = Visitor(owner="student-token", teacher=False)
TEACHER = Visitor(owner="teacher-token", teacher=True)


@pytest.fixture(autouse=True)
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    return tmp_path / "runs"


def fake_run_checkpoint(runs_dir: Path, run_id: str, which: str = "best") -> Path:
    path = runs_dir / run_id / "checkpoints" / f"{which}.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"weights")
    return path


def test_a_space_has_its_own_token_and_falls_back_to_the_class_choices(tmp_path: Path) -> None:
    first, second = {}, {}
    assert spaces.space_of(first).owner != spaces.space_of(second).owner
    assert spaces.space_of(first).owner == spaces.space_of(first).owner
    assert spaces.space_of(first).generator == DEFAULT_CHECKPOINT
    mine = tmp_path / "mine.pt"
    mine.write_bytes(b"x")
    space = spaces.update_space(first, checkpoint=mine, corpus=tmp_path)
    assert space.generator == mine and space.training_corpus == tmp_path
    assert spaces.space_of(second).generator == DEFAULT_CHECKPOINT, "another session is not affected"
    mine.unlink()
    assert spaces.space_of(first).generator == DEFAULT_CHECKPOINT
    with pytest.raises(KeyError):
        spaces.update_space(first, seed=3)


def test_only_the_teacher_changes_the_class_choices(tmp_path: Path) -> None:
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"x")
    with pytest.raises(RoleError, match="Only the teacher"):
        choices.set_active_checkpoint(checkpoint, by=STUDENT)
    with pytest.raises(RoleError, match="Only the teacher"):
        choices.set_active_corpus(tmp_path, by=STUDENT)
    with pytest.raises(RoleError, match="Only the teacher"):
        choices.set_class_settings(choices.ClassSettings(students_may_train=True), by=STUDENT)
    assert choices.active_checkpoint() == DEFAULT_CHECKPOINT
    assert not choices.class_settings().students_may_train
    choices.set_active_checkpoint(checkpoint, by=TEACHER)
    choices.set_class_settings(choices.ClassSettings(students_may_train=True, student_minutes=2), by=TEACHER)
    assert choices.active_checkpoint() == checkpoint.resolve()
    assert choices.class_settings() == choices.ClassSettings(True, 2)


def test_checkpoint_keys_name_shipped_models_and_run_checkpoints(runs_dir: Path) -> None:
    assert catalog.checkpoint_key(DEFAULT_CHECKPOINT) == "lstm_gan"
    assert catalog.checkpoint_from_key("lstm_gan") == DEFAULT_CHECKPOINT
    best = fake_run_checkpoint(runs_dir, "class-1")
    assert catalog.checkpoint_key(best) == "class-1.best"
    assert catalog.checkpoint_from_key("class-1.best") == best


@pytest.mark.parametrize("key", ["", "nothing", "class-1.last", "../etc.best", "class-1.model", "a/b.best"])
def test_a_key_that_names_nothing_is_refused_with_a_message(runs_dir: Path, key: str) -> None:
    fake_run_checkpoint(runs_dir, "class-1")
    with pytest.raises(choices.ChoiceError):
        catalog.checkpoint_from_key(key)


def test_a_student_is_offered_the_class_runs_and_their_own(runs_dir: Path) -> None:
    lesson = fake_run_checkpoint(runs_dir, "class-1")
    mine = fake_run_checkpoint(runs_dir, "student-1")
    theirs = fake_run_checkpoint(runs_dir, "student-2")
    write_json_atomic(runs_dir / "student-1" / "job.json", {"owner": STUDENT.owner})
    write_json_atomic(runs_dir / "student-2" / "job.json", {"owner": "someone else"})
    offered = catalog.checkpoint_choices(STUDENT)
    assert offered[0] == DEFAULT_CHECKPOINT
    assert lesson in offered and mine in offered and theirs not in offered
    assert theirs in catalog.checkpoint_choices(TEACHER)
    assert catalog.checkpoint_choices(STUDENT, first=mine)[0] == mine


def test_corpora_have_one_name_everywhere(tmp_path: Path) -> None:
    assert catalog.corpus_label(DEFAULT_CORPUS) == "the bundled Bach chorales"
    assert catalog.corpus_label(tmp_path / "d0a2d0b4e5f6") == "an uploaded corpus (d0a2d0b4)"

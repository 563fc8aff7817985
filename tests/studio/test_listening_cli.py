"""``python -m core.listening``: rounds listed, results in words and JSON, the CSV export, the teacher's
close and reset, and unknown rounds refused with exit code 2."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from core.cli.listening import main
from core.studio.listening.store import ListeningStore, Pair, database_path, new_listener_id


def pairs(n: int = 2) -> list[Pair]:
    """``n`` test pairs and an attention check, with tiny stand-in MIDI bytes and judges."""
    judges = {"svm_real": 80.0, "svm_other": 10.0, "d_real": 0.3, "d_other": 0.6}
    made = [Pair(i, "test", b"r", b"g", f"chorale {i}", f"generated {i}", judges) for i in range(n)]
    return [*made, Pair(n, "attention", b"r", b"noise", "chorale x", "random notes", judges)]


def answer(store: ListeningStore, round_id: int, listener: str, position: int, correctly: bool) -> None:
    for clip in "AB":
        store.record_play(round_id, listener, position, clip)
    store.record_answer(round_id, listener, position, position + 1, "A", "A" if correctly else "B")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ListeningStore:
    """The server's store in a temporary runs folder: round 1 (closed, no answers) and round 2 (open):
    three listeners answer both test pairs, one of them fails the attention check."""
    monkeypatch.setenv("GMS_RUNS_DIR", str(tmp_path / "runs"))
    db = ListeningStore(database_path())
    db.open_round({"n_pairs": 2, "model_label": "Old model"}, pairs())
    round_id = db.open_round({"n_pairs": 2, "model_label": "Default LSTM GAN"}, pairs())
    for experience, right, attentive in (("none", True, True), ("theory", True, True), ("none", True, False)):
        listener = new_listener_id()
        db.join(round_id, listener, experience)
        answer(db, round_id, listener, 0, right)
        answer(db, round_id, listener, 1, not right)
        answer(db, round_id, listener, 2, attentive)
    return db


def test_rounds_lists_each_round_with_its_model_state_and_answers(store, capsys) -> None:
    assert main(["rounds"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["1", "2"]
    assert lines[0].endswith("Old model\tclosed\t0 answers")
    assert lines[1].endswith("Default LSTM GAN\topen\t9 answers")
    assert main(["rounds", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["state"], r["answers"]) for r in rows] == [(1, "closed", 0), (2, "open", 9)]


def test_results_give_the_share_correct_with_its_interval_by_group(store, capsys) -> None:
    assert main(["results", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 listener(s); 1 left out" in out
    assert "everyone: 50 % correct (95 % interval" in out and "4 answers" in out
    assert "No musical training: 50 % correct" in out and "I have studied music theory: 50 %" in out
    assert "pair 1: 100 % correct" in out and "pair 2: 0 % correct" in out
    assert main(["results", "latest", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["overall"]["correct"] == 2 and report["overall"]["total"] == 4
    low, high = report["overall"]["interval_95"]
    assert 0 < low < 0.5 < high < 1
    assert set(report["by_experience"]) == {"none", "theory"}
    assert report["judges_pairs_right"]["SVM"]["correct"] == 2
    assert report["judges_pairs_right"]["discriminator"]["correct"] == 0


def test_export_writes_the_pages_csv(store, tmp_path, capsys) -> None:
    out = tmp_path / "answers.csv"
    assert main(["export", "2", str(out)]) == 0
    assert out.read_bytes() == store.csv(2).encode("utf-8")
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 9 and {row["round"] for row in rows} == {"2"}
    assert "9 answers of round 2" in capsys.readouterr().out


def test_close_and_reset_are_the_teachers_buttons(store, capsys) -> None:
    assert main(["close", "2"]) == 0
    assert not store.round(2).is_open
    assert main(["reset", "2"]) == 1  # without --yes nothing is deleted
    assert len(store.answers(2)) == 9
    assert main(["reset", "2", "--yes"]) == 0
    assert store.answers(2) == [] and store.round(2).is_open


@pytest.mark.parametrize("verb", [["results", "7"], ["results", "seven"], ["export", "7"], ["close", "7"]])
def test_an_unknown_round_is_refused_in_words(store, verb, tmp_path, capsys) -> None:
    extra = [str(tmp_path / "x.csv")] if verb[0] == "export" else []
    assert main(verb + extra) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "x.csv").exists()


def test_no_test_yet_is_said_without_creating_the_database(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GMS_RUNS_DIR", str(tmp_path / "runs"))
    assert main(["rounds"]) == 2
    assert "no listening test has been opened yet" in capsys.readouterr().err
    assert not database_path().exists()

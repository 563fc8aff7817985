"""`python -m core.generate --candidates N --keep K`: the seed's pipeline from the command line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from core.cli import generate
from core.midi.parser import load_midi


def test_candidates_are_ranked_and_the_best_written_with_scores(
    small_checkpoint_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ranked"
    code = generate.main(
        ["--checkpoint", str(small_checkpoint_folder), "--candidates", "6", "--keep", "3", "--bars", "2",
         "--seed", "3", "--tempo", "90", "--program", "19", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader((out / "scores.csv").open()))
    assert [int(row["rank"]) for row in rows] == [1, 2, 3]
    midis = sorted(out.glob("rank*.mid"))
    assert [p.name for p in midis] == [row["file"] for row in rows]
    score = load_midi(midis[0])
    assert round(score.tempo_bpm) == 90
    assert set(score.notes["program"].tolist()) == {19}
    printed = capsys.readouterr().out
    assert "1. candidate" in printed and "SVM score" in printed


def test_keep_larger_than_candidates_is_a_clear_error(
    small_checkpoint_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = generate.main(
        [
            "--checkpoint",
            str(small_checkpoint_folder),
            "--candidates",
            "2",
            "--keep",
            "5",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "keep must be between 1 and candidates" in capsys.readouterr().err

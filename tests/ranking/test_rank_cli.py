"""`python -m core.rank`: fit (written where asked), check on the validation split, score MIDI files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.cli import rank as rank_cli
from core.ranking import negatives as neg
from core.ranking import svm as rk
from tests.support.midi_files import make_midi
from tests.support.rolls import chorale_like_windows


def test_score_grades_a_file_window_by_window_with_reasons(tmp_path: Path, capsys) -> None:
    # Four bars of a I-IV-V-I progression in half notes, played twice: eight bars at 120 bpm (2 s a bar).
    chords = [(60, 64, 67, 48), (60, 65, 69, 53), (59, 62, 67, 55), (60, 64, 67, 48)] * 4
    notes = [(p, i * 1.0, (i + 1) * 1.0) for i, chord in enumerate(chords) for p in chord]
    path = tmp_path / "progression.mid"
    path.write_bytes(make_midi(notes))
    assert rank_cli.main(["score", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "chorale-likeness" in printed and "bars 1–4:" in printed and "bars 5–8:" in printed
    assert "than in the real music" in printed


def test_score_refuses_what_it_cannot_grade(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi")
    short = tmp_path / "short.mid"
    short.write_bytes(make_midi([(60, 0.0, 0.5)]))
    assert rank_cli.main(["score", str(bad), str(short)]) == 2
    errors = capsys.readouterr().err
    assert "bad.mid: refused" in errors and "short.mid: shorter than one 64-step window" in errors


def test_a_missing_ranker_is_a_clear_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "x.mid"
    path.write_bytes(make_midi())
    assert rank_cli.main(["score", str(path), "--ranker", str(tmp_path / "none.npz")]) == 2
    assert "cannot read the ranker" in capsys.readouterr().err


def test_fit_writes_the_ranker_where_asked(tmp_path: Path, monkeypatch, capsys) -> None:
    def quick_fit() -> rk.Ranker:
        real = chorale_like_windows(80, seed=1)
        config = rk.RankerConfig(c_grid=(1.0,), gamma_scales=(1.0,), cv_folds=2)
        ranker = rk.fit_on_rolls(real, neg.degenerate_set(*real, 10, seed=2), config)
        return ranker.with_grades(ranker.features(*chorale_like_windows(20, seed=3)), "test windows")

    monkeypatch.setattr(rank_cli, "fit_reference_ranker", quick_fit)
    out = tmp_path / "ranker.npz"
    assert rank_cli.main(["fit", "--out", str(out)]) == 0
    assert rk.Ranker.load(out).info["grades_from"] == "test windows"
    assert "support vectors" in capsys.readouterr().out


def test_check_reports_the_validation_figures(capsys) -> None:
    assert rank_cli.main(["check", "--n", "64"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["candidates"] == 64 and set(report["degenerate"]) == set(rank_cli.SAFETY_KINDS)
    assert report["valid_windows"]["n"] > 200
    assert all(kind["below_every_valid_window"] for kind in report["degenerate"].values())
    assert np.isfinite(report["c2st_difference"])

"""``python -m core.storage``: each folder's use against its budget in words, bytes and JSON, and ``tidy``
trimming the caches to their budgets without touching runs; a bad command is refused with exit code 2."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from core.budgets import BUDGETS
from core.cli.storage import main
from core.paths import cache_subdir
from core.studio import storage
from tests.support.runs import fake_run

SMALL = replace(BUDGETS, disk_audio_bytes=300_000, disk_rolls_bytes=60_000)


@pytest.fixture
def filled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Five 100 KB renders in an audio cache whose budget is 300 KB, and one finished run; returns the runs
    folder."""
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GMS_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(storage, "BUDGETS", SMALL)
    audio = cache_subdir("audio")
    audio.mkdir(parents=True)
    for i in range(5):
        path = audio / f"render{i}.wav"
        path.write_bytes(bytes(100_000))
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # render0 was used longest ago
    fake_run(tmp_path / "runs", "run-1")
    return tmp_path / "runs"


def test_show_gives_each_folder_against_its_budget_in_words_and_bytes(filled, capsys) -> None:
    assert main(["show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    audio = next(line for line in lines if line.startswith("rendered audio"))
    assert "488.3 KB of 293 KB, 167 % — OVER BUDGET" in audio
    assert "(5 items; 500,000 of 300,000 bytes)" in audio
    assert any(line.startswith("training runs (runs): ") and "(1 item;" in line for line in lines)
    assert lines[-1].startswith("memory (the server's own caches)")
    assert main(["show", "--json"]) == 0
    rows = {row["label"]: row for row in json.loads(capsys.readouterr().out)["disk"]}
    assert rows["rendered audio"] == {
        "label": "rendered audio", "folder": "audio", "bytes": 500_000, "budget_bytes": 300_000,
        "items": 5, "over_budget": True,
    }  # fmt: skip
    assert rows["other caches"]["budget_bytes"] is None


def test_tidy_trims_the_caches_to_their_budgets_and_never_touches_runs(filled, capsys) -> None:
    run_files = sorted(path.relative_to(filled) for path in filled.rglob("*"))
    assert main(["tidy"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 cached item(s) deleted")
    assert sorted(path.name for path in cache_subdir("audio").iterdir()) == [
        f"render{i}.wav" for i in (2, 3, 4)
    ]
    assert "rendered audio (audio): 293 KB of 293 KB, 100 % (3 items" in out
    assert sorted(path.relative_to(filled) for path in filled.rglob("*")) == run_files
    assert main(["tidy"]) == 0
    assert capsys.readouterr().out.startswith("0 cached item(s) deleted")


def test_an_unknown_command_is_refused(filled, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["delete", "runs"])
    assert stopped.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    assert len(list(cache_subdir("audio").iterdir())) == 5

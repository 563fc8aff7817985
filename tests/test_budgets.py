"""The budgets are stated once (core.budgets): every stage's limits default to them, the server's upload
limit matches, docs/security.md lists each, and no array file is ever loaded with pickles allowed."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from core.audio import RenderConfig
from core.budgets import BUDGETS, MB, format_bytes
from core.data import ZipLimits
from core.data.limits import CorpusLimits
from core.midi.score import MidiLimits
from core.paths import REPO_ROOT


def test_every_stage_takes_its_defaults_from_the_budgets() -> None:
    midi, zips, corpus, render = MidiLimits(), ZipLimits(), CorpusLimits(), RenderConfig()
    assert (midi.max_bytes, midi.max_seconds) == (BUDGETS.midi_file_bytes, BUDGETS.midi_seconds)
    assert (midi.timeout_s, midi.worker_memory_mb) == (BUDGETS.parse_seconds, BUDGETS.parse_worker_mb)
    assert (zips.max_members, zips.max_total_bytes) == (BUDGETS.upload_files, BUDGETS.zip_unpacked_bytes)
    assert (corpus.piece_steps, corpus.corpus_steps) == (BUDGETS.piece_steps, BUDGETS.corpus_steps)
    assert (corpus.upload_files, corpus.upload_bytes) == (BUDGETS.upload_files, BUDGETS.upload_bytes)
    assert (render.max_seconds, render.timeout_s) == (BUDGETS.audio_seconds, BUDGETS.render_seconds)


def test_the_server_refuses_uploads_above_the_budget() -> None:
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == BUDGETS.upload_file_mb


def test_the_corpus_budget_holds_the_bundled_chorales_and_a_whole_cut_piece() -> None:
    assert BUDGETS.corpus_steps >= 5 * 91_004 and BUDGETS.corpus_steps > BUDGETS.piece_steps
    assert BUDGETS.cached_object_bytes >= BUDGETS.corpus_steps * 144  # a full corpus's rolls stay cached
    assert BUDGETS.training_windows >= 26_257  # the chorales with ±3 semitone transpositions


@pytest.mark.parametrize("name", BUDGETS.names())
def test_docs_security_lists_every_budget_and_what_happens(name: str) -> None:
    rows = [
        line for line in (REPO_ROOT / "docs" / "security.md").read_text().splitlines() if line.startswith("|")
    ]
    row = next((line for line in rows if line.startswith(f"| `{name}` |")), None)
    assert row is not None, f"docs/security.md has no row for {name}"
    assert len(row.split("|")[3].strip()) > 20, "say what happens when it is reached"


def np_loads_without_explicit_no_pickle(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load":
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in ("np", "numpy"):
                allowed = [k for k in node.keywords if k.arg == "allow_pickle"]
                if not allowed or not (
                    isinstance(allowed[0].value, ast.Constant) and allowed[0].value.value is False
                ):
                    lines.append(node.lineno)
    return lines


def test_every_np_load_says_allow_pickle_false() -> None:
    sources = [
        p
        for folder in ("core", "pages", "benchmarks", "scripts", "tests")
        for p in (REPO_ROOT / folder).rglob("*.py")
    ]
    found = {
        str(p.relative_to(REPO_ROOT)): lines
        for p in sources
        if (lines := np_loads_without_explicit_no_pickle(p))
    }
    assert not found, found


def test_format_bytes() -> None:
    assert [format_bytes(n) for n in (700, 1536, 512 * MB, 4096 * MB, 1_000_000)] == [
        "700 bytes",
        "1.5 KB",
        "512 MB",
        "4 GB",
        "976.6 KB",
    ]

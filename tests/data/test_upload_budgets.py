"""The upload and corpus budgets (core.data.limits, core.budgets): every case of
tests/support/hostile_uploads.py with its exact outcome, and the pieces of the budget logic on their own."""

from __future__ import annotations

import numpy as np
import pytest

from core.budgets import BUDGETS
from core.data import load_uploads, windows
from core.data.limits import CorpusBudget, CorpusLimits, cut_roll, cut_score, shorten_name
from core.data.uploads import accepted_files, display_name, load_upload_batch, safe_file_name
from core.midi.parser import load_midi
from core.music.pianoroll import DEFAULT_SPEC, PianoRoll, notes_to_roll, score_to_roll
from tests.support.hostile_midi import CASES
from tests.support.hostile_uploads import (
    HIDDEN_CONTROLS_NAME,
    UNICODE_NAME,
    long_but_tiny_files,
    long_but_tiny_zip,
    long_name,
    many_small_files,
    megabyte_files,
    zip_of,
)
from tests.support.midi_files import make_midi


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))


def test_the_250_file_zip_fills_the_corpus_budget_in_order_and_reports_every_file() -> None:
    corpus = load_upload_batch([long_but_tiny_zip(250)])
    assert [report.name for report in corpus.reports] == [f"long_{index:03d}.mid" for index in range(250)]
    full, partial = BUDGETS.corpus_steps // BUDGETS.piece_steps, BUDGETS.corpus_steps % BUDGETS.piece_steps
    assert (full, partial) == (61, 288)
    for report in corpus.reports[:full]:
        assert report.accepted and "only its first 8,192 of 79,960 steps" in report.message
    last = corpus.reports[full]
    assert last.accepted and last.message.endswith(
        "only its first 288 of 8,192 steps are kept: the corpus may hold at most 500,000 steps"
    )
    for report in corpus.reports[full + 1 :]:
        assert not report.accepted
        assert report.message == (
            "left out: the corpus already holds 500,000 steps and may hold at most 500,000; "
            "upload fewer or shorter pieces"
        )
    assert corpus.n_steps == BUDGETS.corpus_steps
    assert sum(piece.roll.active.nbytes * 3 for piece in corpus.pieces) < 75 << 20


def test_the_same_outcome_whatever_the_cache_holds() -> None:
    """Which pieces are cut or left out follows the upload's order, not what was cached or parsed first."""
    files = long_but_tiny_files(8)
    limits = CorpusLimits(corpus_steps=3 * 8192 + 100)
    load_uploads(files[5:], corpus_limits=limits)  # later files now come from the roll cache
    corpus = load_uploads(files, corpus_limits=limits)
    assert [report.accepted for report in corpus.reports] == [True, True, True, True] + [False] * 4
    assert corpus.pieces[3].roll.n_steps == 100


def test_an_upload_reads_at_most_300_files() -> None:
    files = [("first.zip", zip_of(many_small_files(290))), *many_small_files(11)]
    corpus = load_upload_batch(files)
    assert len(corpus.reports) == 301 and len(corpus.pieces) == 300
    (refused,) = corpus.rejected
    assert refused.name == "small_0010.mid" and refused.message == (
        "not read: it would make this upload 301 MIDI files, and one upload may hold at most 300 "
        "(zip members included); upload the rest separately"
    )


def test_an_archive_that_would_pass_the_file_budget_is_refused_whole() -> None:
    files = [*many_small_files(10), ("big.zip", zip_of(many_small_files(295)))]
    corpus = load_upload_batch(files)
    assert len(corpus.pieces) == 10
    assert corpus.reports[-1].name == "big.zip"
    assert corpus.reports[-1].message.startswith(
        "not read: its 295 files would make this upload 305 MIDI files"
    )


def test_an_upload_reads_at_most_32_megabytes() -> None:
    corpus = load_upload_batch(megabyte_files(33))
    assert all("not a MIDI file" in report.message for report in corpus.reports[:32])
    assert corpus.reports[32].message == (
        "not read: the files uploaded with it reach 33 MB, and one upload may hold at most 32 MB; "
        "upload the rest separately"
    )


def test_a_5000_character_name_is_shortened_everywhere_and_says_so() -> None:
    name, data = long_name(), make_midi()
    files = [(name, data)]
    corpus = load_upload_batch(files)
    (report,) = corpus.reports
    assert report.accepted and len(report.name) == BUDGETS.name_chars and report.name.endswith("….mid")
    assert report.message.endswith("(its 5,000-character file name was shortened to 255)")
    assert corpus.pieces[0].name == report.name
    assert accepted_files(files, corpus) == [(report.name, data)]
    assert len(safe_file_name(report.name)) <= 80 and len(display_name(report.name)) <= 120


def test_unicode_names_are_kept_and_hidden_controls_dropped_from_display() -> None:
    corpus = load_upload_batch([(UNICODE_NAME, make_midi()), (HIDDEN_CONTROLS_NAME, make_midi())])
    assert [report.name for report in corpus.reports] == [UNICODE_NAME, HIDDEN_CONTROLS_NAME]
    assert all(report.accepted for report in corpus.reports)
    assert display_name(UNICODE_NAME) == UNICODE_NAME
    assert display_name(HIDDEN_CONTROLS_NAME) == "evilgnp.mid"
    assert safe_file_name(HIDDEN_CONTROLS_NAME) == "evilgnp.mid"


def test_training_windows_are_thinned_evenly_past_the_budget() -> None:
    corpus = load_uploads(long_but_tiny_files(20))
    active, _ = windows(corpus)
    assert len(active) == 20 * ((8192 - 64) // 16 + 1) <= BUDGETS.training_windows
    thinned, _ = windows(corpus, max_windows=1000)
    assert len(thinned) == 1000
    shifted, _ = windows(corpus, transpose=(-1, 1), max_windows=999)
    assert len(shifted) <= 999


# --- the pieces -------------------------------------------------------------------------------------------


def held_note(steps: int) -> PianoRoll:
    """A roll of ``steps`` steps holding one note throughout."""
    return notes_to_roll([60], [0], [steps], [80], n_steps=steps)


@pytest.mark.parametrize("name", ["thousands_of_tempo_changes", "meter_6_8", "pickup_as_short_first_bar"])
def test_cutting_a_score_gives_the_first_steps_of_its_roll(name: str) -> None:
    score = load_midi(CASES[name]().data)
    whole = score_to_roll(score, DEFAULT_SPEC)
    keep = whole.n_steps // 3
    cut, message = cut_score(score, DEFAULT_SPEC, keep)
    part = cut_roll(score_to_roll(cut, DEFAULT_SPEC), keep)
    assert part.n_steps == keep and message.startswith(f"only its first {keep:,} of {whole.n_steps:,} steps")
    assert np.array_equal(part.onset, whole.onset[:keep])
    assert np.array_equal(part.active[: keep - 1], whole.active[: keep - 1])


def test_a_score_within_the_budget_is_left_alone() -> None:
    score = load_midi(CASES["one_note_piece"]().data)
    assert cut_score(score, DEFAULT_SPEC, 8192) == (score, None)


def test_the_corpus_budget_cuts_the_piece_that_crosses_it_then_is_full() -> None:
    budget = CorpusBudget(250)
    roll = held_note(150)
    assert budget.admit(roll)[0].n_steps == 150
    kept, note = budget.admit(roll)
    assert kept.n_steps == 100 and note.startswith("only its first 100 of 150 steps are kept")
    assert budget.full and budget.admit(roll) == (None, budget.full_message())


def test_a_crossing_piece_is_left_out_when_less_than_a_window_would_fit() -> None:
    budget = CorpusBudget(180)
    budget.admit(held_note(150))
    assert budget.full and budget.admit(held_note(10))[0] is None


@pytest.mark.parametrize(
    ("name", "limit", "shortened"),
    [
        ("short.mid", 255, "short.mid"),
        ("a" * 30 + ".midi", 20, "a" * 14 + "….midi"),
        ("b" * 40, 20, "b" * 19 + "…"),
    ],
)
def test_shorten_name(name: str, limit: int, shortened: str) -> None:
    assert shorten_name(name, limit) == shortened and len(shortened) <= limit

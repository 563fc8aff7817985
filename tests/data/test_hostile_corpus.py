"""The hostile corpus (tests/hostile_midi.py) through the core API: each case gives exactly its expected
outcome, within the time and memory limits; accepted files become sane rolls and bounded audio."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.audio import RenderConfig, render_wav
from core.budgets import BUDGETS
from core.data import load_uploads
from core.midi.parser import MidiLimits, MidiParser, MidiRejected, Score
from tests.support.hostile_midi import CASES, Case

LIMITS = MidiLimits()
KNOWN_MISREADS: dict[str, str] = {}
"""Cases the loader is known to misread (marked xfail, strict): none at present."""


def peak_rss_mb(pid: int) -> float:
    """The peak resident size (VmHWM) of a live process, in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM line")


@pytest.fixture(scope="module")
def parser():
    with MidiParser(LIMITS) as shared:
        yield shared


@pytest.fixture
def cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))


def assert_score_matches(score: Score, case: Case) -> None:
    if case.notes is not None:
        assert len(score.pitched_notes) == case.notes
    if case.duration_s is not None:
        assert score.duration_s == pytest.approx(case.duration_s, abs=2e-3)
    if case.meter is not None:
        assert score.meter == case.meter
    if case.tempo_bpm is not None:
        assert score.tempo_bpm == pytest.approx(case.tempo_bpm, abs=0.01)
    if case.first_start_s is not None:
        assert score.notes["start"][0] == pytest.approx(case.first_start_s, abs=2e-3)


def _case_params() -> list:
    params = []
    for name in CASES:
        marks = (
            [pytest.mark.xfail(reason=KNOWN_MISREADS[name], strict=True)] if name in KNOWN_MISREADS else []
        )
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.mark.parametrize("name", _case_params())
def test_case_gives_its_expected_outcome_within_limits(parser: MidiParser, name: str) -> None:
    case = CASES[name]()
    started = time.monotonic()
    try:
        score = parser.parse(case.data, f"{name}.mid")
    except MidiRejected as error:
        assert case.error is not None, f"rejected: {error}"
        assert case.error in str(error)
    else:
        assert case.loads, f"loaded, expected: {case.error}"
        assert_score_matches(score, case)
    assert time.monotonic() - started <= LIMITS.timeout_s
    worker = parser._workers[0].process  # the worker's own peak, not just its address-space cap
    if worker is not None:
        assert peak_rss_mb(worker.pid) <= LIMITS.worker_memory_mb


def test_whole_corpus_as_one_upload_reports_every_file(cache_in_tmp) -> None:
    cases = {name: make() for name, make in CASES.items()}
    started = time.monotonic()
    corpus = load_uploads([(f"{name}.mid", case.data) for name, case in cases.items()])
    assert time.monotonic() - started < 30
    assert [report.name for report in corpus.reports] == [f"{name}.mid" for name in cases]
    for report, case in zip(corpus.reports, cases.values(), strict=True):
        assert report.accepted == case.loads, report
        if not case.loads:
            assert case.error in report.message
    assert len(corpus.pieces) == sum(case.loads for case in cases.values())
    for piece in corpus.pieces:
        assert piece.roll.active.any(), piece.name
        assert piece.roll.velocity.max() <= 127
        assert not (piece.roll.onset & ~piece.roll.active).any()
        assert piece.roll.n_steps <= BUDGETS.piece_steps


@pytest.mark.parametrize("name", [name for name, make in CASES.items() if make().kept_steps])
def test_a_piece_longer_than_the_budget_is_cut_and_says_so(cache_in_tmp, name: str) -> None:
    case = CASES[name]()
    for attempt in ("parsed", "from the roll cache"):
        corpus = load_uploads([(f"{name}.mid", case.data)])
        (piece,), (report,) = corpus.pieces, corpus.reports
        assert piece.roll.n_steps == case.kept_steps, attempt
        assert report.accepted and f"only its first {case.kept_steps:,} of " in report.message, attempt
        assert "a piece may hold at most 8,192 steps of a sixteenth note" in report.message


def test_the_long_but_tiny_file_keeps_its_first_note_and_its_length_in_the_report(cache_in_tmp) -> None:
    corpus = load_uploads([("tiny.mid", CASES["long_but_tiny"]().data)])
    roll, message = corpus.pieces[0].roll, corpus.reports[0].message
    assert message.startswith("2 notes, 10:00 min, 2000 bpm")
    assert "only its first 8,192 of 79,960 steps (1:01 of 10:00) are kept" in message
    assert roll.onset[0, 60 - roll.spec.lowest_pitch] and roll.onset.sum() == 1  # the second note is cut


def test_a_ten_minute_piece_renders_its_first_three_minutes_and_says_so(cache_in_tmp) -> None:
    audio = render_wav(CASES["ten_minute_piece"]().data, RenderConfig(engine="sine"))
    assert audio.seconds == pytest.approx(BUDGETS.audio_seconds, abs=0.1)
    assert "Only the first 3:00 of this 10:00 piece were rendered (audio is limited to 3:00 per piece)" in (
        audio.note
    )


def test_velocities_of_parts_in_unison_are_not_summed(cache_in_tmp) -> None:
    corpus = load_uploads([("unison.mid", CASES["velocities_summing_above_127"]().data)])
    velocity = corpus.pieces[0].roll.velocity
    assert velocity.max() == 127 and set(np.unique(velocity)) <= {0, 100, 127}


@pytest.mark.parametrize("name", ["sustain_pedal_never_released", "parts_sharing_one_channel"])
def test_files_that_make_fluidsynth_render_for_ever_render_briefly(cache_in_tmp, name: str) -> None:
    """The raw bytes, not the rewritten roll: render_wav must bound them itself."""
    started = time.monotonic()
    audio = render_wav(CASES[name]().data, RenderConfig(timeout_s=15))
    assert time.monotonic() - started < 15
    assert 0.4 < audio.seconds < 5.0

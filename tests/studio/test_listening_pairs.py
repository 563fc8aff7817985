"""Building a listening round: real excerpts only from the test split, on a bar line with music, matched
generated clips, the attention check, and what the judges said."""

from __future__ import annotations

import io

import numpy as np
import pretty_midi
import pytest

from core.data.reference import bundled_corpus
from core.paths import DEFAULT_CHECKPOINT
from core.ranking.reference import load_ranker
from core.sampling import load_model
from core.studio.listening.pairs import (
    INSTRUMENTS,
    RoundSettings,
    build_round,
    excerpt_starts,
    random_notes,
    real_excerpts,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_excerpts_start_on_a_bar_with_music_and_never_rest() -> None:
    active = np.zeros((16 * 6, 12), bool)
    active[16:64, 3] = True  # bars 2–4 sound, bar 1 is a pickup's padding
    active[80:, 5] = True  # a rest in bar 5 (steps 64–79), bar 6 sounds
    assert excerpt_starts(active, bars=2, steps_per_bar=16) == [1, 2]
    assert excerpt_starts(active, bars=4, steps_per_bar=16) == []


def test_real_excerpts_come_from_different_test_pieces_only() -> None:
    corpus = bundled_corpus()
    test_names = {piece.name for piece in corpus.split("test").pieces}
    excerpts = real_excerpts(8, 4, np.random.default_rng(0))
    assert len({e.name for e in excerpts}) == 8 and {e.name for e in excerpts} <= test_names
    for excerpt in excerpts:
        assert excerpt.roll.n_steps == 64 and excerpt.roll.active.any(axis=1).all()
        assert excerpt.roll.beats_per_bar == 4 and excerpt.roll.onset[0].any()
    more = real_excerpts(60, 4, np.random.default_rng(1))  # more than the split has pieces: repeats
    assert len(more) == 60 and {e.name for e in more} <= test_names


def test_random_notes_are_four_voices_of_random_lengths() -> None:
    notes = random_notes(np.random.default_rng(0), 64, 48)
    assert notes.active.shape == (1, 64, 48)
    assert notes.active.sum(axis=2).max() <= 4 and notes.onset.sum() > 16


def test_settings_refuse_what_a_round_cannot_be() -> None:
    with pytest.raises(ValueError, match="4 or 8 bars"):
        RoundSettings("x", bars=5)
    with pytest.raises(ValueError, match="instrument"):
        RoundSettings("x", instrument="kazoo")
    with pytest.raises(ValueError, match="pick"):
        RoundSettings("x", pick="best")


def test_a_round_pairs_each_excerpt_with_a_matching_generated_clip() -> None:

    settings = RoundSettings(
        str(DEFAULT_CHECKPOINT), n_pairs=2, bars=4, instrument="Flute", pick="raw", seed=3
    )
    stored, pairs = build_round(settings, load_model(DEFAULT_CHECKPOINT), load_ranker())
    assert stored["pick_label"] == "raw samples" and stored["n_pairs"] == 2
    assert [pair.kind for pair in pairs] == ["test", "test", "attention"]
    for pair in pairs:
        real, other = (pretty_midi.PrettyMIDI(io.BytesIO(m)) for m in (pair.real_midi, pair.other_midi))
        tempo = real.get_tempo_changes()[1][0]
        assert other.get_tempo_changes()[1][0] == pytest.approx(tempo)
        assert {i.program for i in real.instruments + other.instruments} == {INSTRUMENTS["Flute"]}
        four_bars = 16 * 60 / tempo
        assert four_bars - 0.5 < real.get_end_time() <= four_bars + 1e-6
        assert other.get_end_time() <= four_bars + 1e-6
        assert pair.real_source.endswith("test split")
        assert 0 <= pair.judges["svm_real"] <= 100 and 0 <= pair.judges["svm_other"] <= 100
    assert pairs[-1].other_source == "random notes (attention check)"
    assert pairs[0].other_source == "generated: raw sample 1"

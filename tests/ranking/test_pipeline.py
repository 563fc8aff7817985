"""generate_and_rank with a fake model: ranking order, sanity filters, MIDI + scores.csv, CLI."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import numpy as np
import pretty_midi
import pytest

from core.models.base import Samples
from core.music.pianoroll import DEFAULT_SPEC, roll_from_arrays
from core.paths import REPO_ROOT
from core.ranking import negatives as neg
from core.ranking import pipeline
from core.ranking import svm as rk
from core.ranking.reference import load_ranker
from tests.support.rolls import STEPS, P, chorale_like_windows

SMALL = rk.RankerConfig(c_grid=(1.0,), gamma_scales=(1.0,), cv_folds=3)


@pytest.fixture(scope="module")
def ranker() -> rk.Ranker:
    real = chorale_like_windows(200, seed=20)
    negatives = neg.degenerate_set(*real, 15, seed=1)
    negatives["noise"] = neg.noise_rolls(np.random.default_rng(1), 100, STEPS, P, density=0.08)
    return rk.fit_on_rolls(real, negatives, SMALL, grade_windows=chorale_like_windows(50, seed=22))


def candidates() -> Samples:
    """0-3 chorale-like, 4 a held chord, 5 near-silent, 6 a copy of 0, 7 noise."""
    real_a, real_o = chorale_like_windows(4, seed=21)
    rng = np.random.default_rng(2)
    chord_a, chord_o = neg.constant_chords(rng, 1, STEPS, P)
    silent = np.zeros((1, STEPS, P), bool)
    silent[0, 10:12, 24] = True
    noise_a, noise_o = neg.noise_rolls(rng, 1, STEPS, P, density=0.1)
    arrays = [*zip(real_a, real_o, strict=True), (chord_a[0], chord_o[0]), (silent[0], silent[0])]
    arrays += [(real_a[0], real_o[0]), (noise_a[0], noise_o[0])]
    return Samples(np.stack([a for a, _ in arrays]), np.stack([o & a for a, o in arrays]))


class FakeModel:
    """Writes the candidates above, over and over."""

    spec, beats_per_bar = DEFAULT_SPEC, 4

    def sample(self, n: int, bars: int = 4, seed: int = 0, temperature: float = 1.0) -> Samples:
        return candidates().take([i % 8 for i in range(n)])


def test_rank_samples_puts_flagged_candidates_last(ranker) -> None:
    ranked = pipeline.rank_samples(candidates(), ranker)
    assert [p.rank for p in ranked] == list(range(1, 9))
    assert {p.candidate for p in ranked[:5]} == {0, 1, 2, 3, 7}
    assert {p.candidate for p in ranked[5:]} == {4, 5, 6}
    assert all(p.flags for p in ranked[5:]) and not any(p.flags for p in ranked[:5])
    unflagged = [p.score for p in ranked[:5]]
    assert unflagged == sorted(unflagged, reverse=True)
    assert ranked[4].candidate == 7  # noise is the worst of the unflagged
    assert all(0.0 <= p.grade <= 100.0 for p in ranked)
    assert ranked[0].grade > ranked[-1].grade
    assert any(line.startswith("Flagged: ") for line in ranked[-1].explanation)


def test_ranking_order_sorts_unflagged_by_score_then_flagged_by_score() -> None:
    order = pipeline.ranking_order(np.array([0.1, 2.0, 5.0, -1.0]), [(), (), ("duplicate",), ()])
    assert order == [1, 0, 3, 2]


def test_generate_and_rank_keeps_the_best(ranker) -> None:
    kept = pipeline.generate_and_rank(FakeModel(), candidates=8, keep=3, ranker=ranker)
    assert len(kept) == 3
    assert {p.candidate for p in kept} <= {0, 1, 2, 3}
    with pytest.raises(ValueError, match="keep"):
        pipeline.generate_and_rank(FakeModel(), candidates=4, keep=5, ranker=ranker)


def test_every_model_is_ranked_by_the_shipped_ranker() -> None:
    kept = pipeline.generate_and_rank(FakeModel(), candidates=8, keep=2)
    shipped = load_ranker()
    features = pipeline.window_features(shipped, candidates().take([p.candidate for p in kept]))
    np.testing.assert_allclose([p.score for p in kept], shipped.score(features))
    assert all(not np.isnan(p.among_generated) for p in kept)


def test_longer_pieces_are_scored_by_windows(ranker) -> None:
    real_a, real_o = chorale_like_windows(2, seed=30)
    long_roll = roll_from_arrays(np.concatenate(real_a), np.concatenate(real_o))
    features = pipeline.window_features(ranker, Samples(long_roll.active[None], long_roll.onset[None]))
    expected = ranker.features(real_a, real_o).mean(axis=0)
    np.testing.assert_allclose(features[0], expected)


def test_a_silent_opening_bar_is_trimmed_before_scoring(ranker) -> None:
    active, onset = chorale_like_windows(1, seed=31)
    late_a, late_o = np.zeros_like(active), np.zeros_like(onset)
    late_a[:, 16:], late_o[:, 16:] = active[:, :48], onset[:, :48]
    late_o[:, 16] |= late_a[:, 16]
    trimmed = ranker.features(late_a, late_o)[0]
    np.testing.assert_allclose(trimmed, ranker.features(active[:, :48], onset[:, :48])[0])


def test_write_ranked_writes_midi_and_scores(ranker, tmp_path) -> None:
    kept = pipeline.rank_samples(candidates(), ranker, keep=3)
    paths = pipeline.write_ranked(kept, tmp_path)
    assert [p.name[:6] for p in paths] == ["rank01", "rank02", "rank03"]
    midi = pretty_midi.PrettyMIDI(io.BytesIO(paths[0].read_bytes()))
    assert len(midi.instruments[0].notes) > 10
    with (tmp_path / "scores.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert [int(r["rank"]) for r in rows] == [1, 2, 3]
    assert rows[0]["file"] == paths[0].name
    assert float(rows[0]["score"]) >= float(rows[1]["score"])
    assert {"grade", "above_generated_percent", "flags", "explanation", "candidate"} <= set(rows[0])
    lines = pipeline.describe_ranked(kept)
    assert "chorale-likeness" in lines[0] and "/100" in lines[0]


def test_cli_help() -> None:
    command = [sys.executable, "-m", "core.generate", "--help"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    assert done.returncode == 0
    assert "--candidates" in done.stdout and "--keep" in done.stdout

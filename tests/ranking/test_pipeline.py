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
from tests.support.rolls import STEPS, P, chorale_like_windows

SMALL = rk.RankerConfig(c_grid=(1.0,), gamma_scales=(1.0,), cv_folds=3)


@pytest.fixture(scope="module")
def ranker() -> rk.Ranker:
    real = chorale_like_windows(200, seed=20)
    generated = neg.noise_rolls(np.random.default_rng(1), 100, STEPS, P, density=0.08)
    return rk.fit_on_rolls(real, generated, n_degenerate=100, config=SMALL)


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

    spec, beats_per_bar, source = DEFAULT_SPEC, 4, None

    def sample(self, n: int, bars: int = 4, seed: int = 0, temperature: float = 1.0) -> Samples:
        return candidates().take([i % 8 for i in range(n)])


def test_rank_rolls_puts_flagged_candidates_last(ranker) -> None:
    ranked = pipeline.rank_samples(candidates(), ranker)
    assert [p.rank for p in ranked] == list(range(1, 9))
    assert {p.candidate for p in ranked[:5]} == {0, 1, 2, 3, 7}
    assert {p.candidate for p in ranked[5:]} == {4, 5, 6}
    assert all(p.flags for p in ranked[5:]) and not any(p.flags for p in ranked[:5])
    unflagged = [p.score for p in ranked[:5]]
    assert unflagged == sorted(unflagged, reverse=True)
    assert ranked[4].candidate == 7  # noise is the worst of the unflagged
    assert all(0.0 <= p.probability <= 1.0 for p in ranked)
    assert any(line.startswith("Flagged: ") for line in ranked[-1].explanation)


def test_generate_and_rank_keeps_the_best(ranker) -> None:
    kept = pipeline.generate_and_rank(FakeModel(), candidates=8, keep=3, ranker=ranker)
    assert len(kept) == 3
    assert {p.candidate for p in kept} <= {0, 1, 2, 3}
    with pytest.raises(ValueError, match="keep"):
        pipeline.generate_and_rank(FakeModel(), candidates=4, keep=5, ranker=ranker)


def test_longer_pieces_are_scored_by_windows(ranker) -> None:
    real_a, real_o = chorale_like_windows(2, seed=30)
    long_roll = roll_from_arrays(np.concatenate(real_a), np.concatenate(real_o))
    features = pipeline.window_features(ranker, Samples(long_roll.active[None], long_roll.onset[None]))
    expected = ranker.features(real_a, real_o).mean(axis=0)
    np.testing.assert_allclose(features[0], expected)


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
    assert {"probability", "flags", "explanation", "candidate"} <= set(rows[0])


def test_ranker_beside_checkpoint_is_used(ranker, tmp_path) -> None:
    folder = tmp_path / "ckpt"
    ranker.save(folder / pipeline.RANKER_FILE)
    (folder / "model.pt").write_bytes(b"not used")
    model = FakeModel()
    model.source = folder / "model.pt"
    loaded = pipeline.load_or_fit_ranker(model)
    x = ranker.features(*chorale_like_windows(3, seed=3))
    np.testing.assert_array_equal(loaded.score(x), ranker.score(x))


def test_cli_help() -> None:
    root = REPO_ROOT
    command = [sys.executable, "-m", "core.generate", "--help"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=root, check=False)
    assert done.returncode == 0
    assert "--candidates" in done.stdout and "--keep" in done.stdout

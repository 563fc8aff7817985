"""The SVM ranker: numpy scoring equals scikit-learn, degenerate negatives, explanations, safe persistence."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from core.music.features import FEATURE_NAMES, features_batch
from core.ranking import negatives as neg
from core.ranking import svm as rk
from tests.support.rolls import STEPS, P, chorale_like_windows

SMALL = rk.RankerConfig(c_grid=(1.0, 10.0), gamma_scales=(1.0,), cv_folds=3)


@pytest.fixture(scope="module")
def real() -> tuple[np.ndarray, np.ndarray]:
    return chorale_like_windows(240, seed=10)


@pytest.fixture(scope="module")
def fitted(real) -> rk.Ranker:
    rng = np.random.default_rng(5)
    generated = neg.noise_rolls(rng, 120, STEPS, P, density=0.08)
    return rk.fit_on_rolls(real, generated, n_degenerate=150, config=SMALL, info={"source": "test"})


def test_numpy_scores_equal_sklearn(fitted, real) -> None:
    x = features_batch(*chorale_like_windows(30, seed=99))
    fitted_pipeline = fitted.sklearn_calibrated.calibrated_classifiers_[0].estimator
    np.testing.assert_allclose(fitted.score(x), fitted_pipeline.decision_function(x), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        fitted.probability(x), fitted.sklearn_calibrated.predict_proba(x)[:, 1], rtol=1e-9, atol=1e-12
    )


def test_fit_records_search_and_sizes(fitted) -> None:
    info = fitted.info
    assert info["C"] in SMALL.c_grid
    assert info["gamma"] == pytest.approx(1.0 / len(FEATURE_NAMES))
    assert len(info["cv_balanced_accuracy"]) == SMALL.cv_folds
    assert info["n_real"] == 240 and info["n_negative"] == 270
    assert info["source"] == "test"


def test_real_scores_above_every_degenerate_kind(fitted) -> None:
    held_out = fitted.score_rolls(*chorale_like_windows(40, seed=77))
    rng = np.random.default_rng(3)
    real_a, real_o = chorale_like_windows(40, seed=78)
    degenerate = {
        "constant chords": neg.constant_chords(rng, 40, STEPS, P),
        "noise": neg.noise_rolls(rng, 40, STEPS, P),
        "near-silence": neg.near_silent_rolls(rng, 40, STEPS, P),
        "looped bars": neg.looped_bars(real_a, real_o, rng, 40),
        "shuffled steps": neg.shuffled_steps(real_a, rng, 40),
    }
    assert np.median(held_out) > 0
    for kind, rolls in degenerate.items():
        assert np.median(fitted.score_rolls(*rolls)) < np.percentile(held_out, 10), kind


def test_without_degenerate_negatives_constant_chords_slip_through(real) -> None:
    # Trained against noise alone, a held chord looks "real" more often than with degenerate negatives.
    rng = np.random.default_rng(6)
    noise = neg.noise_rolls(rng, 200, STEPS, P, density=0.1)
    naive = rk.Ranker.fit(features_batch(*real), features_batch(*noise), SMALL)
    chords = features_batch(*neg.constant_chords(np.random.default_rng(7), 60, STEPS, P))
    guarded = rk.fit_on_rolls(real, noise, n_degenerate=150, config=SMALL)
    assert (guarded.score(chords) > 0).mean() < (naive.score(chords) > 0).mean()
    assert (guarded.score(chords) > 0).mean() < 0.05


def test_explanations_name_the_broken_feature(fitted, real) -> None:
    active, onset = real[0][:1].copy(), real[1][:1].copy()
    active[0, ::2] = False  # every other step silent: one-step notes, polyphony jumps between 0 and 4
    onset &= active
    reasons = fitted.explain(features_batch(active, onset), k=3)[0]
    assert 1 <= len(reasons) <= 3
    assert all(r.impact > 0 for r in reasons)
    assert [r.impact for r in reasons] == sorted((r.impact for r in reasons), reverse=True)
    rhythm = {
        "polyphony_spread",
        "silence_rate",
        "texture_change_rate",
        "short_note_share",
        "note_length_mean",
    }
    assert reasons[0].feature in rhythm
    assert all("than in the real music" in r.text for r in reasons)


def test_describe_deviation_words() -> None:
    text = rk.describe_deviation("polyphony_spread", 1.9, 0.5, 0.2)
    assert text == "Polyphony spread is much higher than in the real music (1.9 vs 0.5)"
    assert "slightly" not in rk.describe_deviation("pitch_range", 30.0, 31.0, 3.0)
    assert " lower " in rk.describe_deviation("pitch_range", 30.0, 31.0, 3.0)


def test_save_load_round_trip_without_pickle(fitted, tmp_path) -> None:
    path = fitted.save(tmp_path / "ranker.npz")
    assert path.with_suffix(".json").exists()
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    with np.load(path, allow_pickle=False) as data:
        assert all(data[key].dtype == np.float64 for key in data.files)
    loaded = rk.Ranker.load(path)
    x = features_batch(*chorale_like_windows(10, seed=5))
    np.testing.assert_array_equal(loaded.score(x), fitted.score(x))
    np.testing.assert_array_equal(loaded.probability(x), fitted.probability(x))
    assert [r.text for r in loaded.explain(x)[0]] == [r.text for r in fitted.explain(x)[0]]
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["feature_names"] == list(FEATURE_NAMES)
    assert {"C", "gamma", "cv_balanced_accuracy", "n_real", "n_negative", "format_version"} <= set(meta)


def test_load_refuses_other_features(fitted, tmp_path) -> None:
    path = fitted.save(tmp_path / "ranker.npz")
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["feature_names"] = meta["feature_names"][::-1]
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="other features"):
        rk.Ranker.load(path)


def test_sanity_flags() -> None:
    real_a, real_o = chorale_like_windows(2, seed=1)
    chord_a, chord_o = neg.constant_chords(np.random.default_rng(0), 1, STEPS, P)
    silent_a = np.zeros((1, STEPS, P), bool)
    silent_a[0, 3, 20] = True
    active = np.concatenate([real_a, chord_a, silent_a, real_a[:1]])
    onset = np.concatenate([real_o, chord_o, neg.onsets_from_active(silent_a), real_o[:1]])
    flags = neg.sanity_flags(active, onset)
    assert flags[0] == () and flags[1] == ()
    assert "constant chord" in flags[2]
    assert "near-silent" in flags[3]
    assert flags[4] == ("duplicate",)


def test_degenerate_rolls_mix() -> None:
    real_a, real_o = chorale_like_windows(10, seed=2)
    active, onset = neg.degenerate_rolls(real_a, real_o, 23, seed=1)
    assert active.shape == (23, STEPS, P) and onset.shape == active.shape
    assert not (onset & ~active).any()

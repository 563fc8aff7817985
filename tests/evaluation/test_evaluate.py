"""The evaluation harness on synthetic real data and a tiny fake generator; the CLI end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.cli import evaluate as evaluate_cli
from core.evaluation import evaluate as ev
from core.evaluation.picks import PICK_METRICS
from core.evaluation.real import RealData
from core.evaluation.report import markdown_table, plain_name
from core.files import json_ready
from core.models.base import Samples
from core.music.musicianship import THEORY_METRIC_NAMES
from core.music.voicing import split_voices
from core.ranking import negatives as neg
from core.ranking import svm as rk
from tests.support.rolls import STEPS, P, chorale_like_windows

CONFIG = ev.EvalConfig(n=64, candidates=16, keep=4, seed=0)
SMALL = rk.RankerConfig(c_grid=(1.0,), gamma_scales=(1.0,), cv_folds=3)


def synthetic_real() -> RealData:
    train = chorale_like_windows(160, seed=40)
    test = chorale_like_windows(120, seed=41)
    long_a, long_o = chorale_like_windows(6, seed=42)
    pieces = [(np.concatenate(long_a[:3]), np.concatenate(long_o[:3])), (long_a[3], long_o[3])]
    return RealData(train=train, test=test, pieces=pieces)


def fake_generator(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Chorale-like windows with a random share (0–3%) of cells flipped: some good, some bad."""
    rng = np.random.default_rng(seed)
    active, onset = chorale_like_windows(n, seed=seed + 500)
    flip = rng.random(active.shape) < rng.uniform(0.0, 0.03, size=(n, 1, 1))
    active = active ^ flip
    return active, (onset & active) | neg.onsets_from_active(active)


class FakeModel:
    def sample(self, n: int, bars: int = 4, seed: int = 0, temperature: float = 1.0) -> Samples:
        return Samples(*fake_generator(n, seed))


@pytest.fixture(scope="module")
def real() -> RealData:
    return synthetic_real()


def small_ranker(real: RealData, seed: int) -> rk.Ranker:
    negatives = {"fake": fake_generator(150, seed=seed), **neg.degenerate_set(*real.train, 10, seed=1)}
    return rk.fit_on_rolls(real.train, negatives, SMALL)


@pytest.fixture(scope="module")
def result(real) -> dict:
    return ev.evaluate(FakeModel(), real, small_ranker(real, 9), CONFIG)


def test_rows_and_top_level_numbers(result) -> None:
    for row in ("real", "real_pieces", "generated", "top_k", "random_pick", "random_roll", "shuffled_real"):
        assert set(ev.PER_ROLL_METRICS) <= set(result[row]), row
    for row in ("real", "generated", "top_k", "random_pick", "random_roll", "shuffled_real"):
        assert set(ev.SET_METRICS) <= set(result[row]), row
    assert result["generated"]["n_rolls"] == 64
    assert result["top_k"]["n_rolls"] == result["random_pick"]["n_rolls"] == 16
    assert result["real_pieces"]["n_rolls"] == 2
    assert 0.0 <= result["c2st_accuracy"] <= 1.0 and 0.0 <= result["c2st_p_value"] <= 1.0
    assert result["c2st_accuracy"] == result["generated"]["c2st_accuracy"]
    assert "generated_own_voices" not in result  # the fake model writes no voices of its own


def test_theory_metrics_are_in_every_row(result) -> None:
    for row in ("real", "real_pieces", "generated", "top_k", "random_pick", "random_roll", "shuffled_real"):
        assert set(THEORY_METRIC_NAMES) <= set(result[row]), row
    assert result["real"]["four_voice_step_share"] > 0.8  # the stand-in chorales sing in four parts
    assert result["random_roll"]["four_voice_step_share"] < result["real"]["four_voice_step_share"] / 2
    assert math.isnan(result["generated"]["voice_crossing_share"])  # sorted voices never cross


def test_picks_are_compared_with_twenty_random_draws(result) -> None:
    picks = result["picks"]
    assert picks["draws"] == 20 and picks["candidates"] == 64 and picks["keep"] == 4
    assert 0.0 <= picks["c2st_top_k"] <= 1.0 and picks["c2st_random_picks_sd"] >= 0.0
    assert picks["c2st_difference"] == pytest.approx(picks["c2st_random_picks"] - picks["c2st_top_k"])
    assert set(picks["theory"]) == set(PICK_METRICS)
    assert {"candidates", "top_k"} == set(picks["silent_first_beat"])


def test_a_model_with_its_own_voices_gets_its_own_row(real) -> None:
    class VoicedModel:
        def sample(self, n: int, bars: int = 4, seed: int = 0, temperature: float = 1.0) -> Samples:
            active, onset = chorale_like_windows(n, seed=seed + 7)
            voices = split_voices(active)[..., ::-1].copy()  # written bass-first: every voice crosses
            phrase_end = np.zeros(active.shape[:2], bool)
            phrase_end[:, -1] = True
            return Samples(active, onset, voices.astype(np.int64), phrase_end)

    voiced = ev.evaluate(VoicedModel(), real, small_ranker(real, 3), CONFIG)
    own = voiced["generated_own_voices"]
    assert own["voice_crossing_share"] > 0.5 and not math.isnan(own["phrase_end_authentic_share"])
    assert math.isnan(voiced["generated"]["voice_crossing_share"])  # the table's rows still sort voices
    assert "generated (model's own voices)" in markdown_table(voiced)


def test_real_row_is_indistinguishable_and_baselines_are_not(result) -> None:
    assert result["real"]["c2st_accuracy"] < 0.75
    assert result["real"]["mgeval_overlap"] > 0.8
    for baseline in ("random_roll", "shuffled_real"):
        assert result[baseline]["c2st_accuracy"] > 0.9
        assert result[baseline]["mgeval_overlap"] < result["real"]["mgeval_overlap"]
    assert result["real"]["polyphony"] == pytest.approx(4.0, abs=0.2)


def test_top_k_beats_random_picks_of_the_same_candidates(result) -> None:
    top, rand = result["top_k"], result["random_pick"]
    assert top["ranker_score"] > rand["ranker_score"]
    assert top["mgeval_overlap"] > rand["mgeval_overlap"]
    assert top["scale_consistency"] > rand["scale_consistency"]


def test_pick_top_and_random_stay_in_their_groups(real) -> None:
    ranker = small_ranker(real, 3)
    active, onset = fake_generator(32, seed=4)
    top, rand = ev.pick_top_and_random(active, onset, ranker, ev.EvalConfig(candidates=16, keep=2))
    assert len(top) == len(rand) == 4
    assert all(i < 16 for i in top[:2]) and all(i >= 16 for i in top[2:])
    scores = ranker.score_rolls(active[:16], onset[:16])
    assert set(top[:2]) == set(np.argsort(-scores)[:2])


def test_markdown_and_json(result) -> None:
    table = markdown_table(result)
    header = table.splitlines()[0]
    columns = "| metric | real chorales (held out) | real whole pieces | generated | SVM top picks |"
    assert header.startswith(columns)
    assert all(f"| {plain_name(name)} |" in table for name in ev.TABLE_METRICS)
    assert "| parallel fifths and octaves per bar |" in table and "c2st_accuracy" not in table
    text = json.dumps(json_ready(result), allow_nan=False)
    assert json.loads(text)["top_k"]["polyphony"] == pytest.approx(result["top_k"]["polyphony"])


def test_per_roll_metrics_of_a_silent_roll_are_nan_or_zero() -> None:
    silent = np.zeros((1, STEPS, P), bool)
    values = ev.per_roll_metrics(silent, silent, CONFIG)
    assert math.isnan(values["polyphony"][0]) and values["pitch_range"][0] == 0
    assert values["empty_beat_rate"][0] == 1.0


def test_cli_writes_table_and_json(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setattr(evaluate_cli, "corpus_real_data", synthetic_real)
    out = tmp_path / "eval.json"
    assert (
        evaluate_cli.main(["--generator", "shuffled", "--n", "64", "--candidates", "16", "--json", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "| notes sounding together |" in printed and "C2ST" in printed and "random picks" in printed
    data = json.loads(out.read_text())
    assert {"real", "generated", "top_k", "random_pick", "random_roll", "shuffled_real"} <= set(data)
    assert data["generated"]["c2st_accuracy"] > 0.9  # shuffled windows are easy to tell apart
    assert {"c2st_accuracy", "c2st_p_value", "settings"} <= set(data)

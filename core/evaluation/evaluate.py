"""Evaluation harness: how far a generator's music is from the real thing, and whether ranking helps.

Rows (sets of 4-bar windows), each summarised by the same metrics: the distribution measures of
:mod:`core.music.metrics` and the music-theory metrics of :mod:`core.music.musicianship`:

- ``real``: held-out real windows (the half not used as the reference set);
- ``real_pieces``: whole held-out pieces (per-piece metrics only; the published reference values
  are per piece);
- ``generated``: ``n`` samples of the generator;
- ``top_k`` / ``random_pick``: the generated samples cut into groups of ``candidates``; from each
  group the SVM's ``keep`` best, or ``keep`` picked at random;
- ``random_roll`` / ``shuffled_real``: baselines (independent random cells at the real density,
  real windows with their time steps shuffled);
- ``generated_own_voices`` (only for a model that writes its own voices and phrase ends): the
  generated pieces' theory metrics measured with those voices and phrase ends.

Every other row splits the voices the same way, sorting the pitches wherever exactly four notes sound
(:func:`core.music.voicing.split_voices`), even for a model that writes voices, so the rows compare
like with like. ``picks`` holds :func:`core.evaluation.picks.picks_versus_random` (the SVM's picks
against 20 random draws of the same candidates).

MGEval overlap/KL and the classifier two-sample tests compare each row with the reference half of
the held-out real windows; memorisation compares with the training windows. The two-sample classifier
sees the 44 roll features (``c2st_accuracy``, :func:`core.evaluation.picks.c2st_features`) or, for
``c2st_theory_accuracy``, the ranker's features (roll features and theory metrics).

Anything with a ``sample(n, bars, seed) -> Samples`` method is evaluated the same way: a loaded model
(:class:`core.sampling.LoadedModel`) or one of the baselines of :mod:`core.evaluation.baselines`.
CLI: ``python -m core.evaluate`` (:mod:`core.cli.evaluate`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from core.evaluation.baselines import baseline_sets
from core.evaluation.picks import c2st_features, picks_versus_random, top_and_random_groups
from core.evaluation.real import RealData
from core.models.base import Samples
from core.music import metrics
from core.music.musicianship import THEORY_METRIC_NAMES, theory_metrics
from core.ranking.svm import Ranker


class Sampler(Protocol):
    """What writes the pieces an evaluation judges: a loaded model, or a baseline."""

    def sample(self, n: int, bars: int = 4, seed: int = 0, temperature: float = 1.0) -> Samples: ...


ROW_ORDER = (
    "real",
    "real_pieces",
    "generated",
    "generated_own_voices",
    "top_k",
    "random_pick",
    "random_roll",
    "shuffled_real",
)
DISTRIBUTION_METRICS = (
    "pitch_range",
    "n_pitches_used",
    "n_pitch_classes_used",
    "polyphony",
    "polyphony_rate",
    "scale_consistency",
    "pitch_entropy",
    "pitch_class_entropy",
    "empty_beat_rate",
    "groove_consistency",
    "empty_bar_rate",
    "used_pitch_classes_per_bar",
    "qualified_note_rate",
    "simultaneous_onset_rate",
    "repetition_rate",
)
PER_ROLL_METRICS = (*THEORY_METRIC_NAMES, *DISTRIBUTION_METRICS)

SET_METRICS = (
    "mgeval_overlap",
    "mgeval_kl",
    "c2st_accuracy",
    "c2st_theory_accuracy",
    "ranker_score",
    "ranker_grade",
    "nearest_train_distance",
    "copy_rate",
)
PER_VOICE_RANGES = tuple(name for name in THEORY_METRIC_NAMES if name.endswith("_out_of_range_share"))
TABLE_METRICS = (
    *(name for name in THEORY_METRIC_NAMES if name not in PER_VOICE_RANGES),
    *DISTRIBUTION_METRICS,
    *SET_METRICS,
    "n_rolls",
)
"""The rows of the printed table (the JSON has every metric, the four voices' ranges included)."""


@dataclass(frozen=True)
class EvalConfig:
    """Sizes and the roll layout of an evaluation."""

    n: int = 512
    candidates: int = 32
    keep: int = 4
    seed: int = 0
    bars: int = 4
    temperature: float = 1.0
    lowest_pitch: int = 36
    steps_per_beat: int = 4
    beats_per_bar: int = 4

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * self.beats_per_bar


DEFAULT_EVAL = EvalConfig()


def per_roll_metrics(active: np.ndarray, onset: np.ndarray, config: EvalConfig) -> dict[str, np.ndarray]:
    """Every per-roll metric of ``PER_ROLL_METRICS`` for rolls bool[N, T, P] (voices split by sorting)."""
    return {**theory_of(Samples(active, onset), config), **distribution_metrics(active, onset, config)}


def theory_of(samples: Samples, config: EvalConfig, own_voices: bool = False) -> dict[str, np.ndarray]:
    """The theory metrics of pieces; with ``own_voices`` the samples' voices and phrase ends are used."""
    return theory_metrics(
        samples.active,
        samples.onset,
        lowest_pitch=config.lowest_pitch,
        steps_per_beat=config.steps_per_beat,
        beats_per_bar=config.beats_per_bar,
        voices=samples.voices if own_voices else None,
        phrase_end=samples.phrase_end if own_voices else None,
    )


def distribution_metrics(active: np.ndarray, onset: np.ndarray, config: EvalConfig) -> dict[str, np.ndarray]:
    """The distribution measures of ``DISTRIBUTION_METRICS`` for rolls bool[N, T, P]."""
    low, bar = config.lowest_pitch, config.steps_per_bar
    return {
        "pitch_range": metrics.pitch_range(active),
        "n_pitches_used": metrics.n_pitches_used(active),
        "n_pitch_classes_used": metrics.n_pitch_classes_used(active, low),
        "polyphony": metrics.polyphony(active),
        "polyphony_rate": metrics.polyphony_rate(active),
        "scale_consistency": metrics.scale_consistency(active, onset, low),
        "pitch_entropy": metrics.pitch_entropy(active, onset),
        "pitch_class_entropy": metrics.pitch_class_entropy(active, onset, low),
        "empty_beat_rate": metrics.empty_beat_rate(active, config.steps_per_beat),
        "groove_consistency": metrics.groove_consistency(onset, bar),
        "empty_bar_rate": metrics.empty_bar_rate(active, bar),
        "used_pitch_classes_per_bar": metrics.used_pitch_classes_per_bar(active, bar, low),
        "qualified_note_rate": metrics.qualified_note_rate(active, onset),
        "simultaneous_onset_rate": metrics.simultaneous_onset_rate(onset),
        "repetition_rate": metrics.repetition_rate(active),
    }


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def summarize_set(
    active: np.ndarray,
    onset: np.ndarray,
    reference: tuple[np.ndarray, np.ndarray],
    train_active: np.ndarray,
    ranker: Ranker | None,
    config: EvalConfig,
) -> dict[str, float]:
    """Mean per-roll metrics plus MGEval, C2ST, memorisation and ranker score against the reference."""
    row = {name: _mean(values) for name, values in per_roll_metrics(active, onset, config).items()}
    ref_mgeval = metrics.mgeval_features(*reference, lowest_pitch=config.lowest_pitch)
    mgeval = metrics.mgeval_compare(ref_mgeval, metrics.mgeval_features(active, onset, config.lowest_pitch))
    for name, values in mgeval.items():
        row[f"mgeval_overlap_{name}"] = values["overlap"]
        row[f"mgeval_kl_{name}"] = values["kl"]
    row["mgeval_overlap"] = float(np.mean([v["overlap"] for v in mgeval.values()]))
    row["mgeval_kl"] = float(np.mean([v["kl"] for v in mgeval.values()]))
    low = config.lowest_pitch
    ref_x, x = c2st_features(*reference, low), c2st_features(active, onset, low)
    row["c2st_accuracy"], row["c2st_p_value"] = metrics.classifier_two_sample_test(ref_x, x, config.seed)
    if ranker is not None:
        ref_x, x = ranker.features(*reference), ranker.features(active, onset)
        row["c2st_theory_accuracy"] = metrics.classifier_two_sample_test(ref_x, x, config.seed)[0]
        scores = ranker.score(x)
        row["ranker_score"] = _mean(scores)
        row["ranker_grade"] = _mean(ranker.grade(scores))
    distance = metrics.nearest_train_distance(active, train_active)
    row["nearest_train_distance"] = _mean(distance)
    row["copy_rate"] = float((distance == 0).mean())
    row["n_rolls"] = float(len(active))
    return row


def summarize_pieces(pieces: Sequence[tuple[np.ndarray, np.ndarray]], config: EvalConfig) -> dict[str, float]:
    """Per-piece metrics of whole pieces of different lengths, averaged over pieces (whole pieces make
    ``first_last_key_agreement`` measurable: their first and last four bars)."""
    collected: dict[str, list[float]] = {name: [] for name in PER_ROLL_METRICS}
    for active, onset in pieces:
        for name, values in per_roll_metrics(active[None], onset[None], config).items():
            collected[name].append(float(values[0]))
    row = {name: _mean(np.array(values)) for name, values in collected.items()}
    row["n_rolls"] = float(len(pieces))
    return row


def pick_top_and_random(
    active: np.ndarray, onset: np.ndarray, ranker: Ranker, config: EvalConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the SVM's ``keep`` best and of ``keep`` random rolls from each group of ``candidates``."""
    top, draws = top_and_random_groups(
        ranker, active, onset, config.candidates, config.keep, 1, config.seed + 1
    )
    return top, draws[0]


def evaluate(sampler: Sampler, real: RealData, ranker: Ranker, config: EvalConfig = DEFAULT_EVAL) -> dict:
    """All rows and the generated set's two-sample test; see the module docstring."""
    return evaluate_samples(
        sampler.sample(config.n, config.bars, config.seed, config.temperature), real, ranker, config
    )


def evaluate_samples(
    samples: Samples, real: RealData, ranker: Ranker, config: EvalConfig = DEFAULT_EVAL
) -> dict:
    """:func:`evaluate` for pieces already generated."""
    started = time.perf_counter()
    reference, real_row = _split_reference(real.test, config)
    active, onset = samples.active, samples.onset
    top, random_pick = pick_top_and_random(active, onset, ranker, config)
    sets = {
        "real": Samples(*real_row),
        "generated": samples,
        "top_k": samples.take(top),
        "random_pick": samples.take(random_pick),
        **baseline_sets(real, config.n, config.seed),
    }
    result: dict[str, object] = {
        name: summarize_set(rows.active, rows.onset, reference, real.train[0], ranker, config)
        for name, rows in sets.items()
    }
    if samples.voices is not None:
        own = theory_of(samples, config, own_voices=True)
        result["generated_own_voices"] = {**{k: _mean(v) for k, v in own.items()}, "n_rolls": len(samples)}
    if len(samples) >= config.candidates:
        result["picks"] = picks_versus_random(
            ranker, active, onset, reference, config.candidates, config.keep, seed=config.seed + 1
        )
    if real.pieces:
        result["real_pieces"] = summarize_pieces(real.pieces, config)
    generated = result["generated"]
    result["c2st_accuracy"] = generated["c2st_accuracy"]
    result["c2st_p_value"] = generated["c2st_p_value"]
    result["settings"] = {**asdict(config), "seconds": round(time.perf_counter() - started, 2)}
    return result


def _split_reference(
    test: tuple[np.ndarray, np.ndarray], config: EvalConfig
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Held-out windows cut in two random halves: the reference, and the ``real`` row (at most n)."""
    order = np.random.default_rng(config.seed + 3).permutation(len(test[0]))
    half = len(order) // 2
    ref_idx, row_idx = order[:half], order[half:][: config.n]
    return (test[0][ref_idx], test[1][ref_idx]), (test[0][row_idx], test[1][row_idx])


def evaluate_model(model: Sampler, real: RealData, ranker: Ranker, config: EvalConfig = DEFAULT_EVAL) -> dict:
    """Evaluate a model; also return per-piece values (held-out real vs generated) for plots.

    Returns ``{"result": <evaluate()'s dict>, "values": {"real": {...}, "generated": {...}}}`` where each
    values dict maps a per-roll metric (and ``ranker_score``) to an array with one value per piece.
    """
    samples = model.sample(config.n, config.bars, config.seed, config.temperature)
    result = evaluate_samples(samples, real, ranker, config)
    values = {
        "real": per_roll_metrics(*real.test, config),
        "generated": per_roll_metrics(samples.active, samples.onset, config),
    }
    values["real"]["ranker_score"] = ranker.score_rolls(*real.test)
    values["generated"]["ranker_score"] = ranker.score_rolls(samples.active, samples.onset)
    return {"result": result, "values": values}

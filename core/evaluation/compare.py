"""The three model families side by side on the same data and the same metrics.

Each checkpoint of the registry (:data:`core.families.FAMILIES`) is evaluated by
:func:`core.evaluation.evaluate.evaluate` against the same held-out chorale windows and scored by the
one shipped SVM ranker, so every column is measured the same way. The result is JSON: ``real``
(held-out windows), and per model its ``generated`` row (plain samples), ``top_k`` row (the SVM's picks)
and, for a model that writes its own voices, ``own_voices`` (its theory metrics on those voices),
plus optional ``jsb`` benchmark numbers.

    python -m core.compare --n 512 --json docs/baselines.json     (:mod:`core.cli.compare`)
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from core.evaluation.evaluate import EvalConfig, evaluate
from core.evaluation.real import RealData, corpus_real_data
from core.evaluation.report import format_value, metric_meaning, plain_name
from core.families import FAMILIES, MODEL_LABELS
from core.files import json_ready
from core.paths import REPO_ROOT, display_path
from core.ranking.reference import RANKER_PATH, load_ranker
from core.sampling.model import load_model

RESULTS_PATH = REPO_ROOT / "docs" / "baselines.json"
DEFAULT_CHECKPOINTS = {kind: family.checkpoint for kind, family in FAMILIES.items()}
"""The shipped checkpoint of every family, compared by default."""
THEORY_COLUMNS = (
    "four_voice_step_share",
    "parallel_perfects_per_bar",
    "bars_with_parallels_share",
    "out_of_range_share",
    "triad_share",
    "non_tertian_share",
    "authentic_cadences_per_bar",
    "dominant_tonic_per_bar",
    "sixteenth_onset_beat_share",
    "soprano_step_share",
    "bass_leap_share",
    "key_strength",
)
DISTRIBUTION_COLUMNS = (
    "polyphony",
    "n_pitch_classes_used",
    "scale_consistency",
    "pitch_class_entropy",
    "groove_consistency",
    "qualified_note_rate",
    "repetition_rate",
    "mgeval_overlap",
    "mgeval_kl",
    "c2st_accuracy",
    "ranker_score",
    "ranker_grade",
    "nearest_train_distance",
    "copy_rate",
)
METRICS: dict[str, str] = {name: metric_meaning(name) for name in (*THEORY_COLUMNS, *DISTRIBUTION_COLUMNS)}
"""The compared metrics (identifier -> what it measures): the musician's view first."""


def compare(checkpoints: dict[str, Path], n: int = 512, seed: int = 0, real: RealData | None = None) -> dict:
    """Evaluate every checkpoint that exists; returns the JSON-ready comparison."""
    started = time.perf_counter()
    models = {name: load_model(path) for name, path in checkpoints.items() if Path(path).exists()}
    if not models:
        raise FileNotFoundError("none of the checkpoints exists")
    real = real or corpus_real_data()
    ranker = load_ranker()
    config = EvalConfig(n=n, seed=seed)
    result: dict = {"models": {}}
    for name, model in models.items():
        rows = evaluate(model, real, ranker, config)
        result["real"] = rows["real"]
        result["models"][name] = {
            "checkpoint": display_path(model.source),
            "generated": rows["generated"],
            "top_k": rows["top_k"],
            **({"own_voices": rows["generated_own_voices"]} if "generated_own_voices" in rows else {}),
            **({"picks": rows["picks"]} if "picks" in rows else {}),
        }
    result["settings"] = {
        "n": n,
        "seed": seed,
        "candidates": config.candidates,
        "keep": config.keep,
        "ranker": display_path(RANKER_PATH),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return json_ready(result)


def load_comparison(path: str | Path | None = None) -> dict | None:
    """The saved comparison (``docs/baselines.json`` by default), or None when there is none."""
    path = Path(path) if path else RESULTS_PATH
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def table_rows(result: dict, row: str = "generated", metrics: dict[str, str] = METRICS) -> list[dict]:
    """One dict per metric: ``metric`` (identifier), ``name`` (plain words), ``meaning``, ``real``, then
    one value per model (None where a model has no value)."""
    models = result.get("models", {})
    rows = []
    for name, meaning in metrics.items():
        real = _value(result.get("real", {}), name)
        entry = {"metric": name, "name": plain_name(name), "meaning": meaning, "real": real}
        entry.update({model: _value(models[model].get(row, {}), name) for model in models})
        rows.append(entry)
    return rows


def _value(row: dict, name: str) -> float | None:
    value = row.get(name)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


_TEXT_KEYS = ("metric", "name", "meaning", "real")


def closest_to_real(result: dict, row: str = "generated") -> dict[str, str]:
    """Per metric, the model whose value is nearest the real one (C2ST: nearest 0.5; copies: fewest).

    Metrics on which every model scores the same are left out.
    """
    targets = {"c2st_accuracy": 0.5, "copy_rate": 0.0, "mgeval_overlap": 1.0, "mgeval_kl": 0.0}
    winners = {}
    for entry in table_rows(result, row):
        goal = targets.get(entry["metric"], entry["real"])
        values = {k: v for k, v in entry.items() if k not in _TEXT_KEYS and v is not None}
        ignored = ("ranker_score", "ranker_grade", "nearest_train_distance")
        if goal is None or not values or entry["metric"] in ignored:
            continue
        if max(values.values()) - min(values.values()) < 1e-9:  # a tie says nothing
            continue
        winners[entry["metric"]] = min(values, key=lambda k: abs(values[k] - goal))
    return winners


def summary_sentences(result: dict, labels: dict[str, str] = MODEL_LABELS) -> list[str]:
    """A few plain sentences that say what the numbers show (written from the numbers, not fixed text)."""
    models = result.get("models", {})
    if not models:
        return []

    def name(key: str) -> str:
        return labels.get(key, key)

    wins = closest_to_real(result)
    counts = {model: sum(1 for w in wins.values() if w == model) for model in models}
    ranked = sorted(counts, key=counts.get, reverse=True)
    parts = ", ".join(f"{name(m)} {counts[m]}" for m in ranked)
    sentences = [f"Closest to the held-out chorales on {len(wins)} metrics: {parts}."]
    c2st = {m: _value(models[m]["generated"], "c2st_accuracy") for m in models}
    c2st = {m: v for m, v in c2st.items() if v is not None}
    if c2st:
        hardest = min(c2st, key=lambda m: abs(c2st[m] - 0.5))
        listed = ", ".join(f"{name(m)} {v:.2f}" for m, v in c2st.items())
        easy = (
            " Every model's windows are still easy to tell from real ones."
            if min(c2st.values()) > 0.9
            else ""
        )
        sentences.append(
            f"An SVM told generated from real 4-bar windows with accuracy {listed} "
            f"(0.5 = indistinguishable); {name(hardest)} was the hardest to tell apart.{easy}"
        )
    copies = {m: _value(models[m]["generated"], "copy_rate") or 0.0 for m in models}
    if any(copies.values()):
        listed = ", ".join(f"{name(m)} {v:.1%}" for m, v in copies.items())
        sentences.append(f"Exact copies of training windows: {listed}.")
    if "lstm_gan" in models and wins:
        best = [m for m in models if counts[m] == max(counts.values())]
        if best == ["lstm_gan"]:
            sentences.append(
                "On these metrics the data supports the seed's claim that the LSTM GAN is the better choice."
            )
        else:
            leader = " and ".join(name(m) for m in best)
            sentences.append(
                "On these metrics the data does not support the seed's claim that the LSTM GAN is the "
                f"better choice: most often closest to the real chorales is {leader}."
            )
    return sentences


def markdown(result: dict, labels: dict[str, str] | None = None, row: str = "generated") -> str:
    """The comparison as a Markdown table (metrics as rows, real then the models as columns)."""
    models = list(result.get("models", {}))
    labels = labels or {}
    head = "| metric | real chorales (held out) | " + " | ".join(labels.get(m, m) for m in models) + " |"
    lines = [head, "|---|" + "---:|" * (len(models) + 1)]
    for entry in table_rows(result, row):
        cells = [format_value(entry["real"])] + [format_value(entry[m]) for m in models]
        lines.append(f"| {entry['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

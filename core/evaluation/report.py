"""Evaluation results in words: plain metric names, what each measures, and the Markdown tables of the
command line and the README.

Theory metrics take their names and meanings from the catalogue (:mod:`core.music.metric_catalog`);
the distribution measures and the set measures are named here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from core.evaluation.evaluate import ROW_ORDER, TABLE_METRICS
from core.music import metrics
from core.music.metric_catalog import THEORY_METRIC_NAMES, THEORY_METRICS

COLUMN_NAMES = {
    "real": "real chorales (held out)",
    "real_pieces": "real whole pieces",
    "generated": "generated",
    "generated_own_voices": "generated (model's own voices)",
    "top_k": "SVM top picks",
    "random_pick": "random picks",
    "random_roll": "baseline: random cells",
    "shuffled_real": "baseline: shuffled real",
}
PLAIN_NAMES = {
    **{metric.name: metric.label for metric in THEORY_METRICS},
    "pitch_range": "pitch range (semitones)",
    "n_pitches_used": "different pitches used",
    "n_pitch_classes_used": "different note names used",
    "polyphony": "notes sounding together",
    "polyphony_rate": "steps with more than one note",
    "scale_consistency": "notes inside one major/minor scale",
    "pitch_entropy": "variety of pitches (bits)",
    "pitch_class_entropy": "variety of note names (bits)",
    "empty_beat_rate": "silent beats",
    "groove_consistency": "bars with the same rhythm",
    "empty_bar_rate": "silent bars",
    "used_pitch_classes_per_bar": "note names per bar",
    "qualified_note_rate": "notes long enough to hear",
    "simultaneous_onset_rate": "notes that start together",
    "repetition_rate": "melody patterns heard before",
    "mgeval_overlap": "overlap with real music (1 = same)",
    "mgeval_kl": "difference from real music (0 = same)",
    "c2st_accuracy": "a classifier tells it from real (0.5 = cannot)",
    "c2st_theory_accuracy": "same, the classifier also sees the theory metrics",
    "ranker_score": "SVM score (higher = more like real)",
    "ranker_grade": "chorale-likeness grade (0–100)",
    "nearest_train_distance": "distance to the nearest training window (0 = copy)",
    "copy_rate": "copies of training windows",
    "n_rolls": "pieces measured",
}
"""What a student reads in the tables instead of the code's identifiers."""
SET_MEANINGS = {
    "mgeval_overlap": "Overlap of its feature-distance distributions with real music (1 = the same).",
    "mgeval_kl": "KL divergence of those distributions from real music (0 = the same).",
    "c2st_accuracy": "How often an SVM classifier tells it from real music, on the 44 roll features of the "
    "ranker (0.5 = cannot tell).",
    "c2st_theory_accuracy": "The same test when the classifier also sees the music-theory metrics.",
    "ranker_score": "Mean decision value of the shipped SVM ranker (higher = more like the real music).",
    "ranker_grade": "Mean percentile of the SVM score among real held-out chorale windows (real ≈ 50).",
    "nearest_train_distance": "Jaccard distance of its notes to the closest training window (0 = a copy).",
    "copy_rate": "Share of pieces that copy a training window exactly.",
    "n_rolls": "Pieces in the set.",
}
_CATALOG = {metric.name: metric for metric in THEORY_METRICS}
MUSICIAN_METRICS = tuple(name for name in TABLE_METRICS if name in THEORY_METRIC_NAMES)
"""The table's music-theory rows: what a musician hears."""
STATISTICS_METRICS = tuple(name for name in TABLE_METRICS if name not in THEORY_METRIC_NAMES)
"""The table's other rows: distribution measures, two-sample tests, the ranker, memorisation."""


def plain_name(name: str) -> str:
    """The metric's name in words (the identifier itself when none is known)."""
    return PLAIN_NAMES.get(name, name.replace("_", " "))


def metric_meaning(name: str) -> str:
    """One line on what a metric measures (theory: the catalogue's meaning, unit and source)."""
    if name in _CATALOG:
        metric = _CATALOG[name]
        return f"{metric.meaning[0].upper()}{metric.meaning[1:]} ({metric.unit}; {metric.source})."
    if name in SET_MEANINGS:
        return SET_MEANINGS[name]
    function = getattr(metrics, name, None)
    doc = (function.__doc__ or "").strip().splitlines() if function else []
    return doc[0].replace("``", "") if doc else ""


def format_value(value: object) -> str:
    """Three significant digits (whole numbers from 100 up); "–" for a missing or undefined value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def present_rows(result: dict[str, object]) -> list[str]:
    """The sets present in ``result``, in ``ROW_ORDER``."""
    return [r for r in ROW_ORDER if isinstance(result.get(r), dict)]


def markdown_table(result: dict[str, object], names: Sequence[str] | None = None) -> str:
    """Metrics as rows (plain names), sets as columns (the rows present in ``result``)."""
    rows = present_rows(result)
    names = names or TABLE_METRICS
    head = "| metric | " + " | ".join(COLUMN_NAMES.get(r, r) for r in rows) + " |"
    lines = [head, "|---|" + "---:|" * len(rows)]
    for name in names:
        cells = [format_value(result[r].get(name)) for r in rows]
        lines.append(f"| {plain_name(name)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def picks_sentences(picks: dict) -> list[str]:
    """The SVM's picks against random picks of the same candidates, in a few sentences."""
    if not picks:
        return []
    difference = picks["c2st_difference"]
    verdict = "meets" if difference >= 0.03 else "misses"
    lines = [
        f"Two-sample accuracy of the SVM's picks {picks['c2st_top_k']:.3f} vs random picks "
        f"{picks['c2st_random_picks']:.3f} ± {picks['c2st_random_picks_sd']:.3f} over "
        f"{picks['draws']} draws: {difference:+.3f} lower ({verdict} the 0.03 target)."
    ]
    for name, values in picks["theory"].items():
        closer = "closer to" if values["picks_closer"] else "NOT closer to"
        lines.append(
            f"{plain_name(name)}: picks {values['top_k']:.3g}, random {values['random_picks']:.3g}, "
            f"real {values['real']:.3g} (picks {closer} real)."
        )
    silent = picks["silent_first_beat"]
    lines.append(
        f"Pieces opening with a silent beat: {silent['top_k']:.1%} of the picks, "
        f"{silent['candidates']:.1%} of all candidates."
    )
    return lines


def table_records(result: dict[str, object], names: Sequence[str]) -> list[dict[str, str]]:
    """Rows for a page's table: ``measure`` (plain name), then one formatted cell per set ("–" when
    empty); metrics no set has are left out."""
    rows = present_rows(result)
    records = []
    for name in names:
        if any(name in result[r] for r in rows):
            cells = {COLUMN_NAMES.get(r, r): format_value(result[r].get(name)) for r in rows}
            records.append({"measure": plain_name(name), **cells})
    return records


def glossary(names: Sequence[str]) -> list[tuple[str, str]]:
    """``(plain name, what it measures)`` per metric, for a glossary under a table."""
    return [(plain_name(name), metric_meaning(name)) for name in names]

"""Evaluation results as text: the Markdown table of the command line and the README."""

from __future__ import annotations

import math
from collections.abc import Sequence

from core.evaluation.evaluate import ROW_ORDER, TABLE_METRICS
from core.music import metrics

COLUMN_NAMES = {
    "real": "real (held out)",
    "real_pieces": "real whole pieces",
    "generated": "generated",
    "top_k": "SVM top picks",
    "random_pick": "random picks",
    "random_roll": "baseline: random cells",
    "shuffled_real": "baseline: shuffled real",
}
SET_MEANINGS = {
    "mgeval_overlap": "Overlap of its feature-distance distributions with real music (1 = the same).",
    "mgeval_kl": "KL divergence of those distributions from real music (0 = the same).",
    "c2st_accuracy": "How often a classifier tells it from real music (0.5 = cannot tell).",
    "ranker_score": "Mean SVM score (higher = more like the real music).",
    "copy_rate": "Share of pieces that copy a training window exactly.",
    "n_rolls": "Pieces in the set.",
}


def metric_meaning(name: str) -> str:
    """One line on what a table row measures (from the metric's docstring where it has one)."""
    if name in SET_MEANINGS:
        return SET_MEANINGS[name]
    function = getattr(metrics, name, None)
    doc = (function.__doc__ or "").strip().splitlines() if function else []
    return doc[0].replace("``", "") if doc else ""


def markdown_table(result: dict[str, object], names: Sequence[str] | None = None) -> str:
    """Metrics as rows, sets as columns (the rows present in ``result``, in ``ROW_ORDER``)."""
    rows = [r for r in ROW_ORDER if isinstance(result.get(r), dict)]
    names = names or TABLE_METRICS
    lines = ["| metric | " + " | ".join(rows) + " |", "|---|" + "---:|" * len(rows)]
    for name in names:
        cells = [_format(result[r].get(name, math.nan)) for r in rows]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _format(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"

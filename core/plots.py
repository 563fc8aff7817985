"""Plotly figures for the app: piano-rolls, corpus statistics, training curves, SVM scores, evaluations.

Every figure has a title, axis titles with units and hover text written for people. Plotly only: the
pages hand the figures to ``st.plotly_chart``; the CLI tools could write them with ``fig.write_html``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.data import CorpusStats
from core.music.pianoroll import PianoRoll
from core.music.theory import PITCH_NAMES, note_name
from core.music.voices import VOICE_NAMES, Voices

REAL_COLOR = "#1f77b4"
GENERATED_COLOR = "#ff7f0e"
PLAIN_COLOR = "#9aa5b1"
BEST_COLOR = "#d62728"
ROLL_COLORS = ("#f4f6fa", "#74a9cf", "#08306b")
"""Silent, held, note starts: onsets are the darkest cells."""
ROLL_STATES = ("silent", "held", "note starts")
PHASE_LABELS = {"mle": "pretraining (MLE)", "gan": "adversarial"}
FEW_POINTS = 12
"""Training curves with fewer points than this are drawn with dots as well as lines."""
FONT_SIZE = 15
"""Large enough to read on a projector."""


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, **extra: object) -> go.Figure:
    fig.update_layout(
        title={"text": html.escape(title)},  # names in titles may come from uploads: no markup
        xaxis_title=x_title,
        yaxis_title=y_title,
        font={"size": FONT_SIZE},
        margin={"l": 70, "r": 20, "t": 60, "b": 60},
        **extra,
    )
    return fig


BAR_LINE = {"color": "#5b6770", "width": 1}
"""Thin grey lines between bars."""


def _add_vertical_lines(
    fig: go.Figure, xs: Sequence[float], line: Mapping[str, object], axes: Sequence[str] = ("",)
) -> None:
    """Full-height lines at ``xs`` on each subplot of ``axes`` ("" for x/y, "2" for x2/y2), in one update.

    One ``add_vline`` per line copies the layout each time: quadratic (minutes for a 512-bar piece).
    """
    span = {"type": "line", "y0": 0, "y1": 1, "line": line}
    lines = [
        {**span, "xref": f"x{a}", "yref": f"y{a} domain", "x0": x, "x1": x}
        for a in axes
        for x in map(float, xs)
    ]
    fig.update_layout(shapes=[*fig.layout.shapes, *lines])


# --- piano-roll --------------------------------------------------------------------------------------


def _shown_pitches(roll: PianoRoll, margin: int = 2, minimum: int = 13) -> np.ndarray:
    """Column indices to draw: the used pitches plus a margin, at least ``minimum`` of them."""
    used = np.flatnonzero(roll.active.any(axis=0))
    n = roll.spec.n_pitches
    if used.size == 0:
        return np.arange(n)
    low, high = max(int(used[0]) - margin, 0), min(int(used[-1]) + margin, n - 1)
    while high - low + 1 < min(minimum, n):
        low, high = max(low - 1, 0), min(high + 1, n - 1)
    return np.arange(low, high + 1)


def _step_labels(roll: PianoRoll) -> list[str]:
    """One label per time step, e.g. ``bar 2, beat 3.5`` (the x categories and their hover text)."""
    steps = np.arange(roll.n_steps)
    bars = steps // roll.steps_per_bar + 1
    beats = (steps % roll.steps_per_bar) / roll.spec.steps_per_beat + 1
    return [f"bar {bar}, beat {beat:g}" for bar, beat in zip(bars.tolist(), beats.tolist(), strict=True)]


def piano_roll_figure(roll: PianoRoll, title: str = "") -> go.Figure:
    """Heatmap of a roll: time in bars across, note names up; held cells light, note starts dark.

    Only the pitch range the piece uses (plus a margin) is drawn; thin lines mark the bars.
    """
    columns = _shown_pitches(roll)
    names = [note_name(p) for p in columns + roll.spec.lowest_pitch]
    z = (roll.active.astype(np.int8) + (roll.onset & roll.active)).T[columns]
    steps = _step_labels(roll)
    colorscale = [[0.0, ROLL_COLORS[0]], [0.33, ROLL_COLORS[0]], [0.34, ROLL_COLORS[1]]]
    colorscale += [[0.66, ROLL_COLORS[1]], [0.67, ROLL_COLORS[2]], [1.0, ROLL_COLORS[2]]]
    heatmap = go.Heatmap(
        z=z,
        x=steps,
        y=names,
        hovertemplate="%{y}, %{x}<extra></extra>",
        zmin=0,
        zmax=2,
        colorscale=colorscale,
        colorbar={"tickvals": [1 / 3, 1, 5 / 3], "ticktext": list(ROLL_STATES), "thickness": 14},
        ygap=1,
    )
    fig = go.Figure(heatmap)
    bar_starts = list(range(0, roll.n_steps, roll.steps_per_bar))
    _add_vertical_lines(fig, [start - 0.5 for start in bar_starts[1:]], BAR_LINE)
    fig.update_xaxes(
        type="category",
        tickvals=[steps[i] for i in bar_starts],
        ticktext=[str(i // roll.steps_per_bar + 1) for i in bar_starts],
        range=[-0.5, roll.n_steps - 0.5],
    )
    octaves = [name for name in names if name.startswith("C") and not name.startswith("C#")]
    fig.update_yaxes(type="category", tickvals=octaves, ticktext=octaves)
    meter = f"{roll.beats_per_bar} beats a bar, {roll.tempo_bpm:g} beats per minute"
    return _layout(fig, title or f"Piano-roll ({meter})", "time (bars)", "pitch (note name)", height=420)


VOICE_COLORS = ("#d62728", "#2ca02c", "#1f77b4", "#6a3d9a")
"""Soprano red, alto green, tenor blue, bass purple."""


def voices_figure(voices: Voices, title: str = "") -> go.Figure:
    """The four voices as coloured note bars (soprano, alto, tenor, bass), time in bars across, pitch up;
    dotted lines mark the phrase ends (fermatas). A small gap separates a repeated note from a held one."""
    fig = go.Figure()
    notes = voices.notes()
    bar = voices.steps_per_bar
    for voice, (name, color) in enumerate(zip(VOICE_NAMES, VOICE_COLORS, strict=True)):
        own = notes[notes["voice"] == voice]
        starts = (own["start"] - voices.bar_offset) / bar + 1
        ends = (own["end"] - voices.bar_offset - 0.15) / bar + 1
        x = np.column_stack([starts, ends, np.full(len(own), np.nan)]).ravel()
        y = np.repeat(own["pitch"].astype(float), 3)
        y[2::3] = np.nan
        words = [
            f"{name}: {note_name(int(p))}, bar {s:.2f}" for p, s in zip(own["pitch"], starts, strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=name,
                line={"color": color, "width": 7},
                text=np.repeat(words, 3),
                hovertemplate="%{text}<extra></extra>",
            )
        )
    phrase_ends = (np.flatnonzero(voices.phrase_end) - voices.bar_offset) / bar + 1
    _add_vertical_lines(fig, phrase_ends.tolist(), {"color": BAR_LINE["color"], "dash": "dot"})
    sung = voices.pitch[voices.pitch >= 0]
    low, high = (int(sung.min()), int(sung.max())) if sung.size else (48, 72)
    octaves = list(range((low // 12) * 12, high + 1, 12))
    fig.update_yaxes(tickvals=octaves, ticktext=[note_name(p) for p in octaves], range=[low - 2, high + 2])
    fig.update_xaxes(
        dtick=1, range=[1 - voices.bar_offset / bar, (voices.n_steps - voices.bar_offset) / bar + 1]
    )
    heading = title or f"Four voices in {voices.key_name} (dotted lines: phrase ends)"
    return _layout(fig, heading, "time (bars)", "pitch (note name)", height=420, legend={"orientation": "h"})


# --- corpus statistics -------------------------------------------------------------------------------


def pitch_histogram_figure(stats: CorpusStats) -> go.Figure:
    """Notes starting on each MIDI pitch."""
    pitches = sorted(stats.pitch_histogram)
    counts = [stats.pitch_histogram[p] for p in pitches]
    names = [note_name(p) for p in pitches]
    bars = go.Bar(
        x=pitches,
        y=counts,
        customdata=names,
        marker_color=REAL_COLOR,
        hovertemplate="%{customdata} (MIDI %{x}): %{y:,} notes<extra></extra>",
    )
    fig = go.Figure(bars)
    c_pitches = [p for p in range(min(pitches, default=0), max(pitches, default=0) + 1) if p % 12 == 0]
    fig.update_xaxes(tickvals=c_pitches, ticktext=[note_name(p) for p in c_pitches])
    return _layout(fig, "Which pitches the notes use", "pitch (note name)", "notes (count)")


def pitch_class_figure(stats: CorpusStats) -> go.Figure:
    """Share of sounding time per pitch class, C to B."""
    shares = [100.0 * share for share in stats.pitch_class_histogram]
    bars = go.Bar(
        x=list(PITCH_NAMES),
        y=shares,
        marker_color=REAL_COLOR,
        hovertemplate="%{x}: %{y:.1f}% of the sounding time<extra></extra>",
    )
    return _layout(
        go.Figure(bars), "Pitch classes (all octaves together)", "pitch class", "sounding time (%)"
    )


def polyphony_figure(stats: CorpusStats) -> go.Figure:
    """Share of time steps with 0, 1, 2, ... notes sounding at once."""
    counts = stats.polyphony_histogram
    total = max(sum(counts.values()), 1)
    voices = sorted(counts)
    bars = go.Bar(
        x=voices,
        y=[100.0 * counts[v] / total for v in voices],
        marker_color=REAL_COLOR,
        hovertemplate="%{x} notes at once: %{y:.1f}% of the time steps<extra></extra>",
    )
    fig = go.Figure(bars)
    fig.update_xaxes(dtick=1)
    title = f"Notes sounding at once (mean {stats.mean_polyphony:.2f})"
    return _layout(fig, title, "notes sounding together (count)", "time steps (%)")


def note_length_figure(stats: CorpusStats, steps_per_beat: int = 4) -> go.Figure:
    """Notes per length in beats; only lengths that occur, evenly spaced, so rare long ones stay visible."""
    lengths = sorted(stats.note_length_histogram)
    labels = [f"{length / steps_per_beat:g}" for length in lengths]
    bars = go.Bar(
        x=labels,
        y=[stats.note_length_histogram[length] for length in lengths],
        customdata=lengths,
        marker_color=REAL_COLOR,
        hovertemplate="%{x} beats (%{customdata} steps): %{y:,} notes<extra></extra>",
    )
    fig = go.Figure(bars)
    fig.update_xaxes(type="category")
    title = f"Note lengths (mean {stats.mean_note_length / steps_per_beat:.2f} beats)"
    return _layout(fig, title, "note length (beats)", "notes (count)")


def key_figure(stats: CorpusStats, top: int = 24) -> go.Figure:
    """Pieces per estimated key, the most common on top."""
    keys = list(stats.keys.items())[:top][::-1]
    bars = go.Bar(
        x=[count for _, count in keys],
        y=[key for key, _ in keys],
        orientation="h",
        marker_color=REAL_COLOR,
        hovertemplate="%{y}: %{x} pieces<extra></extra>",
    )
    height = max(320, 22 * len(keys) + 120)
    return _layout(go.Figure(bars), "Estimated keys", "pieces (count)", "key", height=height)


def length_figure(stats: CorpusStats) -> go.Figure:
    """Histogram of piece lengths in bars."""
    histogram = go.Histogram(
        x=stats.bars,
        marker_color=REAL_COLOR,
        hovertemplate="%{x} bars: %{y} pieces<extra></extra>",
    )
    mean = float(np.mean(stats.bars)) if stats.bars else 0.0
    return _layout(
        go.Figure(histogram), f"Piece lengths (mean {mean:.1f} bars)", "length (bars)", "pieces (count)"
    )


# --- training, ranking, evaluation -------------------------------------------------------------------


def _phase_changes(records: Sequence[dict]) -> list[tuple[float, str]]:
    """(step, new phase) wherever a record's ``phase`` differs from the previous record's."""
    changes, previous = [], None
    for record in records:
        phase = record.get("phase")
        if phase is not None and previous is not None and phase != previous and "step" in record:
            changes.append((float(record["step"]), str(phase)))
        previous = phase if phase is not None else previous
    return changes


def training_curves_figure(
    records: list[dict], keys: list[str], title: str, y_label: str, names: Mapping[str, str] | None = None
) -> go.Figure:
    """One line per key over the training step (named ``names[key]``); a dashed line where the phase changes.

    A series of fewer than :data:`FEW_POINTS` points is drawn as dots too, so a single point is visible.
    """
    fig = go.Figure()
    for key in keys:
        points = [(r["step"], r[key]) for r in records if "step" in r and _is_number(r.get(key))]
        name = html.escape((names or {}).get(key, key))
        fig.add_trace(
            go.Scatter(
                x=[step for step, _ in points],
                y=[value for _, value in points],
                mode="lines+markers" if len(points) < FEW_POINTS else "lines",
                name=name,
                hovertemplate=f"{name}<br>step %{{x:,}}: %{{y:.4g}}<extra></extra>",
            )
        )
    for step, phase in _phase_changes(records):
        label = f"{PHASE_LABELS.get(phase, phase)} starts"
        fig.add_vline(x=step, line={"dash": "dash", "color": "#444"}, annotation_text=label)
    return _layout(fig, title, "training step", y_label, hovermode="x unified")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


def scores_bar_figure(names: Sequence[str], scores: Sequence[float], best_index: int) -> go.Figure:
    """SVM score per piece; the best piece in red."""
    colors = [BEST_COLOR if i == best_index else PLAIN_COLOR for i in range(len(names))]
    labels = ["best" if i == best_index else "" for i in range(len(names))]
    bars = go.Bar(
        x=list(names),
        y=list(scores),
        marker_color=colors,
        text=labels,
        textposition="outside",
        hovertemplate="%{x}: score %{y:+.3f}<extra></extra>",
    )
    y_title = "SVM score (higher = more like the real music)"
    return _layout(go.Figure(bars), "How real each piece looks to the SVM", "piece", y_title)


def distribution_comparison_figure(
    real: np.ndarray, generated: np.ndarray, metric_name: str, unit: str = "", bins: int = 30
) -> go.Figure:
    """Overlaid histograms (share of pieces per bin) of one metric for real and generated pieces."""
    real = _finite(real)
    generated = _finite(generated)
    both = np.concatenate([real, generated])
    edges = np.histogram_bin_edges(both, bins=bins) if both.size else np.linspace(0.0, 1.0, bins + 1)
    fig = go.Figure()
    for name, values, color in (("real", real, REAL_COLOR), ("generated", generated, GENERATED_COLOR)):
        counts, _ = np.histogram(values, bins=edges)
        shares = 100.0 * counts / max(values.size, 1)
        fig.add_trace(
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2,
                y=shares,
                width=np.diff(edges),
                name=f"{name} (mean {values.mean():.3g})" if values.size else name,
                marker_color=color,
                opacity=0.6,
                hovertemplate=f"{name}<br>%{{x:.3g}}: %{{y:.1f}}% of the pieces<extra></extra>",
            )
        )
    x_title = f"{metric_name} ({unit})" if unit else metric_name
    return _layout(fig, f"{metric_name}: real vs generated", x_title, "pieces (%)", barmode="overlay")


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).ravel()
    return values[np.isfinite(values)]


# --- the discriminator, step by step and as a critic; the listening test -----------------------------


def critic_figure(roll: PianoRoll, per_step: np.ndarray, probability: float, title: str = "") -> go.Figure:
    """The piano-roll with the discriminator's opinion under it: what each step added to D's verdict
    (:mod:`core.models.critic`; blue pushes toward "real", orange toward "generated")."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.05)
    roll_trace = piano_roll_figure(roll).data[0]
    roll_trace.colorbar.update(len=0.62, y=0.69)
    fig.add_trace(roll_trace, row=1, col=1)
    values = np.asarray(per_step, dtype=np.float64)
    colors = [REAL_COLOR if value >= 0 else GENERATED_COLOR for value in values]
    template = "%{x}: %{y:+.3f} toward “real”<extra></extra>"
    labels = _step_labels(roll)
    bars = go.Bar(x=labels, y=values, marker_color=colors, hovertemplate=template)
    fig.add_trace(bars, row=2, col=1)
    starts = list(range(0, roll.n_steps, roll.steps_per_bar))
    _add_vertical_lines(fig, [start - 0.5 for start in starts[1:]], BAR_LINE, axes=("", "2"))
    fig.update_xaxes(type="category", tickvals=[labels[i] for i in starts])
    bar_numbers = [str(i // roll.steps_per_bar + 1) for i in starts]
    fig.update_xaxes(ticktext=bar_numbers, title_text="time (bars)", row=2)
    octaves = [name for name in roll_trace.y if name.startswith("C") and not name.startswith("C#")]
    fig.update_yaxes(title_text="pitch", type="category", tickvals=octaves, ticktext=octaves, row=1, col=1)
    fig.update_yaxes(title_text="logit per step", row=2, col=1)
    verdict = f"D(x) = {probability:.2f}: the discriminator's probability that this is real music"
    return _layout(fig, title or verdict, "", "", height=560, showlegend=False, bargap=0.05)


def discriminator_dots_figure(d_real: Sequence[float], d_fake: Sequence[float]) -> go.Figure:
    """D(x) of every real window and D(G(z)) of every generated piece as dots on a 0–1 axis; ◆ = mean."""
    fig = go.Figure()
    for name, values, color in (("real windows: D(x)", d_real, REAL_COLOR),
                                ("generated: D(G(z))", d_fake, GENERATED_COLOR)):  # fmt: skip
        values = np.asarray(values, dtype=np.float64)
        fig.add_trace(go.Scatter(
            x=values, y=[name] * len(values), mode="markers", name=name, marker={"color": color, "size": 12},
            opacity=0.7, hovertemplate="%{x:.3f}<extra>" + name + "</extra>",
        ))  # fmt: skip
        fig.add_trace(go.Scatter(
            x=[values.mean()], y=[name], mode="markers", showlegend=False, hovertemplate="mean %{x:.3f}",
            marker={"color": color, "size": 20, "symbol": "diamond", "line": {"width": 2, "color": "#222"}},
        ))  # fmt: skip
    fig.add_vline(x=0.5, line={"dash": "dot", "color": "#444"}, annotation_text="undecided")
    fig.update_xaxes(range=[-0.02, 1.02])
    title = "What the discriminator says about each sample"
    return _layout(fig, title, "D's probability that the sample is real", "", height=300, showlegend=False)


def lab_history_figure(actions: Sequence[str], d_real: Sequence[float], d_fake: Sequence[float]) -> go.Figure:
    """Mean D(x) and mean D(G(z)) after each action of the step-by-step view."""
    fig = go.Figure()
    x = list(range(len(actions)))
    for name, values, color in (("mean D(x)", d_real, REAL_COLOR), ("mean D(G(z))", d_fake, GENERATED_COLOR)):
        fig.add_trace(go.Scatter(
            x=x, y=list(values), customdata=list(actions), mode="lines+markers", name=name,
            line={"color": color}, hovertemplate="after %{customdata}: %{y:.3f}<extra>" + name + "</extra>",
        ))  # fmt: skip
    fig.update_yaxes(range=[0, 1])
    fig.update_xaxes(dtick=1)
    return _layout(fig, "The two players so far", "action (count)", "probability", height=320)


def share_correct_figure(rows: Sequence[tuple[str, int, int, float, float]], title: str) -> go.Figure:
    """Share correct with its 95 % interval per row ``(label, correct, total, low, high)``, and the 50 %
    line of guessing."""
    labels = [label for label, *_ in rows][::-1]
    shares = [100 * correct / total if total else None for _, correct, total, _, _ in rows][::-1]
    low = [100 * lo for *_, lo, _ in rows][::-1]
    high = [100 * hi for *_, hi in rows][::-1]
    counts = [f"{correct} of {total}" for _, correct, total, _, _ in rows][::-1]
    error = {"type": "data", "symmetric": False, "thickness": 2, "width": 8,
             "array": [h - (s or 0) for h, s in zip(high, shares, strict=True)],
             "arrayminus": [(s or 0) - lo for lo, s in zip(low, shares, strict=True)]}  # fmt: skip
    points = go.Scatter(
        x=shares, y=labels, customdata=counts, mode="markers", error_x=error,
        marker={"size": 14, "color": REAL_COLOR},
        hovertemplate="%{y}: %{x:.0f} % (%{customdata})<extra></extra>",
    )  # fmt: skip
    fig = go.Figure(points)
    fig.add_vline(x=50, line={"dash": "dash", "color": BEST_COLOR}, annotation_text="guessing (50 %)")
    fig.update_xaxes(range=[0, 100])
    height = max(260, 50 * len(rows) + 140)
    return _layout(fig, title, "answers that found the real Bach (%, with 95 % interval)", "", height=height)

"""Evaluate: how close the active generator's music is to real chorales, and whether the SVM picks help."""

import math
import pickle
from pathlib import Path

import streamlit as st

from core import jobs, plots
from core.device import use_serving_threads
from core.evaluate import (
    ROW_ORDER,
    TABLE_METRICS,
    EvalConfig,
    RealData,
    corpus_real_data,
    evaluate_checkpoint,
)
from core.music import metrics

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SIZES = (64, 128, 256, 512)
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
PLOTTED = (
    ("ranker_score", "SVM score", "decision value", "The SVM's verdict: real music scores high."),
    ("polyphony", "polyphony", "notes at once", "How many notes sound together (chorales: about 4)."),
    ("pitch_range", "pitch range", "semitones", "Distance from the lowest to the highest note."),
    ("scale_consistency", "scale consistency", "share of notes", "How well the notes fit one key's scale."),
)


def metric_meaning(name: str) -> str:
    """One line on what a table row measures (from the metric's docstring where it has one)."""
    if name in SET_MEANINGS:
        return SET_MEANINGS[name]
    function = getattr(metrics, name, None)
    doc = (function.__doc__ or "").strip().splitlines() if function else []
    return doc[0].replace("``", "") if doc else ""


def checkpoint_stamp(path: Path) -> float:
    """Latest modification time of a checkpoint file or of the files in a checkpoint folder."""
    files = [p for p in path.iterdir() if p.is_file()] if path.is_dir() else [path]
    return max((p.stat().st_mtime for p in files), default=0.0)


def describe_checkpoint(path: Path) -> str:
    """A checkpoint as the page shows it (relative to the project or the runs folder, never a full path)."""
    for root, prefix in ((jobs.runs_root(), "run "), (REPO_ROOT, "")):
        try:
            return prefix + path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return path.name


@st.cache_resource(show_spinner=False)
def real_data() -> RealData:
    """Training and held-out windows of the bundled chorales (loaded once per server)."""
    return corpus_real_data()


@st.cache_data(show_spinner=False, max_entries=16)
def cached_evaluation(checkpoint: str, modified: float, n: int, seed: int) -> dict:
    """The evaluation, cached by checkpoint path, its modification time and the settings."""
    use_serving_threads()
    return evaluate_checkpoint(Path(checkpoint), EvalConfig(n=n, seed=seed), real=real_data())


def table_of(result: dict) -> dict[str, list]:
    """Columns for ``st.dataframe``: metric, one column per evaluated set, what the metric means."""
    sets = [name for name in ROW_ORDER if isinstance(result.get(name), dict)]
    names = [name for name in TABLE_METRICS if any(name in result[s] for s in sets)]
    table: dict[str, list] = {"metric": names}
    for name in sets:
        table[COLUMN_NAMES.get(name, name)] = [_number(result[name].get(metric)) for metric in names]
    table["what it measures"] = [metric_meaning(name) for name in names]
    return table


def _number(value: object) -> float | None:
    """Three significant digits, ``None`` (an empty cell) for a missing or undefined value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(f"{float(value):.3g}")


def show_results(evaluation: dict) -> None:
    result = evaluation["result"]
    st.subheader("Results")
    meaning = st.column_config.TextColumn("what it measures", width="large")
    st.dataframe(
        table_of(result),
        hide_index=True,
        width="stretch",
        height="content",
        column_config={
            "metric": st.column_config.TextColumn("metric", pinned=True),
            "what it measures": meaning,
        },
    )
    st.caption(
        "Columns: held-out real windows; generated pieces; the SVM's top picks and as many random picks from "
        "the same candidates; two baselines (random cells at the real density, real windows with their time "
        f"steps shuffled). Computed in {result['settings']['seconds']:.1f} s."
    )
    accuracy, p_value = result["c2st_accuracy"], result["c2st_p_value"]
    st.info(
        f"**Two-sample test.** A classifier trained to tell generated pieces from held-out real ones was "
        f"right {accuracy:.0%} of the time on pieces it had not seen (50% would mean it cannot tell them "
        f"apart). The p-value, {p_value:.2g}, is the chance of doing at least this well by guessing: "
        "below 0.05, the generated music is measurably different from the real."
    )
    show_distributions(evaluation["values"])


def show_distributions(values: dict) -> None:
    st.subheader("Real vs generated, piece by piece")
    columns = st.columns(2)
    for index, (key, label, unit, sentence) in enumerate(PLOTTED):
        with columns[index % 2]:
            real, generated = values["real"][key], values["generated"][key]
            st.plotly_chart(plots.distribution_comparison_figure(real, generated, label, unit))
            st.caption(sentence)


def settings() -> tuple[int, int]:
    left, right = st.columns(2)
    n = left.selectbox(
        "Generated pieces", SAMPLE_SIZES, index=1, help="More pieces: steadier numbers, slower."
    )
    seed = right.number_input("Seed", min_value=0, max_value=10_000, value=0, step=1)
    return int(n), int(seed)


st.title("Evaluate")
st.write(
    "How close is the generator's music to real Bach chorales? Each column summarises a set of 4-bar "
    "pieces with the same measures; the closer a column is to the real one, the better."
)
checkpoint = jobs.active_checkpoint()
if not checkpoint.exists():
    st.info("There is no trained generator yet: train one on the Train page, then come back.")
    st.stop()
st.caption(
    f"Generator: {describe_checkpoint(checkpoint)} · compared with held-out chorales of the bundled corpus."
)
n, seed = settings()
request = (str(checkpoint), checkpoint_stamp(checkpoint), n, seed)
st.caption("Candidates are ranked in groups of 32; the SVM keeps 4 of each group, a random pick keeps 4 too.")
if st.button("Evaluate", key="evaluate", type="primary"):
    st.session_state["evaluation_request"] = request
if st.session_state.get("evaluation_request") == request:
    try:
        with st.spinner("Generating and measuring (the first time for a generator also fits its SVM)…"):
            evaluation = cached_evaluation(*request)
    except (OSError, ValueError, RuntimeError, KeyError, EOFError, pickle.UnpicklingError) as error:
        st.error(f"The evaluation failed: {error}")
        st.stop()
    show_results(evaluation)

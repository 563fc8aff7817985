"""Evaluate: how close the active generator's music is to real chorales, and whether the SVM picks help."""

import math
import pickle
from pathlib import Path

import streamlit as st

from core import plots
from core.evaluation.evaluate import ROW_ORDER, TABLE_METRICS, EvalConfig, evaluate_model
from core.evaluation.real import RealData, corpus_real_data
from core.evaluation.report import COLUMN_NAMES, metric_meaning
from core.paths import display_path
from core.studio.catalog import checkpoint_stamp
from core.studio.choices import active_checkpoint
from pages.shared.models import model_and_ranker

SAMPLE_SIZES = (64, 128, 256, 512)
PLOTTED = (
    ("ranker_score", "SVM score", "decision value", "The SVM's verdict: real music scores high."),
    ("polyphony", "polyphony", "notes at once", "How many notes sound together (chorales: about 4)."),
    ("pitch_range", "pitch range", "semitones", "Distance from the lowest to the highest note."),
    ("scale_consistency", "scale consistency", "share of notes", "How well the notes fit one key's scale."),
)


@st.cache_resource(show_spinner=False)
def real_data() -> RealData:
    """Training and held-out windows of the bundled chorales (loaded once per server)."""
    return corpus_real_data()


@st.cache_data(show_spinner=False, max_entries=16)
def cached_evaluation(checkpoint: str, modified: float, n: int, seed: int) -> dict:
    """The evaluation, cached by checkpoint path, its modification time and the settings."""
    model, ranker = model_and_ranker(Path(checkpoint))
    return evaluate_model(model, real_data(), ranker, EvalConfig(n=n, seed=seed))


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
checkpoint = active_checkpoint()
if not checkpoint.exists():
    st.info("There is no trained generator yet: train one on the Train page, then come back.")
    st.stop()
st.caption(f"Generator: {display_path(checkpoint)} · compared with held-out chorales of the bundled corpus.")
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

"""Evaluate: how close a model's music is to real chorales, as a musician and a statistician would judge."""

import pickle
from pathlib import Path

import streamlit as st

from core import plots
from core.evaluation.evaluate import EvalConfig, evaluate_model
from core.evaluation.real import RealData, corpus_real_data
from core.evaluation.report import (
    MUSICIAN_METRICS,
    STATISTICS_METRICS,
    glossary,
    picks_sentences,
    plain_name,
    table_records,
)
from core.paths import display_path
from core.studio.catalog import checkpoint_choices, checkpoint_label, checkpoint_stamp
from pages.shared import tables
from pages.shared.app import inside_the_app
from pages.shared.models import model_and_ranker

SAMPLE_SIZES = (64, 128, 256, 512)
PLOTTED = (
    ("ranker_score", "decision value", "The SVM's verdict: real music scores high."),
    ("parallel_perfects_per_bar", "per bar", "Parallel fifths and octaves, which chorale style avoids."),
    ("triad_share", "share of beats", "Beats whose notes form a major or minor chord."),
    ("sixteenth_onset_beat_share", "share of beats", "Beats made busy by notes starting on a 16th."),
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


def show_results(evaluation: dict) -> None:
    result = evaluation["result"]
    st.subheader("As a musician hears it")
    tables.measures_table(table_records(result, MUSICIAN_METRICS), key="musician-table")
    tables.glossary(glossary(MUSICIAN_METRICS))
    st.subheader("As a statistician measures it")
    tables.measures_table(table_records(result, STATISTICS_METRICS), key="statistics-table")
    tables.glossary(glossary(STATISTICS_METRICS))
    st.caption(
        "Columns: held-out real chorale passages; generated pieces; the SVM's top picks and as many random "
        "picks from the same candidates; two baselines (random notes at the real density, real passages with "
        "their time steps shuffled). Voices are read the same way in every column: the four notes of a "
        "step sorted from top to bottom, wherever exactly four sound. '–': not measurable for that set. "
        f"Computed in {result['settings']['seconds']:.1f} s."
    )
    accuracy, p_value = result["c2st_accuracy"], result["c2st_p_value"]
    st.info(
        f"**Two-sample test.** A classifier trained to tell generated pieces from held-out real ones was "
        f"right {accuracy:.0%} of the time on pieces it had not seen (50% would mean it cannot tell them "
        f"apart). The p-value, {p_value:.2g}, is the chance of doing at least this well by guessing: "
        "below 0.05, the generated music is measurably different from the real."
    )
    if result.get("picks"):
        st.markdown("**Does the SVM pick better pieces than chance?**")
        st.markdown("\n".join(f"- {line}" for line in picks_sentences(result["picks"])))
    show_distributions(evaluation["values"])


def show_distributions(values: dict) -> None:
    st.subheader("Real vs generated, piece by piece")
    columns = st.columns(2)
    for index, (key, unit, sentence) in enumerate(PLOTTED):
        with columns[index % 2]:
            real, generated = values["real"][key], values["generated"][key]
            st.plotly_chart(plots.distribution_comparison_figure(real, generated, plain_name(key), unit))
            st.caption(sentence)


def settings() -> tuple[Path, int, int]:
    checkpoint = st.selectbox(
        "Model to evaluate",
        checkpoint_choices(),
        format_func=checkpoint_label,
        key="evaluate-model",
        help="Only for you: the class's active generator is not changed. Shipped models and training runs.",
    )
    left, right = st.columns(2)
    n = left.selectbox(
        "Generated pieces", SAMPLE_SIZES, index=1, help="More pieces: steadier numbers, slower."
    )
    seed = right.number_input("Seed", min_value=0, max_value=10_000, value=0, step=1)
    return checkpoint, int(n), int(seed)


inside_the_app()  # a fresh server's first visit by address runs through the app
st.title("Evaluate")
st.write(
    "How close is a model's music to real Bach chorales? Each column summarises a set of 4-bar pieces with "
    "the same measures: first what a musician listens for (voice leading, harmony, rhythm, key), then "
    "statistics. The closer a column is to the real chorales, the better."
)
checkpoint, n, seed = settings()
if not checkpoint.exists():
    st.info("There is no trained generator yet: train one on the Train page, then come back.")
    st.stop()
st.caption(f"Model: {display_path(checkpoint)} · compared with held-out chorales of the bundled corpus.")
request = (str(checkpoint), checkpoint_stamp(checkpoint), n, seed)
st.caption("Candidates are ranked in groups of 32; the SVM keeps 4 of each group, a random pick keeps 4 too.")
if st.button("Evaluate", key="evaluate", type="primary"):
    st.session_state["evaluation_request"] = request
if st.session_state.get("evaluation_request") == request:
    try:
        with st.spinner("Generating and measuring…"):
            evaluation = cached_evaluation(*request)
    except (OSError, ValueError, RuntimeError, KeyError, EOFError, pickle.UnpicklingError) as error:
        st.error(f"The evaluation failed: {error}")
        st.stop()
    show_results(evaluation)

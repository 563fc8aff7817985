"""Compare: every model family of the registry on the same measures, real chorales and SVM."""

import streamlit as st

from core.evaluation import compare
from core.evaluation.report import format_value
from core.families import MODEL_LABELS
from pages.shared import tables
from pages.shared.app import inside_the_app

VIEWS = {
    "generated": "Every sample",
    "top_k": "The SVM's picks (best of each group)",
    "own_voices": "Each model's own voices (models that write them)",
}


def records(rows: list[dict], models: list[str], labels: dict[str, str], winners: dict) -> list[dict]:
    """Table rows: plain measure name, the real chorales, one column per model, who is closest."""
    return [
        {
            "measure": row["name"],
            "real chorales (held out)": format_value(row["real"]),
            **{labels[m]: format_value(row[m]) for m in models},
            "closest to real": labels.get(winners.get(row["metric"], ""), "–"),
        }
        for row in rows
    ]


inside_the_app()  # a fresh server's first visit by address runs through the app
st.title("Compare the models")
st.markdown(
    "The survey behind this project describes three ways to learn music from piano-rolls and argues "
    "for the third: **a next-step LSTM** that predicts each time step from the ones before "
    "(Huang & Wu 2016), **a convolutional GAN** that draws one bar at a time from noise and the "
    "previous bar (MidiNet, Yang et al. 2017), and **an LSTM-vs-LSTM GAN** (this project). Every model "
    "was trained on the same Bach chorales; below, each model's 4-bar samples are measured against "
    "held-out chorales with the same measures and ranked by the same SVM: first what a musician listens "
    "for, then statistics."
)

result = compare.load_comparison(compare.RESULTS_PATH)
if not result or not result.get("models"):
    st.info(
        "No comparison has been computed yet. Run "
        "`python -m core.compare --n 512 --json docs/baselines.json` and reload this page."
    )
    st.stop()

models = list(result["models"])
labels = {key: MODEL_LABELS.get(key, key) for key in models}
views = [v for v in VIEWS if v != "own_voices" or any("own_voices" in result["models"][m] for m in models)]
view = st.radio("Which samples", views, format_func=VIEWS.get, horizontal=True)
rows = compare.table_rows(result, view)
winners = compare.closest_to_real(result, view)
musician = [row for row in rows if row["metric"] in compare.THEORY_COLUMNS]
statistics = [row for row in rows if row["metric"] not in compare.THEORY_COLUMNS]

st.subheader("As a musician hears it")
tables.measures_table(records(musician, models, labels, winners), key="compare-musician")
tables.glossary([(row["name"], row["meaning"]) for row in musician])
st.subheader("As a statistician measures it")
tables.measures_table(records(statistics, models, labels, winners), key="compare-statistics")
tables.glossary([(row["name"], row["meaning"]) for row in statistics])

st.subheader("What it shows")
for sentence in compare.summary_sentences(result, labels):
    st.markdown(f"- {sentence}")
st.caption(
    "Look for values close to the real column, a classifier accuracy near 0.5 and a copy rate of zero "
    "(above zero means memorised training music). '–': not measurable for that model or set. Voices are "
    "read the same way for every model (the four notes of a step sorted, wherever exactly four sound). "
    "By design the models can fail in different ways: the next-step LSTM is only ever trained to predict "
    "the next step, the CNN-GAN sees one bar of context, the GAN's discriminator judges whole 4-bar "
    "windows. One training run per model and one evaluation seed: small differences are within noise. "
    "Details: docs/baselines.md and docs/evaluation.md."
)

settings = result.get("settings", {})
st.caption(
    f"{settings.get('n', '?')} samples per model, seed {settings.get('seed', '?')}; the SVM's picks keep "
    f"{settings.get('keep', '?')} of every {settings.get('candidates', '?')}; every model is ranked by the "
    f"one shipped SVM (`{settings.get('ranker', settings.get('ranker_from', '?'))}`)."
)

jsb = result.get("jsb")
if jsb:
    st.subheader("The JSB Chorales benchmark")
    st.markdown(
        "The next-step LSTM also gives a likelihood, so it can be checked against the published "
        "benchmark: negative log-likelihood per quarter-note frame on the JSB test split (lower is better)."
    )
    st.dataframe(jsb.get("table", []), hide_index=True, width="stretch")

with st.expander("Reproduce these numbers"):
    st.code(
        "python -m core.compare --n 512 --json docs/baselines.json\n"
        "python benchmarks/jsb_nll.py --checkpoint checkpoints/lstm_lm/jsb\n"
        "python -m core.evaluate --checkpoint checkpoints/lstm_lm --n 512",
        language="bash",
    )

"""Compare: the LSTM GAN, the next-step LSTM and the MidiNet-style CNN-GAN on the same metrics."""

import streamlit as st

from core.evaluation import compare
from core.families import MODEL_LABELS

st.title("Compare the three models")
st.markdown(
    "The survey behind this project describes three ways to learn music from piano-rolls and argues "
    "for the third: **a next-step LSTM** that predicts each time step from the ones before "
    "(Huang & Wu 2016), **a convolutional GAN** that draws one bar at a time from noise and the "
    "previous bar (MidiNet, Yang et al. 2017), and **an LSTM-vs-LSTM GAN** (this project). All three "
    "were trained on the same Bach chorales; below, each model's 4-bar samples are measured against "
    "held-out chorales with the same metrics and the same SVM."
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

view = st.radio(
    "Which samples",
    ["generated", "top_k"],
    format_func=lambda row: "Every sample" if row == "generated" else "The SVM's picks (best of each group)",
    horizontal=True,
)
rows = compare.table_rows(result, view)
winners = compare.closest_to_real(result, view)
table = [
    {
        "metric": row["metric"],
        "what it measures": row["meaning"],
        "real (held out)": row["real"],
        **{labels[m]: row[m] for m in models},
        "closest to real": labels.get(winners.get(row["metric"], ""), "–"),
    }
    for row in rows
]
st.dataframe(table, hide_index=True, width="stretch")

st.subheader("What it shows")
for sentence in compare.summary_sentences(result, labels):
    st.markdown(f"- {sentence}")
st.caption(
    "Look for values close to the real column, a classifier accuracy near 0.5 and a copy rate of zero "
    "(above zero means memorised training music). By design the models can fail in different ways: "
    "the next-step LSTM is only ever trained to predict the next step, the CNN-GAN sees one bar of "
    "context, the GAN's discriminator judges whole 4-bar windows. One training run per model and one "
    "evaluation seed: small differences are within noise. Details: docs/baselines.md."
)

settings = result.get("settings", {})
st.caption(
    f"{settings.get('n', '?')} samples per model, seed {settings.get('seed', '?')}; the SVM's picks keep "
    f"{settings.get('keep', '?')} of every {settings.get('candidates', '?')}; SVM and two-sample tests use "
    f"the ranker of `{settings.get('ranker_from', '?')}`."
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

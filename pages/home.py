"""Home: what the studio does and where to start."""

import streamlit as st

from core.training.context import describe_device

PIPELINE_DOT = """
digraph pipeline {
    rankdir=LR;
    node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica"];
    midi [label="MIDI files\\n(Bach chorales or yours)"];
    roll [label="Piano-rolls\\npitch × time"];
    gan [label="GAN\\nLSTM generator vs\\nLSTM discriminator"];
    cand [label="Several new\\npiano-rolls"];
    svm [label="SVM classifier\\nscores each piece"];
    best [label="Best piece\\n→ MIDI → audio"];
    midi -> roll -> gan -> cand -> svm -> best;
}
"""

st.title("GAN Music Studio")
st.write(
    "A generative adversarial network whose generator and discriminator are both LSTM networks learns "
    "from a collection of MIDI files, seen as piano-roll images (pitch × time). The generator writes "
    "several new pieces, an SVM classifier scores them and keeps the best, and the winner is turned back "
    "into MIDI and into sound you can play here."
)
st.graphviz_chart(PIPELINE_DOT)
st.subheader("The objective")
st.write("The generator G and the discriminator D play Goodfellow et al.'s (2014) minimax game:")
st.latex(
    r"\min_G \max_D \; \mathbb{E}_{x \sim p_\text{data}}[\log D(x)]"
    r" + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]"
)
st.caption(
    "D learns to tell real piano-rolls from generated ones; G learns to make D mistake its pieces for real."
)


@st.cache_resource(show_spinner=False)
def device_in_use() -> str:
    return describe_device()


st.subheader("Where to start")
st.page_link(
    "pages/dataset.py",
    label="Dataset: explore the Bach chorales or upload your own MIDI",
    icon=":material/library_music:",
)
st.page_link("pages/train.py", label="Train: watch the GAN learn, live", icon=":material/model_training:")
st.page_link(
    "pages/generate.py",
    label="Generate & rank: new pieces, scored by the SVM, played here",
    icon=":material/piano:",
)
st.page_link(
    "pages/evaluate.py",
    label="Evaluate: how close is the music to the real thing?",
    icon=":material/analytics:",
)
st.page_link(
    "pages/compare.py",
    label="Compare: the GAN against the survey's other models",
    icon=":material/compare_arrows:",
)
st.caption(f"Compute device on this server: {device_in_use()}.")

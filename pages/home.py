"""Home: what the studio does and where to start."""

import streamlit as st

from core.studio import storage
from core.training.context import describe_device
from pages.shared.app import inside_the_app

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

inside_the_app()  # a fresh server's first visit by address runs through the app
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
st.markdown(
    "- **x ~ p_data**: a real piece x, drawn from the corpus; **z ~ p_z**: a handful of random numbers z, "
    "drawn from a normal distribution p_z; **G(z)**: the piece the generator writes from them.\n"
    "- **D(x)** and **D(G(z))**: the probability the discriminator gives that a real and a generated piece "
    "are real; **E[…]**: the average over many pieces; **log**: the natural logarithm.\n"
    "- D learns to tell real piano-rolls from generated ones (it pushes the sum up); G learns to make D "
    "mistake its pieces for real (it pushes the second term down)."
)
st.caption(
    "In practice G maximises log D(G(z)) instead of minimising log(1 − D(G(z))), the **non-saturating** "
    "loss of the same paper: it learns faster while D still wins easily. The shipped model was trained "
    "this way, after a pretraining phase of imitation. Every symbol is also in the Glossary."
)


@st.cache_resource(show_spinner=False)
def device_in_use() -> str:
    return describe_device()


st.subheader("Where to start")
st.write(
    "A model trained on the Bach chorales ships with the studio, so you can go **straight to Generate & "
    "rank** and hear new pieces now; training your own is optional. A second shipped model sings in four "
    "voices (soprano, alto, tenor, bass): pick it on Generate & rank to write chorale phrases in a key of "
    "your choice, harmonise a melody, or continue a piece."
)
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
st.page_link(
    "pages/listening.py",
    label="Bach or bot?: a listening test for the class, with live results",
    icon=":material/hearing:",
)
st.page_link(
    "pages/gan_lab.py",
    label="GAN Lab: step the discriminator and the generator by hand",
    icon=":material/science:",
)
st.page_link(
    "pages/glossary.py", label="Glossary: every word and symbol explained", icon=":material/menu_book:"
)
st.caption(f"Compute device on this server: {device_in_use()}.")
st.caption(storage.status_line() + " Details on the Storage page.")

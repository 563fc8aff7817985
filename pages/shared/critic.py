"""The discriminator as a critic, beside the SVM's grade: one panel for any piece (see core.models.critic)."""

import streamlit as st
from torch import nn

from core.models.critic import critic_opinions, frames_of
from core.music.pianoroll import PianoRoll
from core.plots import critic_figure
from core.studio.critic import svm_grades


def critic_panel(roll: PianoRoll, critic: nn.Module, key: str) -> None:
    """D's per-step opinion under the piece's piano-roll, and the SVM's per-feature grades beside it."""
    (opinion,) = critic_opinions(critic, frames_of(roll.active, roll.onset))
    left, right = st.columns([3, 1])
    with left:
        st.plotly_chart(critic_figure(roll, opinion.per_step, opinion.probability), key=f"critic-{key}")
        st.caption(
            "Under the piano-roll, each bar is what the discriminator took from that step when it decided: "
            "blue pushes its verdict toward “real”, orange toward “generated”. The bars add up exactly to "
            "its verdict (before the logistic squashing), and each step is read in the context of the whole "
            "piece."
        )
    with right:
        grade, features = svm_grades(roll)
        st.metric(
            "Discriminator: D(x)", f"{opinion.probability:.2f}", help="Its probability that this is real."
        )
        st.metric("SVM: chorale-likeness", f"{grade:.0f} / 100", help="A typical real chorale passage: 50.")
        st.markdown("**The SVM's lowest feature grades** (0–100, real chorales: about 50 or more)")
        for feature_grade, sentence in features:
            st.markdown(f"- **{feature_grade:.0f}** · {sentence}")

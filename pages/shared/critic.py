"""The discriminator as a critic, beside the SVM's grade: one panel for any piece (see core.models.critic)."""

import numpy as np
import streamlit as st
from torch import nn

from core.models.base import Samples
from core.models.critic import critic_opinions, frames_of
from core.music.pianoroll import PianoRoll
from core.plots import critic_figure
from core.ranking.features import RANKER_FEATURE_LABELS, RANKER_FEATURE_NAMES
from core.ranking.pipeline import window_features
from core.ranking.reference import load_ranker

SHOWN_FEATURES = 5


def svm_grades(roll: PianoRoll) -> tuple[float, list[tuple[float, str]]]:
    """The SVM's 0–100 chorale-likeness of a piece and its lowest-graded features (grade, sentence)."""
    ranker = load_ranker()
    features = window_features(ranker, Samples(roll.active[None], roll.onset[None]))
    grade = float(ranker.grade(ranker.score(features))[0])
    grades = ranker.feature_grades(features)[0]
    reasons = {reason.feature: reason.text for reason in ranker.explain(features, k=len(grades))[0]}
    lowest = [int(j) for j in np.argsort(grades)[:SHOWN_FEATURES] if np.isfinite(grades[j])]
    sentences = []
    for j in lowest:
        name = RANKER_FEATURE_NAMES[j]
        fallback = RANKER_FEATURE_LABELS[name][0].upper() + RANKER_FEATURE_LABELS[name][1:]
        sentences.append((float(grades[j]), reasons.get(name, fallback)))
    return grade, sentences


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

"""Models and their rankers, loaded once per server and shared by every session."""

from pathlib import Path

import streamlit as st

from core.ranking.pipeline import load_or_fit_ranker
from core.ranking.svm import Ranker
from core.sampling import LoadedModel, load_model
from core.studio.catalog import checkpoint_stamp
from core.training.context import use_serving_threads


@st.cache_resource(max_entries=4, show_spinner="Loading the generator and its ranker…")
def _model_and_ranker(checkpoint: str, modified: float) -> tuple[LoadedModel, Ranker]:
    del modified  # part of the cache key: a re-trained checkpoint is loaded again
    use_serving_threads()
    model = load_model(checkpoint)
    return model, load_or_fit_ranker(model)


def model_and_ranker(checkpoint: Path) -> tuple[LoadedModel, Ranker]:
    """The loaded model of a checkpoint and its SVM ranker."""
    return _model_and_ranker(str(checkpoint), checkpoint_stamp(checkpoint))

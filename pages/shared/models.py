"""Models and the shipped ranker, loaded once per server and shared by every session."""

from pathlib import Path

import streamlit as st

from core.ranking.reference import load_ranker
from core.ranking.svm import Ranker
from core.sampling import LoadedModel, load_model
from core.studio.catalog import checkpoint_stamp
from core.training.context import use_serving_threads


@st.cache_resource(max_entries=4, show_spinner="Loading the generator…")
def _model(checkpoint: str, modified: float) -> LoadedModel:
    del modified  # part of the cache key: a re-trained checkpoint is loaded again
    use_serving_threads()
    return load_model(checkpoint)


def model_and_ranker(checkpoint: Path) -> tuple[LoadedModel, Ranker]:
    """The loaded model of a checkpoint and the one SVM ranker every model is ranked by."""
    return _model(str(checkpoint), checkpoint_stamp(checkpoint)), load_ranker()

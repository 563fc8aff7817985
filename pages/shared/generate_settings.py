"""The Generate page's settings: widgets that start from the address, and the address that follows them.

Opening ``/generate?seed=7&candidates=8`` starts with seed 7 and 8 candidates; every change is written
back to the address with every setting spelled out, so a reload or a copied link gives the same pieces.
The chosen model is also the session's own choice (:mod:`core.studio.spaces`); the class's is unchanged.
"""

import dataclasses
from pathlib import Path

import streamlit as st

from core.studio.catalog import checkpoint_choices, checkpoint_from_key, checkpoint_key, checkpoint_label
from core.studio.choices import ChoiceError
from core.studio.links import INSTRUMENTS, LIMITS, SHOW, GenerateSettings, settings_from_query
from core.studio.spaces import update_space
from pages.shared.roles import my_space, visitor

PREFIX = "gen_"
"""Session-state keys of the widgets: ``gen_seed``, ``gen_candidates``…"""
LAST = "gen_settings"
"""The session's last settings: restored when the visitor comes back to the page."""


MODE_KEY = "gen_voice_mode"
"""Session-state key of the four-voice model's mode (free, harmonise, continue): ``mode`` in the address."""


def start_from_address(modes: list[str]) -> None:
    """On a session's first visit, put the address's settings (or the defaults) into the widgets."""
    if LAST not in st.session_state and "mode" in st.query_params:
        if st.query_params["mode"] in modes:
            st.session_state.setdefault(MODE_KEY, st.query_params["mode"])
        else:
            named = st.query_params["mode"]
            st.warning(f"This link's mode {named!r} was ignored (the modes: {', '.join(modes)}).")
    if LAST in st.session_state:
        settings = GenerateSettings(**st.session_state[LAST])
        model = Path(st.session_state.get(f"{PREFIX}model") or my_space().generator)
    else:
        defaults = GenerateSettings(model=checkpoint_key(my_space().generator) or "")
        settings, problems = settings_from_query(st.query_params.to_dict(), defaults)
        model = my_space().generator
        if st.query_params.get("model"):
            try:
                model = checkpoint_from_key(settings.model)
            except ChoiceError as error:
                problems.append(f"{error}; using {checkpoint_label(model)} instead")
        if problems:
            st.warning("Parts of this link were ignored: " + "; ".join(problems) + ".")
    for field in dataclasses.fields(GenerateSettings):
        if field.name != "model" and f"{PREFIX}{field.name}" not in st.session_state:
            st.session_state[f"{PREFIX}{field.name}"] = getattr(settings, field.name)
    st.session_state.setdefault(f"{PREFIX}model", model)


def _remember_model() -> None:
    update_space(st.session_state, checkpoint=st.session_state[f"{PREFIX}model"])


def model_picker() -> Path:
    choices = checkpoint_choices(visitor(), first=st.session_state[f"{PREFIX}model"])
    if st.session_state[f"{PREFIX}model"] not in choices:
        st.session_state[f"{PREFIX}model"] = choices[0]
    return st.selectbox(
        "Generator",
        choices,
        format_func=checkpoint_label,
        key=f"{PREFIX}model",
        on_change=_remember_model,
        help="Your choice, for you only: the class's generator is chosen by the teacher on Train.",
    )


def settings_controls(modes: list[str]) -> tuple[GenerateSettings, Path]:
    """The settings widgets; returns the settings and the chosen checkpoint (``modes``: the four-voice
    model's, which an address may name)."""
    start_from_address(modes)
    checkpoint = model_picker()
    left, middle, right = st.columns(3)
    candidates = left.slider("Candidates to generate", *LIMITS["candidates"], key=f"{PREFIX}candidates")
    # The keep slider's top follows the candidates: its value is clamped, never reset to the default.
    st.session_state[f"{PREFIX}keep"] = min(st.session_state[f"{PREFIX}keep"], candidates)
    keep = left.slider("Pieces to keep", 1, candidates, key=f"{PREFIX}keep")
    bars = middle.slider("Bars per piece", *LIMITS["bars"], key=f"{PREFIX}bars")
    seed = middle.number_input(
        "Seed", *LIMITS["seed"], key=f"{PREFIX}seed", help="The same seed gives the same pieces."
    )
    temperature = right.slider(
        "Temperature", *LIMITS["temperature"], step=0.05, key=f"{PREFIX}temperature",
        help="Above 1 wilder, below 1 safer.",
    )  # fmt: skip
    tempo = right.slider("Tempo (beats per minute)", *LIMITS["tempo"], key=f"{PREFIX}tempo")
    instrument = st.selectbox("Instrument", list(INSTRUMENTS), key=f"{PREFIX}instrument")
    settings = GenerateSettings(
        checkpoint_key(checkpoint) or "", candidates, keep, bars, int(seed), temperature, tempo, instrument
    )
    st.session_state[LAST] = dataclasses.asdict(settings)
    return settings, checkpoint


def write_address(settings: GenerateSettings, showing: bool, extra: dict[str, str] | None = None) -> None:
    """Spell out every setting in the address (``show=1`` while their pieces are on screen; ``extra``:
    the four-voice model's own settings)."""
    query = {**settings.to_query(show=showing), **(extra or {})}
    if not settings.model:
        query.pop("model")  # a model outside the catalogue cannot be named in a link
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def share_link(settings: GenerateSettings, extra: dict[str, str] | None = None) -> None:
    """The address of these pieces, with a copy button (``extra``: the four-voice model's settings)."""
    st.subheader("Share these pieces")
    if not settings.model:
        st.caption("This model cannot be named in a link; choose a shipped model or a run's checkpoint.")
        return
    st.code(settings.link(st.context.url or "", extra=extra), language=None)
    st.caption(
        "Copy this link (the button at its right): whoever opens it on this server gets the same "
        f"{settings.candidates} candidates, ranked the same way."
    )


def pieces_of(settings: GenerateSettings) -> tuple[int, int, int, float, int]:
    """The settings that decide the pieces besides the model (keep and instrument change only the view)."""
    return settings.candidates, settings.bars, settings.seed, settings.temperature, settings.tempo


def shown_in_address() -> bool:
    """Whether the address says the pieces were on show (a reload or a shared link)."""
    return st.query_params.get(SHOW) == "1"

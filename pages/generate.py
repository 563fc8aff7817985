"""Generate & rank: the GAN writes candidates, the SVM scores them, the best are played."""

from dataclasses import replace
from pathlib import Path

import streamlit as st

from core import jobs
from core.compare import MODEL_LABELS
from core.music.pianoroll import PianoRoll, roll_to_midi_bytes

BASELINE_CHECKPOINTS = {
    model: jobs.REPO_ROOT / "checkpoints" / model
    for model in ("lstm_lm", "cnn_gan")
    if (jobs.REPO_ROOT / "checkpoints" / model).is_dir()
}
INSTRUMENTS = {
    "Acoustic grand piano": 0,
    "Church organ": 19,
    "String ensemble": 48,
    "Choir aahs": 52,
    "Flute": 73,
    "Harpsichord": 6,
}


@st.cache_resource(max_entries=4, show_spinner="Loading the generator and its ranker…")
def load_models(checkpoint: str, modified: float, temperature: float):
    """The sampler and the SVM ranker of a checkpoint (kept across reruns and sessions)."""
    from core.device import use_serving_threads
    from core.pipeline import checkpoint_sampler, load_or_fit_ranker

    use_serving_threads()
    del modified  # part of the cache key: a re-trained checkpoint is loaded again
    sampler = checkpoint_sampler(checkpoint, temperature)
    return sampler, load_or_fit_ranker(checkpoint, sampler)


@st.cache_data(max_entries=64, show_spinner="Rendering audio…")
def render(midi: bytes) -> bytes:
    from core.audio import render_wav

    return render_wav(midi).wav


def play(midi: bytes) -> bytes | None:
    """An audio player for a piece (returns its WAV), or the reason it cannot be played."""
    from core.audio import AudioRenderError

    try:
        wav = render(midi)
    except AudioRenderError as error:
        st.warning(f"This piece could not be rendered to audio: {error}")
        return None
    st.audio(wav, format="audio/wav")
    return wav


def checkpoint_choices() -> list[Path]:
    choices = [jobs.active_checkpoint(), jobs.DEFAULT_CHECKPOINT, *BASELINE_CHECKPOINTS.values()]
    for run in jobs.list_runs():
        choices += [path for path in (run.best_checkpoint, run.last_checkpoint) if path.exists()]
    return list(dict.fromkeys(choices))


def label(path: Path) -> str:
    if path == jobs.DEFAULT_CHECKPOINT:
        return "Shipped default: LSTM-vs-LSTM GAN (Bach chorales)"
    for model, folder in BASELINE_CHECKPOINTS.items():
        if path == folder:
            return f"Shipped baseline: {MODEL_LABELS[model]}"
    return f"{path.parent.parent.name} · {path.stem}" if path.suffix == ".pt" else path.name


def controls() -> dict:
    checkpoint = st.selectbox("Generator", checkpoint_choices(), format_func=label)
    left, middle, right = st.columns(3)
    candidates = left.slider("Candidates to generate", 1, 64, 16)
    keep = left.slider("Pieces to keep", 1, candidates, min(4, candidates))
    bars = middle.slider("Bars per piece", 1, 16, 4)
    seed = middle.number_input("Seed", 0, 10**6, 1, help="The same seed gives the same pieces.")
    temperature = right.slider("Temperature", 0.5, 1.5, 1.0, 0.05, help="Above 1 wilder, below 1 safer.")
    tempo = right.slider("Tempo (beats per minute)", 40, 200, 100)
    program = INSTRUMENTS[st.selectbox("Instrument", list(INSTRUMENTS))]
    return {
        "checkpoint": checkpoint,
        "candidates": candidates,
        "keep": keep,
        "bars": bars,
        "seed": int(seed),
        "temperature": temperature,
        "tempo": tempo,
        "program": program,
    }


def run_pipeline(settings: dict) -> list:
    from core.pipeline import rank_rolls

    checkpoint = settings["checkpoint"]
    sampler, ranker = load_models(str(checkpoint), checkpoint.stat().st_mtime, settings["temperature"])
    rolls = sampler(settings["candidates"], settings["bars"], settings["seed"])
    rolls = [replace(roll, tempo_bpm=float(settings["tempo"])) for roll in rolls]
    return rank_rolls(rolls, ranker, keep=settings["candidates"])


def show_piece(piece, program: int, best: bool) -> None:
    from core.plots import piano_roll_figure

    roll: PianoRoll = piece.roll
    title = f"#{piece.rank} · candidate {piece.candidate} · SVM score {piece.score:+.2f}"
    icon = ":material/trophy:" if best else None
    with st.expander(("Best: " if best else "") + title, expanded=best, icon=icon):
        st.plotly_chart(piano_roll_figure(roll, title=title), key=f"roll-{piece.candidate}")
        reasons = piece.explanation or ["nothing stands out"]
        st.markdown("**Why this score:**\n" + "\n".join(f"- {reason}." for reason in reasons))
        midi = roll_to_midi_bytes(roll, program=program)
        name = f"piece_rank{piece.rank:02d}"
        left, right = st.columns(2)
        left.download_button(
            "MIDI", midi, f"{name}.mid", "audio/midi", on_click="ignore", key=f"mid-{piece.candidate}"
        )
        if best or st.toggle("Listen", key=f"listen-{piece.candidate}"):
            wav = play(midi)
            if wav is not None:
                key = f"wav-{piece.candidate}"
                right.download_button("WAV", wav, f"{name}.wav", "audio/wav", on_click="ignore", key=key)


def show_results(ranked: list, settings: dict) -> None:
    from core.plots import scores_bar_figure

    kept = ranked[: settings["keep"]]
    st.subheader("SVM ranking")
    st.caption(
        "Higher scores look more like the real chorales to the SVM. P(real) is its calibrated "
        "probability; flagged pieces (silent, one held chord, duplicates) are ranked last."
    )
    rows = [
        {
            "rank": p.rank,
            "candidate": p.candidate,
            "SVM score": round(p.score, 3),
            "P(real)": round(p.probability, 3),
            "flags": ", ".join(p.flags),
        }
        for p in ranked
    ]
    st.dataframe(rows, hide_index=True, height=min(400, 38 + 35 * len(rows)))
    names = [f"cand {p.candidate}" for p in ranked]
    st.plotly_chart(scores_bar_figure(names, [p.score for p in ranked], best_index=0), key="scores")
    for piece in kept:
        show_piece(piece, settings["program"], best=piece.rank == 1)


st.title("Generate & rank")
st.write(
    "The generator writes several candidate pieces; an SVM classifier, trained to tell real chorales "
    "from generated music, scores each one; the best are shown first and played back."
)
settings = controls()
if st.button("Generate and rank", type="primary"):
    try:
        with st.spinner("Generating and ranking…"):
            st.session_state["ranked"] = (run_pipeline(settings), settings)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        st.error(f"Could not generate with this checkpoint: {error}")
if "ranked" in st.session_state:
    show_results(*st.session_state["ranked"])

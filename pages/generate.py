"""Generate & rank: the GAN writes candidates, the SVM scores them, the best are played."""

import streamlit as st

from core.music.pianoroll import PianoRoll, roll_to_midi_bytes
from core.plots import piano_roll_figure, scores_bar_figure
from core.ranking.pipeline import rank_samples
from core.studio.catalog import checkpoint_choices, checkpoint_label
from pages.shared.audio import audio_player
from pages.shared.models import model_and_ranker

INSTRUMENTS = {
    "Acoustic grand piano": 0,
    "Church organ": 19,
    "String ensemble": 48,
    "Choir aahs": 52,
    "Flute": 73,
    "Harpsichord": 6,
}


def controls() -> dict:
    checkpoint = st.selectbox("Generator", checkpoint_choices(), format_func=checkpoint_label)
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
    model, ranker = model_and_ranker(settings["checkpoint"])
    samples = model.sample(
        settings["candidates"], settings["bars"], settings["seed"], settings["temperature"]
    )
    return rank_samples(samples, ranker, None, model.spec, model.beats_per_bar, float(settings["tempo"]))


def show_piece(piece, program: int, best: bool) -> None:
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
            wav = audio_player(midi)
            if wav is not None:
                key = f"wav-{piece.candidate}"
                right.download_button("WAV", wav, f"{name}.wav", "audio/wav", on_click="ignore", key=key)


def show_results(ranked: list, settings: dict) -> None:
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

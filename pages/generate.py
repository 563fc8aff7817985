"""Generate & rank: the GAN writes candidates, the SVM scores them, the best are played."""

from pathlib import Path

import streamlit as st

from core.music.pianoroll import PianoRoll, roll_to_midi_bytes
from core.plots import piano_roll_figure, scores_bar_figure
from core.ranking.pipeline import rank_samples
from core.studio.catalog import checkpoint_stamp
from core.studio.links import GenerateSettings
from pages.shared.app import inside_the_app
from pages.shared.audio import audio_player
from pages.shared.generate_settings import (
    pieces_of,
    settings_controls,
    share_link,
    shown_in_address,
    write_address,
)
from pages.shared.models import model_and_ranker
from pages.shared.voices import MODE_LABELS, four_voice_page, is_four_voice

PIECES = "gen_pieces"  # the session's ranked pieces: (what decided them, the ranked list)


@st.cache_data(max_entries=32, show_spinner=False)
def ranked_pieces(checkpoint: str, modified: float, pieces: tuple) -> list:
    """The ranked candidates of a model and settings (shared by every session: a link opened by a class
    is generated once)."""
    del modified  # part of the cache key: a re-trained checkpoint gives new pieces
    _, candidates, bars, seed, temperature, tempo = pieces
    model, ranker = model_and_ranker(Path(checkpoint))
    samples = model.sample(candidates, bars, seed, temperature)
    return rank_samples(samples, ranker, None, model.spec, model.beats_per_bar, float(tempo))


def show_piece(piece, settings: GenerateSettings, best: bool) -> None:
    roll: PianoRoll = piece.roll
    program = settings.program
    title = f"#{piece.rank} · candidate {piece.candidate} · chorale-likeness {piece.grade:.0f}/100"
    icon = ":material/trophy:" if best else None
    with st.expander(("Best: " if best else "") + title, expanded=best, icon=icon):
        st.plotly_chart(piano_roll_figure(roll, title=title), key=f"roll-{piece.candidate}")
        reasons = piece.explanation or ["nothing stands out"]
        st.markdown("**Why this score:**\n" + "\n".join(f"- {reason}." for reason in reasons))
        midi = roll_to_midi_bytes(roll, program=program)
        name = settings.file_name(piece.rank, "mid").removesuffix(".mid")
        left, right = st.columns(2)
        left.download_button(
            "MIDI", midi, f"{name}.mid", "audio/midi", on_click="ignore", key=f"mid-{piece.candidate}"
        )
        if best or st.toggle("Listen", key=f"listen-{piece.candidate}"):
            wav = audio_player(midi)
            if wav is not None:
                key = f"wav-{piece.candidate}"
                right.download_button("WAV", wav, f"{name}.wav", "audio/wav", on_click="ignore", key=key)


def show_results(ranked: list, settings: GenerateSettings) -> None:
    kept = ranked[: settings.keep]
    st.subheader("SVM ranking")
    st.caption(
        "Higher SVM scores look more like the real chorales. Chorale-likeness (0–100) is the share of real "
        "chorale passages the piece scores at least as high as (a typical real passage: 50); 'above … of "
        "generated' compares it with pieces the shipped models write. The same SVM ranks every model. "
        "Flagged pieces (silent, one held chord, duplicates) are ranked last."
    )
    rows = [
        {
            "rank": p.rank,
            "candidate": p.candidate,
            "chorale-likeness (0–100)": round(p.grade, 1),
            "above % of generated": round(p.among_generated, 1),
            "SVM score": round(p.score, 3),
            "flags": ", ".join(p.flags),
        }
        for p in ranked
    ]
    st.dataframe(rows, hide_index=True, height=min(400, 38 + 35 * len(rows)))
    names = [f"cand {p.candidate}" for p in ranked]
    st.plotly_chart(scores_bar_figure(names, [p.score for p in ranked], best_index=0), key="scores")
    for piece in kept:
        show_piece(piece, settings, best=piece.rank == 1)


inside_the_app()  # a fresh server's first visit by address runs through the app
st.title("Generate & rank")
st.write(
    "The generator writes several candidate pieces; an SVM classifier, trained to tell real chorales "
    "from generated music, scores each one; the best are shown first and played back."
)
settings, checkpoint = settings_controls(list(MODE_LABELS))
if is_four_voice(checkpoint):  # the four-voice model: free, harmonise or continue, voice by voice
    four_voice_page(checkpoint, settings)
    st.stop()
wanted = (str(checkpoint), *pieces_of(settings))
clicked = st.button("Generate and rank", type="primary")
if clicked or (shown_in_address() and PIECES not in st.session_state):
    try:
        with st.spinner("Generating and ranking…"):
            ranked = ranked_pieces(str(checkpoint), checkpoint_stamp(checkpoint), wanted)
        st.session_state[PIECES] = (wanted, ranked)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        st.error(f"Could not generate with this checkpoint: {error}")
made_for, ranked = st.session_state.get(PIECES, (None, None))
showing = made_for == wanted
write_address(settings, showing)
if showing:
    show_results(ranked, settings)
    share_link(settings)
elif made_for is not None:
    st.info("The settings changed: press **Generate and rank** to make pieces for them.")

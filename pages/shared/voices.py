"""The Generate page's four-voice part: write freely, harmonise a melody, or continue a piece, with the
four-voice model; the SVM ranks the candidates; each kept piece is shown voice by voice, played, and
offered as MIDI (four named tracks) and MusicXML."""

import hashlib
from pathlib import Path

import streamlit as st

from core.music.musicxml import voices_to_musicxml
from core.music.voices import ENSEMBLES, Voices, VoicesError, key_from_name
from core.music.voices_midi import voices_to_midi
from core.plots import voices_figure
from core.ranking.pipeline import rank_samples
from core.sampling.satb import (
    MidiRejected,
    chorales_by_name,
    melody_from_midi,
    voices_from_midi,
    write_in_mode,
    writes_voices,
)
from core.studio.links import ANY_KEY, KEY_NAMES, GenerateSettings, VoiceSettings, voice_settings_from_query
from pages.shared.audio import audio_player
from pages.shared.generate_settings import share_link, shown_in_address, write_address
from pages.shared.models import model_and_ranker

MODE_LABELS = {
    "free": "Write freely",
    "harmonise": "Harmonise a melody",
    "continue": "Continue a piece",
}
KEYS = list(KEY_NAMES)
CHORALE = "a held-out chorale"
UPLOAD = "my MIDI file"
RESULTS = "gen_voice_pieces"
FROM_ADDRESS = "gen_voice_from_address"
"""Set once the address's four-voice settings were put into the widgets (a session's first visit)."""


@st.cache_resource(show_spinner=False)
def test_chorales() -> dict[str, Voices]:
    """The test split's 4/4 chorales by name (never trained on): read once per server and shared, not
    copied on every rerun (the pieces are frozen and only read)."""
    return chorales_by_name("test")


def given_piece(mode: str) -> tuple[Voices | None, str]:
    """The melody (harmonise) or primer (continue) the visitor chose, and what identifies it."""
    what = "melody" if mode == "harmonise" else "piece to continue"
    source = st.radio(f"The {what}", [CHORALE, UPLOAD], horizontal=True, key=f"gen_voice_source_{mode}")
    if source == CHORALE:
        name = st.selectbox("Chorale (test split)", sorted(test_chorales()), key=f"gen_voice_chorale_{mode}")
        return test_chorales()[name], name
    help_text = (
        "A one-line melody, or any file: its top line is taken (a four-part file gives its soprano)."
        if mode == "harmonise"
        else "A four-part file (tracks named Soprano, Alto, Tenor, Bass, or four one-line parts)."
    )
    upload = st.file_uploader(
        "MIDI file", type=["mid", "midi"], key=f"gen_voice_upload_{mode}", help=help_text
    )
    if upload is None:
        return None, ""
    data = upload.getvalue()
    try:
        read = melody_from_midi if mode == "harmonise" else voices_from_midi
        return read(upload.name, data), hashlib.sha256(data).hexdigest()[:16]
    except (VoicesError, MidiRejected, ValueError) as error:
        st.error(f"{upload.name} cannot be used: {error}")
        return None, ""


def voice_controls() -> dict:
    """The four-voice settings (mode, key, phrases, melody or primer, ensemble)."""
    mode = st.radio("What to do", list(MODE_LABELS), format_func=MODE_LABELS.get, horizontal=True,
                    key="gen_voice_mode")  # fmt: skip
    left, middle, right = st.columns(3)
    key = left.selectbox("Key", KEYS, key="gen_voice_key", help="Free pieces: the key to write in.")
    phrase_bars = middle.radio("Phrase length (bars)", [2, 4], horizontal=True, key="gen_voice_phrase_bars")
    phrases = middle.slider("Phrases", 1, 8, 2, key="gen_voice_phrases", help="Each ends on a fermata.")
    ensemble = right.selectbox("Ensemble", list(ENSEMBLES), key="gen_voice_ensemble")
    choice = {"mode": mode, "key": key, "phrase_bars": phrase_bars, "phrases": phrases, "ensemble": ensemble}
    if mode != "free":
        piece, name = given_piece(mode)
        from_chorale = st.session_state.get(f"gen_voice_source_{mode}", CHORALE) == CHORALE
        choice.update(piece=piece, piece_name=name, chorale=name if from_chorale else "")
        if mode == "continue":
            choice["keep_bars"] = st.slider("Bars to keep", 1, 4, 2, key="gen_voice_keep_bars")
    return choice


def write(checkpoint: Path, settings: GenerateSettings, choice: dict):
    """The candidates the settings ask for, ranked by the SVM."""
    model, ranker = model_and_ranker(checkpoint)
    free = choice["mode"] == "free"
    pieces = write_in_mode(
        model, choice["mode"], bars=choice["phrases"] * choice["phrase_bars"], piece=choice.get("piece"),
        key=key_from_name(choice["key"]) if free and choice["key"] != ANY_KEY else None,
        phrase_bars=choice["phrase_bars"], keep_bars=choice.get("keep_bars", 2), n=settings.candidates,
        seed=settings.seed, temperature=settings.temperature, tempo_bpm=settings.tempo,
    )  # fmt: skip
    ranked = rank_samples(pieces.samples, ranker, settings.keep, model.spec, model.beats_per_bar)
    return pieces, ranked


def show_voice_piece(voices: Voices, ranked, ensemble: str, best: bool) -> None:
    title = f"#{ranked.rank} · candidate {ranked.candidate} · chorale-likeness {ranked.grade:.0f}/100"
    with st.expander(("Best: " if best else "") + title, expanded=best):
        st.plotly_chart(voices_figure(voices), key=f"voices-{ranked.candidate}")
        midi = voices_to_midi(voices, ensemble, title=title)
        left, right = st.columns(2)
        name = f"satb_{ranked.rank:02d}_candidate{ranked.candidate}"
        left.download_button("MIDI (four tracks)", midi, f"{name}.mid", "audio/midi", on_click="ignore",
                             key=f"vmid-{ranked.candidate}")  # fmt: skip
        xml = voices_to_musicxml(voices, title, ensemble=ensemble)
        right.download_button("MusicXML (opens in MuseScore)", xml, f"{name}.musicxml",
                              "application/vnd.recordare.musicxml+xml", on_click="ignore",
                              key=f"vxml-{ranked.candidate}")  # fmt: skip
        if best or st.toggle("Listen", key=f"vlisten-{ranked.candidate}"):
            audio_player(midi)


def is_four_voice(checkpoint: Path) -> bool:
    """Whether a checkpoint holds the four-voice model (False for one that cannot be loaded)."""
    try:
        return writes_voices(model_and_ranker(checkpoint)[0])
    except (OSError, ValueError, RuntimeError, KeyError):
        return False


def start_from_address() -> None:
    """On a session's first visit, put a link's four-voice settings (key, phrases, ensemble, chorale, bars
    to keep) into the widgets and say what it had to ignore (the mode is read with the other settings)."""
    if st.session_state.get(FROM_ADDRESS):
        return
    st.session_state[FROM_ADDRESS] = True
    query = st.query_params.to_dict()
    linked, problems = voice_settings_from_query(query, sorted(test_chorales()))
    problems = [problem for problem in problems if not problem.startswith("there is no mode")]
    for name in ("key", "phrase_bars", "phrases", "ensemble", "keep_bars"):
        if name in query:
            st.session_state.setdefault(f"gen_voice_{name}", getattr(linked, name))
    if linked.chorale and linked.mode != "free":
        st.session_state.setdefault(f"gen_voice_source_{linked.mode}", CHORALE)
        st.session_state.setdefault(f"gen_voice_chorale_{linked.mode}", linked.chorale)
    if problems:
        st.warning("Parts of this link were ignored: " + "; ".join(problems) + ".")


def voice_settings(choice: dict) -> VoiceSettings:
    """The four-voice choices as settings an address can hold."""
    return VoiceSettings(
        choice["mode"], choice["key"], choice["phrase_bars"], choice["phrases"], choice["ensemble"],
        choice.get("chorale", ""), choice.get("keep_bars", 2),
    )  # fmt: skip


def four_voice_page(checkpoint: Path, settings: GenerateSettings) -> None:
    """Controls, a button, and the ranked four-voice pieces (kept in the session)."""
    st.subheader("Four voices")
    st.caption(
        "This model writes soprano, alto, tenor and bass, each its own line. Its pieces last the phrases "
        "below (the bars and instrument settings above do not apply); candidates, pieces to keep, seed, "
        "temperature and tempo do."
    )
    start_from_address()
    choice = voice_controls()
    linked = voice_settings(choice)
    wanted = (str(checkpoint), settings.candidates, settings.keep, settings.seed, settings.temperature,
              settings.tempo, choice["mode"], choice["key"], choice["phrase_bars"], choice["phrases"],
              choice.get("piece_name"), choice.get("keep_bars"))  # fmt: skip
    ready = choice["mode"] == "free" or choice.get("piece") is not None
    clicked = st.button("Write and rank", type="primary", disabled=not ready)
    from_link = shown_in_address() and RESULTS not in st.session_state and linked.linkable and ready
    if clicked or from_link:
        try:
            with st.spinner("Writing and ranking…"):
                st.session_state[RESULTS] = (wanted, *write(checkpoint, settings, choice))
        except (VoicesError, ValueError, RuntimeError) as error:
            st.error(f"Could not write these pieces: {error}")
    made_for, pieces, ranked = st.session_state.get(RESULTS, (None, None, None))
    showing = made_for == wanted
    write_address(settings, showing and linked.linkable, extra=linked.to_query())
    if not showing:
        if made_for is not None:
            st.info("The settings changed: press **Write and rank** to make pieces for them.")
        return
    for remark in pieces.remarks:
        st.caption(f"Note: {remark}.")
    for piece in ranked:
        show_voice_piece(pieces.voices[piece.candidate], piece, choice["ensemble"], best=piece.rank == 1)
    if linked.linkable:
        share_link(settings, extra=linked.to_query())
    else:
        st.caption("A piece from your own file cannot travel in a link; a held-out chorale can.")

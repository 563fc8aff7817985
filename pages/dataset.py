"""Dataset: choose the corpus the GAN learns from, see what is in it, look at and listen to its pieces."""

from pathlib import Path

import streamlit as st

from core import plots
from core.budgets import BUDGETS, format_bytes
from core.data import Corpus, CorpusStats, corpus_stats, load_folder
from core.data.uploads import accepted_files, display_name, load_upload_batch, safe_file_name
from core.midi.score import MidiRejected
from core.music.pianoroll import roll_to_midi_bytes
from core.paths import DEFAULT_CORPUS
from core.studio.catalog import corpus_label
from core.studio.choices import ChoiceError, active_corpus, set_active_corpus
from core.studio.memcache import content_key, named_cache
from core.studio.spaces import update_space
from core.studio.storage import store_uploaded_corpus
from core.studio.trainable import CorpusTooShort, piece_verdict, require_trainable, trainability
from pages.shared.app import inside_the_app
from pages.shared.audio import audio_player
from pages.shared.roles import is_teacher, my_space, pin_configured, visitor

BUNDLED, UPLOAD = "Bundled Bach chorales", "Upload MIDI files"
MAX_UPLOAD_MB = BUDGETS.upload_file_mb
UPLOAD_HELP = (
    "Every file is checked in a sandbox; a file that fails is listed with the reason. One upload holds "
    f"at most {BUDGETS.upload_files} MIDI files (zip members included) and "
    f"{format_bytes(BUDGETS.upload_bytes)}; a piece longer than {BUDGETS.piece_steps:,} sixteenth notes is "
    "cut. A file whose name is longer than about 4,000 characters is refused by the server before the "
    "studio sees it (the browser then shows 'Request failed with status code 400'): rename it."
)
STAT_CHARTS = (
    (plots.pitch_histogram_figure, "How often each pitch starts a note: the range the voices cover."),
    (
        plots.pitch_class_figure,
        "Time on each of the 12 pitch classes: the notes of the common keys stand out.",
    ),
    (plots.polyphony_figure, "How many notes sound together at each step (four-part chorales: mostly 4)."),
    (plots.note_length_figure, "How long notes are held, in beats: the building blocks of the rhythm."),
    (plots.key_figure, "The key each piece is most likely in (its pitch classes matched to key profiles)."),
    (plots.length_figure, "How long the pieces are, in bars; the GAN learns from 4-bar windows of them."),
)


@st.cache_resource(show_spinner=False)
def bundled_corpus() -> tuple[Corpus, CorpusStats]:
    """The bundled chorales and their statistics, loaded once per server."""
    corpus = load_folder(DEFAULT_CORPUS)
    return corpus, corpus_stats(corpus)


def uploaded_corpus(files: list[tuple[str, bytes]]) -> tuple[Corpus, CorpusStats]:
    """An upload's corpus and statistics, cached by the files' names and bytes in memory bounded by
    :attr:`core.budgets.Budgets.corpus_cache_bytes` (shared by every session: read-only)."""

    def load() -> tuple[Corpus, CorpusStats]:
        corpus = load_upload_batch(files)
        return corpus, corpus_stats(corpus)

    cache = named_cache("uploads", BUDGETS.corpus_cache_bytes)
    return cache.get_or_make(content_key([(name, data) for name, data in files]), load)


def choose_upload() -> list[tuple[str, bytes]]:
    uploaded = st.file_uploader(
        "MIDI files (.mid, .midi) or a .zip of them",
        accept_multiple_files=True,
        max_upload_size=MAX_UPLOAD_MB,
        help=UPLOAD_HELP,
    )
    return [(file.name, file.getvalue()) for file in uploaded or []]


def show_reports(corpus: Corpus, expanded: bool) -> None:
    rejected = len(corpus.rejected)
    st.subheader("Files")
    st.write(f"{len(corpus.reports) - rejected} accepted, {rejected} rejected.")
    rolls = {piece.name: piece.roll for piece in corpus.pieces}
    table = {
        "file": [display_name(report.name) for report in corpus.reports],
        "status": ["accepted" if report.accepted else "rejected" for report in corpus.reports],
        "for training": [
            piece_verdict(rolls[report.name]) if report.name in rolls else "" for report in corpus.reports
        ],
        "details": [display_name(report.message, 300) for report in corpus.reports],
    }
    with st.expander("Per-file report", expanded=expanded):
        st.dataframe(table, hide_index=True, width="stretch")


def show_stats(stats: CorpusStats) -> None:
    st.subheader("What the corpus contains")
    columns = st.columns(4)
    columns[0].metric("Pieces", f"{stats.n_pieces:,}")
    columns[1].metric("Bars", f"{sum(stats.bars):,.0f}")
    columns[2].metric("Notes", f"{stats.n_notes:,}")
    columns[3].metric("Notes at once (mean)", f"{stats.mean_polyphony:.2f}")
    for start in range(0, len(STAT_CHARTS), 2):
        for column, (figure, sentence) in zip(st.columns(2), STAT_CHARTS[start : start + 2], strict=True):
            with column:
                st.plotly_chart(figure(stats))
                st.caption(sentence)


def piece_label(corpus: Corpus, index: int) -> str:
    piece = corpus.pieces[index]
    title = piece.meta.get("title")
    return f"{piece.name} — {title}" if title else piece.name


def show_piece_viewer(corpus: Corpus) -> None:
    st.subheader("Look at and listen to a piece")
    st.write("A piano-roll shows time across and pitch up; each dark cell is where a note starts.")
    index = st.selectbox("Piece", range(len(corpus.pieces)), format_func=lambda i: piece_label(corpus, i))
    piece = corpus.pieces[index]
    title = f"Piano-roll of {display_name(piece.name)}"  # the figure shows markup in titles as text
    st.plotly_chart(plots.piano_roll_figure(piece.roll, title=title))
    midi = roll_to_midi_bytes(piece.roll)
    left, right = st.columns(2)
    if left.button(
        "🔊 Render audio", key="render_audio", help="Synthesise the piece with FluidSynth (a second or two)."
    ):
        st.session_state["audio_for"] = midi
    right.download_button(
        "⬇️ Download MIDI",
        midi,
        file_name=safe_file_name(piece.name),
        mime="audio/midi",
        on_click="ignore",
    )
    if st.session_state.get("audio_for") == midi:
        audio_player(midi, caption=True)


def chosen_folder(source: str, files: list[tuple[str, bytes]], corpus: Corpus) -> Path:
    """The folder of the corpus on show (an upload is stored first); refuses a corpus too short to train."""
    require_trainable(corpus)
    return DEFAULT_CORPUS if source == BUNDLED else store_uploaded_corpus(accepted_files(files, corpus))


def use_for_training(source: str, files: list[tuple[str, bytes]], corpus: Corpus) -> None:
    st.subheader("Train on it")
    teacher, me = is_teacher(), visitor()
    where = st.empty()  # filled last, so that it names the corpus chosen by the click below
    found = trainability(corpus)
    if found.warning:
        st.warning(found.warning)
    if teacher:
        label = "Use this corpus for the class" if pin_configured() else "Use this corpus for training"
    else:
        label = "Use this corpus for my own runs"
    if st.button(label, key="use_corpus", type="primary"):
        try:
            folder = chosen_folder(source, files, corpus)
            if teacher:
                set_active_corpus(folder, by=me)
            else:
                update_space(st.session_state, corpus=folder)
            whose = "The Train page" if teacher else "Your own runs"
            st.success(f"{whose} will now train on {corpus_label(folder)} ({len(corpus.pieces)} pieces).")
        except CorpusTooShort as error:
            st.error(f"This corpus cannot be trained on: {error}.")
        except (ChoiceError, ValueError, OSError) as error:
            st.error(f"The corpus could not be chosen: {error}")
    if teacher:
        where.caption(f"The class trains on {corpus_label(active_corpus())}.")
    else:
        where.caption(
            f"The class trains on {corpus_label(active_corpus())} (the teacher chooses it); your own runs "
            f"train on {corpus_label(my_space().training_corpus)}."
        )


def load_corpus(source: str, files: list[tuple[str, bytes]]) -> tuple[Corpus, CorpusStats] | None:
    try:
        if source == BUNDLED:
            with st.spinner("Reading the Bach chorales…"):
                return bundled_corpus()
        with st.spinner(f"Checking {len(files)} uploaded file(s)…"):
            return uploaded_corpus(files)
    except (MidiRejected, ValueError, OSError) as error:
        st.error(f"The corpus could not be read: {error}")
        return None


inside_the_app()  # a fresh server's first visit by address runs through the app
st.title("Dataset")
st.write(
    "The GAN learns from a corpus of MIDI files turned into piano-rolls. Use the Bach chorales that come "
    "with the studio, or upload your own MIDI files (several at once, or a .zip archive)."
)
source = st.radio("Corpus", [BUNDLED, UPLOAD], horizontal=True)
files = choose_upload() if source == UPLOAD else []
if source == UPLOAD and not files:
    st.info(f"Choose one or more MIDI files or a .zip archive (up to {MAX_UPLOAD_MB} MB each).")
    st.stop()
loaded = load_corpus(source, files)
if loaded is None:
    st.stop()
corpus, stats = loaded
show_reports(corpus, expanded=source == UPLOAD)
if not corpus.pieces:
    st.warning("No file was accepted, so there is nothing to show: see the reasons above.")
    st.stop()
show_stats(stats)
show_piece_viewer(corpus)
use_for_training(source, files, corpus)

"""Bach or bot? A listening test: pairs of a real chorale excerpt and a generated piece, live class results.

Both clips must be played before answering. Streamlit's audio player reports nothing back to the server
(there is no "ended" event), so each clip sits behind its own play button: pressing it stores that the
listener opened the clip and shows the player, which starts at once. The answer buttons unlock when both
clips of the pair were opened (the store refuses an answer otherwise). This proves the clips were started,
not that they were heard to the end.

The buttons act in callbacks, before the page is drawn again, so each click costs one script run.
A listener is a random id kept in the page's address (``?listener=…``), so a reload continues where it
was, with the same order and sides; nothing else identifies anyone.
"""

import streamlit as st

from core.audio import AudioRenderError
from core.plots import share_correct_figure
from core.studio.catalog import checkpoint_choices, checkpoint_label
from core.studio.listening.pairs import INSTRUMENTS, PICKS, RoundSettings, build_round
from core.studio.listening.plan import Item, ListenerSession
from core.studio.listening.results import Results, judge_scores, summarise, verdicts
from core.studio.listening.store import (
    CLIPS,
    EXPERIENCE,
    LISTENER_PATTERN,
    ListeningError,
    ListeningStore,
    Pair,
    RoundInfo,
    database_path,
    new_listener_id,
)
from pages.shared.app import inside_the_app
from pages.shared.audio import rendered
from pages.shared.models import model_and_ranker
from pages.shared.roles import is_teacher

LISTENER_KEY = "listening_listener"
SAVED_KEY = "listening_saved"
ERROR_KEY = "listening_error"
PLAYED_NOW_KEY = "listening_played_now"
EXPERIENCE_KEY = "listening_experience"


@st.cache_resource(show_spinner=False)
def _store(path: str) -> ListeningStore:
    return ListeningStore(path)


def store() -> ListeningStore:
    """The server's listening store (its schema is made once per database file)."""
    return _store(str(database_path()))


def listener_id() -> str:
    """This visitor's random listener id: from the session, else from the address, else a new one."""
    value = st.session_state.get(LISTENER_KEY) or st.query_params.get("listener", "")
    if not LISTENER_PATTERN.match(str(value)):
        value = new_listener_id()
    st.session_state[LISTENER_KEY] = value
    st.query_params["listener"] = value
    return value


# --- the teacher's controls ------------------------------------------------------------------------


def open_round_form() -> None:
    with st.form("listening_new_round"):
        checkpoint = st.selectbox("Model", checkpoint_choices(), format_func=checkpoint_label)
        left, middle, right = st.columns(3)
        n_pairs = left.slider(
            "Pairs", 2, 16, 8, help="Each pair is one question; an attention check is added."
        )
        bars = middle.radio("Length (bars)", [4, 8], horizontal=True)
        pick = right.radio("Generated pieces", list(PICKS), format_func=PICKS.get, horizontal=True)
        instrument = left.selectbox("Instrument", list(INSTRUMENTS))
        seed = middle.number_input("Seed", 0, 10**6, 0, help="The same seed gives the same pairs.")
        st.caption(
            "Real clips are excerpts of held-out chorales the model never trained on; each generated clip "
            "has the same length, tempo and instrument as its real partner. The SVM's pick is the best of "
            "four candidates per pair by the SVM; raw samples are whatever the model writes first."
        )
        if not st.form_submit_button("Open a new round", type="primary"):
            return
    settings = RoundSettings(str(checkpoint), n_pairs, bars, instrument, pick, int(seed))
    try:
        with st.spinner("Writing the pieces, cutting the excerpts and rendering every clip…"):
            model, ranker = model_and_ranker(checkpoint)
            stored, pairs = build_round(settings, model, ranker)
            stored["model_label"] = checkpoint_label(checkpoint)
            store().open_round(stored, pairs)
    except (OSError, ValueError, RuntimeError, AudioRenderError) as error:
        st.error(f"Could not open a round with this model: {error}")
        return
    st.rerun()


def round_controls(info: RoundInfo) -> None:
    db = store()
    columns = st.columns(4)
    if info.is_open and columns[0].button("Close the round", help="No more answers are taken."):
        db.set_state(info.id, "closed")
        st.rerun()
    if not info.is_open and columns[0].button("Open it again"):
        db.set_state(info.id, "open")
        st.rerun()
    label = "Hide the answers" if info.revealed else "Reveal the answers"
    if columns[1].button(label, help="Shows everyone which clip was real and what the machines said."):
        db.set_revealed(info.id, not info.revealed)
        st.rerun()
    columns[2].download_button(
        "Answers as CSV", db.csv(info.id), f"bach-or-bot-round-{info.id}.csv", "text/csv", on_click="ignore"
    )
    with columns[3].popover("Reset the round"):
        st.write("Deletes every answer of this round and opens it again with the same pairs.")
        if st.button("Delete every answer", type="primary"):
            db.reset(info.id)
            st.rerun()


def teacher_panel(info: RoundInfo | None) -> None:
    """The current round's controls, and a new round's form (folded away while a round exists)."""
    with st.container(border=True):
        if info is not None:
            state = "open" if info.is_open else "closed"
            st.write(f":material/school: Round {info.id} is **{state}**: {describe(info)}.")
            round_controls(info)
        with st.expander("Open a new round", expanded=info is None):
            open_round_form()


def describe(info: RoundInfo) -> str:
    s = info.settings
    return (
        f"{s.get('n_pairs')} pairs of {s.get('bars')} bars on {s.get('instrument', 'organ').lower()}, "
        f"{s.get('model_label', 'a model')}, {s.get('pick_label', '')}"
    )


# --- the listener's test ---------------------------------------------------------------------------


def _played(session: ListenerSession, item: Item, clip: str) -> None:
    """A play button's callback: store that the clip was opened, before the page is drawn again."""
    session.play(item, clip)
    st.session_state[PLAYED_NOW_KEY] = (item.position, clip)


def _answered(session: ListenerSession, item: Item, clip: str) -> None:
    """An answer button's callback: store the answer (once), before the next pair is drawn."""
    try:
        session.answer(item, clip)  # a second click stores nothing more, and is confirmed the same
        st.session_state[SAVED_KEY] = item.shown_as
    except ListeningError as error:
        st.session_state[ERROR_KEY] = str(error)


def _joined(session: ListenerSession) -> None:
    session.join(st.session_state.get(EXPERIENCE_KEY, "unsaid"))


def clip_player(session: ListenerSession, item: Item, clip: str, played: set[str], just_played) -> None:
    st.markdown(f"#### Clip {clip}")
    if clip not in played:
        key = f"play-{item.position}-{clip}"
        icon = ":material/play_arrow:"
        st.button(f"Play clip {clip}", key=key, icon=icon, on_click=_played, args=(session, item, clip))
        return
    try:
        wav, _ = rendered(session.clip_midi(item, clip))
    except AudioRenderError as error:
        st.warning(f"This clip could not be rendered: {error}")
        return
    st.audio(wav, format="audio/wav", autoplay=just_played == (item.position, clip))


def answer_buttons(session: ListenerSession, item: Item, played: set[str]) -> None:
    ready = played >= set(CLIPS)
    st.markdown("**Which one is Bach?**")
    for column, clip in zip(st.columns(2), CLIPS, strict=True):
        key = f"answer-{item.position}-{clip}"
        column.button(
            f"{clip} is Bach", key=key, disabled=not ready, on_click=_answered, args=(session, item, clip)
        )
    if not ready:
        st.caption("Play both clips first: the answer buttons unlock once you have started each of them.")


def join_form(session: ListenerSession) -> None:
    st.write(
        "You will hear pairs of short clips. In each pair one clip is by J. S. Bach and the other was "
        "written by a computer; press the one you think is Bach. Play both clips before you answer."
    )
    keys = list(EXPERIENCE)
    st.radio("Your musical experience (optional)", keys, format_func=EXPERIENCE.get, key=EXPERIENCE_KEY)
    st.caption("This is the only thing asked about you; it lets the class compare groups.")
    st.button("Start the test", type="primary", on_click=_joined, args=(session,))


def listener_view(info: RoundInfo) -> None:
    st.subheader(f"Round {info.id}: which one is Bach?")
    session = ListenerSession(store(), info, listener_id())
    if not session.joined:
        if info.is_open:
            join_form(session)
        else:
            st.info("This round is closed.")
        return
    saved = st.session_state.get(SAVED_KEY)
    if saved is not None:
        st.success(f"Answer {saved} saved.", icon=":material/check:")
    if error := st.session_state.pop(ERROR_KEY, None):
        st.error(error)
    just_played = st.session_state.pop(PLAYED_NOW_KEY, None)
    item = session.current()
    if item is None:
        st.success(f"You have answered all {len(session.items)} pairs. Thank you!")
        return
    if not info.is_open:
        st.info("This round is closed: answers are no longer taken.")
        return
    st.progress(
        (item.shown_as - 1) / len(session.items), text=f"Pair {item.shown_as} of {len(session.items)}"
    )
    played = session.played(item)
    for column, clip in zip(st.columns(2), CLIPS, strict=True):
        with column:
            clip_player(session, item, clip, played, just_played)
    answer_buttons(session, item, played)


# --- results ---------------------------------------------------------------------------------------


@st.fragment(run_every=3)
def results_view(round_id: int) -> None:
    db = store()
    info, pairs = db.round(round_id), db.pairs(round_id)
    if not (is_teacher() or info.revealed):
        st.caption("The class's results appear here when the teacher reveals them.")
        return
    results = summarise(db.answers(round_id), pairs)
    st.subheader("Class results (live)")
    listeners = f"{results.listeners} listener{'s' if results.listeners != 1 else ''}"
    st.write(
        f"{listeners}. Found the real Bach: {results.overall.sentence()}; "
        f"chance alone would give 50 % (exact binomial test p = {results.overall.p_value:.2g})."
    )
    if results.excluded:
        st.caption(f"{results.excluded} listener(s) called the random notes Bach and are left out.")
    rows = [("everyone", results.overall)] + [(EXPERIENCE[k], s) for k, s in results.by_experience.items()]
    groups = [(label, s.correct, s.total, *s.interval) for label, s in rows]
    st.plotly_chart(share_correct_figure(groups, "By experience"), key="listening-groups")
    per_pair = [(f"pair {p + 1}", s.correct, s.total, *s.interval) for p, s in results.per_pair.items()]
    st.plotly_chart(share_correct_figure(per_pair, "By pair"), key="listening-pairs")
    st.caption(
        "Each bar is a 95 % Wilson interval: bars built this way hold the true share 95 times in 100. A bar "
        "that crosses the dashed 50 % line means the class cannot yet be told apart from guessing."
    )
    if info.revealed:
        reveal(results, pairs)


def reveal(results: Results, pairs: list[Pair]) -> None:
    st.subheader("The answers, and what the machines said")
    rows = []
    for row, pair in zip(verdicts(results, pairs), [p for p in pairs if p.kind == "test"], strict=True):
        judges = pair.judges
        d = "—" if judges.get("d_real") is None else f"{judges['d_real']:.2f} vs {judges['d_other']:.2f}"
        rows.append({
            "pair": row.position + 1,
            "real (Bach)": pair.real_source,
            "computer": pair.other_source,
            "class correct": row.humans.sentence(),
            "SVM grade, real vs computer": f"{judges['svm_real']:.0f} vs {judges['svm_other']:.0f}",
            "SVM right": row.svm_right,
            "D(x), real vs computer": d,
            "D right": row.d_right,
        })  # fmt: skip
    st.dataframe(rows, hide_index=True)
    scores = judge_scores(verdicts(results, pairs))
    st.write(
        " · ".join(f"**{name}**: {share.correct} of {share.total} pairs" for name, share in scores.items())
    )
    st.caption(
        "A judge is right on a pair when it rates the real clip higher. When the round used the SVM's picks, "
        "the SVM chose the generated clips for looking real to itself, so its score here is not a fair test."
    )


inside_the_app()  # a fresh server's first visit by address runs through the app
st.title("Bach or bot?")
st.write(
    "A listening test for the whole class: can you hear which clip is Bach? Everyone answers on their own "
    "device; the results, with their uncertainty, appear live for the teacher to show."
)
current = store().latest_round()
if is_teacher():
    teacher_panel(current)
if current is None:
    st.info("No listening test has been opened yet. The teacher opens one here.")
    st.stop()
listener_view(current)
st.divider()
results_view(current.id)

"""Train: the class's runs (started by the teacher) and students' own small runs, queued for one slot."""

import streamlit as st

from core.families import MODEL_LABELS
from core.files import read_json_or_none
from core.music.pianoroll import RollSpec, roll_from_arrays, roll_to_midi_bytes
from core.plots import piano_roll_figure, training_curves_figure
from core.studio import jobs, queue
from core.studio.catalog import corpus_label
from core.studio.choices import ClassSettings, active_corpus, class_settings, set_class_settings
from core.studio.curves import CURVES, adversarial_start, curve_records, has_data, progress_words
from core.studio.roles import RoleError, Visitor
from core.training.presets import preset_config, preset_named, presets_for
from core.training.runfiles import read_metrics
from pages.shared.app import inside_the_app
from pages.shared.audio import audio_player
from pages.shared.roles import is_teacher, my_space, pin_configured, visitor
from pages.shared.run_actions import run_actions, stop, tell
from pages.shared.strip import show_strip

OBJECTIVE_LABELS = {
    "nonsaturating": "Non-saturating GAN loss (default)",
    "feature_matching": "Feature matching",
    "minimax": "Goodfellow's minimax objective, as written",
    "wgan_gp": "Wasserstein GAN with gradient penalty",
}
BASELINE_HELP = {
    "lstm_lm": "Learns to predict each step of the piano-roll from the steps before it (maximum likelihood, "
    "learning rate halved on plateaus); no discriminator.",
    "cnn_gan": "A convolutional generator writes one bar at a time, conditioned on the previous bar; a "
    "convolutional discriminator judges bars (with feature matching).",
}


def custom_config() -> dict:
    """The Custom preset's form fields."""
    left, middle, right = st.columns(3)
    width = left.select_slider("Width (LSTM units)", [32, 64, 128, 256, 512], value=128)
    depth = left.slider("Depth (LSTM layers)", 1, 3, 2)
    objective = middle.selectbox("Objective", list(OBJECTIVE_LABELS), format_func=OBJECTIVE_LABELS.get)
    lr_g = middle.number_input("Generator learning rate", 1e-5, 1e-2, 1e-4, format="%.5f")
    lr_d = middle.number_input("Discriminator learning rate", 1e-5, 1e-2, 1e-4, format="%.5f")
    mle_steps = right.number_input("Pretraining steps (maximum likelihood)", 0, 20000, 400, step=100)
    gan_steps = right.number_input("Adversarial steps", 0, 20000, 100, step=50)
    batch = right.select_slider("Batch size", [8, 16, 32, 64, 128], value=32)
    device = left.selectbox("Device", ["auto", "cpu", "cuda", "mps"])
    return {
        "g_hidden": width,
        "d_hidden": max(16, width // 2),
        "g_layers": depth,
        "d_layers": depth,
        "objective": objective,
        "lr_g": lr_g,
        "lr_d": lr_d,
        "mle_steps": int(mle_steps),
        "gan_steps": int(gan_steps),
        "batch_size": batch,
        "device": device,
    }


def gan_config(model: str = "lstm_gan") -> tuple[dict, str]:
    names = [preset.name for preset in presets_for(model)] + (["Custom"] if model == "lstm_gan" else [])
    choice = st.radio("Preset", names, horizontal=True)
    if choice == "Custom":
        return custom_config(), choice
    st.write(preset_named(choice).description)
    return preset_config(choice), choice


def baseline_config(model: str) -> tuple[dict, str]:
    """The survey's comparison models: a time budget is all a class needs to choose."""
    st.write(BASELINE_HELP[model])
    minutes = st.slider("Time budget (minutes)", 1, 30, 3)
    length = {"epochs": 200} if model == "lstm_lm" else {"steps": 8000}
    return {"model": model, "max_minutes": float(minutes), **length}, MODEL_LABELS[model]


def submitted(run_id: str) -> None:
    """Show the run this session just asked for (and let the run picker follow it)."""
    st.session_state["run_id"] = run_id
    tell("info", f"Run {run_id} is yours to watch: it trains as soon as the training slot is free.")
    st.rerun()


def class_start_form() -> None:
    st.subheader("Start a class run" if pin_configured() else "Start a run")
    corpus = active_corpus()
    st.caption(f"Training corpus: **{corpus_label(corpus)}** (choose another on the Dataset page).")
    model = st.selectbox("Model", list(MODEL_LABELS), format_func=MODEL_LABELS.get)
    config, label = gan_config(model) if presets_for(model) else baseline_config(model)
    config["data_dir"] = str(corpus)
    if st.button("Start training", type="primary"):
        submitted(queue.submit(config, label=label))


def class_settings_form() -> None:
    """The teacher's switches for the students' own runs."""
    settings = class_settings()
    with st.expander("What students may do", expanded=False):
        allowed = st.toggle("Students may train small runs of their own", value=settings.students_may_train)
        minutes = st.slider("Time budget of each student run (minutes)", 1, 10, int(settings.student_minutes))
        if st.button("Save for the class"):
            set_class_settings(ClassSettings(allowed, float(minutes)), by=visitor())
            st.success("Saved: students see the change on their next click.")


def own_start_form(me: Visitor) -> None:
    st.subheader("Train a run of your own")
    settings = class_settings()
    if not settings.students_may_train:
        st.info(
            "Your teacher starts the class's runs; you can watch them below. Training runs of your own "
            "opens when the teacher allows it."
        )
        return
    preset = st.radio("Preset", queue.STUDENT_PRESETS, horizontal=True, key="own_preset")
    st.write(preset_named(preset).description)
    corpus = my_space().training_corpus
    st.caption(
        f"On {corpus_label(corpus)}, for at most {settings.student_minutes:g} minutes. Runs take turns: "
        "yours waits in the queue until the training slot is free."
    )
    if st.button("Queue my run", type="primary"):
        try:
            config = queue.student_config(preset, str(corpus), settings.student_minutes)
            submitted(queue.submit_own(config, me, label=preset))
        except (jobs.JobError, RoleError) as error:
            st.error(str(error))


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    minutes, secs = divmod(int(seconds), 60)
    return f"about {minutes} min {secs:02d} s left" if minutes else f"about {secs} s left"


def show_samples(run_id: str) -> None:
    latest = jobs.latest_samples(run_id)
    if latest is None:
        st.caption("Samples appear here once the run writes its first batch.")
        return
    step, active, onset = latest
    roll = roll_from_arrays(active[0], onset[0], spec=RollSpec(n_pitches=active.shape[-1]))
    st.plotly_chart(piano_roll_figure(roll, title=f"A sample at step {step}"), key=f"sample-{run_id}")
    audio_player(roll_to_midi_bytes(roll))


def whose(info: jobs.RunInfo, me: Visitor) -> str:
    if info.is_class_run:
        return "the class"
    return "yours" if info.owner == me.owner else "a student's"


def show_progress(info: jobs.RunInfo) -> None:
    """The run's state in words and its progress bar."""
    if info.state == "queued":
        ticket = queue.tickets().get(info.run_id)
        place = f"number {ticket.position} in the queue" if ticket else "in the queue"
        st.info(f"Waiting for the training slot: {place}. It starts by itself when the runs before it end.")
    elif info.total_steps:
        detail = format_eta(info.eta_s) if info.training else info.message
        words = progress_words(info.step, info.total_steps, info.phase)
        st.progress(info.progress, text=f"{words} · {detail}")
    if info.state in ("failed", "interrupted"):
        st.error(f"This run {info.state}: {info.message or 'no reason was recorded'}")


def stop_control(run_id: str, me: Visitor) -> None:
    """A stop button for those who may stop the run on show (outside the refreshing view: a click is
    never lost to a refresh), or a sentence saying who may."""
    try:
        info = jobs.run_info(run_id)
    except jobs.JobError:
        return
    stop(info, me, st, key=f"stop-{info.run_id}", say_who=True)


def show_curves(info: jobs.RunInfo) -> None:
    records = read_metrics(info.path)
    start = adversarial_start(read_json_or_none(info.files.config) or {})
    if start:
        st.caption(
            f"The generator imitates the chorales for {start[0]:,} steps; then the discriminator joins and "
            f"the adversarial game runs to step {start[1]:,}. D(x) and D(G(z)) exist only in the game."
        )
    drawn = [curve for curve in CURVES if has_data(records, curve)]
    columns = st.columns(2)
    for index, curve in enumerate(drawn):
        with columns[index % 2]:
            figure = training_curves_figure(
                curve_records(records, curve), list(curve.series), curve.title, curve.y_label, curve.series
            )
            st.plotly_chart(figure, key=f"curve-{info.run_id}-{index}")
            st.caption(curve.explanation)


@st.fragment(run_every=2)
def live_view(run_id: str, me: Visitor) -> None:
    try:
        info = jobs.run_info(run_id)
    except jobs.JobError:
        st.info("That run is gone (deleted).")
        return
    seen, now = st.session_state.get(f"seen-{run_id}"), info.state
    st.session_state[f"seen-{run_id}"] = now
    if seen is not None and seen != now:
        st.rerun()  # the run started or ended: refresh the whole page (its controls, runs and checkpoints)
    st.subheader(f"Run {info.run_id} ({whose(info, me)}): {info.state}")
    show_progress(info)
    show_curves(info)
    show_samples(run_id)


def runs_rows(runs: list[jobs.RunInfo], me: Visitor) -> list[dict]:
    tickets = queue.tickets()
    return [
        {
            "run": r.run_id,
            "whose": whose(r, me),
            "what": r.label,
            "state": r.state,
            "where": f"queue place {tickets[r.run_id].position}"
            if r.run_id in tickets
            else progress_words(r.step, r.total_steps, r.phase)
            if r.total_steps
            else "",
            "message": r.message,
        }
        for r in runs
    ]


@st.fragment(run_every=2)
def runs_table(me: Visitor) -> None:
    """Every run this visitor may see, refreshed with the live view."""
    st.dataframe(runs_rows(queue.visible_runs(me), me), hide_index=True, width="stretch")


def runs_section(shown: str | None, me: Visitor) -> None:
    runs = queue.visible_runs(me)
    if not runs:
        return
    st.subheader("Runs and checkpoints")
    runs_table(me)
    run_actions(runs, shown, me)  # outside the refreshing table: a click is never lost to a refresh


def shown_run(me: Visitor) -> str | None:
    """This session's latest run, else the run training now, else the newest run it may see."""
    runs = queue.visible_runs(me)
    ids = [r.run_id for r in runs]
    mine = st.session_state.get("run_id")
    if mine in ids:
        return mine
    alive = next((r.run_id for r in runs if r.training), None)
    return alive or (ids[0] if ids else None)


inside_the_app()  # a fresh server's first visit by address runs through the app
st.title("Train the GAN")
st.write(
    "Training runs in the background on this server, so it carries on when you reload the page and "
    "everyone watching sees the same run. The generator first learns by imitation (maximum likelihood), "
    "then the adversarial phase pits it against the LSTM discriminator. One run trains at a time; the "
    "others wait in a queue."
)
me = visitor()
queue.advance()  # a page load moves the queue on too (a finished run also starts the next)
if is_teacher():
    class_start_form()
    if pin_configured():
        class_settings_form()
else:
    own_start_form(me)
shown = shown_run(me)
if shown:
    stop_control(shown, me)
    live_view(shown, me)
    show_strip(shown)
runs_section(shown, me)

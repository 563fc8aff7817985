"""Train: start, watch, stop and resume GAN training runs in the background."""

import streamlit as st

from core.families import MODEL_LABELS
from core.music.pianoroll import RollSpec, roll_from_arrays, roll_to_midi_bytes
from core.plots import piano_roll_figure, training_curves_figure
from core.studio import jobs
from core.studio.choices import active_corpus, set_active_checkpoint
from core.training.presets import PRESETS, preset_config, preset_named
from core.training.runfiles import read_metrics
from pages.shared.audio import audio_player

OBJECTIVE_LABELS = {
    "nonsaturating": "Non-saturating GAN loss (default)",
    "feature_matching": "Feature matching",
    "minimax": "Goodfellow's minimax objective, as written",
    "wgan_gp": "Wasserstein GAN with gradient penalty",
}
CURVES = (
    ("Losses", ["loss_d", "loss_g"], "loss (nats)"),
    ("Discriminator outputs", ["d_real", "d_fake"], "D(x) and D(G(z)), probability"),
    ("Quality (lower is better)", ["q_score"], "distance to real chorales (a.u.)"),
    ("Speed", ["samples_per_s"], "training windows per second"),
)


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


BASELINE_HELP = {
    "lstm_lm": "Learns to predict each step of the piano-roll from the steps before it (maximum likelihood, "
    "learning rate halved on plateaus); no discriminator.",
    "cnn_gan": "A convolutional generator writes one bar at a time, conditioned on the previous bar; a "
    "convolutional discriminator judges bars (with feature matching).",
}


def gan_config() -> dict:
    names = [preset.name for preset in PRESETS] + ["Custom"]
    choice = st.radio("Preset", names, horizontal=True)
    if choice == "Custom":
        return custom_config()
    st.write(preset_named(choice).description)
    return preset_config(choice)


def baseline_config(model: str) -> dict:
    """The survey's comparison models: a time budget is all a class needs to choose."""
    st.write(BASELINE_HELP[model])
    minutes = st.slider("Time budget (minutes)", 1, 30, 3)
    length = {"epochs": 200} if model == "lstm_lm" else {"steps": 8000}
    return {"model": model, "max_minutes": float(minutes), **length}


def start_form(busy: bool) -> None:
    st.subheader("Start a run")
    corpus = active_corpus()
    st.caption(f"Training corpus: **{corpus.name}** (choose another on the Dataset page).")
    model = st.selectbox("Model", list(MODEL_LABELS), format_func=MODEL_LABELS.get)
    config = gan_config() if model == "lstm_gan" else baseline_config(model)
    config["data_dir"] = str(corpus)
    if st.button("Start training", type="primary", disabled=busy):
        try:
            st.session_state["run_id"] = jobs.start_run(config)
            st.rerun()
        except jobs.JobError as error:
            st.error(str(error))
    if busy:
        st.info("A run is training; stop it before starting another (one run at a time on this server).")


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


@st.fragment(run_every=2)
def live_view(run_id: str) -> None:
    info = jobs.run_info(run_id)
    was_alive = st.session_state.get(f"alive-{run_id}", False)
    st.session_state[f"alive-{run_id}"] = info.alive
    if was_alive and not info.alive:
        st.rerun()  # the run just ended: refresh the whole page (start form, runs and checkpoints)
    st.subheader(f"Run {info.run_id}: {info.state}")
    phase = {"mle": "pretraining (maximum likelihood)", "gan": "adversarial"}.get(info.phase, info.phase)
    detail = format_eta(info.eta_s) if info.alive else info.message
    st.progress(info.progress, text=f"step {info.step} of {info.total_steps} · {phase} · {detail}")
    if info.state in ("failed", "interrupted"):
        st.error(info.message)
    if info.alive and st.button("Stop (saves a checkpoint)", key=f"stop-{run_id}"):
        jobs.stop_run(run_id)
    records = read_metrics(info.path)
    columns = st.columns(2)
    for index, (title, keys, y_label) in enumerate(CURVES):
        if any(key in record for record in records for key in keys):
            figure = training_curves_figure(records, keys, title=title, y_label=y_label)
            columns[index % 2].plotly_chart(figure, key=f"curve-{run_id}-{index}")
    show_samples(run_id)


def runs_table() -> None:
    runs = jobs.list_runs()
    if not runs:
        return
    st.subheader("Runs and checkpoints")
    rows = [
        {"run": r.run_id, "state": r.state, "step": f"{r.step}/{r.total_steps}", "message": r.message}
        for r in runs
    ]
    st.dataframe(rows, hide_index=True)
    run_id = st.selectbox("Run", [r.run_id for r in runs], key="chosen_run")
    info = jobs.run_info(run_id)
    left, right = st.columns(2)
    resumable = not info.alive and info.state != "finished" and info.last_checkpoint.exists()
    if left.button("Resume this run", disabled=not resumable):
        try:
            st.session_state["run_id"] = jobs.start_run({}, run_id=run_id, resume=True)
            st.rerun()
        except jobs.JobError as error:
            st.error(str(error))
    checkpoint = info.best_checkpoint if info.best_checkpoint.exists() else info.last_checkpoint
    if right.button("Use as the generator", disabled=not checkpoint.exists()):
        set_active_checkpoint(checkpoint)
        st.success(f"The Generate page now uses {run_id}'s {checkpoint.stem} checkpoint.")


st.title("Train the GAN")
st.write(
    "Training runs in the background on this server, so it carries on when you reload the page and "
    "everyone watching sees the same run. The generator first learns by imitation (maximum likelihood), "
    "then the adversarial phase pits it against the LSTM discriminator."
)
active = jobs.active_run()
start_form(busy=active is not None)
runs = jobs.list_runs()
shown = active.run_id if active else st.session_state.get("run_id") or (runs[0].run_id if runs else None)
if shown:
    live_view(shown)
runs_table()

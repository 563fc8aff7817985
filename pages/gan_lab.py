"""GAN Lab: the GAN taken apart one step at a time (the teacher's view), and the discriminator as a critic."""

import numpy as np
import streamlit as st

from core.midi import MidiRejected
from core.models.checkpoint import CheckpointError
from core.music.pianoroll import roll_from_arrays, roll_to_midi_bytes
from core.plots import discriminator_dots_figure, lab_history_figure, piano_roll_figure
from core.studio.catalog import checkpoint_choices, checkpoint_label
from core.studio.critic import file_window
from core.studio.listening.pairs import real_excerpts
from core.training.context import use_serving_threads
from core.training.stepper import GANStepper, Reading, StepSettings, can_step
from pages.shared.app import inside_the_app
from pages.shared.audio import audio_player
from pages.shared.critic import critic_panel
from pages.shared.roles import is_teacher, teacher_only_note

LAB_KEY = "gan_lab_stepper"
OBJECTIVES = {
    "nonsaturating": "Non-saturating: G maximises log D(G(z))",
    "minimax": "Minimax, as Goodfellow et al. wrote it: G minimises log(1 − D(G(z)))",
    "feature_matching": "Feature matching: G matches D's view of real music on average",
    "wgan_gp": "Wasserstein with gradient penalty: D becomes a critic that scores",
}
RATES = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3]
CRITIC_PIECES = (
    "The generator's piece from the fixed noise",
    "A real chorale (held-out test split)",
    "A MIDI file",
)


def beside(control, text: str) -> None:
    """A control on the left, its two-sentence explanation on the right."""
    left, right = st.columns([2, 3], vertical_alignment="center")
    with left:
        value = control()
    right.caption(text)
    return value


def setup_form() -> None:
    choices = [path for path in checkpoint_choices() if can_step(path)]
    with st.form("lab_setup", border=True):
        checkpoint = st.selectbox("LSTM GAN to take apart", choices, format_func=checkpoint_label)
        left, middle, right = st.columns(3)
        batch = left.select_slider("Samples in each batch", [4, 8, 16, 32], value=16)
        seed = middle.number_input("Noise seed", 0, 10**6, 0, help="The same seed gives the same batches.")
        fresh = right.toggle("Start the discriminator from scratch")
        st.caption(
            "Loading fixes a batch of real chorale windows and a batch of noise; every step below uses the "
            "same two batches, so what changes is only the networks. A fresh discriminator knows nothing "
            "yet; the saved one has already been trained against this generator."
        )
        if not st.form_submit_button("Load", type="primary", disabled=not choices):
            return
    try:
        with st.spinner("Loading the generator, the discriminator and the batches…"):
            use_serving_threads()
            st.session_state[LAB_KEY] = GANStepper.from_checkpoint(checkpoint, batch, int(seed), fresh)
    except (CheckpointError, FileNotFoundError, ValueError) as error:
        st.error(f"This checkpoint cannot be stepped: {error}")


def settings_controls(current: StepSettings) -> StepSettings:
    st.subheader("The rules of the game (change them between steps)")
    names = list(OBJECTIVES)
    objective = beside(
        lambda: st.selectbox("Objective", names, names.index(current.objective), format_func=OBJECTIVES.get),
        "The objective is the score each player tries to improve. D's part is the same in all but the "
        "Wasserstein game; they differ in what G is told, and minimax gives G almost no signal once D wins.",
    )
    lr_d = beside(
        lambda: st.select_slider("Discriminator learning rate", RATES, current.lr_d, format_func=str),
        "How far one step moves the discriminator's weights. Too large and it overshoots; too small and "
        "nothing visible happens in a step.",
    )
    lr_g = beside(
        lambda: st.select_slider("Generator learning rate", RATES, current.lr_g, format_func=str),
        "How far one step moves the generator's weights. A generator that moves much faster than its critic "
        "can chase the critic's blind spots instead of the music.",
    )
    imitation = beside(
        lambda: st.toggle("Keep the imitation term", current.mle_weight > 0),
        "The shipped model kept learning to imitate the chorales while it played the game. Turn it off to "
        "see the adversarial signal alone.",
    )
    return StepSettings(objective, lr_d, lr_g, 1.0 if imitation else 0.0)


ACTIONS = (
    ("Step D", "step_d", "One update of the discriminator: it learns to call the real batch real and the "
     "generated batch fake. Watch the blue dots move right and the orange ones left."),
    ("Step G", "step_g", "One update of the generator through the frozen discriminator: it changes its "
     "music so that D calls it real. Only the orange dots can move."),
    ("Step both", "step_both", "One discriminator update, then one generator update: one iteration of "
     "training. This is what the Train page does thousands of times."),
    ("Run 10", "run", "Ten iterations in a row, about ten seconds on a laptop. Look at the history to see "
     "who is winning."),
)  # fmt: skip


def action_buttons(stepper: GANStepper) -> None:
    for column, (label, method, text) in zip(st.columns(len(ACTIONS)), ACTIONS, strict=True):
        with column:
            pressed = st.button(label, key=f"lab-{method}", width="stretch", type="primary")
            st.caption(text)
        if pressed:
            with st.spinner(f"{label}…"):
                getattr(stepper, method)()


def show_reading(stepper: GANStepper) -> None:
    reading, previous = stepper.reading, stepper.history[max(len(stepper.history) - 2, 0)]
    st.subheader(f"After {reading.d_steps} D steps and {reading.g_steps} G steps")
    numbers = (
        ("mean D(x)", reading.d_real.mean(), previous.d_real.mean()),
        ("mean D(G(z))", reading.d_fake.mean(), previous.d_fake.mean()),
        ("D's loss", reading.loss_d, previous.loss_d),
        ("G's loss", reading.loss_g, previous.loss_g),
    )
    for column, (name, value, before) in zip(st.columns(4), numbers, strict=True):
        column.metric(name, f"{value:.3f}", f"{value - before:+.3f}", delta_color="off")
    st.caption(
        "D(x) is the discriminator's probability that a real window is real; D(G(z)) the same for a "
        f"generated piece. The losses are those of the {reading.objective} objective on these two batches: "
        "each player steps to make its own loss smaller."
    )
    left, right = st.columns(2)
    left.plotly_chart(discriminator_dots_figure(reading.d_real, reading.d_fake), key="lab-dots")
    history = stepper.history
    figure = lab_history_figure(
        [r.action for r in history], [r.d_real.mean() for r in history], [r.d_fake.mean() for r in history]
    )
    right.plotly_chart(figure, key="lab-history")
    show_sample(reading, stepper)


def show_sample(reading: Reading, stepper: GANStepper) -> None:
    cfg = stepper.config
    roll = roll_from_arrays(reading.sample_active, reading.sample_onset, spec=cfg.spec)
    title = "The generator's piece from the first fixed noise vector"
    st.plotly_chart(piano_roll_figure(roll, title=title), key="lab-sample")
    audio_player(roll_to_midi_bytes(roll, program=19))


def critic_piece(stepper: GANStepper):
    """The piece the critic judges, as the user chose it (None while a choice is incomplete)."""
    spec, bars = stepper.config.spec, stepper.config.data.bars
    choice = st.radio("Which piece", CRITIC_PIECES, horizontal=True, key="lab-critic-piece")
    if choice == CRITIC_PIECES[0]:
        return roll_from_arrays(stepper.reading.sample_active, stepper.reading.sample_onset, spec=spec)
    if choice == CRITIC_PIECES[1]:
        number = st.number_input("Excerpt number", 0, 10**4, 0, key="lab-critic-excerpt")
        return real_excerpts(1, bars, np.random.default_rng(int(number)))[0].roll
    upload = st.file_uploader("A MIDI file (its first bars are judged)", type=["mid", "midi"])
    if upload is None:
        return None
    try:
        return file_window(upload.getvalue(), upload.name, spec, bars)
    except MidiRejected as error:
        st.error(f"That file cannot be read: {error}")
        return None


def critic_section(stepper: GANStepper) -> None:
    st.subheader("The discriminator as a critic")
    st.write(
        "The discriminator gives one verdict per piece, but the verdict can be split exactly into what each "
        "moment of the piece added to it. Step D or G above and come back: the critic's opinion changes too."
    )
    roll = critic_piece(stepper)
    if roll is not None:
        critic_panel(roll, stepper.critic, key="lab")


inside_the_app()  # a fresh server's first visit by address runs through the app
st.title("GAN Lab: the game, one move at a time")
st.write(
    "A GAN is two networks in a game: the discriminator D learns to tell real chorales from generated "
    "ones, and the generator G learns to fool it. Here you make each move by hand and watch both players "
    "react, as GAN Lab (Kahng et al., 2018) does for points on a plane."
)
if not is_teacher():
    teacher_only_note("step the GAN here (each step is heavy work for the server)")
    st.stop()
setup_form()
stepper: GANStepper | None = st.session_state.get(LAB_KEY)
if stepper is None:
    st.info("Choose an LSTM GAN and press **Load** to begin.")
    st.stop()
saved = stepper.critic_source == "checkpoint"
st.caption(f"The discriminator {'was saved with the checkpoint' if saved else 'starts from scratch'}.")
settings = settings_controls(stepper.settings)
if settings != stepper.settings:
    stepper.change(settings)
action_buttons(stepper)
show_reading(stepper)
critic_section(stepper)

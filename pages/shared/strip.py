"""The Train page's fixed-noise strip: the same noise through the generator at every sample interval."""

import streamlit as st

from core.music.pianoroll import roll_to_midi_bytes
from core.plots import piano_roll_figure
from core.studio import jobs
from core.studio.progress import fixed_noise_strip
from pages.shared.audio import audio_player

PER_ROW = 3


@st.fragment(run_every=10)
def show_strip(run_id: str) -> None:
    """Piano-roll and audio of the piece from the fixed noise at every sample interval, oldest first
    (refreshed every 10 s while the page is open)."""
    try:
        strip = fixed_noise_strip(jobs.run_info(run_id).path)
    except jobs.JobError:
        return
    with st.expander(f"Hear the generator learn ({len(strip)} snapshots)", icon=":material/graphic_eq:"):
        st.caption(
            "Every few hundred steps the run feeds the same random noise to the generator and saves what it "
            "writes. The noise never changes, so the differences you hear are what the generator learned."
        )
        if not strip:
            st.caption("The first snapshot appears after the run's first sample interval.")
            return
        if not st.toggle("Show the snapshots", key=f"strip-open-{run_id}"):
            return
        for start in range(0, len(strip), PER_ROW):
            for column, entry in zip(st.columns(PER_ROW), strip[start : start + PER_ROW], strict=False):
                with column:
                    title = f"Step {entry.step:,}"
                    figure = piano_roll_figure(entry.roll, title=title).update_layout(height=300)
                    st.plotly_chart(figure, key=f"strip-{run_id}-{entry.step}")
                    audio_player(roll_to_midi_bytes(entry.roll))

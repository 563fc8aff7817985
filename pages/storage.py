"""Storage: the disk and memory the studio uses against its budgets; the teacher deletes runs and corpora."""

import streamlit as st

from core.budgets import BUDGETS, format_bytes
from core.studio import storage
from core.studio.memcache import memory_in_use
from core.studio.roles import RoleError
from pages.shared.app import inside_the_app
from pages.shared.roles import is_teacher, teacher_only_note, visitor

MEMORY_LABELS = {"uploads": "uploaded files, checked", "audio": "rendered audio"}
DONE_KEY = "storage_done"


def done(message: str) -> None:
    """Show ``message`` on the page as it is redrawn without what was deleted."""
    st.session_state[DONE_KEY] = message
    st.rerun()


def show_disk() -> None:
    st.subheader("Disk")
    st.write(
        "Rendered audio, piano-rolls, four-voice conversions and uploaded corpora are caches: when one fills "
        "its budget, the files used longest ago are deleted (the corpus the class trains on never is). "
        "Training runs are only deleted by the teacher; while they fill their budget, no new run starts."
    )
    for row in storage.disk_usage():
        used = format_bytes(row.n_bytes)
        if row.budget is None:
            st.caption(f"{row.label.capitalize()}: {used} (small, not limited)")
            continue
        share = min(row.n_bytes / row.budget, 1.0)
        text = f"{row.label.capitalize()}: {used} of {format_bytes(row.budget)} ({row.entries:,} items)"
        st.progress(share, text=text)


def show_memory() -> None:
    st.subheader("Memory")
    rss = storage.server_memory_bytes()
    if rss:
        st.write(f"The server process uses {format_bytes(rss)} of memory in all.")
    for usage in memory_in_use():
        label = MEMORY_LABELS.get(usage.name, usage.name)
        text = f"Cached {label}: {format_bytes(usage.n_bytes)} of {format_bytes(usage.max_bytes)}"
        st.progress(min(usage.n_bytes / usage.max_bytes, 1.0), text=f"{text} ({usage.entries} kept)")
    st.caption(
        f"Nothing larger than {format_bytes(BUDGETS.cached_object_bytes)} is kept in memory; it is rebuilt "
        "when needed instead."
    )


def delete_runs() -> None:
    runs = storage.stored_runs()
    if not runs:
        st.caption("There are no training runs.")
        return
    labels = {run.run_id: f"{run.run_id} — {run.state}, {format_bytes(run.n_bytes)}" for run in runs}
    run_id = st.selectbox("Training run", list(labels), format_func=labels.get, key="delete_run_choice")
    if st.button("Delete this run", key="delete_run", help="Its checkpoints, samples and curves are lost."):
        try:
            storage.delete_run(run_id, visitor())
        except (storage.StorageError, RoleError) as error:
            st.error(f"The run was not deleted: {error}")
            return
        done(f"Run {run_id} was deleted ({labels[run_id].split(', ')[-1]} freed).")


def delete_corpora() -> None:
    corpora = storage.stored_corpora()
    if not corpora:
        st.caption("There are no uploaded corpora on disk.")
        return
    labels = {
        c.folder.name: f"{c.folder.name[:8]} — {c.n_files} files, {format_bytes(c.n_bytes)}"
        + (" (in use)" if c.in_use else "")
        for c in corpora
    }
    name = st.selectbox("Uploaded corpus", list(labels), format_func=labels.get, key="delete_corpus_choice")
    if st.button("Delete this corpus", key="delete_corpus"):
        try:
            storage.delete_corpus(name, visitor())
        except (storage.StorageError, RoleError) as error:
            st.error(f"The corpus was not deleted: {error}")
            return
        done(f"The uploaded corpus {name[:8]} was deleted.")


def teacher_tools() -> None:
    st.subheader("Free space")
    if not is_teacher():
        teacher_only_note("delete runs and uploaded corpora")
        return
    left, right = st.columns(2)
    with left:
        delete_runs()
    with right:
        delete_corpora()
    if st.button("Bring every cache within its budget now", key="tidy"):
        done(f"{storage.tidy()} cached item(s) deleted.")


inside_the_app()  # a fresh server's first visit by address runs through the app
st.title("Storage")
st.write(
    "What the studio keeps on this server's disk and in its memory, against the budgets that stop one "
    "upload or one request from filling them (see docs/security.md for every budget)."
)
if DONE_KEY in st.session_state:
    st.success(st.session_state.pop(DONE_KEY))
st.info(storage.status_line())
show_disk()
show_memory()
teacher_tools()

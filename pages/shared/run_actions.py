"""The Train page's actions on one chosen run: resume, use as a generator, stop, delete (each for who may)."""

import streamlit as st

from core.studio import jobs, queue
from core.studio.choices import set_active_checkpoint
from core.studio.roles import RoleError, Visitor
from core.studio.spaces import update_space
from pages.shared.roles import pin_configured

PICKED = "chosen_run"
FOLLOWS = "chosen_run_follows"
NOTICE = "train_notice"


def tell(kind: str, text: str) -> None:
    """Say how an action went until the next action (the page reruns by itself when a run starts or
    ends, which would wipe a plain message)."""
    st.session_state[NOTICE] = (kind, text)


def show_notice() -> None:
    kind, text = st.session_state.get(NOTICE, ("", ""))
    if text:
        getattr(st, kind)(text)


def follow_shown_run(ids: list[str], shown: str | None) -> None:
    """Point the run picker at the run on show whenever that changes (a new run was started, say)."""
    if st.session_state.get(FOLLOWS) != shown:
        st.session_state[FOLLOWS] = shown
        if shown in ids:
            st.session_state[PICKED] = shown
    if st.session_state.get(PICKED) not in ids:
        st.session_state.pop(PICKED, None)


def use_as_generator(info: jobs.RunInfo, me: Visitor, column) -> None:
    """Teacher: the class's generator. Student: their own generator on Generate."""
    checkpoint = info.best_checkpoint if info.best_checkpoint.exists() else info.last_checkpoint
    if me.teacher:
        label = "Use as the class's generator" if pin_configured() else "Use as the generator"
    else:
        label = "Use as my generator"
    if not column.button(label, disabled=not checkpoint.exists(), key="use_run"):
        return
    if me.teacher:
        set_active_checkpoint(checkpoint, by=me)
        tell("success", f"The Generate page now uses {info.run_id}'s {checkpoint.stem} checkpoint.")
    else:
        update_space(st.session_state, checkpoint=checkpoint)
        tell("success", f"Your Generate page now uses {info.run_id}'s {checkpoint.stem} checkpoint.")


def stop(
    info: jobs.RunInfo, me: Visitor, column, key: str = "stop_picked_run", say_who: bool = False
) -> None:
    """Stop a training run or take a waiting one off the queue (the teacher: any run; a student: theirs).

    ``say_who`` is for the run on show: a sentence says who may when this visitor may not, and the button
    says that stopping saves a checkpoint; in the runs list the button names "this run"."""
    if not (info.training or info.state == "queued"):
        return
    if not queue.may_control(info, me):
        if say_who:
            owner = "" if info.is_class_run else " or its owner"
            column.caption(f"Only the teacher{owner} can stop this run.")
        return
    if say_who:
        label = "Stop (saves a checkpoint)" if info.training else "Take it off the queue"
    else:
        label = "Stop this run" if info.training else "Take this run off the queue"
    if column.button(label, key=key):
        try:
            queue.stop_or_cancel(info.run_id, me)
            done = f"Run {info.run_id} was asked to stop." if info.training else "Taken off the queue."
            tell("success", done)
        except (jobs.JobError, RoleError) as error:
            tell("error", str(error))


def resume(info: jobs.RunInfo, me: Visitor, column) -> None:
    resumable = not info.alive and info.state not in ("finished", "queued") and info.last_checkpoint.exists()
    allowed = queue.may_control(info, me)
    if column.button("Resume this run", disabled=not (resumable and allowed), key="resume_run"):
        try:
            queue.require_control(info, me, "resume this run")
            queue.resubmit(info.run_id)
            st.session_state["run_id"] = info.run_id
            st.rerun(scope="app")
        except (jobs.JobError, RoleError) as error:
            st.error(str(error))


def delete(info: jobs.RunInfo, me: Visitor, column) -> None:
    if not queue.may_control(info, me) or info.alive or info.state == "queued":
        return
    with column.popover("Delete…"):
        st.write(f"Delete run {info.run_id} with its checkpoints and samples? This cannot be undone.")
        if st.button("Delete for good", key="delete_run", type="primary"):
            try:
                queue.require_control(info, me, "delete this run")
                jobs.delete_run(info.run_id)
                st.rerun(scope="app")
            except (jobs.JobError, RoleError, OSError) as error:
                st.error(str(error))


def run_actions(runs: list[jobs.RunInfo], shown: str | None, me: Visitor) -> None:
    """A run picker (following the run on show) and what this visitor may do with the chosen run."""
    ids = [r.run_id for r in runs]
    follow_shown_run(ids, shown)
    run_id = st.selectbox("Run", ids, key=PICKED)
    info = next(r for r in runs if r.run_id == run_id)
    left, middle, right, last = st.columns(4)
    resume(info, me, left)
    use_as_generator(info, me, middle)
    stop(info, me, right)
    delete(info, me, last)
    show_notice()
    if not queue.may_control(info, me):
        st.caption("Only the teacher can resume or delete the class's runs.")

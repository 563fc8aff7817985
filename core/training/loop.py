"""The one training loop every model family runs: status, logging, quality, samples, checkpoints, stopping.

A family provides a :class:`Trainer` (its networks, optimisers and one ``train_step``); :func:`train_run`
does everything else the same way for all of them: it writes the run folder (:mod:`core.training.runfiles`),
measures the quality of fresh samples against the validation windows every ``eval_every`` steps and keeps
the best checkpoint by the trainer's selection score, saves a strip of samples drawn from the *same* noise
every ``sample_every`` steps (so one hears the generator learn), checkpoints every ``checkpoint_every``
steps, and ends on the schedule, a ``STOP`` file, SIGTERM/SIGINT, the time limit or a non-finite loss.
Runs resume exactly from ``last.pt``; lines logged after that checkpoint are dropped first.
"""

from __future__ import annotations

import contextlib
import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from core.files import write_bytes_atomic, write_npz_atomic
from core.models.base import SampleRequest, Samples
from core.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from core.music.musicianship import theory_metrics
from core.music.pianoroll import roll_from_arrays, roll_to_midi_bytes
from core.music.quality import compare_stats, nearest_distance, pitch_content_stats, quality_score, roll_stats
from core.training.config import FamilyConfig, config_to_dict
from core.training.context import Context, agree, close_context, seed_step, setup_context
from core.training.data import WindowSet, window_set
from core.training.runfiles import RunFiles, RunStatus

SAMPLE_SEED_OFFSET = 99
"""The progress strip samples from seed + this at every interval: the same noise, a changing generator."""
EVAL_SEED_OFFSET = 17
STATUS_INTERVAL_S = 1.0
"""``status.json`` is rewritten on every logged step and at least this often."""


class Trainer(Protocol):
    """What a model family implements to be trained by :func:`train_run`."""

    cfg: FamilyConfig
    step: int

    @property
    def total_steps(self) -> int: ...

    def phase_plan(self) -> list[tuple[str, int, float]]:
        """(phase, steps, cost of one step relative to the first phase's) in order, for the ETA."""

    def train_step(self, batch_rng) -> dict:
        """One step (an epoch for the next-step LSTM): update the networks, advance ``step``, return the
        numbers to log (floats), with ``windows`` = training windows seen if it can say."""

    def sample(self, request: SampleRequest) -> Samples:
        """Pieces from the current generator in eval mode (training mode restored after)."""

    def sampler_state(self) -> dict:
        """The state_dict of the network that generates (what ``best.pt`` and exports keep)."""

    def state_dict(self) -> dict:
        """Everything else a resume needs (other networks, optimisers, schedule state)."""

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``last.pt`` dict: :meth:`state_dict`'s keys plus ``model`` (the sampler's state)."""

    def critic_state(self) -> dict | None:
        """The discriminator's state_dict, for families that have one (kept in ``best.pt``)."""

    def selection_score(self, record: dict) -> float | None:
        """Lower is better; the best checkpoint is the step with the lowest score (None: not judged)."""

    def finished(self) -> bool:
        """True when the schedule ended before ``total_steps`` (learning-rate annealing ran out)."""


class TrainerFactory(Protocol):
    def __call__(self, cfg: FamilyConfig, ctx: Context, data: WindowSet) -> Trainer: ...


class StopSignal:
    """Set by SIGTERM/SIGINT; the loop checks it between steps."""

    def __init__(self) -> None:
        self.requested = False
        with contextlib.suppress(ValueError):  # not the main thread: signals stay with the caller
            signal.signal(signal.SIGTERM, self._handle)
            signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True


@dataclass
class PhaseClock:
    """Mean seconds per step in each phase, for the speed and the ETA."""

    seconds: dict[str, float] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds
        self.steps[phase] = self.steps.get(phase, 0) + 1

    def eta(self, plan: list[tuple[str, int, float]], step: int) -> float | None:
        """Seconds left: each phase's measured speed, or a measured phase's speed scaled by the cost ratio."""
        measured = {phase: self.seconds[phase] / self.steps[phase] for phase in self.steps}
        if not measured:
            return None
        costs = {name: cost for name, _, cost in plan}
        unit = next(seconds / costs.get(phase, 1.0) for phase, seconds in measured.items())
        left, start = 0.0, 0
        for name, steps, cost in plan:
            end = start + steps
            left += max(0, end - max(step, start)) * measured.get(name, unit * cost)
            start = end
        return left


class Run:
    """One run of one trainer: files, status, clock and the decisions between steps."""

    def __init__(self, trainer: Trainer, ctx: Context, files: RunFiles, data: WindowSet) -> None:
        self.trainer, self.ctx, self.files, self.data = trainer, ctx, files, data
        self.cfg = trainer.cfg
        self.status = RunStatus(total_steps=trainer.total_steps, step=trainer.step)
        self.clock = PhaseClock()
        self.stop = StopSignal()
        self.started = time.monotonic()
        self.status_written = 0.0
        self.best_score = math.inf

    # --- files -----------------------------------------------------------------------------------

    def write_status(self, state: str | None = None, message: str | None = None) -> None:
        if state is not None:
            self.status.state = state
        if message is not None:
            self.status.message = message
        if self.ctx.is_main:
            self.status.eta_s = self.clock.eta(self.trainer.phase_plan(), self.status.step)
            self.files.write_status(self.status)

    def checkpoint(self) -> dict:
        """The plain dict saved as ``last.pt`` (loads with ``weights_only=True``)."""
        trainer = self.trainer
        return {
            "model": trainer.sampler_state(),
            "config": config_to_dict(self.cfg),
            "step": trainer.step,
            "best_score": self.best_score,
            **trainer.state_dict(),
        }

    def save_best(self, score: float) -> None:
        self.best_score = score
        best = {
            "model": self.trainer.sampler_state(),
            "config": config_to_dict(self.cfg),
            "step": self.trainer.step,
            "best_score": score,
        }
        critic = self.trainer.critic_state()
        if critic is not None:  # kept for the step-by-step view and the critic
            best["discriminator"] = critic
        save_checkpoint(best, self.files.best)

    def resume(self) -> None:
        """Continue from ``last.pt``: weights, optimisers, progress; drop log lines logged after it."""
        state = load_checkpoint(self.files.last, str(self.ctx.device))
        try:
            self.trainer.load_state_dict(state)
            self.trainer.step = int(state["step"])
            self.best_score = float(state.get("best_score", math.inf))
        except (RuntimeError, KeyError, TypeError, ValueError) as error:
            detail = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
            raise CheckpointError(
                f"{self.files.last.name} does not fit this run's model and config ({detail})"
            ) from None
        self.status.step = self.trainer.step
        if self.ctx.is_main:
            self.files.keep_metrics_until(self.trainer.step)

    # --- what happens after a step -------------------------------------------------------------------

    def quality(self) -> dict:
        """``q_*`` numbers of ``eval_samples`` fresh samples against the validation windows."""
        cfg = self.cfg
        request = SampleRequest(cfg.run.eval_samples, cfg.data.n_steps, cfg.run.seed + EVAL_SEED_OFFSET)
        samples = self.trainer.sample(request)
        return quality_record(samples, self.data, cfg.data.lowest_pitch)

    def save_samples(self) -> None:
        """The progress strip: a few pieces from the same noise at every interval, as npz and MIDI."""
        cfg, step = self.cfg, self.trainer.step
        count = max(cfg.run.sample_midis, 1)
        samples = self.trainer.sample(
            SampleRequest(count, cfg.data.n_steps, cfg.run.seed + SAMPLE_SEED_OFFSET)
        )
        write_npz_atomic(
            self.files.samples / f"step_{step:07d}.npz", {"active": samples.active, "onset": samples.onset}
        )
        for index in range(cfg.run.sample_midis):
            roll = roll_from_arrays(
                samples.active[index],
                samples.onset[index],
                spec=cfg.spec,
                beats_per_bar=cfg.data.beats_per_bar,
            )
            write_bytes_atomic(self.files.samples / f"step_{step:07d}_{index}.mid", roll_to_midi_bytes(roll))

    def after_step(self, record: dict, phase: str) -> None:
        """Evaluation, logging, samples and checkpoints (rank 0 only)."""
        run, step = self.cfg.run, self.trainer.step
        last = step >= self.trainer.total_steps or self.trainer.finished()
        if run.eval_every and (step % run.eval_every == 0 or last):
            record.update(self.quality())
        score = self.trainer.selection_score(record)
        if score is not None and score < self.best_score:
            self.save_best(score)
        logged = bool(run.log_every) and (step % run.log_every == 0 or last or "q_score" in record)
        if logged:
            record.update(elapsed_s=time.monotonic() - self.started, cpu_s=time.process_time())
            self.files.append_metrics(record)
        self.status.step, self.status.phase = step, phase
        if logged or time.monotonic() - self.status_written > STATUS_INTERVAL_S:
            self.write_status("running", f"step {step} of {self.trainer.total_steps}")
            self.status_written = time.monotonic()
        if run.sample_every and (step % run.sample_every == 0 or last):
            self.save_samples()
        if run.checkpoint_every and step % run.checkpoint_every == 0:
            save_checkpoint(self.checkpoint(), self.files.last)

    def stop_reason(self) -> str | None:
        limit = self.cfg.run.max_minutes
        over_time = limit > 0 and time.monotonic() - self.started > 60 * limit
        asked = self.stop.requested or (self.ctx.is_main and self.files.stop_requested())
        asked, over_time = agree(self.ctx, asked, over_time)
        if asked:
            return "stopped on request"
        return "stopped at the time limit" if over_time else None

    # --- the loop ----------------------------------------------------------------------------------

    def one_step(self) -> tuple[dict, str]:
        trainer = self.trainer
        phase = current_phase(trainer.phase_plan(), trainer.step)
        batch_rng = seed_step(self.cfg.run.seed, trainer.step, self.ctx.rank)
        started = time.perf_counter()
        record = trainer.train_step(batch_rng)
        seconds = time.perf_counter() - started
        self.clock.add(phase, seconds)
        windows = record.pop("windows", 0) * self.ctx.world
        record.update(step=trainer.step, phase=phase, world_size=self.ctx.world)
        if windows:
            record["samples_per_s"] = windows / seconds
        return record, phase

    def loop(self) -> RunStatus:
        self.write_status("running", "training")
        trainer = self.trainer
        while trainer.step < trainer.total_steps and not trainer.finished():
            record, phase = self.one_step()
            (bad,) = agree(self.ctx, not finite(record))
            if bad:
                self.write_status(
                    "failed",
                    f"a loss or gradient became NaN or infinite at step {trainer.step}; "
                    "last.pt holds the last good checkpoint",
                )
                return self.status
            if self.ctx.is_main:
                self.after_step(record, phase)
            reason = self.stop_reason()
            if reason:
                return self.finish("stopped", f"{reason} at step {trainer.step}")
        ended = "finished early: the schedule ran out" if trainer.finished() else "finished"
        return self.finish("finished", f"{ended} after {trainer.step} steps")

    def finish(self, state: str, message: str) -> RunStatus:
        if self.ctx.is_main:
            save_checkpoint(self.checkpoint(), self.files.last)
        self.write_status(state, message)
        return self.status


def current_phase(plan: list[tuple[str, int, float]], step: int) -> str:
    """The phase a step belongs to (the last phase once the plan is exhausted)."""
    start = 0
    for name, steps, _ in plan:
        if step < start + steps:
            return name
        start += steps
    return plan[-1][0]


def finite(record: dict) -> bool:
    return all(math.isfinite(value) for value in record.values() if isinstance(value, float))


QUALITY_THEORY_METRICS = {
    "q_parallels_per_bar": "parallel_perfects_per_bar",
    "q_triad_share": "triad_share",
    "q_sixteenth_onset_share": "sixteenth_onset_beat_share",
    "q_v_to_i_per_bar": "authentic_cadences_per_bar",
}
"""Music-theory numbers of the quality record (:mod:`core.music.musicianship`), mean over the samples."""


def quality_record(
    samples: Samples, data: WindowSet, lowest_pitch: int, steps_per_beat: int = 4, beats_per_bar: int = 4
) -> dict:
    """Quality numbers of samples against the reference (validation) windows: ``q_*``.

    Also four music-theory means (``QUALITY_THEORY_METRICS``; voices split by sorting the steps where
    exactly four notes sound); one that no sample defines (e.g. every sample silent) is left out.
    """
    reference = roll_stats(data.valid_active, data.valid_onset, lowest_pitch)
    stats = roll_stats(samples.active, samples.onset, lowest_pitch)
    comparison = compare_stats(stats, reference)
    record = {f"q_{k}": v for k, v in {**stats, **comparison}.items() if k != "pitch_class_hist"}
    record["q_score"] = quality_score(comparison)
    record["q_min_copy_distance"] = float(nearest_distance(samples.active, data.train_active).min())
    content = pitch_content_stats(samples.active, samples.onset, lowest_pitch)
    record.update({f"q_{key}": value for key, value in content.items()})
    grid = {"lowest_pitch": lowest_pitch, "steps_per_beat": steps_per_beat, "beats_per_bar": beats_per_bar}
    theory = theory_metrics(samples.active, samples.onset, **grid)
    for key, name in QUALITY_THEORY_METRICS.items():
        values = theory[name][np.isfinite(theory[name])]
        if values.size:
            record[key] = float(values.mean())
    return record


def train_run(
    factory: TrainerFactory, cfg: FamilyConfig, run_dir: str | Path, resume: bool = False
) -> RunStatus:
    """Train (or resume) a run of one family in ``run_dir``; returns the final status.

    Whatever goes wrong once the run folder exists (a bad device, too little data, a damaged checkpoint)
    is written to ``status.json`` as "failed" with the reason before the error propagates.
    """
    files = RunFiles(run_dir)
    status = RunStatus()
    try:
        cfg.validate()
        ctx = setup_context(cfg.run)
        if ctx.is_main:
            files.create()
            files.write_config(config_to_dict(cfg))
            files.write_status(RunStatus(state="starting", message="loading data"))
        data = window_set(cfg.data, cfg.spec)
        run = Run(factory(cfg, ctx, data), ctx, files, data)
        status = run.status
        if resume and files.last.exists():
            run.resume()
        return run.loop()
    except Exception as error:
        files.root.mkdir(parents=True, exist_ok=True)
        status.state, status.message = "failed", f"{type(error).__name__}: {error}"
        files.write_status(status)
        raise
    finally:
        close_context()

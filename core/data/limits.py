"""The budgets of a corpus, enforced before the heavy work: steps per piece, steps per corpus, long names.

- **Steps per piece.** A piece longer than :attr:`CorpusLimits.piece_steps` is cut *before* its piano-roll
  is built (:func:`cut_score` drops the notes past the cut and shortens the ones held across it), so a
  70-byte file that lasts ten minutes at 2,000 bpm costs 1.2 MB, not 11.5 MB. It is accepted, and its
  report says what was kept.
- **Steps per corpus.** :class:`CorpusBudget` admits pieces in the order they were offered until the corpus
  holds :attr:`CorpusLimits.corpus_steps` steps: the piece that crosses the limit is cut to fit (when at
  least one training window of it fits), the later ones are left out with the reason.
- **Names.** A file name longer than :attr:`CorpusLimits.name_chars` is shortened (:func:`shorten_name`).

The budgets themselves are stated in :mod:`core.budgets`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.budgets import BUDGETS
from core.midi.score import Score
from core.music.pianoroll import PianoRoll, RollSpec, beat_tempo_bpm, seconds_to_beats, window

MIN_KEPT_STEPS = 64
"""A piece is cut to fit what is left of a corpus's budget only if at least this many steps (one 4-bar
window of 4/4 on the default grid) fit; otherwise it is left out."""


@dataclass(frozen=True)
class CorpusLimits:
    """The budgets of one corpus and one upload (defaults from :data:`core.budgets.BUDGETS`)."""

    piece_steps: int = BUDGETS.piece_steps
    corpus_steps: int = BUDGETS.corpus_steps
    upload_files: int = BUDGETS.upload_files
    upload_bytes: int = BUDGETS.upload_bytes
    name_chars: int = BUDGETS.name_chars

    def __post_init__(self) -> None:
        if min(self.piece_steps, self.corpus_steps, self.upload_files, self.upload_bytes) < 1:
            raise ValueError("every corpus limit must be at least 1")
        if self.name_chars < 16:
            raise ValueError(f"name_chars must be at least 16, not {self.name_chars}")


DEFAULT_CORPUS_LIMITS = CorpusLimits()


def clock(seconds: float) -> str:
    """``245.3`` → ``"4:05"`` (minutes and seconds)."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def _to_steps(score: Score, spec: RollSpec, times: np.ndarray) -> np.ndarray:
    """Grid steps of times in seconds, exactly as :func:`core.music.pianoroll.score_to_roll` places them."""
    tempo = beat_tempo_bpm(score.tempo_bpm, *score.meter)
    beats = seconds_to_beats(times, score.beat_times, 60.0 / tempo)
    return np.floor(beats * spec.steps_per_beat + 0.5).astype(np.int64)


def beats_to_seconds(beat: float, beat_times: np.ndarray, beat_seconds: float) -> float:
    """The time of a fractional beat position: the inverse of :func:`core.music.pianoroll.seconds_to_beats`
    (linear between beats, the first and last beat lengths continued outside them)."""
    beats = np.asarray(beat_times, dtype=np.float64)
    if beats.size < 2:
        return (float(beats[0]) if beats.size else 0.0) + beat * beat_seconds
    last = beats.size - 1
    if beat < 0:
        return float(beats[0] + beat * _positive(beats[1] - beats[0], beat_seconds))
    if beat > last:
        return float(beats[-1] + (beat - last) * _positive(beats[-1] - beats[-2], beat_seconds))
    return float(np.interp(beat, np.arange(beats.size, dtype=np.float64), beats))


def _positive(value: float, fallback: float) -> float:
    return float(value) if value > 0 else float(fallback)


def score_steps(score: Score, spec: RollSpec) -> int:
    """How many steps the piano-roll of ``score`` will have (without building it)."""
    notes = score.pitched_notes
    ends = _to_steps(score, spec, np.concatenate([notes["end"], [score.duration_s]]))
    starts = _to_steps(score, spec, notes["start"])
    return max(int(ends.max()), int(starts.max()) + 1 if starts.size else 0, 0)


def cut_score(score: Score, spec: RollSpec, max_steps: int) -> tuple[Score, str | None]:
    """``score`` cut so that its roll has at most ``max_steps`` steps, and a sentence saying what was kept
    (None when nothing was cut). Notes starting at or after the cut are dropped, notes held across it end
    there, and so do the beat grid, the markers and the meter changes."""
    total = score_steps(score, spec)
    if total <= max_steps:
        return score, None
    tempo = beat_tempo_bpm(score.tempo_bpm, *score.meter)
    cut_s = beats_to_seconds(max_steps / spec.steps_per_beat, score.beat_times, 60.0 / tempo)
    notes = score.notes[_to_steps(score, spec, score.notes["start"]) < max_steps].copy()
    notes["end"] = np.minimum(notes["end"], cut_s)
    kept = replace(
        score,
        notes=notes,
        beat_times=score.beat_times[score.beat_times <= cut_s],
        downbeat_times=score.downbeat_times[score.downbeat_times <= cut_s],
        duration_s=cut_s,
        time_signatures=[change for change in score.time_signatures if change[2] < cut_s],
        markers=[marker for marker in score.markers if marker[1] < cut_s],
    )
    return kept, cut_message(max_steps, total, spec, cut_s, score.duration_s, "a piece")


def cut_message(kept: int, total: int, spec: RollSpec, kept_s: float, total_s: float, what: str) -> str:
    """``"only its first 8,192 of 79,960 steps (0:61 of 10:00) are kept: ..."`` in words."""
    return (
        f"only its first {kept:,} of {total:,} steps ({clock(kept_s)} of {clock(total_s)}) are kept: "
        f"{what} may hold at most {kept:,} steps of a {_step_name(spec)}"
    )


def _step_name(spec: RollSpec) -> str:
    names = {1: "beat", 2: "half beat", 3: "third of a beat", 4: "sixteenth note", 8: "32nd note"}
    return names.get(spec.steps_per_beat, f"1/{spec.steps_per_beat} beat")


def cut_roll(roll: PianoRoll, max_steps: int) -> PianoRoll:
    """The first ``max_steps`` steps of a roll (a copy, so the longer arrays can be freed)."""
    return roll if roll.n_steps <= max_steps else window(roll, 0, max_steps)


class CorpusBudget:
    """Steps admitted to one corpus so far, in the order the pieces were offered."""

    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self.used = 0

    @property
    def remaining(self) -> int:
        return self.max_steps - self.used

    @property
    def full(self) -> bool:
        """Whether no further piece can be admitted (not even cut to one training window)."""
        return self.remaining < min(MIN_KEPT_STEPS, self.max_steps)

    def full_message(self) -> str:
        return (
            f"left out: the corpus already holds {self.used:,} steps and may hold at most "
            f"{self.max_steps:,}; upload fewer or shorter pieces"
        )

    def admit(self, roll: PianoRoll) -> tuple[PianoRoll | None, str | None]:
        """The roll as admitted (cut to what is left when it does not fit) and what was cut, or ``(None,
        reason)`` when the corpus is full."""
        if self.full:
            return None, self.full_message()
        note = None
        if roll.n_steps > self.remaining:
            note = (
                f"only its first {self.remaining:,} of {roll.n_steps:,} steps are kept: the corpus may hold "
                f"at most {self.max_steps:,} steps"
            )
            roll = cut_roll(roll, self.remaining)
        self.used += roll.n_steps
        return roll, note


def shorten_name(name: str, limit: int) -> str:
    """``name`` when it has at most ``limit`` characters, else its start, "…" and its suffix (kept when
    short), ``limit`` characters in all."""
    if len(name) <= limit:
        return name
    dot = name.rfind(".")
    suffix = name[dot:] if dot > 0 and len(name) - dot <= 8 else ""
    return name[: limit - len(suffix) - 1] + "…" + suffix

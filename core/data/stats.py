"""Descriptive statistics of a corpus: pitches, polyphony, note lengths, meters and keys."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from core.data.corpus import Corpus, Piece
from core.music.pianoroll import PianoRoll, roll_notes
from core.music.theory import key_name, note_name


def pitch_class_weights(roll: PianoRoll) -> np.ndarray:
    """Sounding steps per pitch class (C = 0), i.e. duration-weighted."""
    classes = (np.arange(roll.spec.n_pitches) + roll.spec.lowest_pitch) % 12
    return np.bincount(classes, weights=roll.active.sum(axis=0), minlength=12)


@dataclass
class CorpusStats:
    """Descriptive statistics of a corpus. Histograms map a value to a count; steps are grid steps."""

    n_files: int
    n_accepted: int
    n_rejected: int
    n_pieces: int
    n_steps: int
    n_notes: int
    splits: dict[str, int]
    lowest_pitch: int | None
    highest_pitch: int | None
    pitch_histogram: dict[int, int]
    """MIDI pitch → notes starting on it."""
    pitch_class_histogram: list[float]
    """Share of sounding steps per pitch class, C first (sums to 1)."""
    polyphony_histogram: dict[int, int]
    """Notes sounding at once → steps."""
    mean_polyphony: float
    note_length_histogram: dict[int, int]
    """Length in steps → notes."""
    mean_note_length: float
    onsets_per_step: float
    time_signatures: dict[str, int]
    keys: dict[str, int]
    """Estimated key → pieces, most common first."""
    piece_keys: dict[str, str]
    """Piece name → estimated key."""
    bars: list[float]
    """Length of each piece in bars."""

    def to_dict(self) -> dict:
        """JSON-ready (histogram keys become strings)."""
        return json.loads(json.dumps(asdict(self)))

    def summary(self) -> str:
        """A few lines a person can read."""
        splits = ", ".join(f"{name} {count}" for name, count in sorted(self.splits.items()))
        meters = ", ".join(f"{meter} ×{count}" for meter, count in self.time_signatures.items())
        keys = ", ".join(f"{key} ({count})" for key, count in list(self.keys.items())[:5])
        mean_bars = float(np.mean(self.bars)) if self.bars else 0.0
        pitch_range = (
            f"{_pitch_name(self.lowest_pitch)}–{_pitch_name(self.highest_pitch)} "
            f"(MIDI {self.lowest_pitch}–{self.highest_pitch})"
            if self.lowest_pitch is not None
            else "no notes"
        )
        return "\n".join(
            [
                f"files: {self.n_files} ({self.n_accepted} accepted, {self.n_rejected} rejected)",
                f"pieces: {self.n_pieces} ({splits or 'none'}), mean length {mean_bars:.1f} bars",
                f"steps: {self.n_steps:,}, notes: {self.n_notes:,}",
                f"pitch range: {pitch_range}",
                f"mean polyphony: {self.mean_polyphony:.2f} notes per step",
                f"mean note length: {self.mean_note_length:.2f} steps",
                f"onsets per step: {self.onsets_per_step:.2f}",
                f"meters: {meters or 'none'}",
                f"top keys: {keys or 'none'}",
            ]
        )


def _pitch_name(pitch: int | None) -> str:
    return "?" if pitch is None else note_name(pitch)


def _counts(values: np.ndarray, offset: int = 0) -> dict[int, int]:
    counts = np.bincount(np.asarray(values, dtype=np.int64)) if len(values) else np.zeros(0, np.int64)
    return {index + offset: int(count) for index, count in enumerate(counts) if count}


def corpus_stats(corpus: Corpus) -> CorpusStats:
    """Pitch, polyphony, note-length, meter and key statistics of every piece of a corpus."""
    spec = corpus.spec
    polyphony = [piece.roll.active.sum(axis=1) for piece in corpus.pieces]
    runs = [roll_notes(piece.roll) for piece in corpus.pieces]
    pitches = np.concatenate([r["pitch"] for r in runs]) if runs else np.zeros(0, np.int64)
    lengths = np.concatenate([r["end"] - r["start"] for r in runs]) if runs else np.zeros(0, np.int64)
    all_polyphony = np.concatenate(polyphony) if polyphony else np.zeros(0, np.int64)
    class_weights = sum((pitch_class_weights(p.roll) for p in corpus.pieces), np.zeros(12))
    piece_keys = {piece.name: key_name(pitch_class_weights(piece.roll)) for piece in corpus.pieces}
    n_steps = int(all_polyphony.size)
    n_onsets = sum(int(piece.roll.onset.sum()) for piece in corpus.pieces)
    return CorpusStats(
        n_files=len(corpus.reports),
        n_accepted=sum(report.accepted for report in corpus.reports),
        n_rejected=len(corpus.rejected),
        n_pieces=len(corpus.pieces),
        n_steps=n_steps,
        n_notes=int(pitches.size),
        splits=dict(Counter(piece.split for piece in corpus.pieces)),
        lowest_pitch=int(pitches.min()) if pitches.size else None,
        highest_pitch=int(pitches.max()) if pitches.size else None,
        pitch_histogram=_counts(pitches.astype(np.int64) - spec.lowest_pitch, spec.lowest_pitch),
        pitch_class_histogram=(class_weights / max(class_weights.sum(), 1)).round(4).tolist(),
        polyphony_histogram=_counts(all_polyphony),
        mean_polyphony=float(all_polyphony.mean()) if n_steps else 0.0,
        note_length_histogram=_counts(lengths),
        mean_note_length=float(lengths.mean()) if lengths.size else 0.0,
        onsets_per_step=n_onsets / n_steps if n_steps else 0.0,
        time_signatures=dict(Counter(_meter(piece) for piece in corpus.pieces).most_common()),
        keys=dict(Counter(piece_keys.values()).most_common()),
        piece_keys=piece_keys,
        bars=[piece.roll.n_steps / piece.roll.steps_per_bar for piece in corpus.pieces],
    )


def _meter(piece: Piece) -> str:
    return str(piece.meta.get("time_signature", "?"))

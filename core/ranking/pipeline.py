"""The seed's pipeline: a model writes candidates, the SVM ranks them, the best are kept.

:func:`generate_and_rank` returns :class:`RankedPiece` objects (piano-roll, SVM score, 0–100
chorale-likeness grade, sanity flags, explanation); :func:`write_ranked` writes them as MIDI files plus
``scores.csv``. Every model is ranked by the one shipped ranker (:mod:`core.ranking.reference`), so
grades compare across generators.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from core.files import write_bytes_atomic, write_text_atomic
from core.models.base import Samples
from core.music.pianoroll import DEFAULT_SPEC, PianoRoll, RollSpec, roll_from_arrays, roll_to_midi_bytes
from core.ranking.negatives import sanity_flags
from core.ranking.reference import load_ranker
from core.ranking.svm import Ranker, Reason


class CandidateSource(Protocol):
    """What writes candidates: a loaded model (:class:`core.sampling.LoadedModel`) or a stand-in."""

    spec: RollSpec
    beats_per_bar: int

    def sample(self, n: int, bars: int = 4, seed: int = 0, temperature: float = 1.0) -> Samples: ...


@dataclass(frozen=True)
class RankedPiece:
    """One candidate after ranking; ``rank`` 1 is the best, flagged pieces come last."""

    rank: int
    candidate: int
    roll: PianoRoll
    score: float
    grade: float
    """0–100 chorale-likeness: percentile of ``score`` among real held-out chorale windows."""
    among_generated: float
    """0–100: share of a fixed set of the shipped models' pieces that score at most as high."""
    flags: tuple[str, ...]
    reasons: tuple[Reason, ...]

    @property
    def explanation(self) -> list[str]:
        """The reasons as sentences (flags first)."""
        return [f"Flagged: {flag}" for flag in self.flags] + [reason.text for reason in self.reasons]


def window_features(ranker: Ranker, samples: Samples) -> np.ndarray:
    """Features per piece, averaged over its non-overlapping windows of the ranker's training length."""
    steps = ranker.window_steps
    n, length, pitches = samples.active.shape
    per_piece = max(length // steps, 1)
    width = steps if length >= steps else length
    active = samples.active[:, : per_piece * width].reshape(n * per_piece, width, pitches)
    onset = samples.onset[:, : per_piece * width].reshape(n * per_piece, width, pitches)
    return ranker.features(active, onset).reshape(n, per_piece, -1).mean(axis=1)


def ranking_flags(samples: Samples) -> list[tuple[str, ...]]:
    """Per piece, the traits that sort it last whatever its score: near-silent, constant chord, duplicate."""
    return sanity_flags(samples.active, samples.onset)


def ranking_order(scores: np.ndarray, flags: Sequence[tuple[str, ...]]) -> list[int]:
    """Indices best first: unflagged pieces by descending score, then flagged ones by descending score."""
    return sorted(range(len(scores)), key=lambda i: (bool(flags[i]), -float(scores[i])))


def rank_samples(
    samples: Samples,
    ranker: Ranker,
    keep: int | None = None,
    spec: RollSpec = DEFAULT_SPEC,
    beats_per_bar: int = 4,
    tempo_bpm: float = 100.0,
    n_reasons: int = 3,
) -> list[RankedPiece]:
    """Rank pieces by the ranker's score; flagged pieces (see :func:`ranking_flags`) go last."""
    if not len(samples):
        return []
    features = window_features(ranker, samples)
    scores = ranker.score(features)
    grades = ranker.grade(scores)
    among_generated = ranker.generated_percentile(scores)
    flags = ranking_flags(samples)
    order = ranking_order(scores, flags)[: keep or len(samples)]
    reasons = ranker.explain(features[order], k=n_reasons)
    return [
        RankedPiece(
            rank,
            i,
            roll_from_arrays(
                samples.active[i],
                samples.onset[i],
                spec=spec,
                tempo_bpm=tempo_bpm,
                beats_per_bar=beats_per_bar,
            ),
            float(scores[i]),
            float(grades[i]),
            float(among_generated[i]),
            flags[i],
            tuple(why),
        )
        for rank, (i, why) in enumerate(zip(order, reasons, strict=True), start=1)
    ]


def generate_and_rank(
    model: CandidateSource,
    candidates: int = 32,
    keep: int = 4,
    bars: int = 4,
    seed: int = 0,
    temperature: float = 1.0,
    tempo_bpm: float = 100.0,
    ranker: Ranker | None = None,
) -> list[RankedPiece]:
    """Sample ``candidates`` pieces from the model and return the ``keep`` best, best first."""
    if not 1 <= keep <= candidates:
        raise ValueError(f"keep must be between 1 and candidates ({candidates}), not {keep}")
    ranker = ranker or load_ranker()
    samples = model.sample(candidates, bars, seed, temperature)
    return rank_samples(samples, ranker, keep, model.spec, model.beats_per_bar, tempo_bpm)


def write_ranked(pieces: Sequence[RankedPiece], out_dir: str | Path, program: int = 0) -> list[Path]:
    """Write ``rank01_candNN.mid`` per piece and ``scores.csv``; return the MIDI paths."""
    out = Path(out_dir)
    paths, rows = [], []
    for piece in pieces:
        path = out / f"rank{piece.rank:02d}_cand{piece.candidate:02d}.mid"
        paths.append(write_bytes_atomic(path, roll_to_midi_bytes(piece.roll, program=program)))
        rows.append(_csv_row(piece, path.name))
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]) if rows else ["rank"])
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(out / "scores.csv", stream.getvalue())
    return paths


def describe_ranked(pieces: Sequence[RankedPiece]) -> list[str]:
    """Readable lines: rank, candidate, SVM score, grade, flags, then the reasons indented."""
    lines = []
    for piece in pieces:
        flags = f" [{', '.join(piece.flags)}]" if piece.flags else ""
        numbers = (
            f"SVM score {piece.score:+.3f}, chorale-likeness {piece.grade:.0f}/100, "
            f"above {piece.among_generated:.0f} % of generated pieces"
        )
        lines.append(f"{piece.rank}. candidate {piece.candidate}: {numbers}{flags}")
        lines += [f"     {line}" for line in piece.explanation]
    return lines


def _csv_row(piece: RankedPiece, file_name: str) -> dict[str, object]:
    return {
        "rank": piece.rank,
        "file": file_name,
        "candidate": piece.candidate,
        "score": f"{piece.score:.4f}",
        "grade": f"{piece.grade:.1f}",
        "above_generated_percent": f"{piece.among_generated:.1f}",
        "flags": ";".join(piece.flags),
        "explanation": " | ".join(reason.text for reason in piece.reasons),
    }

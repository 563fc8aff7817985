"""The seed's pipeline: a model writes candidates, the SVM ranks them, the best are kept.

:func:`generate_and_rank` returns :class:`RankedPiece` objects (piano-roll, score, probability, sanity
flags, explanation); :func:`write_ranked` writes them as MIDI files plus ``scores.csv``. The ranker is read
from ``ranker.npz`` beside the checkpoint; without one, a ranker is fitted on the bundled corpus against the
model's own samples and degenerate rolls, and cached under ``.cache/rankers/``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.reference import bundled_windows
from core.files import write_bytes_atomic, write_text_atomic
from core.models.base import Samples
from core.music.pianoroll import DEFAULT_SPEC, PianoRoll, RollSpec, roll_from_arrays, roll_to_midi_bytes
from core.paths import cache_subdir
from core.ranking.negatives import sanity_flags
from core.ranking.svm import Ranker, RankerConfig, Reason, fit_on_rolls
from core.sampling.model import LoadedModel

RANKER_FILE = "ranker.npz"


@dataclass(frozen=True)
class RankedPiece:
    """One candidate after ranking; ``rank`` 1 is the best, flagged pieces come last."""

    rank: int
    candidate: int
    roll: PianoRoll
    score: float
    probability: float
    flags: tuple[str, ...]
    reasons: tuple[Reason, ...]

    @property
    def explanation(self) -> list[str]:
        """The reasons as sentences (flags first)."""
        return [f"Flagged: {flag}" for flag in self.flags] + [reason.text for reason in self.reasons]


def window_features(ranker: Ranker, samples: Samples) -> np.ndarray:
    """Features per piece, averaged over its non-overlapping windows of the ranker's training length."""
    steps = int(ranker.info.get("layout", {}).get("steps", 64))
    n, length, pitches = samples.active.shape
    per_piece = max(length // steps, 1)
    width = steps if length >= steps else length
    active = samples.active[:, : per_piece * width].reshape(n * per_piece, width, pitches)
    onset = samples.onset[:, : per_piece * width].reshape(n * per_piece, width, pitches)
    return ranker.features(active, onset).reshape(n, per_piece, -1).mean(axis=1)


def rank_samples(
    samples: Samples,
    ranker: Ranker,
    keep: int | None = None,
    spec: RollSpec = DEFAULT_SPEC,
    beats_per_bar: int = 4,
    tempo_bpm: float = 100.0,
    n_reasons: int = 3,
) -> list[RankedPiece]:
    """Rank pieces by SVM decision value; near-silent, constant-chord and duplicate pieces go last."""
    if not len(samples):
        return []
    features = window_features(ranker, samples)
    scores = ranker.score(features)
    probabilities = ranker.probability(features)
    flags = sanity_flags(samples.active, samples.onset)
    order = sorted(range(len(samples)), key=lambda i: (bool(flags[i]), -scores[i]))[: keep or len(samples)]
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
            float(probabilities[i]),
            flags[i],
            tuple(why),
        )
        for rank, (i, why) in enumerate(zip(order, reasons, strict=True), start=1)
    ]


def checkpoint_dir(checkpoint: str | Path) -> Path:
    """The folder of a checkpoint given as a folder or as a file inside it."""
    path = Path(checkpoint)
    return path if path.is_dir() else path.parent


def load_or_fit_ranker(model: LoadedModel) -> Ranker:
    """The ranker beside the model's checkpoint, else a cached or newly fitted one for it."""
    beside = checkpoint_dir(model.source) / RANKER_FILE
    if beside.exists():
        return Ranker.load(beside)
    cached = cache_subdir("rankers") / f"{_checkpoint_digest(model.source)}.npz"
    if cached.exists():
        return Ranker.load(cached)
    ranker = fit_ranker(model)
    ranker.save(cached)
    return ranker


def _checkpoint_digest(checkpoint: Path) -> str:
    files = sorted(p for p in checkpoint.iterdir() if p.is_file()) if checkpoint.is_dir() else [checkpoint]
    digest = hashlib.sha256()
    for file in files:
        if not file.name.startswith("ranker."):
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:20]


def fit_ranker(model: LoadedModel, n_generated: int = 1000, config: RankerConfig | None = None) -> Ranker:
    """Fit a ranker: the bundled corpus's training windows vs this model's samples plus degenerate rolls."""
    config = config or RankerConfig()
    generated = model.sample(n_generated, 4, 10_000 + config.seed)
    info = {"checkpoint": checkpoint_dir(model.source).name}
    return fit_on_rolls(
        bundled_windows("train"), (generated.active, generated.onset), config=config, info=info
    )


def generate_and_rank(
    model: LoadedModel,
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
    ranker = ranker or load_or_fit_ranker(model)
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
    """Readable lines: rank, candidate, SVM score, P(real), flags, then the reasons indented."""
    lines = []
    for piece in pieces:
        flags = f" [{', '.join(piece.flags)}]" if piece.flags else ""
        numbers = f"SVM score {piece.score:+.3f}, P(real) {piece.probability:.3f}"
        lines.append(f"{piece.rank}. candidate {piece.candidate}: {numbers}{flags}")
        lines += [f"     {line}" for line in piece.explanation]
    return lines


def _csv_row(piece: RankedPiece, file_name: str) -> dict[str, object]:
    return {
        "rank": piece.rank,
        "file": file_name,
        "candidate": piece.candidate,
        "score": f"{piece.score:.4f}",
        "probability": f"{piece.probability:.4f}",
        "flags": ";".join(piece.flags),
        "explanation": " | ".join(reason.text for reason in piece.reasons),
    }

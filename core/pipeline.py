"""The seed's pipeline: sample candidates from a checkpoint, rank them with the SVM, keep the best.

``generate_and_rank`` returns :class:`RankedPiece` objects (roll, score, probability, sanity flags,
explanation); ``write_ranked`` writes them as MIDI files plus ``scores.csv``. The ranker is read from
``ranker.npz`` beside the checkpoint; without one, a ranker is fitted on the bundled corpus against
the checkpoint's own samples and degenerate rolls, and cached under ``.cache/rankers/``.

CLI::

    python -m core.pipeline generate --checkpoint checkpoints/default --candidates 32 --keep 4 --out DIR
    python -m core.pipeline fit-ranker --checkpoint checkpoints/default [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.music.pianoroll import PianoRoll
from core.paths import cache_subdir
from core.ranker import Ranker, RankerConfig, Reason, fit_on_rolls, sanity_flags

REPO_ROOT = Path(__file__).resolve().parent.parent
RANKER_FILE = "ranker.npz"

Sampler = Callable[[int, int, int], list[PianoRoll]]
"""(n, bars, seed) -> n generated rolls."""


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


def checkpoint_dir(checkpoint: str | Path) -> Path:
    """The folder of a checkpoint given as a folder or as a file inside it."""
    path = Path(checkpoint)
    return path if path.is_dir() else path.parent


def rolls_to_arrays(rolls: Sequence[PianoRoll]) -> tuple[np.ndarray, np.ndarray]:
    """Stack equally long rolls into ``active``, ``onset`` bool[N, T, P]."""
    return np.stack([r.active for r in rolls]).astype(bool), np.stack([r.onset for r in rolls]).astype(bool)


def piece_window_features(ranker: Ranker, rolls: Sequence[PianoRoll]) -> np.ndarray:
    """Features per roll, averaged over its non-overlapping windows of the ranker's training length."""
    steps = int(ranker.info.get("layout", {}).get("steps", 64))
    rows = []
    for roll in rolls:
        n_windows = max(roll.active.shape[0] // steps, 1)
        length = steps if roll.active.shape[0] >= steps else roll.active.shape[0]
        active = roll.active[: n_windows * length].reshape(n_windows, length, -1)
        onset = roll.onset[: n_windows * length].reshape(n_windows, length, -1)
        rows.append(ranker.features(active, onset).mean(axis=0))
    return np.stack(rows)


def rank_rolls(
    rolls: Sequence[PianoRoll], ranker: Ranker, keep: int | None = None, n_reasons: int = 3
) -> list[RankedPiece]:
    """Rank rolls by SVM decision value; near-silent, constant-chord and duplicate rolls go last."""
    if not rolls:
        return []
    features = piece_window_features(ranker, rolls)
    scores = ranker.score(features)
    probabilities = ranker.probability(features)
    flags = sanity_flags(*_flag_arrays(rolls))
    order = sorted(range(len(rolls)), key=lambda i: (bool(flags[i]), -scores[i]))[: keep or len(rolls)]
    reasons = ranker.explain(features[order], k=n_reasons)
    return [
        RankedPiece(rank, i, rolls[i], float(scores[i]), float(probabilities[i]), flags[i], tuple(why))
        for rank, (i, why) in enumerate(zip(order, reasons, strict=True), start=1)
    ]


def _flag_arrays(rolls: Sequence[PianoRoll]) -> tuple[np.ndarray, np.ndarray]:
    """Rolls padded with silence to one length, for the sanity flags."""
    steps = max(r.active.shape[0] for r in rolls)
    active = np.zeros((len(rolls), steps, rolls[0].active.shape[1]), dtype=bool)
    onset = np.zeros_like(active)
    for i, roll in enumerate(rolls):
        active[i, : roll.active.shape[0]] = roll.active
        onset[i, : roll.onset.shape[0]] = roll.onset
    return active, onset


def checkpoint_sampler(checkpoint: str | Path, temperature: float = 1.0) -> Sampler:
    """A sampler over the GAN checkpoint (loads torch and the model once)."""
    from core.generate import load_generator, sample_rolls

    generator = load_generator(checkpoint)

    def sample(n: int, bars: int, seed: int) -> list[PianoRoll]:
        return sample_rolls(generator, n, bars=bars, seed=seed, temperature=temperature)

    return sample


def load_or_fit_ranker(checkpoint: str | Path, sampler: Sampler | None = None) -> Ranker:
    """The ranker beside the checkpoint, else a cached or newly fitted one for it."""
    beside = checkpoint_dir(checkpoint) / RANKER_FILE
    if beside.exists():
        return Ranker.load(beside)
    cached = cache_subdir("rankers") / f"{_checkpoint_digest(checkpoint)}.npz"
    if cached.exists():
        return Ranker.load(cached)
    ranker = fit_ranker_for_checkpoint(checkpoint, sampler=sampler)
    ranker.save(cached)
    return ranker


def _checkpoint_digest(checkpoint: str | Path) -> str:
    path = Path(checkpoint)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        if file.name.startswith("ranker."):
            continue
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:20]


def real_training_windows(bars: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The bundled corpus's training-split windows (``bars`` bars of 4/4, hop one bar)."""
    from core.data import load_folder, windows
    from core.paths import DEFAULT_CORPUS

    corpus = load_folder(DEFAULT_CORPUS)
    return windows(corpus.split("train"), bars=bars, hop_bars=1, beats_per_bar=4)


def fit_ranker_for_checkpoint(
    checkpoint: str | Path,
    sampler: Sampler | None = None,
    n_generated: int = 1000,
    config: RankerConfig | None = None,
) -> Ranker:
    """Fit a ranker: corpus training windows vs this checkpoint's samples plus degenerate rolls."""
    config = config or RankerConfig()
    real = real_training_windows()
    sampler = sampler or checkpoint_sampler(checkpoint)
    generated = rolls_to_arrays(sampler(n_generated, 4, 10_000 + config.seed))
    info = {"checkpoint": checkpoint_dir(checkpoint).name}
    return fit_on_rolls(real, generated, config=config, info=info)


def generate_and_rank(
    checkpoint: str | Path,
    candidates: int = 32,
    keep: int = 4,
    bars: int = 4,
    seed: int = 0,
    temperature: float = 1.0,
    ranker: Ranker | None = None,
    sampler: Sampler | None = None,
) -> list[RankedPiece]:
    """Sample ``candidates`` pieces from the checkpoint and return the ``keep`` best, best first."""
    if not 1 <= keep <= candidates:
        raise ValueError(f"keep must be between 1 and candidates ({candidates}), not {keep}")
    sampler = sampler or checkpoint_sampler(checkpoint, temperature)
    ranker = ranker or load_or_fit_ranker(checkpoint, sampler)
    return rank_rolls(sampler(candidates, bars, seed), ranker, keep)


def write_ranked(pieces: Sequence[RankedPiece], out_dir: str | Path, program: int = 0) -> list[Path]:
    """Write ``rank01_candNN.mid`` per piece and ``scores.csv``; return the MIDI paths."""
    from core.music.pianoroll import roll_to_midi_bytes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    rows = []
    for piece in pieces:
        path = out / f"rank{piece.rank:02d}_cand{piece.candidate:02d}.mid"
        path.write_bytes(roll_to_midi_bytes(piece.roll, program=program))
        paths.append(path)
        rows.append(_csv_row(piece, path.name))
    with (out / "scores.csv").open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]) if rows else ["rank"])
        writer.writeheader()
        writer.writerows(rows)
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.pipeline", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="sample candidates, rank them, write the best as MIDI + scores.csv")
    gen.add_argument("--checkpoint", default="checkpoints/default", help="checkpoint folder or file")
    gen.add_argument("--candidates", type=int, default=32)
    gen.add_argument("--keep", type=int, default=4)
    gen.add_argument("--bars", type=int, default=4)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--temperature", type=float, default=1.0)
    gen.add_argument("--out", default="runs/generated", help="output folder")
    fit = sub.add_parser("fit-ranker", help="fit the SVM ranker for a checkpoint and save it beside it")
    fit.add_argument("--checkpoint", default="checkpoints/default")
    fit.add_argument("--n-generated", type=int, default=1000)
    fit.add_argument("--out", default=None, help="where to write (default: ranker.npz beside the checkpoint)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "fit-ranker":
        ranker = fit_ranker_for_checkpoint(args.checkpoint, n_generated=args.n_generated)
        path = ranker.save(args.out or checkpoint_dir(args.checkpoint) / RANKER_FILE)
        cv = np.mean(ranker.info["cv_balanced_accuracy"])
        print(
            f"wrote {path} (C={ranker.info['C']:g}, gamma={ranker.info['gamma']:.4g}, CV accuracy {cv:.3f})"
        )
        return 0
    pieces = generate_and_rank(
        args.checkpoint, args.candidates, args.keep, args.bars, args.seed, args.temperature
    )
    write_ranked(pieces, args.out)
    print("\n".join(describe_ranked(pieces)))
    print(f"wrote {len(pieces)} MIDI files and scores.csv to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

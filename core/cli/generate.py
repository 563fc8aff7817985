"""``python -m core.generate``: write pieces with a trained model, or run the seed's whole pipeline.

python -m core.generate --checkpoint checkpoints/default --n 8 --bars 4 --seed 1 --out samples/
python -m core.generate --candidates 32 --keep 4 --out out/     # generate, rank with the SVM, keep the best
python -m core.generate --checkpoint runs/x/checkpoints/best.pt --export checkpoints/x
python -m core.generate --checkpoint checkpoints/satb --mode harmonise --chorale bwv253 --out out/

The four-voice model's modes and flags (free, harmonise a melody, continue a piece): :mod:`core.cli.voices`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.voices import add_voice_flags, write_voices
from core.models.checkpoint import CheckpointError
from core.paths import DEFAULT_CHECKPOINT
from core.ranking.pipeline import describe_ranked, generate_and_rank, write_ranked
from core.sampling import LoadedModel, export_checkpoint, load_model, write_midis
from core.sampling.satb import writes_voices

ERRORS = (FileNotFoundError, ValueError, KeyError, RuntimeError, CheckpointError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.generate", description="Sample MIDI pieces.")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=DEFAULT_CHECKPOINT,
        help="checkpoint folder (model.pt + config.json) or a run's .pt file",
    )
    parser.add_argument("--n", type=int, default=8, help="number of pieces")
    parser.add_argument("--bars", type=int, default=4, help="bars per piece")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0, help="> 1 wilder, < 1 safer")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="play a note when its probability reaches this (0-1) instead of sampling",
    )
    parser.add_argument("--tempo", type=float, default=100.0, help="beats per minute")
    parser.add_argument("--program", type=int, default=0, help="General MIDI program 0-127")
    parser.add_argument("--out", type=Path, help="output folder for the MIDI files")
    parser.add_argument(
        "--candidates",
        type=int,
        default=None,
        help="the seed's pipeline: generate this many pieces, rank them with the SVM, keep --keep",
    )
    parser.add_argument("--keep", type=int, default=4, help="with --candidates: ranked pieces to write")
    parser.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="instead of sampling, save the checkpoint's generator as DIR/model.pt + DIR/config.json",
    )
    add_voice_flags(parser)
    return parser


def rank_and_write(args: argparse.Namespace, model: LoadedModel) -> int:
    """Generate ``--candidates`` pieces, rank them with the SVM, write the best ``--keep`` + scores.csv."""
    pieces = generate_and_rank(
        model, args.candidates, args.keep, args.bars, args.seed, args.temperature, tempo_bpm=args.tempo
    )
    write_ranked(pieces, args.out, program=args.program)
    print("\n".join(describe_ranked(pieces)))
    print(f"wrote {len(pieces)} MIDI files and scores.csv to {args.out}")
    return 0


def sample_and_write(args: argparse.Namespace, model: LoadedModel) -> int:
    """Write ``--n`` pieces as MIDI files."""
    samples = model.sample(args.n, args.bars, args.seed, args.temperature, args.threshold)
    for path in write_midis(model.to_rolls(samples, args.tempo), args.out, program=args.program):
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.export:
            print(export_checkpoint(args.checkpoint, args.export))
            return 0
        if args.out is None:
            parser.error("--out is required when sampling")
        if not 0 <= args.program <= 127 or (args.threshold is not None and not 0 < args.threshold < 1):
            print("error: --program must be 0-127 and --threshold between 0 and 1", file=sys.stderr)
            return 2
        model = load_model(args.checkpoint)
        if writes_voices(model):
            return write_voices(args, model)
        if args.mode != "free":
            raise ValueError(f"--mode {args.mode} needs the four-voice model (--checkpoint checkpoints/satb)")
        return rank_and_write(args, model) if args.candidates is not None else sample_and_write(args, model)
    except ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

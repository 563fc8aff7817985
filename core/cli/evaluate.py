"""``python -m core.evaluate``: how close a model's music is to the real chorales, as a musician and as a
statistician would judge it, and whether the SVM's picks beat random picks of the same candidates.

    python -m core.evaluate --checkpoint checkpoints/default --n 512 --json eval.json
    python -m core.evaluate --generator shuffled --n 512          # a baseline as the "generator"
    python -m core.evaluate --checkpoint checkpoints/default --targets --split test --seed 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.evaluation.baselines import BASELINES, BaselineSampler
from core.evaluation.evaluate import EvalConfig, evaluate
from core.evaluation.real import corpus_real_data
from core.evaluation.report import markdown_table, picks_sentences
from core.evaluation.targets import checkpoint_targets
from core.files import write_json_atomic
from core.models.checkpoint import CheckpointError
from core.ranking.reference import RANKER_PATH, load_ranker
from core.ranking.svm import RankerFileError
from core.sampling import load_model


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate", description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="checkpoint folder or file (any model family)")
    source.add_argument("--generator", choices=BASELINES, help="evaluate a baseline instead")
    parser.add_argument("--ranker", default=RANKER_PATH, help="ranker .npz (default: the shipped one)")
    parser.add_argument("--n", type=int, default=512, help="generated windows")
    parser.add_argument("--candidates", type=int, default=32)
    parser.add_argument("--keep", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--json", help="write every number to this JSON file")
    targets = parser.add_argument_group("training targets (the model cards' numbers)")
    targets.add_argument(
        "--targets", action="store_true", help="report polyphony, spread, pitch classes, copies"
    )
    targets.add_argument("--split", default="test", help="real windows to compare with (train/valid/test)")
    targets.add_argument("--data-dir", help="MIDI folder (default: the checkpoint's training data)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        if args.targets:
            if not args.checkpoint:
                raise ValueError("--targets needs --checkpoint")
            report = checkpoint_targets(args.checkpoint, args.n, args.seed, args.split, args.data_dir)
            print(json.dumps(report, indent=2))
            return 0
        real = corpus_real_data()
        sampler = load_model(args.checkpoint) if args.checkpoint else BaselineSampler(args.generator, real)
        ranker = load_ranker(args.ranker)
    except (FileNotFoundError, ValueError, CheckpointError, RankerFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    config = EvalConfig(
        n=args.n, candidates=args.candidates, keep=args.keep, seed=args.seed, temperature=args.temperature
    )
    result = evaluate(sampler, real, ranker, config)
    print(markdown_table(result))
    print("\n" + "\n".join(picks_sentences(result.get("picks", {}))))
    print(
        f"\nC2ST (generated vs held-out real): accuracy {result['c2st_accuracy']:.3f}, "
        f"p = {result['c2st_p_value']:.3g}; total {time.perf_counter() - started:.1f} s"
    )
    if args.json:
        write_json_atomic(Path(args.json), result)
    return 0

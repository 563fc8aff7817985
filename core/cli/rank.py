"""``python -m core.rank``: fit the one shipped ranker again, check it on the validation split, or grade
MIDI files with it.

    python -m core.rank fit                        # writes checkpoints/ranker/ranker.npz + .json
    python -m core.rank check                      # validation split: picks vs random picks, degenerates
    python -m core.rank score FILE.mid [FILE.mid ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from core.evaluation.picks import picks_versus_random
from core.midi.parser import load_midi
from core.midi.score import MidiRejected
from core.models.base import Samples
from core.models.checkpoint import CheckpointError
from core.music.pianoroll import score_to_roll
from core.paths import DEFAULT_CHECKPOINT, display_path
from core.ranking.negatives import degenerate_set
from core.ranking.pipeline import rank_samples, ranking_flags
from core.ranking.reference import RANKER_PATH, fit_reference_ranker, load_ranker, real_windows
from core.ranking.svm import RankerFileError
from core.sampling import load_model

CHECK_SEED = 20_000
"""Seed of the candidates ``check`` ranks: used neither by the ranker's negatives nor by evaluations."""
SAFETY_KINDS = ("random rolls", "clusters", "shuffled real", "constant chords", "near silence")


def fit(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    ranker = fit_reference_ranker()
    path = ranker.save(args.out)
    info = ranker.info
    print(
        f"wrote {display_path(path)} (+ .json) in {time.perf_counter() - started:.0f} s: C={info['C']:g}, "
        f"gamma={info['gamma']:.4g}, {info['n_support_vectors']} support vectors, {info['n_real']} real vs "
        f"{info['n_negative']} negative windows, cross-validated balanced accuracy "
        f"{np.mean(info['cv_balanced_accuracy']):.3f}; grades from {info['n_grade_windows']} windows"
    )
    return 0


def check(args: argparse.Namespace) -> int:
    """Validation-split figures of a ranker: the numbers C and gamma were chosen by."""
    ranker = load_ranker(args.ranker)
    valid = real_windows("valid")
    samples = load_model(args.checkpoint).sample(args.n, 4, CHECK_SEED)
    report = picks_versus_random(ranker, samples.active, samples.onset, valid)
    valid_x = ranker.features(*valid)
    lowest = float(ranker.score(valid_x).min())
    degenerate = degenerate_set(*valid, 200, seed=CHECK_SEED)
    safety = {}
    for kind in SAFETY_KINDS:
        x = ranker.features(*degenerate[kind])
        flagged = np.array([bool(f) for f in ranking_flags(Samples(*degenerate[kind]))])
        scores = ranker.score(x)
        safety[kind] = {
            "max_score": float(scores.max()),
            "max_svm_decision_value": float(ranker.decision_value(x).max()),
            "flagged_share": float(flagged.mean()),
            "below_every_valid_window": bool(np.all(flagged | (scores < lowest))),
        }
    report["valid_windows"] = {
        "n": len(valid_x),
        "min_score": lowest,
        "min_svm_decision_value": float(ranker.decision_value(valid_x).min()),
        "max_range_excess": float(ranker.range_excess(valid_x).max()),
    }
    report["degenerate"] = safety
    print(json.dumps(report, indent=2))
    return 0


def score_files(args: argparse.Namespace) -> int:
    """Grade each MIDI file: per 4-bar window, then the whole piece with its reasons."""
    ranker = load_ranker(args.ranker)
    status = 0
    for name in args.files:
        try:
            roll = score_to_roll(load_midi(name))
        except MidiRejected as error:
            print(f"{name}: refused: {error}", file=sys.stderr)
            status = 2
            continue
        steps = ranker.window_steps
        usable = roll.n_steps // steps * steps
        if not usable:
            print(f"{name}: shorter than one {steps}-step window; nothing to grade", file=sys.stderr)
            status = 2
            continue
        pieces = Samples(roll.active[None, :usable], roll.onset[None, :usable] & roll.active[None, :usable])
        windows = pieces.active.reshape(-1, steps, pieces.active.shape[2])
        onsets = pieces.onset.reshape(windows.shape)
        grades = ranker.grade(ranker.score_rolls(windows, onsets))
        whole = rank_samples(pieces, ranker, beats_per_bar=roll.beats_per_bar)[0]
        bars = steps // (ranker.layout.steps_per_bar)
        listed = ", ".join(f"bars {i * bars + 1}–{(i + 1) * bars}: {g:.0f}" for i, g in enumerate(grades))
        print(f"{name}: chorale-likeness {whole.grade:.0f}/100 (SVM score {whole.score:+.3f}); {listed}")
        for line in whole.explanation:
            print(f"     {line}")
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.rank", description=__doc__.split("\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    fit_verb = verbs.add_parser("fit", help="fit the shipped ranker again (train split; grades from valid)")
    fit_verb.add_argument("--out", type=Path, default=RANKER_PATH, help="where to write the .npz (+ .json)")
    check_verb = verbs.add_parser("check", help="validation-split figures: picks vs random, degenerates")
    check_verb.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="candidates' model")
    check_verb.add_argument("--n", type=int, default=512, help="candidates (groups of 32, 4 kept)")
    score_verb = verbs.add_parser("score", help="grade MIDI files, window by window and as a whole")
    score_verb.add_argument("files", nargs="+", metavar="FILE.mid")
    for verb in (check_verb, score_verb):
        verb.add_argument("--ranker", type=Path, default=RANKER_PATH, help="ranker .npz")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verbs = {"fit": fit, "check": check, "score": score_files}
    try:
        return verbs[args.verb](args)
    except (FileNotFoundError, RankerFileError, CheckpointError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

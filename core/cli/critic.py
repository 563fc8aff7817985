"""``python -m core.critic``: a checkpoint's discriminator judges a MIDI file, bar by bar, beside the SVM.

    python -m core.critic FILE.mid [--checkpoint checkpoints/default] [--bars N] [--json]

The file is read with the app's guards (a file they refuse exits with code 2) and judged on its first bars,
as many as the model's training windows hold unless ``--bars`` says otherwise (a shorter file is padded with
silence), as the GAN Lab page's critic does. Printed: D(x), the discriminator's probability that the piece
is real music; its logit split exactly into a bias and what each bar added (positive: toward "real",
negative: toward "generated"; each bar is read in the context of the whole piece); and the SVM's 0–100
chorale-likeness grade of the same bars with its lowest feature grades.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.midi import MidiRejected
from core.models.checkpoint import CheckpointError
from core.models.critic import CriticOpinion, critic_opinions, frames_of
from core.paths import DEFAULT_CHECKPOINT, display_path
from core.ranking.svm import RankerFileError
from core.sampling import load_model
from core.studio.critic import critic_of, file_window, svm_grades


def report(args: argparse.Namespace, opinion: CriticOpinion, per_bar: list[float], svm: tuple) -> dict:
    """Everything the command prints, as plain values."""
    grade, lowest = svm
    return {
        "file": str(args.file),
        "checkpoint": display_path(args.checkpoint),
        "bars": len(per_bar),
        "probability_real": opinion.probability,
        "logit": opinion.logit,
        "bias": opinion.bias,
        "per_bar": per_bar,
        "svm_grade": grade,
        "svm_lowest_features": [{"grade": g, "text": text} for g, text in lowest],
    }


def report_lines(found: dict) -> list[str]:
    """The report in words."""
    lines = [
        f"{found['file']}: D(x) = {found['probability_real']:.2f} by {found['checkpoint']} "
        f"(logit {found['logit']:+.3f} = bias {found['bias']:+.3f} + the bars' {sum(found['per_bar']):+.3f}; "
        f"{found['bars']} bars judged)",
    ]
    for number, value in enumerate(found["per_bar"], start=1):
        lean = "toward real" if value > 0 else "toward generated"
        lines.append(f"  bar {number}: {value:+.3f} ({lean})")
    lines.append(f"SVM chorale-likeness: {found['svm_grade']:.0f}/100 (a typical real chorale passage: 50)")
    lines += [f"  {item['grade']:.0f} · {item['text']}" for item in found["svm_lowest_features"]]
    return lines


def judge(args: argparse.Namespace) -> int:
    model = load_model(args.checkpoint)
    critic = critic_of(model)
    if critic is None:
        raise CheckpointError(f"{display_path(args.checkpoint)} has no saved discriminator to judge with")
    bars = args.bars or model.config.data.bars
    try:
        roll = file_window(args.file, args.file.name, model.spec, bars)
    except MidiRejected as error:
        print(f"{args.file}: refused: {error}", file=sys.stderr)
        return 2
    (opinion,) = critic_opinions(critic, frames_of(roll.active, roll.onset))
    per_bar = [float(value) for value in opinion.per_bar(roll.steps_per_bar)]
    found = report(args, opinion, per_bar, svm_grades(roll))
    print(json.dumps(found, indent=2) if args.json else "\n".join(report_lines(found)))
    return 0


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core.critic",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, metavar="FILE.mid", help="the MIDI file to judge")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="an LSTM GAN checkpoint")
    parser.add_argument("--bars", type=positive, help="bars judged (default: the model's training window)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of lines")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return judge(args)
    except (FileNotFoundError, CheckpointError, RankerFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

"""JSB Chorales test negative log-likelihood of the next-step LSTM, next to the published table.

Evaluate a checkpoint (folder with model.pt + config.json, or a run's .pt)::

    python benchmarks/jsb_nll.py --checkpoint checkpoints/lstm_lm/jsb

Train one on the benchmark's train split (validation split for annealing and model choice)::

    python benchmarks/jsb_nll.py --train-out OUT_DIR [--within-frame] [--hidden 256] [--minutes 15]

The last line printed is ``test_nll_nats_per_frame=<value>``: nats per frame over the test split's
frames after each piece's first, as Bai et al. (2018) count them; the all-frames value is printed too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from core.data.config import DataConfig
from core.data.jsb import load_jsb, uniform_nll_per_frame
from core.evaluation.compare import RESULTS_PATH, load_comparison
from core.files import write_json_atomic
from core.models.lstm_lm import LMConfig, LSTMLanguageModel
from core.paths import REPO_ROOT
from core.sampling import export_checkpoint, load_model
from core.training.config import RunConfig
from core.training.loop import train_run
from core.training.lstm_lm import LMTrainConfig, LMTrainer, sequence_nll

PUBLISHED = (
    ("uniform (88 independent fair coins)", 61.00),
    ("LSTM (Bai et al. 2018)", 8.45),
    ("GRU (Bai et al. 2018)", 8.43),
    ("TCN (Bai et al. 2018)", 8.10),
    ("RNN-RBM (Boulanger-Lewandowski et al. 2012)", 6.3),
    ("RNN-NADE (Boulanger-Lewandowski et al. 2012)", 5.6),
)


def load_lm(path: Path) -> LSTMLanguageModel:
    """A next-step LSTM from a folder (model.pt + config.json) or a run checkpoint."""
    model = load_model(path)
    if model.kind != "lstm_lm":
        raise SystemExit(f"{path} is a {model.family.label}, not a next-step LSTM")
    return model.net


def jsb_config(args: argparse.Namespace) -> LMTrainConfig:
    net = LMConfig(
        n_pitches=88,
        hidden=args.hidden,
        layers=args.layers,
        dropout=args.dropout,
        input_dropout=args.input_dropout,
        onsets=False,
        within_frame=args.within_frame,
    )
    return LMTrainConfig(
        source=f"jsb-{args.resolution}",
        net=net,
        data=DataConfig(lowest_pitch=21, steps_per_beat=1),
        run=RunConfig(seed=args.seed, max_minutes=args.minutes, log_every=1, eval_every=5, eval_samples=128),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=args.patience,
        weight_decay=args.weight_decay,
        grad_clip=args.grad_clip,
        augment_low=args.augment[0],
        augment_high=args.augment[1],
    )


def train(args: argparse.Namespace) -> Path:
    """Train on the train split in a run folder beside ``--train-out`` (the best validation epoch is the
    run's best checkpoint), then export that epoch to ``--train-out``."""
    out = Path(args.train_out)
    run_dir = out.with_name(out.name + "-run")
    status = train_run(LMTrainer, jsb_config(args), run_dir)
    print(f"{status.state}: {status.message} ({run_dir})", flush=True)
    return export_checkpoint(run_dir / "checkpoints" / "best.pt", out)


def evaluate(checkpoint: Path, resolution: str = "quarter") -> dict[str, float]:
    """Test (and validation) NLL per frame of a checkpoint."""
    model = load_lm(checkpoint)
    data = load_jsb(resolution)
    return {
        "valid_nll_nats_per_frame": sequence_nll(model, data["valid"], skip_first=True),
        "test_nll_all_frames": sequence_nll(model, data["test"], skip_first=False),
        "test_nll_nats_per_frame": sequence_nll(model, data["test"], skip_first=True),
    }


def record_row(name: str, checkpoint: Path, result: dict[str, float]) -> Path:
    """Put the published rows and this checkpoint's row into the ``jsb`` entry of the comparison file."""
    data = load_comparison(RESULTS_PATH) or {}
    ours = {
        row["model"]: row
        for row in data.get("jsb", {}).get("table", [])
        if row.get("source") == "this project"
    }
    ours[name] = {
        "model": name,
        "test NLL (nats/frame)": round(result["test_nll_nats_per_frame"], 3),
        "source": "this project",
        "checkpoint": checkpoint.resolve().relative_to(REPO_ROOT).as_posix(),
    }
    published = [{"model": m, "test NLL (nats/frame)": v, "source": "published"} for m, v in PUBLISHED]
    table = sorted([*published, *ours.values()], key=lambda row: -row["test NLL (nats/frame)"])
    data["jsb"] = {"table": table, "frames": "quarter notes, 88 keys, each piece's first frame not counted"}
    return write_json_atomic(RESULTS_PATH, data)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, help="checkpoint to evaluate")
    parser.add_argument("--train-out", type=Path, help="train a model on JSB and save it here")
    parser.add_argument("--resolution", choices=["quarter", "16th"], default="quarter")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--input-dropout", type=float, default=0.0)
    parser.add_argument(
        "--within-frame", action="store_true", help="pitch i also sees lower pitches of its frame"
    )
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--grad-clip", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--augment",
        type=int,
        nargs=2,
        default=(0, 0),
        metavar=("LOW", "HIGH"),
        help="shift each training piece by a random LOW..HIGH semitones every epoch (default off)",
    )
    parser.add_argument("--minutes", type=float, default=15.0, help="training time limit")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument(
        "--record",
        metavar="NAME",
        help="add this checkpoint's row, named NAME, to the JSB table of docs/baselines.json (Compare page)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)
    if not args.checkpoint and not args.train_out:
        build_parser().error("give --checkpoint, --train-out or both")
    checkpoint = train(args) if args.train_out else args.checkpoint
    result = evaluate(checkpoint, args.resolution)
    print("\npublished test NLL (nats per frame):")
    for name, value in PUBLISHED:
        print(f"  {name:46s} {value:6.2f}")
    print(f"  {'this checkpoint':46s} {result['test_nll_nats_per_frame']:6.2f}")
    print(f"uniform check: {uniform_nll_per_frame():.2f}")
    print(f"valid_nll_nats_per_frame={result['valid_nll_nats_per_frame']:.4f}")
    print(f"test_nll_all_frames={result['test_nll_all_frames']:.4f}")
    if args.json:
        args.json.write_text(json.dumps({"checkpoint": str(checkpoint), **result}, indent=2))
    if args.record:
        print(f"recorded in {record_row(args.record, Path(checkpoint), result).name}")
    print(f"test_nll_nats_per_frame={result['test_nll_nats_per_frame']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m core.train``: train any model family. Every config field is a flag; flags override --config.

python -m core.train --help                       # the GAN's flags
python -m core.train --model lstm_lm --help       # another family's flags
python -m core.train --config my.json --run-dir runs/my-run
python -m core.train --run-dir runs/my-run --resume
torchrun --nproc_per_node 2 -m core.train ...     # data-parallel (the GAN)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from core.cli.flags import add_config_flags
from core.families import FAMILIES, Family, family_named
from core.models.checkpoint import CheckpointError
from core.models.objectives import OBJECTIVES
from core.training.config import PRECISIONS, FamilyConfig, config_to_dict, model_kind, with_changes
from core.training.loop import train_run

FIXED = ("model", "config", "run_dir", "resume", "print_config")


def requested_family(argv: list[str] | None = None) -> Family:
    """The family a command asks for: ``--model``, else the ``--config`` file's (or, with ``--resume``,
    the run's) ``model`` field, else the GAN."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--model")
    pre.add_argument("--config", type=Path)
    pre.add_argument("--run-dir", type=Path)
    pre.add_argument("--resume", action="store_true")
    args, _ = pre.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.model:
        return family_named(args.model)
    source = args.config or (args.run_dir / "config.json" if args.resume and args.run_dir else None)
    if source and source.exists():
        return family_named(model_kind(json.loads(source.read_text())))
    return FAMILIES["lstm_gan"]


def build_parser(family: Family) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.train", description=f"Train the {family.label}.")
    parser.add_argument(
        "--model",
        choices=list(FAMILIES),
        default=family.kind,
        help="model family (default: lstm_gan); see its own flags with --model KIND --help",
    )
    parser.add_argument("--config", type=Path, help="JSON file with config fields (nested or flat)")
    parser.add_argument("--run-dir", type=Path, help="run folder (default: runs/<model>-<date-time>)")
    parser.add_argument("--resume", action="store_true", help="continue from run-dir/checkpoints/last.pt")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    add_config_flags(parser, family.config_type, choices={"objective": OBJECTIVES, "precision": PRECISIONS})
    return parser


def resolve_config(family: Family, args: argparse.Namespace) -> FamilyConfig:
    """Config file (or the run's own config.json on resume), then flags."""
    saved = args.run_dir / "config.json" if args.resume and args.run_dir else None
    source = args.config or (saved if saved and saved.exists() else None)
    values = json.loads(Path(source).read_text()) if source else {}
    config = family.config_from_dict(values) if values else family.config_type()
    flags = {key: value for key, value in vars(args).items() if key not in FIXED}
    return with_changes(config, **flags)


def main(argv: list[str] | None = None) -> int:
    try:
        family = requested_family(argv)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args = build_parser(family).parse_args(argv)
    try:
        cfg = resolve_config(family, args)
        cfg.validate()
    except (ValueError, TypeError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.print_config:
        print(json.dumps(config_to_dict(cfg), indent=2))
        return 0
    run_dir = args.run_dir or Path("runs") / f"{family.kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        status = train_run(family.trainer, cfg, run_dir, resume=args.resume)
    except (CheckpointError, ValueError) as error:  # the run's status.json says so too
        print(f"error: {error}", file=sys.stderr)
        return 2
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"{status.state}: {status.message} ({run_dir})")
    return 0 if status.state in ("finished", "stopped") else 1

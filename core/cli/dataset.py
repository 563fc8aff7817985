"""``python -m core.dataset stats DIR [--json]``: load a folder of MIDI files and summarise it."""

from __future__ import annotations

import argparse
import json
import sys

from core.data import load_folder
from core.data.stats import corpus_stats
from core.paths import DEFAULT_CORPUS


def main(argv: list[str] | None = None) -> int:
    """``python -m core.dataset stats DIR [--json]``."""
    parser = argparse.ArgumentParser(
        prog="python -m core.dataset", description="Corpus statistics of a folder of MIDI files."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    stats = commands.add_parser("stats", help="load a folder of MIDI files and summarise it")
    stats.add_argument("folder", nargs="?", default=str(DEFAULT_CORPUS), help="default: data/chorales")
    stats.add_argument("--json", action="store_true", help="print the statistics as JSON")
    stats.add_argument("--rejected", action="store_true", help="list every rejected file and why")
    args = parser.parse_args(argv)
    try:
        corpus = load_folder(args.folder, progress=sys.stderr.isatty())
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = corpus_stats(corpus)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(result.summary())
    rejected = corpus.rejected if args.rejected else corpus.rejected[:5]
    for report in rejected:
        print(f"  rejected {report.name}: {report.message}")
    if len(corpus.rejected) > len(rejected):
        print(f"  ... and {len(corpus.rejected) - len(rejected)} more (--rejected lists them)")
    return 0

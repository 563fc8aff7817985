"""``python -m core.midi_io check FILE...``: check MIDI files with the same guards the app uses.

Prints ``FILE<TAB>ok<TAB>summary`` or ``FILE<TAB>error<TAB>message`` per file.
"""

from __future__ import annotations

import argparse
import os
import sys

from core.midi.parser import DEFAULT_LIMITS, MidiParser, read_source
from core.midi.score import MidiLimits, MidiRejected


def _check_files(paths: list[str], limits: MidiLimits) -> None:
    with MidiParser(limits) as parser:
        for path in paths:
            try:
                data, name = read_source(path, limits)
                line = f"{path}\tok\t{parser.parse(data, name).summary()}"
            except MidiRejected as error:
                line = f"{path}\terror\t{error}"
            print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.midi_io", description="Check MIDI files with the same guards the app uses."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check", help="parse files; print FILE<TAB>ok<TAB>summary or FILE<TAB>error<TAB>message per file"
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--timeout", type=float, default=DEFAULT_LIMITS.timeout_s, help="seconds per file")
    args = parser.parse_args(argv)
    try:
        _check_files(args.files, MidiLimits(timeout_s=args.timeout))
    except BrokenPipeError:  # the reader (e.g. `head`) went away: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0

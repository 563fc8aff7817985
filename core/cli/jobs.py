"""``python -m core.jobs list|stop RUN``: the background training runs of this server."""

from __future__ import annotations

import argparse
import sys

from core.studio.jobs import JobError, list_runs, run_info, stop_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.jobs", description="List and stop training runs.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list runs, newest first")
    stop = sub.add_parser("stop", help="ask a run to checkpoint and end")
    stop.add_argument("run_id")
    args = parser.parse_args(argv)
    try:
        if args.command == "stop":
            stop_run(args.run_id, wait_s=30)
            print(run_info(args.run_id).state)
            return 0
        for info in list_runs():
            print(f"{info.run_id}\t{info.state}\t{info.step}/{info.total_steps}\t{info.message}")
    except JobError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0

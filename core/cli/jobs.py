"""``python -m core.jobs list|stop RUN|train ARGS``: the background training runs of this server.

``train`` is how the web app starts a run: it trains with ``python -m core.train ARGS`` in this process and
then starts the next queued run (:func:`core.studio.queue.advance`), so the queue moves on by itself even
when no page is open.
"""

from __future__ import annotations

import argparse
import sys

from core.cli import train
from core.studio.jobs import JobError, list_runs, run_info, stop_run
from core.studio.queue import advance


def train_then_advance(train_args: list[str]) -> int:
    """Train one run, then hand the training slot to the next run in the queue."""
    try:
        return train.main(train_args)
    finally:
        try:
            advance()
        except (OSError, JobError) as error:  # the next run still starts on the next page load
            print(f"could not start the next queued run: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.jobs", description="List and stop training runs.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list runs, newest first")
    stop = sub.add_parser("stop", help="ask a run to checkpoint and end")
    stop.add_argument("run_id")
    trainer = sub.add_parser("train", help="python -m core.train ARGS, then start the next queued run")
    trainer.add_argument("train_args", nargs=argparse.REMAINDER, help="the arguments of python -m core.train")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["train"] and not {"-h", "--help"} & set(argv[1:2]):
        return train_then_advance(argv[1:])  # its flags are core.train's, not ours
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

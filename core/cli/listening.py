"""``python -m core.listening``: the "Bach or bot?" listening test's rounds, class results and answers.

    python -m core.listening rounds [--json]           # every round: id, opened, model, state, answers
    python -m core.listening results ROUND [--json]    # share correct, 95 % interval, by group and pair
    python -m core.listening export ROUND OUT.csv      # the answers as the page's CSV download
    python -m core.listening close ROUND               # the teacher's button: no more answers
    python -m core.listening reset ROUND --yes         # the teacher's button: delete every answer, reopen

ROUND is a round's number or ``latest``. The test lives in ``listening.sqlite3`` in the runs folder
(``$GMS_RUNS_DIR``, else ``runs/``). ``rounds``, ``results`` and ``export`` only read it; ``close`` and
``reset`` change what the class sees on the Bach or bot? page at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.files import write_bytes_atomic
from core.paths import display_path
from core.studio.listening.results import Results, Share, judge_scores, summarise, verdicts
from core.studio.listening.store import EXPERIENCE, ListeningError, ListeningStore, RoundInfo, database_path


def open_store() -> ListeningStore:
    """The server's listening store; a :class:`ListeningError` when no round was ever opened."""
    path = database_path()
    if not path.is_file():
        raise ListeningError("no listening test has been opened yet (the teacher opens one on its page)")
    return ListeningStore(path)


def find_round(store: ListeningStore, name: str) -> RoundInfo:
    """The round called ``name``: its number, or ``latest``."""
    if name == "latest":
        info = store.latest_round()
        if info is None:
            raise ListeningError("no round has been opened yet")
        return info
    try:
        return store.round(int(name))
    except ValueError:
        raise ListeningError(f"a round is a number or 'latest', not {name[:40]!r}") from None


def model_label(info: RoundInfo) -> str:
    """The model a round's generated clips came from, as the page names it."""
    settings = info.settings
    if settings.get("model_label"):
        return str(settings["model_label"])
    return display_path(Path(settings["checkpoint"])) if settings.get("checkpoint") else "unknown model"


def round_row(info: RoundInfo, answers: int) -> dict:
    opened = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(info.created_at))
    return {"id": info.id, "opened": opened, "model": model_label(info), "state": info.state,
            "revealed": info.revealed, "answers": answers}  # fmt: skip


def list_rounds(args: argparse.Namespace) -> int:
    store = open_store()
    counts = store.answer_counts()
    rows = [round_row(info, counts.get(info.id, 0)) for info in store.rounds()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        state = row["state"] + (", answers revealed" if row["revealed"] else "")
        print(f"{row['id']}\t{row['opened']}\t{row['model']}\t{state}\t{row['answers']} answers")
    if not rows:
        print("no rounds yet")
    return 0


def share_json(share: Share) -> dict:
    low, high = share.interval
    value = share.share if share.total else None
    return {"correct": share.correct, "total": share.total, "share": value, "interval_95": [low, high],
            "p_value_vs_chance": share.p_value}  # fmt: skip


def results_json(info: RoundInfo, results: Results, judges: dict[str, Share]) -> dict:
    return {
        "round": info.id,
        "state": info.state,
        "listeners": results.listeners,
        "excluded_listeners": results.excluded,
        "overall": share_json(results.overall),
        "by_experience": {key: share_json(share) for key, share in results.by_experience.items()},
        "per_pair": {str(position + 1): share_json(share) for position, share in results.per_pair.items()},
        "attention_check": share_json(results.attention),
        "judges_pairs_right": {name: share_json(share) for name, share in judges.items()},
    }


def results_lines(info: RoundInfo, results: Results, judges: dict[str, Share]) -> list[str]:
    """The class results in words, as the page shows them."""
    lines = [
        f"Round {info.id} ({info.state}, {model_label(info)}): {results.listeners} listener(s); "
        f"{results.excluded} left out for calling the random notes Bach.",
        f"everyone: {results.overall.sentence()}; chance alone gives 50 % "
        f"(exact binomial test p = {results.overall.p_value:.2g})",
    ]
    lines += [f"{EXPERIENCE[key]}: {share.sentence()}" for key, share in results.by_experience.items()]
    lines += [f"pair {position + 1}: {share.sentence()}" for position, share in results.per_pair.items()]
    scores = ", ".join(f"{name} {share.correct} of {share.total}" for name, share in judges.items())
    lines.append(f"pairs right: {scores}")
    return lines


def show_results(args: argparse.Namespace) -> int:
    store = open_store()
    info = find_round(store, args.round)
    pairs = store.pairs(info.id)
    results = summarise(store.answers(info.id), pairs)
    judges = judge_scores(verdicts(results, pairs))
    if args.json:
        print(json.dumps(results_json(info, results, judges), indent=2))
    else:
        print("\n".join(results_lines(info, results, judges)))
    return 0


def export(args: argparse.Namespace) -> int:
    store = open_store()
    info = find_round(store, args.round)
    write_bytes_atomic(args.out, store.csv(info.id).encode("utf-8"))  # the bytes the page offers
    print(f"wrote {args.out}: {len(store.answers(info.id))} answers of round {info.id}")
    return 0


def close(args: argparse.Namespace) -> int:
    store = open_store()
    info = find_round(store, args.round)
    store.set_state(info.id, "closed")
    print(f"round {info.id} is closed: no more answers are taken")
    return 0


def reset(args: argparse.Namespace) -> int:
    store = open_store()
    info = find_round(store, args.round)
    if not args.yes:
        print(f"reset deletes every answer of round {info.id}; add --yes to do it", file=sys.stderr)
        return 1
    store.reset(info.id)
    print(f"round {info.id}: every answer deleted, answers hidden, the round is open again")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core.listening",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    rounds = verbs.add_parser("rounds", help="list every round: id, opened, model, state, answers")
    results = verbs.add_parser("results", help="share correct with its 95 %% interval vs chance, by group")
    out = verbs.add_parser("export", help="write a round's answers as CSV (the page's download)")
    closing = verbs.add_parser("close", help="close a round: no more answers (changes what the class sees)")
    resetting = verbs.add_parser(
        "reset", help="delete every answer of a round and open it again (changes what the class sees)"
    )
    for verb in (results, out, closing, resetting):
        verb.add_argument("round", metavar="ROUND", help="a round's number, or 'latest'")
    for verb in (rounds, results):
        verb.add_argument("--json", action="store_true", help="print JSON instead of lines")
    out.add_argument("out", type=Path, metavar="OUT.csv")
    resetting.add_argument("--yes", action="store_true", help="really delete the answers")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verbs = {"rounds": list_rounds, "results": show_results, "export": export, "close": close, "reset": reset}
    try:
        return verbs[args.verb](args)
    except (ListeningError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

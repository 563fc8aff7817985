"""``python -m core.compare``: the survey's model families side by side on the same data, metrics and SVM.

python -m core.compare --n 512 --json docs/baselines.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.evaluation.compare import DEFAULT_CHECKPOINTS, compare, load_comparison, markdown
from core.families import MODEL_LABELS
from core.files import write_json_atomic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.compare", description=__doc__.split("\n")[0])
    for name, path in DEFAULT_CHECKPOINTS.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=Path, default=path, help=f"(default: {path.name})"
        )
    parser.add_argument("--n", type=int, default=512, help="generated windows per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the comparison here (keeps an existing 'jsb' entry)")
    args = parser.parse_args(argv)
    checkpoints = {name: getattr(args, name) for name in DEFAULT_CHECKPOINTS}
    result = compare(checkpoints, n=args.n, seed=args.seed)
    print(markdown(result, MODEL_LABELS))
    print("\nSVM's picks (top-k of each group):\n" + markdown(result, MODEL_LABELS, row="top_k"))
    if args.json:
        previous = load_comparison(args.json) or {}
        if "jsb" in previous:
            result["jsb"] = previous["jsb"]
        write_json_atomic(args.json, result)
    return 0

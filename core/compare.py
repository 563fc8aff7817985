"""The three model families side by side on the same data and the same metrics.

Each checkpoint is evaluated by :func:`core.evaluate.evaluate` against the same held-out chorale
windows and scored by one SVM (the GAN checkpoint's ranker), so every column is measured the same
way. The result is JSON: ``real`` (held-out windows), and per model its ``generated`` row (plain
samples) and ``top_k`` row (the SVM's picks), plus optional ``jsb`` benchmark numbers.

    python -m core.compare --n 512 --json docs/baselines.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATH = REPO_ROOT / "docs" / "baselines.json"
MODEL_LABELS = {
    "lstm_gan": "LSTM-vs-LSTM GAN (this project)",
    "lstm_lm": "Next-step LSTM (Huang & Wu 2016)",
    "cnn_gan": "CNN-GAN, MidiNet-style (Yang et al. 2017)",
}
"""The ``model`` config values (CLI ``--model``) and how the app names them."""
DEFAULT_CHECKPOINTS = {
    "lstm_gan": REPO_ROOT / "checkpoints" / "default",
    "lstm_lm": REPO_ROOT / "checkpoints" / "lstm_lm",
    "cnn_gan": REPO_ROOT / "checkpoints" / "cnn_gan",
}
METRICS = {
    "polyphony": "notes sounding per non-silent step (chorales: about 4)",
    "n_pitch_classes_used": "distinct pitch classes in 4 bars",
    "scale_consistency": "share of notes in the best-fitting major/minor scale",
    "pitch_class_entropy": "spread of the pitch-class histogram, bits",
    "groove_consistency": "how alike the bars' onset patterns are",
    "qualified_note_rate": "share of notes at least an eighth long (MuseGAN's QN)",
    "repetition_rate": "share of the top voice's 4-interval patterns heard before",
    "mgeval_overlap": "MGEval: overlap with the real distribution (1 = same)",
    "mgeval_kl": "MGEval: KL divergence from the real distribution (0 = same)",
    "c2st_accuracy": "SVM telling it from real windows (0.5 = cannot)",
    "ranker_score": "the project's SVM score (higher = more like real)",
    "nearest_train_distance": "Jaccard distance to the nearest training window (0 = copy)",
    "copy_rate": "share of exact copies of training windows",
}


def model_kind_of(checkpoint: str | Path) -> str:
    """``lstm_gan``, ``lstm_lm`` or ``cnn_gan`` from a checkpoint folder's or run file's config."""
    from core.baselines import model_kind, read_checkpoint

    path = Path(checkpoint)
    if path.is_dir():
        return model_kind(json.loads((path / "config.json").read_text()))
    return model_kind(read_checkpoint(path)[1])


def model_generator(checkpoint: str | Path, bars: int = 4, temperature: float = 1.0):
    """``(n, seed) -> (active, onset)`` for any of the three families."""
    if model_kind_of(checkpoint) == "lstm_gan":
        from core.evaluate import checkpoint_generator

        return checkpoint_generator(checkpoint, bars=bars, temperature=temperature)
    from core.baselines import load_baseline, sample_baseline_arrays

    baseline = load_baseline(checkpoint)
    return lambda n, seed: sample_baseline_arrays(baseline, n, bars, seed, temperature)


def shared_ranker(checkpoints: dict[str, Path]):
    """The GAN checkpoint's ranker (fitted and cached when it ships none), else the first model's."""
    from core.pipeline import load_or_fit_ranker

    name = "lstm_gan" if "lstm_gan" in checkpoints else next(iter(checkpoints))
    generator = model_generator(checkpoints[name])
    return load_or_fit_ranker(checkpoints[name], _as_sampler(generator)), name


def _as_sampler(generator):
    from core.music.pianoroll import roll_from_arrays

    def sample(n: int, bars: int, seed: int) -> list:
        active, onset = generator(n, seed)
        return [roll_from_arrays(a, o) for a, o in zip(active, onset, strict=True)]

    return sample


def compare(checkpoints: dict[str, Path], n: int = 512, seed: int = 0, real=None) -> dict:
    """Evaluate every checkpoint that exists; returns the JSON-ready comparison."""
    from core.evaluate import EvalConfig, _json_ready, corpus_real_data, evaluate

    started = time.perf_counter()
    present = {name: Path(path) for name, path in checkpoints.items() if Path(path).exists()}
    if not present:
        raise FileNotFoundError("none of the checkpoints exists")
    real = real or corpus_real_data()
    ranker, ranker_of = shared_ranker(present)
    config = EvalConfig(n=n, seed=seed)
    result: dict = {"models": {}}
    for name, path in present.items():
        rows = evaluate(model_generator(path), real, ranker, config)
        result["real"] = rows["real"]
        result["models"][name] = {
            "checkpoint": _relative(path),
            "generated": rows["generated"],
            "top_k": rows["top_k"],
        }
    result["settings"] = {
        "n": n,
        "seed": seed,
        "candidates": config.candidates,
        "keep": config.keep,
        "ranker_from": ranker_of,
        "seconds": round(time.perf_counter() - started, 1),
    }
    return _json_ready(result)


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path.name


def load_comparison(path: str | Path | None = None) -> dict | None:
    """The saved comparison (``docs/baselines.json`` by default), or None when there is none."""
    path = Path(path) if path else RESULTS_PATH
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def table_rows(result: dict, row: str = "generated", metrics: dict[str, str] = METRICS) -> list[dict]:
    """One dict per metric: ``metric``, ``meaning``, ``real``, then one value per model."""
    models = result.get("models", {})
    rows = []
    for name, meaning in metrics.items():
        entry = {"metric": name, "meaning": meaning, "real": _value(result.get("real", {}), name)}
        entry.update({model: _value(models[model].get(row, {}), name) for model in models})
        rows.append(entry)
    return rows


def _value(row: dict, name: str) -> float | None:
    value = row.get(name)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def closest_to_real(result: dict, row: str = "generated") -> dict[str, str]:
    """Per metric, the model whose value is nearest the real one (C2ST: nearest 0.5; copies: fewest).

    Metrics on which every model scores the same are left out.
    """
    targets = {"c2st_accuracy": 0.5, "copy_rate": 0.0, "mgeval_overlap": 1.0, "mgeval_kl": 0.0}
    winners = {}
    for entry in table_rows(result, row):
        goal = targets.get(entry["metric"], entry["real"])
        values = {k: v for k, v in entry.items() if k not in ("metric", "meaning", "real") and v is not None}
        if goal is None or not values or entry["metric"] in ("ranker_score", "nearest_train_distance"):
            continue
        if max(values.values()) - min(values.values()) < 1e-9:  # a tie says nothing
            continue
        winners[entry["metric"]] = min(values, key=lambda k: abs(values[k] - goal))
    return winners


def summary_sentences(result: dict, labels: dict[str, str] = MODEL_LABELS) -> list[str]:
    """A few plain sentences that say what the numbers show (written from the numbers, not fixed text)."""
    models = result.get("models", {})
    if not models:
        return []

    def name(key: str) -> str:
        return labels.get(key, key)

    wins = closest_to_real(result)
    counts = {model: sum(1 for w in wins.values() if w == model) for model in models}
    ranked = sorted(counts, key=counts.get, reverse=True)
    parts = ", ".join(f"{name(m)} {counts[m]}" for m in ranked)
    sentences = [f"Closest to the held-out chorales on {len(wins)} metrics: {parts}."]
    c2st = {m: _value(models[m]["generated"], "c2st_accuracy") for m in models}
    c2st = {m: v for m, v in c2st.items() if v is not None}
    if c2st:
        hardest = min(c2st, key=lambda m: abs(c2st[m] - 0.5))
        listed = ", ".join(f"{name(m)} {v:.2f}" for m, v in c2st.items())
        easy = (
            " Every model's windows are still easy to tell from real ones."
            if min(c2st.values()) > 0.9
            else ""
        )
        sentences.append(
            f"An SVM told generated from real 4-bar windows with accuracy {listed} "
            f"(0.5 = indistinguishable); {name(hardest)} was the hardest to tell apart.{easy}"
        )
    copies = {m: _value(models[m]["generated"], "copy_rate") or 0.0 for m in models}
    if any(copies.values()):
        listed = ", ".join(f"{name(m)} {v:.1%}" for m, v in copies.items())
        sentences.append(f"Exact copies of training windows: {listed}.")
    if "lstm_gan" in models and wins:
        best = [m for m in models if counts[m] == max(counts.values())]
        if best == ["lstm_gan"]:
            sentences.append(
                "On these metrics the data supports the seed's claim that the LSTM GAN is the better choice."
            )
        else:
            leader = " and ".join(name(m) for m in best)
            sentences.append(
                "On these metrics the data does not support the seed's claim that the LSTM GAN is the "
                f"better choice: most often closest to the real chorales is {leader}."
            )
    return sentences


def markdown(result: dict, labels: dict[str, str] | None = None, row: str = "generated") -> str:
    """The comparison as a Markdown table (metrics as rows, real then the models as columns)."""
    models = list(result.get("models", {}))
    labels = labels or {}
    head = "| metric | real (held out) | " + " | ".join(labels.get(m, m) for m in models) + " |"
    lines = [head, "|---|" + "---:|" * (len(models) + 1)]
    for entry in table_rows(result, row):
        cells = [_format(entry["real"])] + [_format(entry[m]) for m in models]
        lines.append(f"| {entry['metric']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _format(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


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
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Evaluation harness: how far a generator's music is from the real thing, and whether ranking helps.

Rows (sets of 4-bar windows), each summarised by the same metrics (see ``core.metrics``):

- ``real``: held-out real windows (the half not used as the reference set);
- ``real_pieces``: whole held-out pieces (per-piece metrics only; the published reference values
  are per piece);
- ``generated``: ``n`` samples of the generator;
- ``top_k`` / ``random_pick``: the generated samples cut into groups of ``candidates``; from each
  group the SVM's ``keep`` best, or ``keep`` picked at random;
- ``random_roll`` / ``shuffled_real``: baselines (independent random cells at the real density,
  real windows with their time steps shuffled).

MGEval overlap/KL and the classifier two-sample test compare each row with the reference half of
the held-out real windows; memorisation compares with the training windows.

CLI::

    python -m core.evaluate --checkpoint checkpoints/default --n 512 --json OUT.json
    python -m core.evaluate --generator shuffled --n 512      # a baseline as the "generator"
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.music import metrics
from core.ranker import Ranker, noise_rolls, sanity_flags, shuffled_steps

GeneratorFn = Callable[[int, int], tuple[np.ndarray, np.ndarray]]
"""(n, seed) -> (active, onset) bool[n, T, P] of n generated windows."""

ROW_ORDER = ("real", "real_pieces", "generated", "top_k", "random_pick", "random_roll", "shuffled_real")
PER_ROLL_METRICS = (
    "pitch_range",
    "n_pitches_used",
    "n_pitch_classes_used",
    "polyphony",
    "polyphony_rate",
    "scale_consistency",
    "pitch_entropy",
    "pitch_class_entropy",
    "empty_beat_rate",
    "groove_consistency",
    "empty_bar_rate",
    "used_pitch_classes_per_bar",
    "qualified_note_rate",
    "simultaneous_onset_rate",
    "repetition_rate",
)

SET_METRICS = (
    "mgeval_overlap",
    "mgeval_kl",
    "c2st_accuracy",
    "ranker_score",
    "nearest_train_distance",
    "copy_rate",
)
TABLE_METRICS = (*PER_ROLL_METRICS, *SET_METRICS, "n_rolls")


@dataclass(frozen=True)
class EvalConfig:
    """Sizes and the roll layout of an evaluation."""

    n: int = 512
    candidates: int = 32
    keep: int = 4
    seed: int = 0
    lowest_pitch: int = 36
    steps_per_beat: int = 4
    beats_per_bar: int = 4

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * self.beats_per_bar


@dataclass(frozen=True)
class RealData:
    """Real windows: ``train`` for memorisation, ``test`` held out; ``pieces`` whole held-out rolls."""

    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    pieces: Sequence[tuple[np.ndarray, np.ndarray]] = ()


def per_roll_metrics(active: np.ndarray, onset: np.ndarray, config: EvalConfig) -> dict[str, np.ndarray]:
    """Every per-roll metric of ``PER_ROLL_METRICS`` for rolls bool[N, T, P]."""
    low, bar = config.lowest_pitch, config.steps_per_bar
    return {
        "pitch_range": metrics.pitch_range(active),
        "n_pitches_used": metrics.n_pitches_used(active),
        "n_pitch_classes_used": metrics.n_pitch_classes_used(active, low),
        "polyphony": metrics.polyphony(active),
        "polyphony_rate": metrics.polyphony_rate(active),
        "scale_consistency": metrics.scale_consistency(active, onset, low),
        "pitch_entropy": metrics.pitch_entropy(active, onset),
        "pitch_class_entropy": metrics.pitch_class_entropy(active, onset, low),
        "empty_beat_rate": metrics.empty_beat_rate(active, config.steps_per_beat),
        "groove_consistency": metrics.groove_consistency(onset, bar),
        "empty_bar_rate": metrics.empty_bar_rate(active, bar),
        "used_pitch_classes_per_bar": metrics.used_pitch_classes_per_bar(active, bar, low),
        "qualified_note_rate": metrics.qualified_note_rate(active, onset),
        "simultaneous_onset_rate": metrics.simultaneous_onset_rate(onset),
        "repetition_rate": metrics.repetition_rate(active),
    }


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def summarize_set(
    active: np.ndarray,
    onset: np.ndarray,
    reference: tuple[np.ndarray, np.ndarray],
    train_active: np.ndarray,
    ranker: Ranker | None,
    config: EvalConfig,
) -> dict[str, float]:
    """Mean per-roll metrics plus MGEval, C2ST, memorisation and ranker score against the reference."""
    row = {name: _mean(values) for name, values in per_roll_metrics(active, onset, config).items()}
    ref_mgeval = metrics.mgeval_features(*reference, lowest_pitch=config.lowest_pitch)
    mgeval = metrics.mgeval_compare(ref_mgeval, metrics.mgeval_features(active, onset, config.lowest_pitch))
    for name, values in mgeval.items():
        row[f"mgeval_overlap_{name}"] = values["overlap"]
        row[f"mgeval_kl_{name}"] = values["kl"]
    row["mgeval_overlap"] = float(np.mean([v["overlap"] for v in mgeval.values()]))
    row["mgeval_kl"] = float(np.mean([v["kl"] for v in mgeval.values()]))
    if ranker is not None:
        ref_x, x = ranker.features(*reference), ranker.features(active, onset)
        row["c2st_accuracy"], row["c2st_p_value"] = metrics.classifier_two_sample_test(ref_x, x, config.seed)
        row["ranker_score"] = _mean(ranker.score(x))
    distance = metrics.nearest_train_distance(active, train_active)
    row["nearest_train_distance"] = _mean(distance)
    row["copy_rate"] = float((distance == 0).mean())
    row["n_rolls"] = float(len(active))
    return row


def summarize_pieces(pieces: Sequence[tuple[np.ndarray, np.ndarray]], config: EvalConfig) -> dict[str, float]:
    """Per-piece metrics of whole pieces of different lengths, averaged over pieces."""
    collected: dict[str, list[float]] = {name: [] for name in PER_ROLL_METRICS}
    for active, onset in pieces:
        for name, values in per_roll_metrics(active[None], onset[None], config).items():
            collected[name].append(float(values[0]))
    row = {name: _mean(np.array(values)) for name, values in collected.items()}
    row["n_rolls"] = float(len(pieces))
    return row


def pick_top_and_random(
    active: np.ndarray, onset: np.ndarray, ranker: Ranker, config: EvalConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the SVM's ``keep`` best and of ``keep`` random rolls from each group of ``candidates``."""
    rng = np.random.default_rng(config.seed + 1)
    scores = ranker.score_rolls(active, onset)
    flagged = np.array([bool(f) for f in sanity_flags(active, onset)])
    top, random_pick = [], []
    for start in range(0, len(active) - config.candidates + 1, config.candidates):
        group = np.arange(start, start + config.candidates)
        order = sorted(group, key=lambda i: (flagged[i], -scores[i]))
        top.extend(order[: config.keep])
        random_pick.extend(rng.choice(group, size=config.keep, replace=False))
    return np.array(top, dtype=int), np.array(random_pick, dtype=int)


def baseline_sets(real: RealData, n: int, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Baselines: ``random_roll`` (cells on at the real density), ``shuffled_real`` (steps shuffled)."""
    rng = np.random.default_rng(seed + 2)
    train_active = real.train[0]
    _, steps, n_pitches = train_active.shape
    density = float(train_active.mean())
    return {
        "random_roll": noise_rolls(rng, n, steps, n_pitches, density=density),
        "shuffled_real": shuffled_steps(train_active, rng, n),
    }


def evaluate(
    generator: GeneratorFn, real: RealData, ranker: Ranker, config: EvalConfig = EvalConfig()
) -> dict[str, object]:
    """All rows and the generated set's two-sample test; see the module docstring."""
    started = time.perf_counter()
    reference, real_row = _split_reference(real.test, config)
    active, onset = generator(config.n, config.seed)
    top, random_pick = pick_top_and_random(active, onset, ranker, config)
    sets = {
        "real": real_row,
        "generated": (active, onset),
        "top_k": (active[top], onset[top]),
        "random_pick": (active[random_pick], onset[random_pick]),
        **baseline_sets(real, config.n, config.seed),
    }
    result: dict[str, object] = {
        name: summarize_set(*arrays, reference, real.train[0], ranker, config)
        for name, arrays in sets.items()
    }
    if real.pieces:
        result["real_pieces"] = summarize_pieces(real.pieces, config)
    generated = result["generated"]
    result["c2st_accuracy"] = generated["c2st_accuracy"]
    result["c2st_p_value"] = generated["c2st_p_value"]
    result["settings"] = {**config.__dict__, "seconds": round(time.perf_counter() - started, 2)}
    return result


def _split_reference(
    test: tuple[np.ndarray, np.ndarray], config: EvalConfig
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Held-out windows cut in two random halves: the reference, and the ``real`` row (at most n)."""
    order = np.random.default_rng(config.seed + 3).permutation(len(test[0]))
    half = len(order) // 2
    ref_idx, row_idx = order[:half], order[half:][: config.n]
    return (test[0][ref_idx], test[1][ref_idx]), (test[0][row_idx], test[1][row_idx])


def markdown_table(result: dict[str, object], names: Sequence[str] | None = None) -> str:
    """Metrics as rows, sets as columns (the rows present in ``result``, in ``ROW_ORDER``)."""
    rows = [r for r in ROW_ORDER if isinstance(result.get(r), dict)]
    names = names or TABLE_METRICS
    lines = ["| metric | " + " | ".join(rows) + " |", "|---|" + "---:|" * len(rows)]
    for name in names:
        cells = [_format(result[r].get(name, math.nan)) for r in rows]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _format(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _json_ready(value: object) -> object:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json_ready(value.item())
    return value


# --- CLI -----------------------------------------------------------------------------------------------


def corpus_real_data(bars: int = 4) -> RealData:
    """Training and held-out windows plus held-out pieces of the bundled corpus (4/4 pieces only)."""
    from core.data import load_folder, windows
    from core.paths import DEFAULT_CORPUS

    corpus = load_folder(DEFAULT_CORPUS)
    train, test = corpus.split("train"), corpus.split("test")
    pieces = [(p.roll.active, p.roll.onset) for p in test.pieces if p.roll.beats_per_bar == 4]
    return RealData(
        train=windows(train, bars=bars, hop_bars=1, beats_per_bar=4),
        test=windows(test, bars=bars, hop_bars=1, beats_per_bar=4),
        pieces=pieces,
    )


def baseline_generator(kind: str, real: RealData) -> GeneratorFn:
    """A baseline posing as the generator: ``random`` cells or ``shuffled`` training windows."""

    def generate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        return baseline_sets(real, n, seed + 100)["random_roll" if kind == "random" else "shuffled_real"]

    return generate


def checkpoint_generator(checkpoint: str | Path, bars: int = 4, temperature: float = 1.0) -> GeneratorFn:
    """The GAN checkpoint as a generator of ``bars``-bar windows."""
    from core.pipeline import checkpoint_sampler, rolls_to_arrays

    sampler = checkpoint_sampler(checkpoint, temperature)
    return lambda n, seed: rolls_to_arrays(sampler(n, bars, seed))


def evaluate_checkpoint(checkpoint: str | Path, config: EvalConfig, real: RealData | None = None) -> dict:
    """Evaluate a checkpoint; also return per-piece values (held-out real vs generated) for plots.

    Returns ``{"result": <evaluate()'s dict>, "values": {"real": {...}, "generated": {...}}}`` where each
    values dict maps a per-roll metric (and ``ranker_score``) to an array with one value per piece.
    """
    from core.pipeline import load_or_fit_ranker

    real = real or corpus_real_data()
    generate = checkpoint_generator(checkpoint)
    generated: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def remembering(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        generated["rolls"] = generate(n, seed)
        return generated["rolls"]

    ranker = load_or_fit_ranker(checkpoint, lambda n, bars, seed: _as_rolls(generate(n, seed)))
    result = evaluate(remembering, real, ranker, config)
    values = {
        "real": per_roll_metrics(*real.test, config),
        "generated": per_roll_metrics(*generated["rolls"], config),
    }
    values["real"]["ranker_score"] = ranker.score_rolls(*real.test)
    values["generated"]["ranker_score"] = ranker.score_rolls(*generated["rolls"])
    return {"result": result, "values": values}


def _ranker_for(args: argparse.Namespace, real: RealData, generator: GeneratorFn) -> Ranker:
    from core.pipeline import load_or_fit_ranker
    from core.ranker import fit_on_rolls

    if args.ranker:
        return Ranker.load(args.ranker)
    if args.checkpoint:
        return load_or_fit_ranker(args.checkpoint, lambda n, bars, seed: _as_rolls(generator(n, seed)))
    generated = generator(min(1000, 2 * args.n), 10_000 + args.seed)
    return fit_on_rolls(real.train, generated, info={"generator": args.generator})


def _as_rolls(arrays: tuple[np.ndarray, np.ndarray]) -> list:
    from core.music.pianoroll import roll_from_arrays

    return [roll_from_arrays(a, o) for a, o in zip(*arrays, strict=True)]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate", description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="GAN checkpoint folder or file")
    source.add_argument("--generator", choices=["random", "shuffled"], help="evaluate a baseline instead")
    parser.add_argument("--ranker", help="ranker .npz (default: beside the checkpoint, else fitted)")
    parser.add_argument("--n", type=int, default=512, help="generated windows")
    parser.add_argument("--candidates", type=int, default=32)
    parser.add_argument("--keep", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--json", help="write every number to this JSON file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    real = corpus_real_data()
    if args.checkpoint:
        generator = checkpoint_generator(args.checkpoint, temperature=args.temperature)
    else:
        generator = baseline_generator(args.generator, real)
    ranker = _ranker_for(args, real, generator)
    config = EvalConfig(n=args.n, candidates=args.candidates, keep=args.keep, seed=args.seed)
    result = evaluate(generator, real, ranker, config)
    print(markdown_table(result))
    print(
        f"\nC2ST (generated vs held-out real): accuracy {result['c2st_accuracy']:.3f}, "
        f"p = {result['c2st_p_value']:.3g}; total {time.perf_counter() - started:.1f} s"
    )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(_json_ready(result), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure the four-voice model against held-out chorales: music-theory metrics, the classifier two-sample
test, copies of training windows, and harmonisations of the held-out sopranos.

    python scripts/satb_report.py --checkpoint checkpoints/satb --split test --json out.json
    python scripts/satb_report.py --checkpoint runs/x/checkpoints/last.pt --mle --split valid

``--mle`` measures the maximum-likelihood generator a run kept at the start of its adversarial phase.
Choose settings on ``--split valid``; ``test`` is for the final numbers only. Metrics are means over pieces
(``core.music.musicianship.theory_metrics``) computed from the pieces' explicit voices; the roll-only
variant (voices split from the piano-roll, as for any other model) is reported as ``roll_*``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

from core.data.voices import voice_windows
from core.files import write_json_atomic
from core.models.base import Samples
from core.models.checkpoint import read_checkpoint
from core.models.satb_sampling import tokens_to_samples
from core.models.satb_tokens import encode
from core.music.features import features_batch
from core.music.metrics import classifier_two_sample_test, nearest_train_distance
from core.music.musicianship import theory_metrics
from core.ranking.pipeline import rank_samples
from core.ranking.reference import load_ranker
from core.sampling import LoadedModel, load_model
from core.sampling.satb import chorale_pieces, free_pieces, harmonise

TARGETS = {
    "parallel_perfects_per_bar": ("<=", 0.15),
    "triad_share": (">=", 0.55),
    "non_tertian_share": ("<=", 0.20),
    "sixteenth_onset_beat_share": ("<=", 0.15),
    "dominant_tonic_per_bar": (">=", 0.15),
    "soprano_step_share": (">=", 0.70),
    "bass_leap_share": ("<=", 0.12),
    "four_voice_step_share": (">=", 0.90),
}
HARMONY_TARGETS = {
    "parallel_perfects_per_bar": ("<=", 0.20),
    "triad_share": (">=", 0.55),
    "phrase_end_authentic_share": (">=", 0.25),
}
SHOWN = (
    *TARGETS,
    "bars_with_parallels_share",
    "voice_crossing_share",
    "authentic_cadences_per_bar",
    "phrase_end_authentic_share",
    "key_strength",
    "first_last_key_agreement",
)


def load(path: Path, mle: bool) -> LoadedModel:
    model = load_model(path)
    if mle:
        _, _, extras = read_checkpoint(path)
        if "mle_generator" not in extras:
            raise SystemExit(f"{path} keeps no maximum-likelihood generator (it had no adversarial phase)")
        model.net.load_state_dict(extras["mle_generator"])
    return model


def metrics_of(samples: Samples, explicit: bool = True) -> dict[str, float]:
    values = theory_metrics(
        samples.active,
        samples.onset,
        phrase_end=samples.phrase_end,
        voices=samples.voices if explicit else None,
    )
    return {name: float(np.nanmean(values[name])) for name in SHOWN if np.isfinite(values[name]).any()}


def real_samples(split: str, bars: int = 4) -> Samples:
    """Windows of a split's 4/4 chorales as samples with their explicit voices."""
    windows = voice_windows([piece.voices for piece in chorale_pieces(split)], bars=bars)
    return tokens_to_samples(encode(windows.pitch, windows.onset), windows.phrase_end, 48)


def verdicts(values: dict[str, float], targets: dict[str, tuple[str, float]]) -> dict[str, bool]:
    return {
        name: (values[name] <= limit if sign == "<=" else values[name] >= limit)
        for name, (sign, limit) in targets.items()
        if name in values
    }


def picks(samples: Samples, group: int, keep: int) -> Samples:
    """The shipped SVM's ``keep`` best of every ``group`` consecutive pieces."""
    ranker, chosen = load_ranker(), []
    for start in range(0, len(samples) - group + 1, group):
        ranked = rank_samples(samples.take(slice(start, start + group)), ranker, keep)
        chosen += [start + piece.candidate for piece in ranked]
    return samples.take(np.array(chosen))


def free_report(model: LoadedModel, split: str, n4: int, n16: int, seed: int, temperature: float) -> dict:
    real, train = real_samples(split), real_samples("train")
    four = free_pieces(model, n4, 4, seed=seed, temperature=temperature).samples
    sixteen = free_pieces(model, n16, 16, seed=seed + 1, temperature=temperature).samples
    accuracy, p_value = classifier_two_sample_test(
        features_batch(real.active, real.onset), features_batch(four.active, four.onset), seed=seed
    )
    generated_copy = nearest_train_distance(four.active, train.active)
    real_copy = nearest_train_distance(real.active, train.active)
    values = metrics_of(four)
    values["first_last_key_agreement"] = metrics_of(sixteen)["first_last_key_agreement"]
    candidates = free_pieces(model, n4 * 8, 4, seed=seed + 2, temperature=temperature).samples
    chosen = picks(candidates, 32, 4)
    picked_accuracy, _ = classifier_two_sample_test(
        features_batch(real.active, real.onset), features_batch(chosen.active, chosen.onset), seed=seed
    )
    return {
        "svm_picks": metrics_of(chosen),
        "svm_picks_two_sample_accuracy": picked_accuracy,
        "real": metrics_of(real),
        "generated": values,
        "generated_roll_only": metrics_of(four, explicit=False),
        "real_roll_only": metrics_of(real, explicit=False),
        "sixteen_bars": metrics_of(sixteen),
        "two_sample_accuracy": accuracy,
        "two_sample_p": p_value,
        "nearest_train_distance": {
            "generated_min": float(generated_copy.min()),
            "generated_p1": float(np.percentile(generated_copy, 1)),
            "real_min": float(real_copy.min()),
            "real_p1": float(np.percentile(real_copy, 1)),
        },
        "targets_met": verdicts(values, TARGETS)
        | {"first_last_key_agreement": values["first_last_key_agreement"] >= 0.35},
    }


def harmony_report(model: LoadedModel, split: str, per_melody: int, seed: int, temperature: float) -> dict:
    pieces = chorale_pieces(split)
    real_values, generated_values, picked_values, exact = [], [], [], True
    for index, piece in enumerate(pieces):
        written = harmonise(model, piece.voices, per_melody, seed + index, temperature)
        exact &= all(np.array_equal(v.pitch[:, 0], piece.voices.pitch[:, 0]) for v in written.voices)
        generated_values.append(metrics_of(written.samples.take(slice(0, 1))))
        picked_values.append(metrics_of(picks(written.samples, per_melody, 1)))
        original = tokens_to_samples(
            encode(piece.voices.pitch, piece.voices.onset)[None], piece.voices.phrase_end[None], 48
        )
        real_values.append(metrics_of(original))
    mean = lambda rows: {k: float(np.nanmean([r.get(k, np.nan) for r in rows])) for k in rows[0]}  # noqa: E731
    generated = mean(generated_values)
    return {
        "melodies": len(pieces),
        "per_melody": per_melody,
        "real": mean(real_values),
        "generated": generated,
        "svm_pick": mean(picked_values),
        "soprano_exact": bool(exact),
        "targets_met": verdicts(generated, HARMONY_TARGETS),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--mle", action="store_true", help="the run's maximum-likelihood generator")
    parser.add_argument("--split", choices=("valid", "test"), default="valid")
    parser.add_argument("--n4", type=int, default=512)
    parser.add_argument("--n16", type=int, default=64)
    parser.add_argument("--per-melody", type=int, default=8, help="harmonisations per melody (SVM picks one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--no-harmony", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.time()
    model = load(args.checkpoint, args.mle)
    report = {"checkpoint": str(args.checkpoint), "mle": args.mle, "split": args.split}
    report["temperature"] = args.temperature
    report["free"] = free_report(model, args.split, args.n4, args.n16, args.seed, args.temperature)
    if not args.no_harmony:
        report["harmonise"] = harmony_report(model, args.split, args.per_melody, args.seed, args.temperature)
    report["seconds"] = time.time() - started
    print(json.dumps(report, indent=1))
    if args.json:
        write_json_atomic(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

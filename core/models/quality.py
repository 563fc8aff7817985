"""Sequence-level quality measures used to steer and select training (numpy, batched).

All take boolean rolls ``[N, T, P]``. The evaluation module has the full metric suite; these are
the few numbers the training loop tracks and the targets it is judged by.
"""

from __future__ import annotations

import numpy as np

TARGETS = {"polyphony_rel": 0.10, "spread_ratio": 1.5, "pitch_class_l1": 0.15, "note_length_rel": 0.20}


def pitch_class_histogram(active: np.ndarray, lowest_pitch: int) -> np.ndarray:
    """Share of sounding cells per pitch class (12 values summing to 1, zeros if silent)."""
    per_pitch = active.reshape(-1, active.shape[-1]).sum(0).astype(float)
    classes = (np.arange(active.shape[-1]) + lowest_pitch) % 12
    hist = np.bincount(classes, weights=per_pitch, minlength=12)
    return hist / max(hist.sum(), 1.0)


def roll_stats(active: np.ndarray, onset: np.ndarray, lowest_pitch: int = 36) -> dict[str, float]:
    """Polyphony mean and spread (std over all steps), mean note length in steps, silent-step share."""
    polyphony = active.sum(-1).astype(float)
    return {
        "polyphony_mean": float(polyphony.mean()),
        "polyphony_spread": float(polyphony.std()),
        "note_length": float(active.sum() / max(onset.sum(), 1)),
        "silent_steps": float((polyphony == 0).mean()),
        "pitch_class_hist": pitch_class_histogram(active, lowest_pitch).tolist(),
    }


def compare_stats(fake: dict, real: dict) -> dict[str, float]:
    """Relative errors of ``fake`` against ``real`` stats, named as in ``TARGETS``."""
    pc_fake, pc_real = np.asarray(fake["pitch_class_hist"]), np.asarray(real["pitch_class_hist"])
    return {
        "polyphony_rel": fake["polyphony_mean"] / real["polyphony_mean"] - 1.0,
        "spread_ratio": fake["polyphony_spread"] / max(real["polyphony_spread"], 1e-9),
        "pitch_class_l1": float(np.abs(pc_fake - pc_real).sum()),
        "note_length_rel": fake["note_length"] / real["note_length"] - 1.0,
    }


def quality_score(comparison: dict[str, float]) -> float:
    """Mean of each error divided by its target (lower is better; ≤ 1 on every term meets all)."""
    terms = [abs(comparison[name]) / limit for name, limit in TARGETS.items() if name != "spread_ratio"]
    terms.append(max(comparison["spread_ratio"], 1.0) / TARGETS["spread_ratio"])
    return float(np.mean(terms))


def nearest_distance(samples: np.ndarray, corpus: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """For each sample [N, T, P], the fraction of cells differing from its nearest corpus window."""
    a = samples.reshape(len(samples), -1).astype(np.float32)
    best = np.full(len(a), np.inf, dtype=np.float32)
    a_sq = a.sum(1)
    for start in range(0, len(corpus), chunk):
        b = corpus[start : start + chunk].reshape(-1, a.shape[1]).astype(np.float32)
        hamming = a_sq[:, None] + b.sum(1)[None, :] - 2.0 * (a @ b.T)
        best = np.minimum(best, hamming.min(1))
    return best / a.shape[1]


def checkpoint_quality(
    checkpoint: str, n: int = 512, seed: int = 1, split: str = "test", data_dir: str | None = None
) -> dict:
    """Targets report of ``n`` samples of a checkpoint against one split of a MIDI corpus.

    The corpus is ``data_dir``, else the one the checkpoint was trained on, else the bundled chorales.
    """
    from pathlib import Path

    from core.dataset import default_corpus_dir, load_folder, windows
    from core.generate import load_generator, sample_arrays

    generator = load_generator(checkpoint)
    cfg = generator.config
    folder = data_dir if data_dir is not None else cfg.data_dir
    folder = Path(folder) if folder and not folder.endswith(".npz") else default_corpus_dir()
    corpus = load_folder(folder, spec=generator.spec)
    options = {"bars": cfg.bars, "hop_bars": cfg.hop_bars, "beats_per_bar": cfg.beats_per_bar}
    real_active, real_onset = windows(corpus.split(split), **options)
    train_active, _ = windows(corpus.split("train"), **options)
    active, onset = (x.numpy() for x in sample_arrays(generator, n, cfg.bars, seed=seed))
    real = roll_stats(real_active, real_onset, cfg.lowest_pitch)
    fake = roll_stats(active, onset, cfg.lowest_pitch)
    from core.train import evaluation_metrics

    real.update(evaluation_metrics(real_active, real_onset, cfg.lowest_pitch))
    fake.update(evaluation_metrics(active, onset, cfg.lowest_pitch))
    comparison = compare_stats(fake, real)
    distance = nearest_distance(active, train_active)
    return {
        "checkpoint": str(checkpoint),
        "n": n,
        "seed": seed,
        "reference": f"{split} split, {len(real_active)} windows",
        "real": {k: v for k, v in real.items() if k != "pitch_class_hist"},
        "generated": {k: v for k, v in fake.items() if k != "pitch_class_hist"},
        **comparison,
        "score": quality_score(comparison),
        "min_copy_distance": float(distance.min()),
        "copies_under_5pct": int((distance < 0.05).sum()),
        "distinct_samples": len({a.tobytes() for a in active}),
    }


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(
        prog="python -m core.models.quality",
        description="Polyphony, spread, pitch-class L1, note length and copies of a checkpoint's samples.",
    )
    parser.add_argument("--checkpoint", default="checkpoints/default")
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--split", default="test", help="real windows to compare with (train/valid/test)")
    parser.add_argument("--data-dir", help="MIDI folder (default: the checkpoint's training data)")
    args = parser.parse_args(argv)
    report = checkpoint_quality(args.checkpoint, args.n, args.seed, args.split, args.data_dir)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

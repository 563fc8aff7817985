"""Targets report of a checkpoint (to be placed in the evaluation stage)."""

from __future__ import annotations

from core.music.quality import compare_stats, nearest_distance, quality_score, roll_stats


def checkpoint_quality(
    checkpoint: str, n: int = 512, seed: int = 1, split: str = "test", data_dir: str | None = None
) -> dict:
    """Targets report of ``n`` samples of a checkpoint against one split of a MIDI corpus.

    The corpus is ``data_dir``, else the one the checkpoint was trained on, else the bundled chorales.
    """
    from pathlib import Path

    from core.data import load_folder, windows
    from core.generate import load_generator, sample_arrays
    from core.paths import DEFAULT_CORPUS

    generator = load_generator(checkpoint)
    cfg = generator.config
    folder = data_dir if data_dir is not None else cfg.data_dir
    folder = Path(folder) if folder and not folder.endswith(".npz") else DEFAULT_CORPUS
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

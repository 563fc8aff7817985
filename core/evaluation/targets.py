"""The training targets of a checkpoint: polyphony, its spread, pitch-class L1, note length and copies of
``n`` samples against one split of a corpus (the numbers the model cards report)."""

from __future__ import annotations

from pathlib import Path

from core.data import load_folder, windows
from core.music.quality import compare_stats, nearest_distance, pitch_content_stats, quality_score, roll_stats
from core.sampling.model import load_model


def checkpoint_targets(
    checkpoint: str | Path, n: int = 512, seed: int = 1, split: str = "test", data_dir: str | None = None
) -> dict:
    """Targets report of ``n`` samples of a checkpoint against one split of a MIDI corpus.

    The corpus is ``data_dir``, else the one the checkpoint was trained on, else the bundled chorales.
    """
    model = load_model(checkpoint)
    data = model.config.data
    folder = Path(data_dir) if data_dir else data.folder
    corpus = load_folder(folder, spec=model.spec)
    options = {"bars": data.bars, "hop_bars": data.hop_bars, "beats_per_bar": data.beats_per_bar}
    real_active, real_onset = windows(corpus.split(split), **options)
    train_active, _ = windows(corpus.split("train"), **options)
    samples = model.sample(n, data.bars, seed=seed)
    real = roll_stats(real_active, real_onset, data.lowest_pitch)
    fake = roll_stats(samples.active, samples.onset, data.lowest_pitch)
    real.update(pitch_content_stats(real_active, real_onset, data.lowest_pitch))
    fake.update(pitch_content_stats(samples.active, samples.onset, data.lowest_pitch))
    comparison = compare_stats(fake, real)
    distance = nearest_distance(samples.active, train_active)
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
        "distinct_samples": len({a.tobytes() for a in samples.active}),
    }

"""MidiNet-style CNN-GAN: shapes, the conditioner, bar-by-bar sampling and a tiny training run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.cli.train import main as train_main
from core.models.cnn_gan import (
    BarDiscriminator,
    BarGenerator,
    CNNGANConfig,
    bars_from_logits,
    feature_matching,
    sample_bars,
)
from core.sampling import load_model
from core.training.cnn_gan import CNNGANTrainConfig, CNNGANTrainer, bar_pairs
from core.training.context import Context, seed_step
from tests.support.corpus import write_corpus

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = CNNGANConfig(
    n_pitches=12, steps_per_bar=8, latent_dim=8, g_channels=16, cond_channels=8, d_channels=16
)


def test_generator_and_discriminator_shapes() -> None:
    g, d = BarGenerator(SMALL), BarDiscriminator(SMALL)
    previous = torch.zeros(5, 2, 8, 12)
    logits = g(torch.randn(5, 8), previous)
    assert logits.shape == (5, 2, 8, 12)
    score, features = d(previous, torch.sigmoid(logits))
    assert score.shape == (5,) and features.ndim == 2 and features.shape[0] == 5


def test_the_previous_bar_changes_the_generated_bar() -> None:
    torch.manual_seed(0)
    g = BarGenerator(SMALL).eval()
    z = torch.randn(3, 8)
    silent = torch.zeros(3, 2, 8, 12)
    chord = silent.clone()
    chord[:, 0, :, [0, 4, 7]] = 1.0
    assert not torch.allclose(g(z, silent), g(z, chord))


def test_steps_per_bar_must_be_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="power of two"):
        BarGenerator(CNNGANConfig(steps_per_bar=12))


def test_feature_matching_is_zero_for_equal_means_only() -> None:
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert float(feature_matching(a, a.flip(0))) == 0.0
    assert float(feature_matching(a, a + 1.0)) == pytest.approx(2.0)


def test_bar_pairs_splits_two_bar_windows_into_previous_and_current() -> None:
    active = np.zeros((1, 16, 12), dtype=bool)
    active[0, :8, 0] = True
    active[0, 8:, 5] = True
    onset = np.zeros_like(active)
    onset[0, 8, 5] = True
    pairs = bar_pairs(active, onset, 8)
    assert pairs.shape == (1, 2, 2, 8, 12)
    assert pairs[0, 0, 0, :, 0].all() and not pairs[0, 0, 0, :, 5].any()
    assert pairs[0, 1, 0, :, 5].all() and pairs[0, 1, 1, 0, 5] == 1 and pairs[0, 1, 1].sum() == 1


def test_sampled_pieces_are_bar_by_bar_reproducible_and_valid() -> None:
    torch.manual_seed(0)
    g = BarGenerator(SMALL).eval()
    a = sample_bars(g, 4, 3, generator=torch.Generator().manual_seed(2))
    b = sample_bars(g, 4, 3, generator=torch.Generator().manual_seed(2))
    assert a.shape == (4, 2, 24, 12) and torch.equal(a, b)
    assert bool((a[:, 1] <= a[:, 0]).all())
    sure = sample_bars(g, 2, 2, threshold=0.5, generator=torch.Generator().manual_seed(3))
    assert set(sure.unique().tolist()) <= {0.0, 1.0}


def test_tiny_gan_moves_towards_the_real_chord() -> None:
    cfg = CNNGANTrainConfig(net=SMALL, batch_size=16, lr_g=5e-3, lr_d=5e-3)
    active = np.zeros((8, 16, 12), dtype=bool)
    active[:, :, [0, 4, 7]] = True
    onset = np.zeros_like(active)
    onset[:, ::4] = active[:, ::4]
    trainer = CNNGANTrainer(cfg, Context(device=torch.device("cpu")), None, pairs=bar_pairs(active, onset, 8))
    records = [trainer.train_step(seed_step(0, step)) for step in range(40)]
    assert all(np.isfinite(list(r.values())).all() for r in records)
    trainer.g.eval()
    bars = sample_bars(trainer.g, 32, 1, generator=torch.Generator().manual_seed(0))
    density = bars[:, 0].mean(dim=(0, 1))
    assert float(density[[0, 4, 7]].mean()) > 0.8
    assert float(density[[1, 2, 3, 5, 6, 8, 9, 10, 11]].mean()) < 0.2


def test_training_run_writes_the_run_folder_and_samples_through_the_common_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GMS_CACHE_DIR", str(tmp_path / "cache"))
    corpus = write_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    flags = ["--model", "cnn_gan", "--run-dir", str(run), "--data-dir", str(corpus), "--steps", "4"]
    flags += ["--eval-every", "2", "--eval-samples", "4", "--batch-size", "8", "--g-channels", "16"]
    assert train_main(flags) == 0
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "finished" and status["step"] == 4 and status["phase"] == "gan"
    scored = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in scored if "q_score" in m] == [2, 4]
    model = load_model(run / "checkpoints" / "best.pt")
    assert model.kind == "cnn_gan"
    samples = model.sample(3, bars=2, seed=1)
    assert samples.active.shape == (3, 32, 48) and not (samples.onset & ~samples.active).any()
    assert np.array_equal(samples.active, model.sample(3, bars=2, seed=1).active)


def test_decoding_starts_notes_where_cells_turn_on_and_restrikes_only_confident_onsets() -> None:
    logits = torch.full((1, 2, 4, 12), -20.0)
    logits[0, 0, :, 3] = 20.0  # pitch 3 held for the whole bar
    logits[0, 1, 2, 3] = 20.0  # ... and struck again at step 2
    logits[0, 0, 1:3, 7] = 20.0  # pitch 7 sounds at steps 1-2 with an unsure onset channel
    logits[0, 1, :, 7] = -0.1
    held = torch.zeros(1, 12)
    held[0, 3] = 1.0  # pitch 3 already sounded at the end of the previous bar
    bars = bars_from_logits(logits, 1.0, None, torch.Generator().manual_seed(0), last_step=held)
    assert bars[0, 0, :, 3].tolist() == [1, 1, 1, 1]
    assert bars[0, 1, :, 3].tolist() == [0, 0, 1, 0]
    assert bars[0, 1, :, 7].tolist() == [0, 1, 0, 0]
    fresh = bars_from_logits(logits, 1.0, 0.5, None)
    assert fresh[0, 1, 0, 3] == 1.0

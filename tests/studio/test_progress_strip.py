"""The fixed-noise progress strip: every run writes one piece per sample interval from the same noise,
and the Train page's strip reads them back as rolls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data.config import DataConfig
from core.models.base import SampleRequest
from core.models.checkpoint import load_checkpoint
from core.models.lstm_gan import LSTMGenerator, ModelConfig, sample
from core.studio.progress import evenly_spaced, fixed_noise_strip
from core.training.config import RunConfig
from core.training.loop import SAMPLE_SEED_OFFSET, train_run
from core.training.lstm_gan import GANTrainConfig, GANTrainer
from core.training.presets import PRESETS
from tests.support.rolls import chorale_like_windows

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = ModelConfig(latent_dim=4, noise_dim=2, g_hidden=16, d_hidden=8, d_layers=1)


def tiny_run(tmp_path: Path, sample_every: int, steps: int = 6) -> Path:
    active, onset = chorale_like_windows(24)
    windows = tmp_path / "windows.npz"
    np.savez(windows, train_active=active, train_onset=onset)
    cfg = GANTrainConfig(
        net=TINY,
        data=DataConfig(data_dir=str(windows)),
        run=RunConfig(seed=5, log_every=0, eval_every=0, sample_every=sample_every, sample_midis=1),
        mle_steps=steps - 2,
        gan_steps=2,
        batch_size=4,
    )
    run_dir = tmp_path / "run"
    assert train_run(GANTrainer, cfg, run_dir).state == "finished"
    return run_dir


def test_a_run_writes_its_strip_at_every_interval_from_the_same_noise(tmp_path: Path) -> None:
    run_dir = tiny_run(tmp_path, sample_every=2)
    strip = fixed_noise_strip(run_dir)
    assert [entry.step for entry in strip] == [2, 4, 6]
    assert all(entry.roll.n_steps == 64 and entry.roll.spec.n_pitches == 48 for entry in strip)
    final = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    generator = LSTMGenerator(TINY)
    generator.load_state_dict(final["model"])
    generator.eval()
    again = sample(generator, SampleRequest(1, 64, seed=5 + SAMPLE_SEED_OFFSET))
    np.testing.assert_array_equal(strip[-1].roll.active, again.active[0])  # the fixed noise, redrawn


def test_a_run_shorter_than_its_interval_still_ends_with_a_strip_piece(tmp_path: Path) -> None:
    run_dir = tiny_run(tmp_path, sample_every=500, steps=4)
    assert [entry.step for entry in fixed_noise_strip(run_dir)] == [4]


def test_every_new_run_samples_the_fixed_noise() -> None:
    """The default config and every preset the Train page offers keep the strip on."""
    assert RunConfig().sample_every > 0 and RunConfig().sample_midis > 0
    for preset in PRESETS:
        assert preset.overrides.get("sample_every", RunConfig().sample_every) > 0, preset.name


def test_long_strips_keep_the_first_and_last_and_skip_damaged_files(tmp_path: Path) -> None:
    assert evenly_spaced(5, 12) == [0, 1, 2, 3, 4]
    spread = evenly_spaced(100, 12)
    assert len(spread) == 12 and spread[0] == 0 and spread[-1] == 99
    run_dir = tiny_run(tmp_path, sample_every=2)
    (run_dir / "samples" / "step_0000004.npz").write_bytes(b"half a file")
    assert [entry.step for entry in fixed_noise_strip(run_dir)] == [2, 6]
    assert fixed_noise_strip(tmp_path / "no-such-run") == []

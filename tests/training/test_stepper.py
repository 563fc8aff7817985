"""The GAN step by step: each action moves D(x) and D(G(z)) the way its objective says, on fixed batches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.models.checkpoint import CheckpointError
from core.models.objectives import OBJECTIVES
from core.paths import DEFAULT_CHECKPOINT
from core.training.data import WindowSet
from core.training.stepper import GANStepper, StepSettings, can_step, pick_windows

pytestmark = pytest.mark.usefixtures("one_thread")

BATCH = 8


@pytest.fixture(scope="module")
def real_windows() -> tuple[np.ndarray, np.ndarray]:
    """A fixed batch of the bundled chorales' training windows (the shipped model's training data)."""
    from core.data.reference import bundled_windows

    active, onset = bundled_windows("train")
    return pick_windows(WindowSet(active, onset, active, onset), BATCH, seed=3)


def shipped(real_windows, **options) -> GANStepper:
    return GANStepper.from_checkpoint(DEFAULT_CHECKPOINT, real_windows=real_windows, **options)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_five_discriminator_steps_on_the_shipped_model_widen_the_gap(objective: str, real_windows) -> None:
    """D's objective, for every GAN objective: raise D(x), lower D(G(z)); so mean D(x) − D(G(z)) grows."""
    stepper = shipped(real_windows, fresh_critic=True, settings=StepSettings(objective=objective))
    before = stepper.reading
    for _ in range(5):
        stepper.step_d()
    after = stepper.reading
    assert after.gap > before.gap
    assert after.loss_d < before.loss_d
    if objective != "wgan_gp":  # the critic's gradient penalty may move both sides the same way
        assert after.d_real.mean() > before.d_real.mean() and after.d_fake.mean() < before.d_fake.mean()
    assert (after.d_steps, after.g_steps) == (5, 0)
    np.testing.assert_array_equal(after.sample_active, before.sample_active)  # G did not change


@pytest.mark.skipif(
    not (DEFAULT_CHECKPOINT / "discriminator.pt").exists(), reason="the shipped discriminator is not there"
)
def test_the_shipped_discriminator_also_widens_the_gap_when_stepped(real_windows) -> None:
    stepper = shipped(real_windows)
    assert stepper.critic_source == "checkpoint"
    before = stepper.reading.gap
    for _ in range(5):
        stepper.step_d()
    assert stepper.reading.gap > before


@pytest.mark.parametrize("objective", ["nonsaturating", "minimax"])
def test_generator_steps_raise_d_of_g_of_z_and_leave_d_alone(objective: str, real_windows) -> None:
    """G's objective: make D call its pieces real. Measured through the same, frozen discriminator."""
    settings = StepSettings(objective=objective, lr_g=1e-3)
    stepper = shipped(real_windows, fresh_critic=True, settings=settings)
    before = stepper.reading
    for _ in range(5):
        stepper.step_g()
    after = stepper.reading
    assert after.d_fake.mean() > before.d_fake.mean()
    assert after.loss_g < before.loss_g
    np.testing.assert_allclose(after.d_real, before.d_real)  # D untouched
    assert (after.d_steps, after.g_steps) == (0, 5)


def test_readings_are_reproducible_and_history_grows(real_windows) -> None:
    first, second = shipped(real_windows, fresh_critic=True), shipped(real_windows, fresh_critic=True)
    for stepper in (first, second):
        stepper.step_both()
        stepper.run(2)
    np.testing.assert_allclose(first.reading.d_real, second.reading.d_real)
    np.testing.assert_allclose(first.reading.d_fake, second.reading.d_fake)
    assert [r.action for r in first.history] == ["start", "step both", "run 2"]
    assert (first.reading.d_steps, first.reading.g_steps) == (3, 3)
    assert first.reading.d_real.shape == (BATCH,) and 0 <= first.reading.d_fake.min() <= 1


def test_settings_change_between_steps(real_windows) -> None:
    stepper = shipped(real_windows, fresh_critic=True)
    stepper.change(StepSettings(objective="minimax", lr_d=5e-4, lr_g=2e-4, mle_weight=1.0))
    stepper.step_both()
    assert stepper.config.objective == "minimax" and stepper.config.lr_d == 5e-4
    assert stepper.trainer.opt_d.param_groups[0]["lr"] == 5e-4
    assert stepper.trainer.opt_g.param_groups[0]["lr"] == 2e-4
    assert stepper.reading.objective == "minimax" and stepper.reading.loss_g < 0  # log(1 − D) < 0
    with pytest.raises(ValueError, match="objective"):
        StepSettings(objective="hinge")
    with pytest.raises(ValueError, match="iterations"):
        stepper.run(0)


def test_only_lstm_gan_checkpoints_can_be_stepped(tmp_path: Path) -> None:
    other = tmp_path / "lm"
    other.mkdir()
    torch.save({}, other / "model.pt")
    (other / "config.json").write_text(json.dumps({"model": "lstm_lm"}))
    with pytest.raises(CheckpointError, match="only LSTM-vs-LSTM GAN"):
        GANStepper.from_checkpoint(other)


def test_which_checkpoints_can_be_stepped(tmp_path: Path) -> None:
    assert can_step(DEFAULT_CHECKPOINT)
    assert not can_step(DEFAULT_CHECKPOINT.parent / "lstm_lm")
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"model": "lstm_gan"}))
    assert can_step(run / "checkpoints" / "best.pt")
    assert not can_step(tmp_path / "nothing")

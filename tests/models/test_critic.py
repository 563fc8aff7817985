"""The discriminator as a critic: the per-step split of its logit is exact, per bar and per piece."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.models.critic import build_critic, critic_opinions, critic_probabilities, frames_of
from core.models.lstm_gan import LSTMDiscriminator, ModelConfig

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = ModelConfig(n_pitches=12, d_hidden=8, d_layers=2)


def rolls(n: int, steps: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    active = rng.random((n, steps, 12)) < 0.3
    onset = active & (rng.random(active.shape) < 0.5)
    return active, onset


def trained_looking_critic() -> LSTMDiscriminator:
    torch.manual_seed(0)
    critic = LSTMDiscriminator(SMALL)
    with torch.no_grad():  # a bias and weights well away from zero, so every term matters
        critic.out.bias.fill_(0.7)
        critic.out.weight.mul_(5.0)
    return critic.eval()


def test_the_per_step_contributions_add_up_to_the_logit_exactly() -> None:
    critic = trained_looking_critic()
    active, onset = rolls(3)
    opinions = critic_opinions(critic, frames_of(active, onset))
    with torch.no_grad():
        logits, _ = critic(frames_of(active, onset))
    for opinion, logit in zip(opinions, logits.tolist(), strict=True):
        assert opinion.per_step.shape == (32,)
        assert opinion.logit == pytest.approx(logit, abs=1e-5)
        assert opinion.bias + opinion.per_step.sum() == pytest.approx(logit, abs=1e-5)
        assert opinion.probability == pytest.approx(1 / (1 + np.exp(-logit)), abs=1e-6)
    assert len({round(o.logit, 6) for o in opinions}) == 3  # different pieces, different verdicts


def test_per_bar_sums_the_steps_of_each_bar_including_a_short_last_bar() -> None:
    critic = trained_looking_critic()
    active, onset = rolls(1, steps=40)
    (opinion,) = critic_opinions(critic, frames_of(active[0], onset[0]))  # one [T, P] roll
    bars = opinion.per_bar(16)
    assert bars.shape == (3,)
    assert bars[0] == pytest.approx(opinion.per_step[:16].sum())
    assert bars[2] == pytest.approx(opinion.per_step[32:].sum())
    assert bars.sum() == pytest.approx(opinion.per_step.sum())


def test_a_critic_rebuilt_from_saved_weights_judges_the_same_and_in_eval_mode() -> None:
    critic = trained_looking_critic()
    rebuilt = build_critic(SMALL, critic.state_dict())
    assert not rebuilt.training
    active, onset = rolls(4, seed=1)
    np.testing.assert_allclose(
        critic_probabilities(rebuilt, active, onset), critic_probabilities(critic, active, onset), atol=1e-6
    )
    rebuilt.train()
    first = critic_probabilities(rebuilt, active, onset)  # dropout would make two calls differ
    np.testing.assert_allclose(critic_probabilities(rebuilt, active, onset), first)
    assert rebuilt.training  # the caller's mode is restored


def test_frames_drop_onsets_outside_sounding_cells() -> None:
    active = np.zeros((4, 12), bool)
    onset = np.zeros_like(active)
    active[0, 3] = True
    onset[0, 3] = onset[1, 5] = True
    frames = frames_of(active, onset)
    assert frames.shape == (1, 4, 24)
    assert frames[0, 0, 12 + 3] == 1 and frames[0, 1, 12 + 5] == 0

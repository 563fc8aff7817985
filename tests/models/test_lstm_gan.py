"""The GAN's networks, objectives and quality measures on tiny synthetic tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.models.lstm_gan import (
    LSTMDiscriminator,
    LSTMGenerator,
    ModelConfig,
    _set_nll,
    mle_loss,
    sample_latents,
)
from core.models.lstm_gan_sampling import relaxed_frames, top_k_cut
from core.models.objectives import discriminator_loss, generator_loss, gradient_penalty, interpolate
from core.music.quality import compare_stats, nearest_distance, quality_score, roll_stats

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = ModelConfig(n_pitches=12, latent_dim=4, noise_dim=2, g_hidden=16, g_layers=2, d_hidden=8, d_layers=1)


def random_frames(batch: int = 3, steps: int = 8, pitches: int = 12, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    active = rng.random((batch, steps, pitches)) < 0.25
    onset = active & (rng.random(active.shape) < 0.5)
    return torch.from_numpy(np.concatenate([active, onset], -1).astype(np.float32))


@pytest.mark.parametrize("voices", [True, False])
def test_teacher_forced_loss_is_finite_and_trains(voices: bool) -> None:
    torch.manual_seed(0)
    cfg = ModelConfig(**{**TINY.__dict__, "voices": voices})
    model = LSTMGenerator(cfg)
    real = random_frames()
    z, noise = sample_latents(3, 8, cfg)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss, parts = mle_loss(model(z, noise, teacher=real), real, cfg)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    assert math.isfinite(losses[0]) and losses[-1] < 0.7 * losses[0]
    assert set(parts) == ({"pitch", "restrike", "count"} if voices else {"pitch", "restrike"})


@pytest.mark.parametrize("voices", [True, False])
def test_free_run_frames_are_binary_with_onsets_inside_active(voices: bool) -> None:
    cfg = ModelConfig(**{**TINY.__dict__, "voices": voices})
    model = LSTMGenerator(cfg)
    z, noise = sample_latents(5, 16, cfg, generator=torch.Generator().manual_seed(1))
    frames = model.free_run(z, noise, generator=torch.Generator().manual_seed(2))
    assert frames.shape == (5, 16, 24)
    assert set(frames.unique().tolist()) <= {0.0, 1.0}
    active, onset = frames[..., :12], frames[..., 12:]
    assert bool((onset <= active).all())
    starts = active[:, 1:] * (1 - active[:, :-1])
    assert bool((onset[:, 1:] >= starts).all()), "a note that starts sounding must have an onset"
    if voices:
        assert int(active.sum(-1).max()) <= cfg.max_voices


def test_free_run_is_reproducible_and_passes_gradients_straight_through() -> None:
    model = LSTMGenerator(TINY)
    z, noise = sample_latents(4, 6, TINY, generator=torch.Generator().manual_seed(3))
    first = model.free_run(z, noise, generator=torch.Generator().manual_seed(4))
    again = model.free_run(z, noise, generator=torch.Generator().manual_seed(4))
    assert torch.equal(first, again)
    (first * torch.randn_like(first)).sum().backward()
    assert model.pitch_head.weight.grad is not None
    assert float(model.pitch_head.weight.grad.abs().sum()) > 0


def test_top_k_cut_keeps_exactly_k_pitches() -> None:
    scores = torch.randn(6, 10)
    k = torch.tensor([0, 1, 2, 4, 9, 10])
    kept = scores > top_k_cut(scores, k, most=10, margin=1.0)
    assert kept.sum(-1).tolist() == k.tolist()
    few = torch.tensor([0, 1, 2, 3, 3, 1])  # a partial top-k (most=3) gives the same sets
    partial = scores > top_k_cut(scores, few, most=3, margin=1.0)
    assert torch.equal(partial, scores > top_k_cut(scores, few, most=10, margin=1.0))


def test_set_nll_matches_plackett_luce_by_hand() -> None:
    scores = torch.tensor([[2.0, 0.5, -1.0, 0.0]])
    chosen = torch.tensor([[True, False, False, True]])
    p = torch.softmax(scores, -1)[0]
    first = p[0]  # highest chosen score goes first
    second = p[3] / (1 - p[0])
    expected = -math.log(float(first * second))
    assert float(_set_nll(scores, chosen)[0]) == pytest.approx(expected, rel=1e-5)
    assert float(_set_nll(scores, torch.zeros_like(chosen))[0]) == 0.0


def test_discriminator_gives_one_logit_and_pooled_features() -> None:
    model = LSTMDiscriminator(TINY)
    logits, features = model(random_frames(batch=4))
    assert logits.shape == (4,) and features.shape == (4, 4 * TINY.d_hidden)


def test_objectives_match_their_formulas() -> None:
    d_real, d_fake = torch.tensor([2.0, 1.0]), torch.tensor([-1.0, 0.5])
    prob_fake = torch.sigmoid(d_fake)
    minimax = generator_loss("minimax", d_fake)
    assert float(minimax) == pytest.approx(float(torch.log(1 - prob_fake).mean()), rel=1e-5)
    saturating = generator_loss("nonsaturating", d_fake)
    assert float(saturating) == pytest.approx(float(-torch.log(prob_fake).mean()), rel=1e-5)
    expected_d = -(torch.log(torch.sigmoid(d_real)).mean() + torch.log(1 - prob_fake).mean())
    assert float(discriminator_loss("minimax", d_real, d_fake)) == pytest.approx(float(expected_d), rel=1e-5)
    assert float(discriminator_loss("wgan_gp", d_real, d_fake)) == pytest.approx(-1.75)
    features = torch.randn(3, 5)
    assert float(generator_loss("feature_matching", d_fake, features, features.clone())) == 0.0
    with pytest.raises(ValueError, match="unknown objective"):
        generator_loss("hinge", d_fake)


def test_gradient_penalty_is_differentiable_through_the_critic() -> None:
    critic = LSTMDiscriminator(TINY)
    mixed = interpolate(random_frames(seed=1), random_frames(seed=2))
    logits, _ = critic(mixed)
    penalty = gradient_penalty(logits, mixed)
    penalty.backward()
    assert math.isfinite(float(penalty.detach()))
    assert critic.out.weight.grad is not None


def test_roll_stats_on_a_known_roll() -> None:
    active = np.zeros((1, 8, 12), bool)
    onset = np.zeros_like(active)
    active[0, :, 0] = True  # C held for 8 steps, one onset
    onset[0, 0, 0] = True
    active[0, :4, 4] = active[0, 4:, 7] = True  # E then G, 4 steps each
    onset[0, 0, 4] = onset[0, 4, 7] = True
    stats = roll_stats(active, onset, lowest_pitch=36)
    assert stats["polyphony_mean"] == 2.0 and stats["polyphony_spread"] == 0.0
    assert stats["note_length"] == pytest.approx(16 / 3)
    assert stats["pitch_class_hist"][0] == pytest.approx(0.5)
    comparison = compare_stats(stats, stats)
    assert comparison["pitch_class_l1"] == 0.0 and quality_score(comparison) == pytest.approx(1 / 1.5 / 4)


def test_nearest_distance_finds_copies() -> None:
    corpus = np.random.default_rng(0).random((20, 8, 12)) < 0.3
    samples = np.stack([corpus[7], ~corpus[3]])
    distance = nearest_distance(samples, corpus, chunk=6)
    assert distance[0] == 0.0
    assert distance[1] > 0.3


def test_free_running_steps_match_the_teacher_forced_lstm() -> None:
    model = LSTMGenerator(TINY).eval()
    z, noise = sample_latents(3, 8, TINY, generator=torch.Generator().manual_seed(0))
    frames = model.free_run(z, noise, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        teacher = model.teacher_forced(z, noise, frames)
        h0, c0 = model.initial_state(z)
        hs, cs = list(h0.unbind(0)), list(c0.unbind(0))
        previous, pitch = torch.zeros(3, TINY.frame_dim), []
        for t in range(8):
            pitch.append(model.pitch_head(model._step(torch.cat([previous, noise[:, t]], -1), hs, cs)))
            previous = frames[:, t]
    assert torch.allclose(torch.stack(pitch, 1), teacher.pitch, atol=1e-5)


@pytest.mark.parametrize("voices", [True, False])
def test_replay_retakes_the_drawn_decisions_with_the_gradients_of_a_step_by_step_graph(voices: bool) -> None:
    cfg = ModelConfig(**{**TINY.__dict__, "voices": voices})
    model = LSTMGenerator(cfg).eval()
    z, noise = sample_latents(3, 8, cfg, generator=torch.Generator().manual_seed(5))
    draws = model.draw(z, noise, temperature=0.8, generator=torch.Generator().manual_seed(6))
    frames = model.replay(z, noise, draws, temperature=0.8, relax_tau=0.5).frames
    assert torch.equal(frames, draws.frames)
    h0, c0 = model.initial_state(z)
    hs, cs = list(h0.unbind(0)), list(c0.unbind(0))
    previous, steps = torch.zeros(3, cfg.frame_dim), []
    for t in range(8):
        hidden = model._step(torch.cat([previous, noise[:, t]], -1), hs, cs)
        steps.append(torch.cat([head(hidden) for head in model.output_layers()], -1))
        previous = draws.frames[:, t]
    logits = torch.stack(steps, 1)
    n = cfg.n_pitches
    perturbed = logits[..., :n] + draws.pitch_noise - (draws.cut if voices else 0.0)
    assert torch.equal(perturbed > 0, draws.frames[..., :n] > 0)
    assert torch.equal(logits[..., n : 2 * n] + draws.restrike_noise > 0, draws.restrike > 0)
    weights = torch.randn_like(frames)
    replayed = torch.autograd.grad((frames * weights).sum(), list(model.parameters()))
    reference = relaxed_frames(logits, draws, n, 0.8 * 0.5)
    stepwise = torch.autograd.grad((reference * weights).sum(), list(model.parameters()))
    assert any(float(grad.abs().sum()) > 0 for grad in replayed)
    for one, two in zip(replayed, stepwise, strict=True):
        assert torch.allclose(one, two, rtol=1e-4, atol=1e-6)


def test_a_training_mode_draw_replays_its_dropout_masks() -> None:
    model = LSTMGenerator(TINY)
    z, noise = sample_latents(4, 6, TINY, generator=torch.Generator().manual_seed(7))
    draws = model.draw(z, noise, generator=torch.Generator().manual_seed(8))
    assert all(mask is not None and mask.shape == (4, 6, TINY.g_hidden) for mask in draws.masks)
    assert torch.equal(model.replay(z, noise, draws).frames, draws.frames)

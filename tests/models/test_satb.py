"""The four-voice model: tokens, conditioning, networks, and step-by-step sampling with fixed voices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.models.base import SampleRequest
from core.models.satb import (
    CRITIC_WIDTH,
    FILL,
    SATBDiscriminator,
    SATBGenerator,
    SATBNetConfig,
    critic_input,
    token_nll,
)
from core.models.satb_intervals import parallel_candidates, parallel_unlikelihood
from core.models.satb_sampling import (
    Conditions,
    draw_tokens,
    free_conditions,
    roll_out,
    sample,
    tokens_to_samples,
    tokens_to_voices,
)
from core.models.satb_tokens import (
    ABS_REST,
    COND_DIM,
    HOLD,
    N_BUCKETS,
    RANGE_LOW,
    REST,
    VOCAB,
    bucket,
    decode,
    encode,
    phrase_distances,
    phrase_schedule,
    sounding_state,
    state_one_hot,
)
from core.music.voice_leading import parallel_perfect_events
from core.music.voices import PITCH_RANGES

pytestmark = pytest.mark.usefixtures("one_thread")

SIZES = {"pitch_embed": 8, "articulation_embed": 4, "g_hidden": 16, "head_hidden": 16, "d_embed": 8}
TINY = SATBNetConfig(latent_dim=4, d_hidden=8, d_layers=1, **SIZES)


def tiny_generator(seed: int = 0) -> SATBGenerator:
    torch.manual_seed(seed)
    return SATBGenerator(TINY).eval()


def chorale_bar() -> tuple[np.ndarray, np.ndarray]:
    """One bar: a C major chord held, the soprano repeating its note, then everyone rests."""
    pitch = np.array([[72, 64, 55, 48]] * 8 + [[72, 65, 57, 41]] * 4 + [[-1, -1, -1, -1]] * 4)
    onset = np.zeros_like(pitch, bool)
    onset[0] = True
    onset[4, 0] = True  # the soprano sings C5 again: a repeated note, not a held one
    onset[8, 1:] = True
    return pitch, onset


# --- tokens ------------------------------------------------------------------------------------------------


def test_tokens_tell_a_repeated_note_from_a_held_one_and_round_trip() -> None:
    pitch, onset = chorale_bar()
    tokens = encode(pitch, onset)
    assert tokens[0, 0] == 72 - PITCH_RANGES[0][0]
    assert tokens[1, 0] == HOLD and tokens[4, 0] == 72 - PITCH_RANGES[0][0]
    assert (tokens[12:] == REST).all()
    back_pitch, back_onset = decode(tokens)
    assert np.array_equal(back_pitch, pitch) and np.array_equal(back_onset, onset)


def test_a_pitch_outside_its_voices_range_is_refused() -> None:
    pitch, onset = chorale_bar()
    pitch[0, 3] = PITCH_RANGES[3][0] - 1
    with pytest.raises(ValueError, match="range"):
        encode(pitch, onset)


def test_sounding_state_carries_held_pitches_and_one_hots_agree() -> None:
    pitch, onset = chorale_bar()
    tokens = torch.from_numpy(encode(pitch, onset)).long()[None]
    absolute, articulation = sounding_state(tokens)
    offset = int(RANGE_LOW.min())
    assert absolute[0, 3, 0] == 72 - offset and articulation[0, 3, 0] == 1  # held
    assert articulation[0, 4, 0] == 0 and articulation[0, 12, 0] == 2  # struck again; rest
    one_hot_pitch, one_hot_art = state_one_hot(tokens)
    assert torch.equal(one_hot_pitch.argmax(-1), absolute) and torch.equal(
        one_hot_art.argmax(-1), articulation
    )


# --- conditioning ------------------------------------------------------------------------------------------


def test_phrase_distances_count_to_the_next_and_from_the_last_phrase_end() -> None:
    marks = np.zeros(10, bool)
    marks[[3, 7]] = True
    to_next, since = phrase_distances(marks)
    assert to_next.tolist() == [3, 2, 1, 0, 3, 2, 1, 0, -1, -1]
    assert since.tolist() == [-1, -1, -1, -1, 1, 2, 3, 4, 1, 2]
    assert phrase_distances(marks, since_start=5)[1][:4].tolist() == [5, 6, 7, 8]


def test_buckets_put_no_phrase_end_in_the_last_bucket() -> None:
    assert bucket(torch.tensor([0, 1, 5, 40, -1])).tolist() == [0, 1, 4, N_BUCKETS - 2, N_BUCKETS - 1]


SCHEDULES = [(64, 2, [24, 56]), (256, 4, [56, 120, 184, 248]), (48, 2, [24, 40])]


@pytest.mark.parametrize(("steps", "phrase_bars", "expected"), SCHEDULES)
def test_phrase_schedule_ends_phrases_on_beat_three_and_in_the_last_bar(steps, phrase_bars, expected) -> None:
    assert np.flatnonzero(phrase_schedule(steps, phrase_bars)).tolist() == expected


def test_conditions_have_the_documented_width_and_key() -> None:
    conditions = free_conditions(3, 32, 2, seed=0, tonic=2, mode=1)
    cond = conditions.tensor()
    assert cond.shape == (3, 32, COND_DIM)
    assert (conditions.tonic == 2).all() and (conditions.mode == 1).all()
    assert torch.equal(cond[:, :, 7 + 2], torch.ones(3, 32))  # tonic one-hot (after the 7 metre columns)


# --- networks ----------------------------------------------------------------------------------------------


def test_teacher_forcing_gives_the_logits_step_by_step_sampling_uses() -> None:
    net = tiny_generator()
    with torch.no_grad():  # interval tables start at zero; make them matter here
        net.intervals.pairs.normal_()
        net.intervals.melodic.normal_()
    conditions = free_conditions(3, 20, 2, seed=1)
    cond, z = conditions.tensor(), torch.randn(3, TINY.latent_dim)
    with torch.no_grad():
        drawn = roll_out(net, z, cond, generator=torch.Generator().manual_seed(2))
        logits = net(z, cond, drawn.tokens)
        # forcing every token reproduces the same pieces; the per-step likelihoods are finite
        again = roll_out(net, z, cond, forced=drawn.tokens)
    assert torch.equal(again.tokens, drawn.tokens)
    pitch, articulation = state_one_hot(drawn.tokens)
    assert torch.equal(pitch, drawn.pitch) and torch.equal(articulation, drawn.articulation)
    chosen = logits.gather(-1, drawn.tokens.unsqueeze(-1))
    assert (chosen > FILL / 2).all(), "a sampled token was one the teacher-forced pass forbids"
    assert torch.isfinite(token_nll(logits, drawn.tokens)).all()
    assert torch.allclose(stepwise_logits(net, z, cond, drawn.tokens), logits, atol=1e-5)


def stepwise_logits(
    net: SATBGenerator, z: torch.Tensor, cond: torch.Tensor, tokens: torch.Tensor
) -> torch.Tensor:
    """The masked logits of every step and voice computed one step at a time, as sampling does."""
    absolute, articulation = sounding_state(tokens)
    pitch, art = state_one_hot(tokens)
    states = net.embed(pitch, art)
    h0, c0 = net.initial_state(z)
    hs, cs = list(h0.unbind(0)), list(c0.unbind(0))
    fed = torch.zeros(len(z), 4 * net.cfg.voice_width)
    rows = []
    for t in range(tokens.shape[1]):
        hidden = net.step(torch.cat([fed, cond[:, t]], dim=-1), hs, cs)
        before = absolute[:, t - 1] if t else torch.full_like(absolute[:, 0], ABS_REST)
        resting = articulation[:, t - 1] == 2 if t else torch.ones_like(articulation[:, 0], dtype=bool)
        step = [
            net.mask(
                net.voice_logits(v, hidden, [states[:, t, u] for u in range(v)], before, absolute[:, t]),
                v,
                resting[:, v],
            )
            for v in range(4)
        ]
        rows.append(torch.stack(step, dim=1))
        fed = states[:, t].flatten(1)
    return torch.stack(rows, dim=1)


def test_impossible_tokens_are_masked() -> None:
    net = tiny_generator()
    pitch, onset = chorale_bar()
    tokens = torch.from_numpy(encode(pitch, onset)).long()[None]
    cond = free_conditions(1, 16, 2, seed=0).tensor()
    with torch.no_grad():
        logits = net(torch.zeros(1, TINY.latent_dim), cond, tokens)
    assert (logits[0, 0, :, HOLD] == FILL).all()  # nothing sounds before the first step
    assert (logits[0, 13, :, HOLD] == FILL).all()  # every voice rested at step 12
    alto_size = PITCH_RANGES[1][1] - PITCH_RANGES[1][0] + 1
    assert (logits[0, :, 1, alto_size:HOLD] == FILL).all()  # slots past the alto's range


def test_likelihood_training_learns_a_fixed_piece() -> None:
    torch.manual_seed(0)
    net = SATBGenerator(TINY)
    pitch, onset = chorale_bar()
    tokens = torch.from_numpy(encode(pitch, onset)).long()[None].repeat(4, 1, 1)
    cond = free_conditions(4, 16, 2, seed=0).tensor()
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = token_nll(net(torch.randn(4, TINY.latent_dim), cond, tokens), tokens).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.25 * losses[0]


def test_discriminator_gives_one_logit_per_piece_and_passes_gradients() -> None:
    critic = SATBDiscriminator(TINY)
    x = torch.rand(5, 12, CRITIC_WIDTH, requires_grad=True)
    logits, features = critic(x)
    assert logits.shape == (5,) and features.shape == (5, 4 * TINY.d_hidden)
    logits.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_relaxed_sampling_passes_gradients_to_the_generator() -> None:
    torch.manual_seed(0)
    net = SATBGenerator(TINY)
    cond = free_conditions(2, 8, 2, seed=0).tensor()
    out = roll_out(net, torch.randn(2, TINY.latent_dim), cond, relax_tau=1.0)
    (out.pitch * torch.randn_like(out.pitch)).sum().backward()
    assert net.heads[3].out.weight.grad is not None and net.heads[3].out.weight.grad.abs().sum() > 0


# --- sampling ----------------------------------------------------------------------------------------------


def test_forced_voices_are_kept_exactly() -> None:
    net = tiny_generator()
    pitch, onset = chorale_bar()
    soprano = encode(pitch, onset)[:, 0]
    forced = np.full((3, 16, 4), -1)
    forced[:, :, 0] = soprano
    tokens = draw_tokens(net, free_conditions(3, 16, 2, seed=0), seed=4, forced=forced)
    assert (tokens[:, :, 0] == soprano).all()
    assert not (tokens[:, :, 1:] == tokens[:1, :, 1:]).all(), "three draws gave the same lower voices"


def test_the_same_seed_gives_the_same_pieces_and_pieces_become_voices() -> None:
    net = tiny_generator()
    request = SampleRequest(4, 32, seed=7)
    first, second = sample(net, request), sample(net, request)
    assert np.array_equal(first.voices, second.voices) and np.array_equal(first.active, second.active)
    assert first.active.shape == (4, 32, TINY.n_pitches) and first.phrase_end.shape == (4, 32)
    assert (first.onset <= first.active).all()
    conditions = Conditions(np.array([3]), np.array([1]), phrase_schedule(32, 2)[None])
    tokens = draw_tokens(net, conditions, seed=1)
    [voices] = tokens_to_voices(tokens, conditions)
    assert voices.key_name == "Eb minor" and np.flatnonzero(voices.phrase_end).tolist() == [24]
    assert voices.range_problem() is None
    rolls = tokens_to_samples(tokens, conditions.phrase_end, 48)
    assert np.array_equal(rolls.voices[0], voices.pitch)


def test_the_critic_hears_intervals_between_voices_and_scale_degrees() -> None:
    pitch, onset = chorale_bar()  # C5 E4 G3 C3: C major, the bass and soprano two octaves apart
    tokens = torch.from_numpy(encode(pitch, onset)).long()[None]
    cond = free_conditions(1, 16, 2, seed=0, tonic=0, mode=0).tensor()
    x = critic_input(*state_one_hot(tokens), cond)[0, 0]
    start = 4 * 56
    intervals = x[start : start + 6 * 12].view(6, 12)
    assert intervals[2].argmax() == 0  # soprano–bass: an octave (or unison) class
    assert intervals[1].argmax() == 5  # soprano C5 − tenor G3: 5 semitones mod 12
    degrees = x[start + 72 : start + 72 + 48].view(4, 12)
    assert degrees.argmax(-1).tolist() == [0, 4, 7, 0]  # C, E, G, C in C major
    assert x.shape == (CRITIC_WIDTH,)


def test_parallel_candidates_agree_with_the_voice_leading_metric() -> None:
    rng = np.random.default_rng(0)
    low = np.array([low for low, _ in PITCH_RANGES])
    pitch = low + 8 + rng.integers(0, 10, size=(6, 40, 4))  # always four voices, small random moves
    onset = np.ones_like(pitch, bool)
    tokens = torch.from_numpy(encode(pitch, onset)).long()
    absolute, _ = sounding_state(tokens)
    before = torch.nn.functional.pad(absolute[:, :-1], (0, 0, 1, 0), value=ABS_REST)
    flagged = torch.zeros(absolute.shape[:2], dtype=torch.bool)
    for voice in range(1, 4):
        chosen = parallel_candidates(voice, before, absolute).gather(-1, tokens[..., voice : voice + 1])
        flagged |= chosen.squeeze(-1)
    events = parallel_perfect_events(pitch)
    assert flagged.any()
    assert np.array_equal(flagged.numpy(), events > 0)


def test_unlikelihood_falls_when_parallel_notes_lose_probability() -> None:
    # soprano C5→D5; the bass leaps C3→A#2 instead of following it to D3 (parallel octaves)
    pitch = np.array([[72, 67, 64, 48]] * 4 + [[74, 67, 65, 46]] * 4)
    onset = np.zeros_like(pitch, bool)
    onset[[0, 4]] = True
    tokens = torch.from_numpy(encode(pitch, onset)).long()[None]
    logits = torch.zeros(1, 8, 4, VOCAB)
    base = parallel_unlikelihood(logits, tokens)
    assert base[0, 4] > 0 and torch.equal(base[0, :4], torch.zeros(4))  # nothing moves before step 4
    d3 = 50 - PITCH_RANGES[3][0]
    logits[0, 4, 3, d3] = -5.0
    assert parallel_unlikelihood(logits, tokens)[0, 4] < base[0, 4]
    true_bass = int(tokens[0, 4, 3])
    logits = torch.zeros(1, 8, 4, VOCAB)
    logits[0, 4, 3, true_bass] = 5.0  # the true note is never one of the faults
    assert parallel_unlikelihood(logits, tokens)[0, 4] < base[0, 4]

"""Sampling the four-voice model step by step, with any voice or step held fixed.

:func:`roll_out` is the one sampling loop: at each step the LSTM reads the previous step's voices and the
step's conditioning, then the soprano, alto, tenor and bass are drawn in turn, each seeing the voices
drawn before it at that step. A token given in ``forced`` (≥ 0) is taken instead of drawn: a given
soprano (harmonising a melody: the soprano stays exactly the given one) or the first bars of a piece
(continuing it). With ``relax_tau`` the choices are also returned as straight-through Gumbel-softmax
one-hots (Jang et al. 2017; Maddison et al. 2017), so a discriminator's gradient reaches the generator.

:class:`Conditions` describes what a batch of pieces is asked to be: key and mode, where the phrases end
(fermatas), the metre; :func:`sample` is the registry's free sampling (a random key per piece, a phrase
end every ``phrase_bars`` bars).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from core.models.base import SampleRequest, Samples
from core.models.satb import SATBGenerator
from core.models.satb_tokens import (
    ABS_REST,
    N_ABSOLUTE,
    N_ARTICULATIONS,
    N_KEYS,
    REST_ART,
    conditioning,
    decode,
    metre_table,
    phrase_distances,
    phrase_schedule,
    soft_state,
)
from core.music.voices import N_VOICES, Voices, step_in_bar
from core.music.voices import REST as REST_PITCH

STEPS_PER_BEAT = 4
DEFAULT_LOWEST_PITCH = 36
"""Lowest pitch of the piano-roll form of the samples (the chorales' grid)."""


@dataclass(frozen=True)
class Conditions:
    """What ``N`` pieces of ``T`` steps are asked to be: ``tonic`` int[N] (0–11), ``mode`` int[N]
    (0 major, 1 minor), ``phrase_end`` bool[N, T], and the metre (``beats_per_bar`` beats of four
    sixteenth steps, the first bar line at ``bar_offset``). ``since_start``: the steps since a phrase
    ended before the first step (None: the piece starts at the first step, as a chorale does, with its
    pickup after rests; a number: the pieces start in the middle of the music, as a window of it does)."""

    tonic: np.ndarray
    mode: np.ndarray
    phrase_end: np.ndarray
    beats_per_bar: int = 4
    bar_offset: int = 0
    since_start: int | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(np.shape(self.phrase_end))  # type: ignore[return-value]

    def tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """``float[N, T, COND_DIM]``: see :func:`core.models.satb_tokens.conditioning`."""
        n, steps = self.shape
        steps_per_bar = STEPS_PER_BEAT * self.beats_per_bar
        positions = np.broadcast_to(step_in_bar(steps, steps_per_bar, self.bar_offset), (n, steps))
        to_next, since = phrase_distances(self.phrase_end, self.since_start)
        as_tensor = lambda array: torch.as_tensor(np.array(array), device=device)  # noqa: E731
        return conditioning(
            as_tensor(positions),
            as_tensor(np.asarray(self.tonic)),
            as_tensor(np.asarray(self.mode)),
            as_tensor(self.phrase_end),
            as_tensor(to_next),
            as_tensor(since),
            metre_table(STEPS_PER_BEAT, self.beats_per_bar),
        )


FREE_SINCE_START = 8
"""Free pieces start on a bar line half a bar after a phrase end (a fermata on beat 3 of the bar before),
so the music starts at once, as in a window of a chorale, rather than with a chorale's opening rests."""


def free_conditions(
    n: int, steps: int, phrase_bars: int, seed: int, tonic: int | None = None, mode: int | None = None
) -> Conditions:
    """Conditions of free pieces in 4/4: the given key (or one drawn at random per piece, major and minor
    equally often) and a phrase end every ``phrase_bars`` bars (and in the last bar)."""
    rng = np.random.default_rng(seed)
    tonics = np.full(n, tonic) if tonic is not None else rng.integers(0, N_KEYS, n)
    modes = np.full(n, mode) if mode is not None else rng.integers(0, 2, n)
    marks = np.broadcast_to(phrase_schedule(steps, phrase_bars), (n, steps)).copy()
    return Conditions(tonics, modes, marks, since_start=FREE_SINCE_START)


@dataclass
class Rollout:
    """Sampled tokens ``long[B, T, 4]`` and their sounding states as one-hots (``pitch [B, T, 4, 53]``,
    ``articulation [B, T, 4, 3]``; straight-through relaxed when sampled with ``relax_tau``)."""

    tokens: torch.Tensor
    pitch: torch.Tensor
    articulation: torch.Tensor


def _pick(
    logits: torch.Tensor,
    forced: torch.Tensor | None,
    temperature: float,
    generator: torch.Generator | None,
    relax_tau: float | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(choice one-hot ``[B, VOCAB]``, token ``[B]``): a Gumbel-max draw, or the forced token."""
    logits = logits.float()
    u = torch.rand(logits.shape, generator=generator, device=logits.device).clamp(1e-6, 1 - 1e-6)
    perturbed = logits / temperature - torch.log(-torch.log(u))
    token = perturbed.argmax(-1)
    if forced is not None:
        token = torch.where(forced >= 0, forced, token)
    choice = F.one_hot(token, logits.shape[-1]).to(logits.dtype)
    if relax_tau is not None:
        soft = torch.softmax(perturbed / relax_tau, dim=-1)
        free = (forced < 0).unsqueeze(-1) if forced is not None else torch.ones_like(choice, dtype=bool)
        choice = torch.where(free, choice + soft - soft.detach(), choice)
    return choice, token


def roll_out(
    net: SATBGenerator,
    z: torch.Tensor,
    cond: torch.Tensor,
    forced: torch.Tensor | None = None,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    relax_tau: float | None = None,
) -> Rollout:
    """Sample ``cond.shape[1]`` steps for latents ``z [B, latent]`` and conditioning ``cond [B, T, C]``;
    ``forced [B, T, 4]`` holds tokens to keep (−1: draw). The fed-back states are detached (gradients
    through dozens of chained relaxations explode; they still flow through the LSTM state)."""
    batch, steps = cond.shape[:2]
    h0, c0 = net.initial_state(z)
    hs, cs = list(h0.unbind(0)), list(c0.unbind(0))
    previous_pitch = F.one_hot(torch.full((batch, N_VOICES), ABS_REST), N_ABSOLUTE + 1).float()
    previous_art = F.one_hot(torch.full((batch, N_VOICES), REST_ART), N_ARTICULATIONS).float()
    previous_pitch, previous_art = previous_pitch.to(cond.device), previous_art.to(cond.device)
    fed = cond.new_zeros(batch, N_VOICES * net.cfg.voice_width)
    tokens, pitches, articulations = [], [], []
    for t in range(steps):
        hidden = net.step(torch.cat([fed.detach(), cond[:, t]], dim=-1), hs, cs)
        above, step_tokens, step_pitch, step_art = [], [], [], []
        before = previous_pitch.detach().argmax(-1)  # [B, 4] absolute pitch indices
        now = torch.full_like(before, ABS_REST)
        for voice in range(N_VOICES):
            logits = net.voice_logits(voice, hidden, above, before, now)
            logits = net.mask(logits, voice, previous_art[:, voice, REST_ART] > 0.5)
            keep = forced[:, t, voice] if forced is not None else None
            choice, token = _pick(logits, keep, temperature, generator, relax_tau)
            pitch, articulation = soft_state(choice, voice, previous_pitch[:, voice].detach())
            now = now.clone()
            now[:, voice] = pitch.detach().argmax(-1)
            above.append(net.embed(pitch, articulation))
            step_tokens.append(token)
            step_pitch.append(pitch)
            step_art.append(articulation)
        previous_pitch, previous_art = torch.stack(step_pitch, 1), torch.stack(step_art, 1)
        fed = torch.cat(above, dim=-1)
        tokens.append(torch.stack(step_tokens, 1))
        pitches.append(previous_pitch)
        articulations.append(previous_art)
    return Rollout(torch.stack(tokens, 1), torch.stack(pitches, 1), torch.stack(articulations, 1))


def draw_tokens(
    net: SATBGenerator,
    conditions: Conditions,
    seed: int = 0,
    temperature: float = 1.0,
    forced: np.ndarray | None = None,
) -> np.ndarray:
    """``int8[N, T, 4]`` tokens of pieces under ``conditions`` (eval mode, no gradients; the same seed
    gives the same pieces); ``temperature`` multiplies the model's own."""
    device = next(net.parameters()).device
    rng = torch.Generator(device=device).manual_seed(int(seed))
    n = len(conditions.tonic)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            z = torch.randn(n, net.cfg.latent_dim, generator=rng, device=device)
            kept = None if forced is None else torch.as_tensor(forced, dtype=torch.long, device=device)
            out = roll_out(net, z, conditions.tensor(device), kept, temperature * net.cfg.temperature, rng)
    finally:
        net.train(was_training)
    return out.tokens.cpu().numpy().astype(np.int8)


def fold_into(pitch: np.ndarray, lowest: int, n_pitches: int) -> np.ndarray:
    """Pitch indices on a roll of ``n_pitches`` from ``lowest``; pitches outside move by octaves."""
    index = np.asarray(pitch, dtype=np.int64) - lowest
    index = np.where(index < 0, index + 12 * ((-index + 11) // 12), index)
    over = index - (n_pitches - 1)
    return np.where(over > 0, index - 12 * ((over + 11) // 12), index)


def tokens_to_samples(
    tokens: np.ndarray, phrase_end: np.ndarray, n_pitches: int, lowest: int = DEFAULT_LOWEST_PITCH
) -> Samples:
    """Tokens ``[N, T, 4]`` as :class:`Samples`: piano-rolls (voices in unison share a cell) plus the
    voices' pitches and the phrase ends."""
    pitch, onset = decode(tokens)
    n, steps, _ = pitch.shape
    active = np.zeros((n, steps, n_pitches), bool)
    starts = np.zeros_like(active)
    sounding = pitch != REST_PITCH
    rows, times, voices = np.nonzero(sounding)
    cells = fold_into(pitch[rows, times, voices], lowest, n_pitches)
    active[rows, times, cells] = True
    starts[rows, times, cells] |= onset[rows, times, voices]
    return Samples(active, starts, pitch.astype(np.int64), np.asarray(phrase_end, bool))


def tokens_to_voices(tokens: np.ndarray, conditions: Conditions, tempo_bpm: float = 100.0) -> list[Voices]:
    """Tokens ``[N, T, 4]`` as :class:`~core.music.voices.Voices` with their key, metre and phrase ends."""
    pitch, onset = decode(tokens)
    return [
        Voices(
            pitch[i],
            onset[i],
            conditions.phrase_end[i],
            STEPS_PER_BEAT,
            conditions.beats_per_bar,
            int(conditions.tonic[i]),
            ("major", "minor")[int(conditions.mode[i])],
            tempo_bpm,
            conditions.bar_offset,
        )
        for i in range(len(pitch))
    ]


def sample(net: SATBGenerator, request: SampleRequest) -> Samples:
    """Free pieces of ``request.steps`` steps in 4/4: a random key each, a phrase end every
    ``net.cfg.phrase_bars`` bars (the registry's sampling; the same seed gives the same pieces)."""
    conditions = free_conditions(request.n, request.steps, net.cfg.phrase_bars, request.seed)
    tokens = draw_tokens(net, conditions, request.seed, request.temperature)
    return tokens_to_samples(tokens, conditions.phrase_end, net.cfg.n_pitches)

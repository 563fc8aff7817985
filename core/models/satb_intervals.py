"""Interval-aware logits for the four-voice generator: learned scores of how each candidate note moves
against the voices already written.

A voice's token scores come from the LSTM state through a small network, which sees pitches, not the
relations between them. Voice leading is about relations: two voices moving from a fifth to a fifth in
the same direction (parallel fifths) is a fault whatever the pitches, and an MLP over pitch embeddings
learned it badly (0.7 parallels per bar after 1,000 steps, unchanged at temperature 0.5; the chorales
have 0.02). So each candidate pitch ``p`` of voice ``v`` at step ``t`` gets additive scores from tables
learned with everything else:

- for every voice ``u`` above ``v`` (already written at ``t``): a score indexed by the interval class
  between them one step before, the interval class they would form now, and the motion (both move the
  same way, opposite ways, or one stays), ``12 × 12 × 3`` entries per voice pair. Parallel fifths and
  octaves are entries of this table (fifth → fifth, similar motion), as are their good neighbours;
- the voice's own melodic interval from its previous pitch, −12…+12 semitones (larger leaps share the end
  entries).

Intervals are measured as the project's voice-leading metric measures them (absolute difference mod 12,
:mod:`core.music.voice_leading`). A hold continues the previous pitch (no motion); a rest has no
interval and scores 0. The tables start at zero, so an untrained model is unchanged by them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.models.satb_tokens import ABS_REST, HOLD, LOWEST, RANGE_LOW, VOCAB, sounding_state
from core.music.voices import N_VOICES

N_CLASSES = 12
MOTIONS = 3
"""Similar motion (both move the same way), contrary (opposite ways), oblique or none (one stays)."""
PAIR_ENTRIES = N_CLASSES * N_CLASSES * MOTIONS
MELODIC_SPAN = 12
MELODIC_ENTRIES = 2 * MELODIC_SPAN + 1


def candidate_pitches(voice: int, previous: torch.Tensor) -> torch.Tensor:
    """Absolute pitch index of every token of ``voice`` given its previous pitch ``previous [...]``:
    the token's own pitch, the previous pitch for a hold, :data:`ABS_REST` for a rest (and for slots past
    the voice's range, which are masked anyway). Shape ``[..., VOCAB]``."""
    slots = torch.arange(VOCAB, device=previous.device)
    own = slots + int(RANGE_LOW[voice]) - LOWEST
    own = torch.where(slots < HOLD, own, torch.full_like(own, ABS_REST)).clamp(max=ABS_REST)
    candidates = own.expand(*previous.shape, VOCAB).clone()
    candidates[..., HOLD] = previous
    return candidates


def _motion(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """0 similar, 1 contrary, 2 oblique or none, from the two voices' steps ``a`` and ``b``."""
    same = (torch.sign(a) == torch.sign(b)) & (a != 0)
    opposite = torch.sign(a) * torch.sign(b) < 0
    return torch.where(same, 0, torch.where(opposite, 1, 2))


PAIR_UPPER = torch.tensor([upper for lower in range(N_VOICES) for upper in range(lower)])
PAIR_LOWER = torch.tensor([lower for lower in range(N_VOICES) for _ in range(lower)])
"""The six voice pairs (upper above lower), as index tensors."""


def all_candidates(previous: torch.Tensor) -> torch.Tensor:
    """:func:`candidate_pitches` of the four voices at once, ``[..., 4, VOCAB]``."""
    table = torch.stack([candidate_pitches(voice, torch.zeros((), dtype=torch.long)) for voice in range(4)])
    candidates = table.to(previous.device).expand(*previous.shape, VOCAB).clone()
    candidates[..., HOLD] = previous
    return candidates


def _pair_entries(previous: torch.Tensor, current: torch.Tensor, candidates: torch.Tensor):
    """For every voice pair and candidate of the lower voice ``[..., 6, VOCAB]``: whether all four pitches
    are known, the interval classes before ``[..., 6, 1]`` and after, and the motion (0 similar,
    1 contrary, 2 oblique or none). In int16: several times faster than int64 on these large tensors."""
    lower, upper = PAIR_LOWER.to(previous.device), PAIR_UPPER.to(previous.device)
    previous, current = previous.to(torch.int16), current.to(torch.int16)
    own = candidates.to(torch.int16).index_select(-2, lower)
    own_before = previous.index_select(-1, lower).unsqueeze(-1)
    up_before = previous.index_select(-1, upper).unsqueeze(-1)
    up_now = current.index_select(-1, upper).unsqueeze(-1)
    known = (own != ABS_REST) & ((own_before != ABS_REST) & (up_before != ABS_REST) & (up_now != ABS_REST))
    up_direction = torch.sign(up_now - up_before)
    own_direction = torch.sign(own - own_before)
    similar = (own_direction == up_direction) & (up_direction != 0)
    contrary = own_direction * up_direction < 0
    motion = 2 - 2 * similar.to(torch.int16) - contrary.to(torch.int16)
    was = (up_before - own_before).abs() % N_CLASSES
    now = (up_now - own).abs() % N_CLASSES
    return known, was, now, motion


class IntervalScores(nn.Module):
    """The learned tables (one per voice pair and one per voice) and their lookup."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs = nn.Parameter(torch.zeros(N_VOICES, N_VOICES, PAIR_ENTRIES))
        self.melodic = nn.Parameter(torch.zeros(N_VOICES, MELODIC_ENTRIES))

    def all_voices(self, previous: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
        """Scores ``[..., 4, VOCAB]`` of every voice's tokens at once (teacher forcing: ``current`` holds
        all four voices' true pitches); the same numbers as :meth:`forward` voice by voice."""
        candidates = all_candidates(previous).to(torch.int16)
        own_before = previous.to(torch.int16).unsqueeze(-1)
        step = (candidates - own_before).clamp(-MELODIC_SPAN, MELODIC_SPAN) + MELODIC_SPAN
        voices = torch.arange(N_VOICES, device=previous.device, dtype=torch.int16).unsqueeze(-1)
        melodic = torch.take(self.melodic, (voices * MELODIC_ENTRIES + step).long())
        known_step = (candidates != ABS_REST) & (own_before != ABS_REST)
        scores = melodic * known_step
        known, was, now, motion = _pair_entries(previous, current, candidates)
        lower, upper = PAIR_LOWER.to(previous.device), PAIR_UPPER.to(previous.device)
        base = ((lower * N_VOICES + upper) * PAIR_ENTRIES).to(torch.int16).unsqueeze(-1)
        pair = torch.take(self.pairs, (base + (was * N_CLASSES + now) * MOTIONS + motion).long())
        return scores.index_add(scores.dim() - 2, lower, pair * known)

    def forward(self, voice: int, previous: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
        """Scores ``[..., VOCAB]`` of ``voice``'s tokens from the voices' absolute pitch indices one step
        before (``previous [..., 4]``) and now (``current [..., 4]``; only the voices above ``voice`` are
        read). :data:`ABS_REST` marks a rest."""
        own_before = previous[..., voice]
        candidates = candidate_pitches(voice, own_before)  # [..., VOCAB]
        sounding = candidates != ABS_REST
        before_sounds = (own_before != ABS_REST).unsqueeze(-1)
        step = candidates - own_before.unsqueeze(-1)
        melodic = self.melodic[voice][(step.clamp(-MELODIC_SPAN, MELODIC_SPAN) + MELODIC_SPAN)]
        scores = torch.where(sounding & before_sounds, melodic, torch.zeros_like(melodic))
        for upper in range(voice):
            up_before, up_now = previous[..., upper].unsqueeze(-1), current[..., upper].unsqueeze(-1)
            known = sounding & before_sounds & (up_before != ABS_REST) & (up_now != ABS_REST)
            was = (up_before - own_before.unsqueeze(-1)).abs() % N_CLASSES
            now = (up_now - candidates).abs() % N_CLASSES
            motion = _motion(up_now - up_before, step)
            entry = (was * N_CLASSES + now) * MOTIONS + motion
            pair = self.pairs[voice, upper][entry.clamp(0, PAIR_ENTRIES - 1)]
            scores = scores + torch.where(known, pair, torch.zeros_like(pair))
        return scores


PERFECT = (0, 7)
"""Interval classes whose parallels are faults: unison/octave and fifth (Kostka & Payne, ch. 6)."""


def parallel_candidates(voice: int, previous: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
    """``bool[..., VOCAB]``: the tokens of ``voice`` that would move in parallel fifths or octaves with a
    voice above it, given the voices' absolute pitch indices one step before and now (as
    :class:`IntervalScores` reads them; the definition of :mod:`core.music.voice_leading`)."""
    own_before = previous[..., voice]
    candidates = candidate_pitches(voice, own_before)
    step = candidates - own_before.unsqueeze(-1)
    found = torch.zeros(candidates.shape, dtype=torch.bool, device=candidates.device)
    for upper in range(voice):
        up_before, up_now = previous[..., upper].unsqueeze(-1), current[..., upper].unsqueeze(-1)
        known = (candidates != ABS_REST) & (own_before != ABS_REST).unsqueeze(-1)
        known &= (up_before != ABS_REST) & (up_now != ABS_REST)
        was = (up_before - own_before.unsqueeze(-1)).abs() % N_CLASSES
        now = (up_now - candidates).abs() % N_CLASSES
        similar = _motion(up_now - up_before, step) == 0
        found |= known & similar & (was == now) & ((was == PERFECT[0]) | (was == PERFECT[1]))
    return found


def parallel_unlikelihood(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Unlikelihood (after Welleck et al., ICLR 2020) of the notes that would form parallel fifths or
    octaves: ``−log(1 − Σ p(c))`` over those candidates ``c`` of each voice given the true context (the
    true token itself excluded), i.e. minus the log-probability of writing none of them; summed over the
    voices, per step ``[B, T]``. Likelihood alone says little about a fault that real chorales almost
    never contain; this term says it directly."""
    absolute, _ = sounding_state(tokens.long())
    before = F.pad(absolute[:, :-1], (0, 0, 1, 0), value=ABS_REST)
    known, was, now, motion = _pair_entries(before, absolute, all_candidates(before))
    perfect = (was == PERFECT[0]) | (was == PERFECT[1])
    pair_faults = (known & (motion == 0) & (was == now) & perfect).to(logits.dtype)
    faults = torch.zeros(*tokens.shape, VOCAB, device=logits.device, dtype=logits.dtype)
    faults = faults.index_add(faults.dim() - 2, PAIR_LOWER.to(logits.device), pair_faults) > 0
    faults &= ~F.one_hot(tokens.long(), VOCAB).bool()
    probabilities = torch.softmax(logits.float(), dim=-1)
    mass = (probabilities * faults).sum(-1).clamp(max=1 - 1e-6)
    return -torch.log1p(-mass).sum(-1)

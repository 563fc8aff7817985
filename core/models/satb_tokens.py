"""How the four-voice model reads and writes music: one token per voice and step, and the conditioning.

**Tokens.** At every sixteenth-note step each voice (0 soprano … 3 bass) gets one token from its own
vocabulary: "a note of pitch p starts here" for every pitch of the voice's range
(:data:`~core.music.voices.PITCH_RANGES`), :data:`HOLD` ("the note sounding in this voice goes on") or
:data:`REST`. The hold token keeps a repeated note apart from a held one, as BachBot's tie flag (Liang
et al., ISMIR 2017) and DeepBach's hold symbol (Hadjeres et al., ICML 2017) do. All four vocabularies
share one layout of :data:`VOCAB` slots (pitch slots past a voice's range are never valid), so a batch of
tokens is one ``[B, T, 4]`` tensor.

**Sounding state.** What a voice sounds at a step, for the networks' inputs: its absolute pitch
(:data:`N_ABSOLUTE` pitches from :data:`LOWEST` plus a rest slot) and its articulation (onset, held, rest).

**Conditioning** (per step, :data:`COND_DIM` numbers): the metre position (the seven
:data:`~core.music.voices.METRE_FEATURES`), the key (tonic one-hot and mode one-hot; transposition moves
it with the notes), the phrase-end flag (a fermata chord is reached here) and, derived from the same
phrase-end schedule, how many steps remain to the next phrase end and have passed since the last one, in
buckets. A forward LSTM cannot look ahead, so the count-down is how it knows a cadence is due.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from core.music.voices import METRE_FEATURES, N_VOICES, PITCH_RANGES, metre_features
from core.music.voices import REST as REST_PITCH

LOWEST = min(low for low, _ in PITCH_RANGES)
HIGHEST = max(high for _, high in PITCH_RANGES)
N_ABSOLUTE = HIGHEST - LOWEST + 1
"""Absolute pitches any voice can sing (MIDI 33–84)."""
ABS_REST = N_ABSOLUTE
"""The rest slot of the absolute-pitch one-hot (width ``N_ABSOLUTE + 1``)."""
MAX_RANGE = max(high - low + 1 for low, high in PITCH_RANGES)
HOLD = MAX_RANGE
REST = MAX_RANGE + 1
VOCAB = MAX_RANGE + 2
ONSET_ART, HOLD_ART, REST_ART = 0, 1, 2
N_ARTICULATIONS = 3
RANGE_LOW = torch.tensor([low for low, _ in PITCH_RANGES])
RANGE_SIZE = torch.tensor([high - low + 1 for low, high in PITCH_RANGES])
N_KEYS = 12
N_MODES = 2
BUCKET_EDGES = (0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
"""Distances (steps) at which a new count-down bucket starts; one more bucket means "no phrase end"."""
N_BUCKETS = len(BUCKET_EDGES) + 1
COND_DIM = len(METRE_FEATURES) + N_KEYS + N_MODES + 1 + 2 * N_BUCKETS
TONIC_COLUMNS = slice(len(METRE_FEATURES), len(METRE_FEATURES) + N_KEYS)
"""Where the tonic's one-hot lies in a conditioning vector."""


def valid_slots() -> torch.Tensor:
    """``bool[4, VOCAB]``: the token slots each voice may use (its range, hold and rest)."""
    slots = torch.arange(VOCAB)
    pitches = slots[None, :] < RANGE_SIZE[:, None]
    return pitches | (slots[None, :] >= HOLD)


# --- tokens <-> pitches ----------------------------------------------------------------------------------


def encode(pitch: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """``int8[..., T, 4]`` tokens of voices ``pitch`` (MIDI or -1) and ``onset`` (bool), same shape.

    A sounding step without an onset is :data:`HOLD`; a pitch outside its voice's range is a ValueError.
    """
    pitch = np.asarray(pitch, dtype=np.int64)
    onset = np.asarray(onset, dtype=bool)
    low = RANGE_LOW.numpy()
    size = RANGE_SIZE.numpy()
    index = pitch - low
    sounding = pitch != REST_PITCH
    if np.any(sounding & ((index < 0) | (index >= size))):
        raise ValueError("a pitch lies outside its voice's range")
    tokens = np.where(sounding, np.where(onset, index, HOLD), REST)
    return tokens.astype(np.int8)


def decode(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(pitch int16[..., T, 4], onset bool[..., T, 4])`` of tokens; a hold after a rest is a rest."""
    tokens = np.asarray(tokens, dtype=np.int64)
    starts = tokens < HOLD
    pitch = np.where(starts, tokens + RANGE_LOW.numpy(), REST_PITCH)
    steps = tokens.shape[-2]
    position = np.arange(steps).reshape((steps, 1))
    # every step takes the pitch of the last onset or rest at or before it (holds carry it forward)
    marker = np.where(tokens != HOLD, position, -1)
    last = np.maximum.accumulate(marker, axis=-2)
    carried = np.take_along_axis(pitch, np.maximum(last, 0), axis=-2)
    pitch = np.where(last >= 0, carried, REST_PITCH).astype(np.int16)
    return pitch, starts


def sounding_state(tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(absolute pitch index long[B, T, 4] with ABS_REST for a rest, articulation long[B, T, 4])``."""
    steps = tokens.shape[1]
    position = torch.arange(steps, device=tokens.device).view(1, steps, 1)
    marker = torch.where(tokens != HOLD, position, torch.full_like(position, -1))
    last = torch.cummax(marker, dim=1).values
    source = tokens.gather(1, last.clamp(min=0))
    offset = (RANGE_LOW.to(tokens.device) - LOWEST).view(1, 1, N_VOICES)
    absolute = torch.where((source < HOLD) & (last >= 0), source + offset, torch.full_like(source, ABS_REST))
    articulation = torch.where(
        tokens < HOLD, ONSET_ART, torch.where(tokens == HOLD, HOLD_ART, REST_ART)
    ).masked_fill(absolute == ABS_REST, REST_ART)
    return absolute, articulation


def state_one_hot(tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Float one-hots ``(pitch [B, T, 4, N_ABSOLUTE + 1], articulation [B, T, 4, 3])`` of hard tokens."""
    absolute, articulation = sounding_state(tokens.long())
    return (
        F.one_hot(absolute, N_ABSOLUTE + 1).float(),
        F.one_hot(articulation, N_ARTICULATIONS).float(),
    )


def soft_state(
    choice: torch.Tensor, voice: int, previous_pitch: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The sounding state of one voice from a (possibly relaxed) one-hot token ``choice [B, VOCAB]``.

    ``previous_pitch [B, N_ABSOLUTE + 1]`` is what the voice sounded one step before (a hold carries it
    on). Hard one-hots give exact states; relaxed ones (straight-through Gumbel-softmax) pass gradients.
    """
    low, size = int(RANGE_LOW[voice]) - LOWEST, int(RANGE_SIZE[voice])
    onset = choice[:, :size]
    hold, rest = choice[:, HOLD : HOLD + 1], choice[:, REST : REST + 1]
    pitch = F.pad(onset, (low, N_ABSOLUTE + 1 - low - size))
    pitch = pitch + hold * previous_pitch
    pitch = torch.cat([pitch[:, :ABS_REST], pitch[:, ABS_REST:] + rest], dim=-1)
    articulation = torch.cat([onset.sum(-1, keepdim=True), hold, rest], dim=-1)
    held_rest = hold * previous_pitch[:, ABS_REST:]  # a hold after a rest is a rest
    articulation = articulation + torch.cat([0 * held_rest, -held_rest, held_rest], dim=-1)
    return pitch, articulation


# --- conditioning ----------------------------------------------------------------------------------------


def phrase_distances(phrase_end: np.ndarray, since_start: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(to_next, since)`` int16[..., T]: steps to the next phrase end at or after each step, and steps
    since the last one before it; -1 where there is none. ``since_start``: a phrase ended that many steps
    before the first step (None: the music starts here)."""
    phrase_end = np.asarray(phrase_end, dtype=bool)
    steps = phrase_end.shape[-1]
    position = np.arange(steps)
    before = np.where(phrase_end, position, -1)
    last = np.maximum.accumulate(np.concatenate([np.full((*before.shape[:-1], 1), -1), before], -1), -1)
    last = last[..., :-1]
    since = np.where(last >= 0, position - last, -1 if since_start is None else position + since_start)
    after = np.where(phrase_end, position, steps)
    following = np.minimum.accumulate(after[..., ::-1], axis=-1)[..., ::-1]
    to_next = np.where(following < steps, following - position, -1)
    return to_next.astype(np.int16), since.astype(np.int16)


def bucket(distance: torch.Tensor) -> torch.Tensor:
    """Bucket index of step distances (``-1`` = none → the last bucket)."""
    edges = torch.tensor(BUCKET_EDGES, device=distance.device)
    index = torch.bucketize(distance.long(), edges, right=True) - 1
    return torch.where(distance < 0, N_BUCKETS - 1, index)


def metre_table(steps_per_beat: int = 4, beats_per_bar: int = 4) -> torch.Tensor:
    """``float[steps_per_bar, 7]``: the metre features of each position in a bar."""
    return torch.from_numpy(metre_features(steps_per_beat * beats_per_bar, steps_per_beat, beats_per_bar))


def conditioning(
    step_in_bar: torch.Tensor,
    tonic: torch.Tensor,
    mode: torch.Tensor,
    phrase_end: torch.Tensor,
    to_next: torch.Tensor,
    since: torch.Tensor,
    table: torch.Tensor,
) -> torch.Tensor:
    """``float[B, T, COND_DIM]`` from positions in the bar ``[B, T]``, keys ``[B]`` (tonic 0–11, mode
    0 major / 1 minor), phrase-end flags and distances ``[B, T]``, and a :func:`metre_table`."""
    steps = step_in_bar.shape[1]
    key = F.one_hot(tonic.long(), N_KEYS).float()[:, None].expand(-1, steps, -1)
    mode_hot = F.one_hot(mode.long(), N_MODES).float()[:, None].expand(-1, steps, -1)
    return torch.cat(
        [
            table.to(step_in_bar.device)[step_in_bar.long()],
            key,
            mode_hot,
            phrase_end.float().unsqueeze(-1),
            F.one_hot(bucket(to_next), N_BUCKETS).float(),
            F.one_hot(bucket(since), N_BUCKETS).float(),
        ],
        dim=-1,
    )


def phrase_schedule(n_steps: int, phrase_bars: int, steps_per_bar: int = 16, at_step: int = 8) -> np.ndarray:
    """``bool[T]``: a phrase end every ``phrase_bars`` bars at ``at_step`` of the bar (beat 3 in 4/4,
    where most of the chorales' fermatas fall), the last one in the last bar so the piece ends on a
    cadence."""
    if phrase_bars < 1:
        raise ValueError("a phrase lasts at least one bar")
    marks = np.zeros(n_steps, bool)
    bars = -(-n_steps // steps_per_bar)
    ends = list(range(phrase_bars, bars + 1, phrase_bars))
    if bars and (not ends or ends[-1] != bars):
        ends.append(bars)
    for bar in ends:
        step = (bar - 1) * steps_per_bar + min(at_step, steps_per_bar - 1)
        if step < n_steps:
            marks[step] = True
    return marks

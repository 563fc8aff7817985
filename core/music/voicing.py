"""Four voices from a piano-roll (soprano, alto, tenor, bass), voice crossings and vocal ranges.

Voices are ``int[N, T, 4]`` arrays of MIDI pitches, -1 for a rest, voice 0 = soprano, 1 = alto,
2 = tenor, 3 = bass. A piano-roll has no voices, so ``split_voices`` sorts the pitches of every step
at which exactly four notes sound: the highest is the soprano, the lowest the bass. At any other step
(fewer notes: a unison, a rest; more: an overlap or a cluster) the voices are unknown and set to -1 in
all four parts; such steps are left out of every voice-leading measure. A model that writes four
voices can hand its own array instead (a voice may then rest while the others sing).

Sources:

- Kostka & Payne, *Tonal Harmony*, ch. 5 ("Principles of voice leading": four-part vocal texture, the
  class ranges and voice crossing).
- Aarden & von Hippel, "Rules for chord doubling (and spacing): which ones do we need?", Music Theory
  Online 10(2), 2004, §4.2 (ranges and part-crossing measured in the Bach chorales).
"""

from __future__ import annotations

import numpy as np

from core.music.arrays import ratio

N_VOICES = 4
VOICE_NAMES = ("soprano", "alto", "tenor", "bass")
VOICE_RANGES = ((60, 79), (55, 74), (48, 67), (40, 60))
"""Lowest and highest MIDI pitch of each voice: S C4–G5, A G3–D5, T C3–G4, B E2–C4.

The class ranges of Kostka & Payne (*Tonal Harmony*, ch. 5), with the alto's top a step higher
(D5 rather than C5) as many class texts allow; a note outside is hard to sing in a choir."""
REST = -1


def split_voices(active: np.ndarray, lowest_pitch: int = 36) -> np.ndarray:
    """int[N, T, 4]: S, A, T, B as MIDI pitches at the steps where exactly four notes sound, else -1.

    The pitches of a four-note step sorted from the top (soprano) down (bass). Steps with another
    number of notes have no voices (all four -1).
    """
    active = np.asarray(active, dtype=bool)
    four = active.sum(axis=2) == N_VOICES
    roll_idx, step_idx, pitch_idx = np.nonzero(active & four[..., None])  # four rows a step, low to high
    voices = np.full((*active.shape[:2], N_VOICES), REST, dtype=np.int16)
    from_top = pitch_idx.reshape(-1, N_VOICES)[:, ::-1] + lowest_pitch
    voices[roll_idx[::N_VOICES], step_idx[::N_VOICES]] = from_top
    return voices


def voiced_steps(voices: np.ndarray) -> np.ndarray:
    """bool[N, T]: the steps at which all four voices sound."""
    return (np.asarray(voices) >= 0).all(axis=2)


def four_voice_step_share(active: np.ndarray) -> np.ndarray:
    """float64[N]: share of sounding steps at which exactly four notes sound (NaN for a silent roll).

    How often a piano-roll can be read as a four-part chorale texture (Kostka & Payne, ch. 5) at all;
    the other steps have no voices (see the module docstring).
    """
    notes = np.asarray(active, dtype=bool).sum(axis=2)
    sounding = (notes > 0).sum(axis=1)
    return ratio((notes == N_VOICES).sum(axis=1), sounding)


def voice_crossing_share(voices: np.ndarray) -> np.ndarray:
    """float64[N]: share of voiced steps where a lower voice sounds above a higher one.

    Voice crossing (Kostka & Payne, ch. 5; Aarden & von Hippel 2004, §4.2.1): e.g. the alto above the
    soprano. Only meaningful for explicit voices from a four-voice model: voices from
    ``split_voices`` are sorted by pitch, so this is 0 by construction. NaN without voiced steps.
    """
    voices = np.asarray(voices)
    voiced = voiced_steps(voices)
    crossed = (voices[..., 1:] > voices[..., :-1]).any(axis=2) & voiced
    return ratio(crossed.sum(axis=1), voiced.sum(axis=1))


def voice_note_starts(
    voices: np.ndarray, onset: np.ndarray | None = None, lowest_pitch: int = 36
) -> np.ndarray:
    """bool[N, T, 4]: where each voice starts a note.

    A voice starts a note where it sounds and either rested at the step before, changed pitch, or
    the roll ``onset`` (bool ``[N, T, P]``, optional) marks a new attack of its pitch.
    """
    voices = np.asarray(voices)
    sounding = voices >= 0
    before = np.full_like(voices, REST)
    before[:, 1:] = voices[:, :-1]
    starts = sounding & (voices != before)
    if onset is not None:
        onset = np.asarray(onset, dtype=bool)
        rows = voices.astype(np.int64) - lowest_pitch
        inside = sounding & (rows >= 0) & (rows < onset.shape[2])
        attacked = np.take_along_axis(onset, np.clip(rows, 0, onset.shape[2] - 1), axis=2)
        starts |= inside & attacked
    return starts


def range_violation_counts(
    voices: np.ndarray, onset: np.ndarray | None = None, lowest_pitch: int = 36
) -> tuple[np.ndarray, np.ndarray]:
    """(notes outside their voice's range, notes), each float64[N, 4] (voice 0 = soprano).

    Ranges are ``VOICE_RANGES`` (Kostka & Payne, ch. 5); a note is counted once, where it starts.
    """
    voices = np.asarray(voices)
    starts = voice_note_starts(voices, onset, lowest_pitch)
    low, high = np.asarray(VOICE_RANGES).T
    outside = starts & ((voices < low) | (voices > high))
    return outside.sum(axis=1, dtype=np.float64), starts.sum(axis=1, dtype=np.float64)


def out_of_range_note_share(
    voices: np.ndarray, onset: np.ndarray | None = None, lowest_pitch: int = 36
) -> np.ndarray:
    """float64[N]: share of all voices' notes outside the voice's range (``VOICE_RANGES``); NaN if none."""
    outside, notes = range_violation_counts(voices, onset, lowest_pitch)
    return ratio(outside.sum(axis=1), notes.sum(axis=1))


def out_of_range_note_share_per_voice(
    voices: np.ndarray, onset: np.ndarray | None = None, lowest_pitch: int = 36
) -> np.ndarray:
    """float64[N, 4]: each voice's share of notes outside its range (S, A, T, B); NaN for no notes."""
    outside, notes = range_violation_counts(voices, onset, lowest_pitch)
    return ratio(outside, notes)

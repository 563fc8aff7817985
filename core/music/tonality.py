"""Keys of piano-roll windows, batched: Krumhansl–Kessler key finding, key strength and tonal closure.

A key is coded as an int 0–23: 0–11 the major key on that tonic pitch class (0 = C), 12–23 the minor
key on tonic ``key - 12``; -1 where no key is defined (silence, or all twelve pitch classes equally
long). This is the coding of ``core.music.theory.estimate_key`` (its ``tonic`` and ``mode``), batched.

Sources:

- Krumhansl & Kessler, "Tracing the dynamic changes in perceived tonal organization in a spatial
  representation of musical keys", Psychological Review 89(4), 1982 (the probe-tone profiles, and how
  the sense of key follows a modulating chord sequence).
- Krumhansl, *Cognitive Foundations of Musical Pitch*, Oxford University Press 1990, ch. 4 (the
  key-finding algorithm of Krumhansl & Schmuckler: correlate the duration of each pitch class with
  the 24 rotated profiles; the best correlation is the key, its value the key's strength).
- Temperley, *The Cognition of Basic Musical Structures*, MIT Press 2001, ch. 7 (key-finding over
  short segments, so that the key can change within a piece).
- Cook, "The perception of large-scale tonal closure", Music Perception 5(2), 1987 (a tonal piece
  ends in the key it began in).
"""

from __future__ import annotations

import numpy as np

from core.music.theory import MAJOR_PROFILE, MINOR_PROFILE

NO_KEY = -1


def _z_profiles() -> np.ndarray:
    """float64[24, 12]: the 24 key profiles (major on tonics 0–11, then minor), z-scored."""
    profiles = np.stack([np.roll(p, tonic) for p in (MAJOR_PROFILE, MINOR_PROFILE) for tonic in range(12)])
    return (profiles - profiles.mean(axis=1, keepdims=True)) / profiles.std(axis=1, keepdims=True)


Z_PROFILES = _z_profiles()


def pitch_class_matrix(n_pitches: int, lowest_pitch: int) -> np.ndarray:
    """float32[P, 12]: the one-hot pitch class of each roll row (row 0 = ``lowest_pitch``)."""
    pcs = (lowest_pitch + np.arange(n_pitches)) % 12
    return (pcs[:, None] == np.arange(12)[None, :]).astype(np.float32)


def pitch_class_durations(active: np.ndarray, lowest_pitch: int = 36) -> np.ndarray:
    """float64[..., 12]: steps each pitch class sounds, summed over the time axis (second to last).

    ``active`` is bool ``[..., T, P]``; octave doublings count once per pitch, as Krumhansl (1990)
    sums the durations of all notes of a pitch class.
    """
    per_pitch = np.asarray(active, dtype=bool).sum(axis=-2, dtype=np.float64)
    return per_pitch @ pitch_class_matrix(per_pitch.shape[-1], lowest_pitch).astype(np.float64)


def key_correlations(pc_weights: np.ndarray) -> np.ndarray:
    """float64[..., 24]: Pearson correlation of each pitch-class distribution with the 24 key profiles.

    NaN where the distribution is flat (silence included): no key correlates with it.
    """
    weights = np.asarray(pc_weights, dtype=np.float64)
    spread = weights.std(axis=-1, keepdims=True)
    flat = spread[..., 0] == 0
    z = (weights - weights.mean(axis=-1, keepdims=True)) / np.where(spread > 0, spread, 1.0)
    correlations = z @ Z_PROFILES.T / 12
    correlations[flat] = np.nan
    return correlations


def estimate_keys(pc_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(key int[...], correlation float64[...]) of the best-correlated key; ``NO_KEY``/NaN if undefined.

    Krumhansl–Schmuckler key finding (Krumhansl 1990) on each distribution ``[..., 12]``.
    """
    correlations = key_correlations(pc_weights)
    defined = ~np.isnan(correlations[..., 0])
    best = np.where(defined[..., None], correlations, -np.inf).argmax(axis=-1)
    strength = np.take_along_axis(correlations, best[..., None], axis=-1)[..., 0]
    return np.where(defined, best, NO_KEY), strength


def key_strength(active: np.ndarray, lowest_pitch: int = 36) -> np.ndarray:
    """float64[N]: the best Krumhansl–Kessler key correlation of each roll ``[N, T, P]`` (NaN if silent).

    Near 0.9 for a diatonic passage that dwells on tonic and dominant, lower for chromatic or
    atonal music (Krumhansl 1990, ch. 4: correlations of the key-finding algorithm).
    """
    return estimate_keys(pitch_class_durations(active, lowest_pitch))[1]


def local_keys(
    active: np.ndarray, steps: np.ndarray, before: int, after: int, lowest_pitch: int = 36
) -> np.ndarray:
    """int[N, len(steps)]: the key of the notes sounding around each of ``steps`` (``NO_KEY`` if none).

    The Krumhansl–Kessler key of the span from ``before`` steps before a step to ``after`` steps
    after it (``[step - before, step + after)``, clipped to the roll): a local key that follows
    modulations and tonicizations, as a listener's sense of key does (Krumhansl & Kessler 1982;
    Temperley 2001, ch. 7).
    """
    active = np.asarray(active, dtype=bool)
    n, t, p = active.shape
    durations = active.astype(np.float32) @ pitch_class_matrix(p, lowest_pitch)
    totals = np.zeros((n, t + 1, 12))
    np.cumsum(durations, axis=1, out=totals[:, 1:])
    steps = np.asarray(steps, dtype=np.int64)
    spans = totals[:, np.clip(steps + after, 0, t)] - totals[:, np.clip(steps - before, 0, t)]
    return estimate_keys(spans)[0]


def first_last_key_agreement(
    active: np.ndarray, lowest_pitch: int = 36, steps_per_bar: int = 16, bars: int = 4
) -> np.ndarray:
    """float64[N]: 1 where the first ``bars`` bars and the last ``bars`` bars have the same key, else 0.

    Tonal closure (Cook 1987): a 16-bar window compares the key of bars 1–4 with that of bars 13–16,
    keys by Krumhansl–Kessler (same tonic and mode). NaN when a roll is shorter than two such spans
    (they would overlap) or when either span has no key.
    """
    active = np.asarray(active, dtype=bool)
    span = bars * steps_per_bar
    if active.shape[1] < 2 * span:
        return np.full(len(active), np.nan)
    first, _ = estimate_keys(pitch_class_durations(active[:, :span], lowest_pitch))
    last, _ = estimate_keys(pitch_class_durations(active[:, -span:], lowest_pitch))
    defined = (first != NO_KEY) & (last != NO_KEY)
    return np.where(defined, (first == last).astype(np.float64), np.nan)

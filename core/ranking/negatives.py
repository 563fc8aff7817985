"""Degenerate rolls a ranker must always score below music, and the sanity flags that sort them last.

What a model that fails sounds like, to a musician: constant chords, independent random cells,
near-silence, a looped bar, real windows with their steps shuffled, real windows rewritten with
parallel fifths or octaves, clusters of adjacent semitones, and real windows with half of their notes
moved out of the key. ``DEGENERATE_KINDS`` names them; :func:`degenerate_set` draws the ranker's fixed
mix, and :func:`sanity_flags` catches the worst of them among generated candidates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.music.voicing import REST, split_voices


def onsets_from_active(active: np.ndarray) -> np.ndarray:
    """Onsets where a pitch starts sounding (no re-strikes of held notes)."""
    active = np.asarray(active, dtype=bool)
    onset = active.copy()
    onset[..., 1:, :] &= ~active[..., :-1, :]
    return onset


def constant_chords(
    rng: np.random.Generator, n: int, steps: int, n_pitches: int
) -> tuple[np.ndarray, np.ndarray]:
    """One random 2–5 note chord per roll, held or re-struck every 1, 2, 4, 8 or 16 steps."""
    active = np.zeros((n, steps, n_pitches), dtype=bool)
    onset = np.zeros_like(active)
    for i in range(n):
        pitches = rng.choice(n_pitches, size=rng.integers(2, 6), replace=False)
        active[i][:, pitches] = True
        every = int(rng.choice([1, 2, 4, 8, 16, steps]))
        onset[i][::every, pitches] = True
    return active, onset


def noise_rolls(
    rng: np.random.Generator, n: int, steps: int, n_pitches: int, density: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Independent random cells (density per roll drawn from 0.02–0.15 unless given)."""
    densities = rng.uniform(0.02, 0.15, size=n) if density is None else np.full(n, density)
    active = rng.random((n, steps, n_pitches)) < densities[:, None, None]
    return active, onsets_from_active(active)


def near_silent_rolls(
    rng: np.random.Generator, n: int, steps: int, n_pitches: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rolls with one to three short notes and silence elsewhere."""
    active = np.zeros((n, steps, n_pitches), dtype=bool)
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            start = rng.integers(0, steps)
            active[i, start : start + rng.integers(1, 5), rng.integers(n_pitches)] = True
    return active, onsets_from_active(active)


def looped_bars(
    active: np.ndarray, onset: np.ndarray, rng: np.random.Generator, n: int, steps_per_bar: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Real windows whose first bar is repeated over the whole window."""
    pick = rng.integers(0, len(active), size=n)
    reps = -(-active.shape[1] // steps_per_bar)
    a = np.tile(active[pick, :steps_per_bar], (1, reps, 1))[:, : active.shape[1]]
    o = np.tile(onset[pick, :steps_per_bar], (1, reps, 1))[:, : active.shape[1]]
    return a, o


def shuffled_steps(
    active: np.ndarray, rng: np.random.Generator, n: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Real windows with their time steps in random order (pitch content kept, time structure lost)."""
    n = len(active) if n is None else n
    pick = rng.integers(0, len(active), size=n)
    order = np.argsort(rng.random((n, active.shape[1])), axis=1)
    shuffled = np.take_along_axis(active[pick], order[:, :, None], axis=1)
    return shuffled, onsets_from_active(shuffled)


def parallel_voices(
    active: np.ndarray, onset: np.ndarray, rng: np.random.Generator, n: int, lowest_pitch: int = 36
) -> tuple[np.ndarray, np.ndarray]:
    """Real windows with one voice rewritten to shadow another: at every step where exactly four notes
    sound, the alto doubles the soprano an octave below (parallel octaves) or the tenor sits a fifth
    above the bass (parallel fifths), half of the windows each; the other steps are kept."""
    pick = rng.integers(0, len(active), size=n)
    voices = split_voices(active[pick], lowest_pitch).astype(np.int64)
    voiced = (voices != REST).all(axis=2)
    pitch_onset = _voice_onsets(onset[pick], voices, lowest_pitch)
    fifths = rng.random(n) < 0.5
    for rows, target, source, shift in ((fifths, 2, 3, 7), (~fifths, 1, 0, -12)):
        voices[rows, :, target] = voices[rows, :, source] + shift
        pitch_onset[rows, :, target] = pitch_onset[rows, :, source]
    new_active = active[pick].copy()
    new_onset = onset[pick] & active[pick]
    new_active[voiced] = False
    new_onset[voiced] = False
    roll_idx, step_idx = np.nonzero(voiced)
    for v in range(voices.shape[2]):
        column = voices[roll_idx, step_idx, v] - lowest_pitch
        inside = (column >= 0) & (column < active.shape[2])
        r, t, c = roll_idx[inside], step_idx[inside], column[inside]
        new_active[r, t, c] = True
        new_onset[r, t, c] |= pitch_onset[r, t, v]
    return new_active, new_onset | onsets_from_active(new_active)


def _voice_onsets(onset: np.ndarray, voices: np.ndarray, lowest_pitch: int) -> np.ndarray:
    """bool[N, T, 4]: whether each split voice strikes its note at each step."""
    column = np.clip(voices - lowest_pitch, 0, onset.shape[2] - 1)
    struck = np.take_along_axis(onset, column, axis=2)
    return struck & (voices != REST)


def clusters(rng: np.random.Generator, n: int, steps: int, n_pitches: int) -> tuple[np.ndarray, np.ndarray]:
    """Chords of three to five notes one or two semitones apart, each held 2, 4 or 8 steps, anywhere."""
    active = np.zeros((n, steps, n_pitches), dtype=bool)
    onset = np.zeros_like(active)
    for i in range(n):
        t = 0
        while t < steps:
            length = int(rng.choice([2, 4, 4, 8]))
            gaps = rng.integers(1, 3, size=rng.integers(2, 5))
            base = rng.integers(0, n_pitches - gaps.sum())
            pitches = base + np.r_[0, np.cumsum(gaps)]
            active[i, t : t + length, pitches] = True
            onset[i, t, pitches] = True
            t += length
    return active, onset


def out_of_key(
    active: np.ndarray, onset: np.ndarray, rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Real windows with every note below the window's middle pitch moved 1 or 6 semitones (up or down):
    the rhythm and the spacing stay, the pitch-class content of two keys at once breaks the harmony."""
    pick = rng.integers(0, len(active), size=n)
    new_active, new_onset = active[pick].copy(), onset[pick] & active[pick]
    n_pitches = active.shape[2]
    for i in range(n):
        used = np.flatnonzero(new_active[i].any(axis=0))
        if not len(used):
            continue
        middle = int(np.median(used))
        shift = int(rng.choice([-6, -1, 1, 6]))
        for grid in (new_active, new_onset):
            low = grid[i, :, :middle].copy()
            grid[i, :, :middle] = False
            lo, hi = max(shift, 0), min(middle + shift, n_pitches)
            grid[i, :, lo:hi] |= low[:, lo - shift : hi - shift]
    return new_active, new_onset


Maker = Callable[[np.ndarray, np.ndarray, np.random.Generator, int], tuple[np.ndarray, np.ndarray]]
DEGENERATE_KINDS: dict[str, Maker] = {
    "constant chords": lambda a, o, rng, n: constant_chords(rng, n, a.shape[1], a.shape[2]),
    "random rolls": lambda a, o, rng, n: noise_rolls(rng, n, a.shape[1], a.shape[2]),
    "near silence": lambda a, o, rng, n: near_silent_rolls(rng, n, a.shape[1], a.shape[2]),
    "looped bars": lambda a, o, rng, n: looped_bars(a, o, rng, n),
    "shuffled real": lambda a, o, rng, n: shuffled_steps(a, rng, n),
    "parallel fifths and octaves": parallel_voices,
    "clusters": lambda a, o, rng, n: clusters(rng, n, a.shape[1], a.shape[2]),
    "real moved out of key": out_of_key,
}
"""Every kind of degenerate roll, made from real windows ``a``, ``o`` (or only their shape)."""


def degenerate_set(
    real_active: np.ndarray, real_onset: np.ndarray, n_per_kind: int, seed: int = 0
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``n_per_kind`` rolls of every kind of ``DEGENERATE_KINDS``, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return {kind: make(real_active, real_onset, rng, n_per_kind) for kind, make in DEGENERATE_KINDS.items()}


def degenerate_rolls(
    real_active: np.ndarray, real_onset: np.ndarray, n: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """About ``n`` degenerate negatives, an equal share of every kind (at least one of each)."""
    sets = degenerate_set(real_active, real_onset, max(n // len(DEGENERATE_KINDS), 1), seed)
    return np.concatenate([a for a, _ in sets.values()]), np.concatenate([o for _, o in sets.values()])


def distinct_chords(active: np.ndarray) -> np.ndarray:
    """Number of different non-empty sets of sounding pitches per roll [N, T, P]."""
    packed = np.packbits(np.asarray(active, dtype=bool), axis=2)
    counts = np.zeros(len(packed), dtype=int)
    for i, roll in enumerate(packed):
        rows = roll[roll.any(axis=1)]
        counts[i] = len(np.unique(rows, axis=0)) if len(rows) else 0
    return counts


def sanity_flags(active: np.ndarray, onset: np.ndarray, min_polyphony: float = 0.5) -> list[tuple[str, ...]]:
    """Per roll, the degenerate traits that sort it last: near-silent, constant chord, duplicate."""
    active = np.asarray(active, dtype=bool)
    onset = np.asarray(onset, dtype=bool)
    mean_poly = active.sum(axis=2).mean(axis=1)
    chords = distinct_chords(active)
    seen: set[bytes] = set()
    flags = []
    for i in range(len(active)):
        marks = []
        if mean_poly[i] < min_polyphony:
            marks.append("near-silent")
        if 0 < chords[i] <= 2:
            marks.append("constant chord")
        key = np.packbits(active[i]).tobytes() + np.packbits(onset[i] & active[i]).tobytes()
        if key in seen:
            marks.append("duplicate")
        seen.add(key)
        flags.append(tuple(marks))
    return flags

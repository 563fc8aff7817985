"""Musical features of piano-roll windows, for the SVM ranker and its explanations.

Every feature is computed for a batch of rolls at once with numpy: ``active`` and ``onset`` are
``bool[N, T, P]`` (time steps x pitches, pitch index 0 = ``lowest_pitch``). A feature has a short
``name``, a ``label`` used in sentences ("polyphony spread") and a one-line ``meaning`` for the UI.
Empty rolls give finite values (0 where a ratio has nothing to count), so the SVM never sees NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
TOP_LEAP_SEMITONES = 5
BASS_LEAP_SEMITONES = 7


@dataclass(frozen=True)
class Feature:
    """One named feature: ``label`` reads inside a sentence, ``meaning`` explains it."""

    name: str
    label: str
    meaning: str


def _pc_features() -> list[Feature]:
    return [
        Feature(
            f"pc_degree_{k}",
            f"the share of notes {k} semitones above the key note",
            f"share of sounding note-steps {k} semitones above the tonic of the best-fitting major scale",
        )
        for k in range(12)
    ]


def _interval_class_features() -> list[Feature]:
    names = [
        "unisons/octaves",
        "seconds/sevenths",
        "major seconds/minor sevenths",
        "minor thirds/sixths",
        "major thirds/minor sixths",
        "fourths/fifths",
        "tritones",
    ]
    return [
        Feature(
            f"vertical_ic{k}",
            f"the share of {names[k]} between simultaneous notes",
            f"share of simultaneous note pairs at interval class {k} ({names[k]})",
        )
        for k in range(7)
    ]


FEATURES: tuple[Feature, ...] = (
    *_pc_features(),
    Feature(
        "scale_consistency",
        "scale consistency",
        "share of sounding note-steps inside the best-fitting major/minor scale",
    ),
    Feature("pc_entropy", "pitch-class entropy", "entropy of the pitch-class distribution, in bits"),
    Feature("polyphony_mean", "polyphony", "mean number of notes sounding per step"),
    Feature("polyphony_spread", "polyphony spread", "standard deviation of the notes sounding per step"),
    Feature("polyphony_max", "the largest chord", "most notes sounding at one step"),
    Feature("silence_rate", "the share of silent steps", "share of steps where nothing sounds"),
    Feature(
        "onsets_per_step", "the number of note starts per step", "mean number of notes starting per step"
    ),
    Feature(
        "onset_step_rate",
        "the share of steps with a new note",
        "share of steps where at least one note starts",
    ),
    Feature(
        "onbeat_onset_share",
        "the share of notes starting on a beat",
        "share of note starts that fall on a beat",
    ),
    Feature("pitch_range", "the pitch range", "highest minus lowest sounding pitch, in semitones"),
    Feature("pitch_mean", "the average pitch", "mean sounding pitch (MIDI number)"),
    Feature("pitch_spread", "the pitch spread", "standard deviation of sounding pitches, in semitones"),
    Feature("note_length_mean", "the average note length", "mean note length, in steps"),
    Feature(
        "note_length_spread", "the spread of note lengths", "standard deviation of note lengths, in steps"
    ),
    Feature("short_note_share", "the share of one-step notes", "share of notes that last a single step"),
    Feature(
        "top_interval_mean", "the size of melody moves", "mean size of the top voice's moves, in semitones"
    ),
    Feature(
        "top_step_share",
        "the share of stepwise melody moves",
        "share of top-voice moves of one or two semitones",
    ),
    Feature(
        "top_leap_share",
        "the share of melody leaps",
        f"share of top-voice moves larger than {TOP_LEAP_SEMITONES} semitones",
    ),
    Feature(
        "top_motion_rate", "how often the melody moves", "share of steps where the top voice changes pitch"
    ),
    Feature(
        "bass_interval_mean", "the size of bass moves", "mean size of the bass voice's moves, in semitones"
    ),
    Feature(
        "bass_leap_share",
        "the share of bass leaps",
        f"share of bass moves larger than {BASS_LEAP_SEMITONES} semitones",
    ),
    Feature("bass_motion_rate", "how often the bass moves", "share of steps where the bass changes pitch"),
    Feature(
        "outer_spacing",
        "the distance between melody and bass",
        "mean distance between top and bass voice, in semitones",
    ),
    *_interval_class_features(),
    Feature(
        "texture_change_rate",
        "how often the texture changes",
        "share of steps where some note starts or stops",
    ),
    Feature(
        "bar_repetition",
        "bar-to-bar repetition",
        "mean overlap (Jaccard) of the sounding notes of consecutive bars",
    ),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURE_MEANINGS: dict[str, str] = {f.name: f.meaning for f in FEATURES}
FEATURE_LABELS: dict[str, str] = {f.name: f.label for f in FEATURES}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def _pitch_class_matrix(n_pitches: int, lowest_pitch: int) -> np.ndarray:
    """float32[P, 12]: one-hot pitch class of each roll row."""
    pcs = (lowest_pitch + np.arange(n_pitches)) % 12
    return (pcs[:, None] == np.arange(12)[None, :]).astype(np.float32)


def _pitch_class_features(pc_counts: np.ndarray) -> list[np.ndarray]:
    """Key-relative histogram (12), scale consistency, entropy from pc counts [N, T, 12]."""
    hist = pc_counts.sum(axis=1)
    hist = _ratio(hist, hist.sum(axis=1, keepdims=True))
    scale = np.zeros(12)
    scale[list(MAJOR_SCALE)] = 1.0
    scales = np.stack([np.roll(scale, root) for root in range(12)])
    in_scale = hist @ scales.T
    root = in_scale.argmax(axis=1)
    rotated = np.take_along_axis(hist, (root[:, None] + np.arange(12)) % 12, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(hist > 0, hist * np.log2(hist), 0.0).sum(axis=1)
    return [*rotated.T, in_scale.max(axis=1), entropy]


def _texture_features(active: np.ndarray, onset: np.ndarray, steps_per_beat: int) -> list[np.ndarray]:
    poly = active.sum(axis=2, dtype=np.float64)
    onsets = onset.sum(axis=2, dtype=np.float64)
    on_beat = onsets[:, ::steps_per_beat].sum(axis=1)
    return [
        poly.mean(axis=1),
        poly.std(axis=1),
        poly.max(axis=1),
        (poly == 0).mean(axis=1),
        onsets.mean(axis=1),
        (onsets > 0).mean(axis=1),
        _ratio(on_beat, onsets.sum(axis=1)),
    ]


def _pitch_features(active: np.ndarray, lowest_pitch: int) -> list[np.ndarray]:
    n_pitches = active.shape[2]
    per_pitch = active.sum(axis=1, dtype=np.float64)
    used = per_pitch > 0
    has_any = used.any(axis=1)
    lowest = used.argmax(axis=1)
    highest = n_pitches - 1 - used[:, ::-1].argmax(axis=1)
    pitches = lowest_pitch + np.arange(n_pitches, dtype=np.float64)
    total = per_pitch.sum(axis=1)
    mean = _ratio(per_pitch @ pitches, total)
    mean_sq = _ratio(per_pitch @ pitches**2, total)
    return [
        np.where(has_any, highest - lowest, 0).astype(np.float64),
        mean,
        np.sqrt(np.maximum(mean_sq - mean**2, 0.0)),
    ]


def note_spans(active: np.ndarray, onset: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(roll index, pitch index, length in steps) of every note in a batch of rolls.

    A note starts at an onset or where a pitch becomes active, and ends before the next onset of the
    same pitch or where it stops sounding.
    """
    act = np.swapaxes(active, 1, 2)
    ons = np.swapaxes(onset, 1, 2) & act
    before = np.zeros_like(act)
    before[..., 1:] = act[..., :-1]
    after_ends = np.ones_like(act)
    after_ends[..., :-1] = ~act[..., 1:] | ons[..., 1:]
    starts = act & (ons | ~before)
    ends = act & after_ends
    roll_idx, pitch_idx, start_t = np.nonzero(starts)
    end_t = np.nonzero(ends)[2]
    return roll_idx, pitch_idx, end_t - start_t + 1


def _note_length_features(active: np.ndarray, onset: np.ndarray) -> list[np.ndarray]:
    n = active.shape[0]
    roll_idx, _, lengths = note_spans(active, onset)
    count = np.bincount(roll_idx, minlength=n).astype(np.float64)
    total = np.bincount(roll_idx, weights=lengths, minlength=n)
    total_sq = np.bincount(roll_idx, weights=lengths.astype(np.float64) ** 2, minlength=n)
    singles = np.bincount(roll_idx, weights=(lengths == 1).astype(np.float64), minlength=n)
    mean = _ratio(total, count)
    spread = np.sqrt(np.maximum(_ratio(total_sq, count) - mean**2, 0.0))
    return [mean, spread, _ratio(singles, count)]


def outer_voices(active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(top pitch index, bass pitch index, sounding mask), each [N, T]."""
    n_pitches = active.shape[2]
    sounding = active.any(axis=2)
    top = n_pitches - 1 - active[..., ::-1].argmax(axis=2)
    bass = active.argmax(axis=2)
    return top, bass, sounding


def _voice_motion(voice: np.ndarray, sounding: np.ndarray, leap: int) -> list[np.ndarray]:
    """Mean move size, step share, leap share, motion rate of one voice line [N, T]."""
    both = sounding[:, 1:] & sounding[:, :-1]
    size = np.abs(np.diff(voice, axis=1))
    moved = both & (size > 0)
    n_moves = moved.sum(axis=1)
    return [
        _ratio((size * moved).sum(axis=1), n_moves),
        _ratio((moved & (size <= 2)).sum(axis=1), n_moves),
        _ratio((moved & (size > leap)).sum(axis=1), n_moves),
        _ratio(n_moves, both.sum(axis=1)),
    ]


def _voice_features(active: np.ndarray) -> list[np.ndarray]:
    top, bass, sounding = outer_voices(active)
    top_motion = _voice_motion(top, sounding, TOP_LEAP_SEMITONES)
    bass_motion = _voice_motion(bass, sounding, BASS_LEAP_SEMITONES)
    chords = active.sum(axis=2) >= 2
    spacing = _ratio(((top - bass) * chords).sum(axis=1), chords.sum(axis=1))
    return [*top_motion, bass_motion[0], bass_motion[2], bass_motion[3], spacing]


def _interval_class_shares(pc_counts: np.ndarray) -> list[np.ndarray]:
    """Share of simultaneous note pairs per interval class 0..6, from pc counts [N, T, 12]."""
    pairs = [(pc_counts * (pc_counts - 1) / 2).sum(axis=(1, 2))]
    for k in range(1, 7):
        both = (pc_counts * np.roll(pc_counts, -k, axis=2)).sum(axis=(1, 2))
        pairs.append(both / 2 if k == 6 else both)
    total = np.sum(pairs, axis=0)
    return [_ratio(p, total) for p in pairs]


def _change_features(active: np.ndarray, onset: np.ndarray, steps_per_bar: int) -> list[np.ndarray]:
    changes = (active[:, 1:] ^ active[:, :-1]) | onset[:, 1:]
    change_rate = changes.any(axis=2).mean(axis=1) if active.shape[1] > 1 else np.zeros(len(active))
    n, t, p = active.shape
    n_bars = t // steps_per_bar
    if n_bars < 2:
        return [change_rate, np.zeros(n)]
    bars = active[:, : n_bars * steps_per_bar].reshape(n, n_bars, steps_per_bar * p)
    inter = (bars[:, 1:] & bars[:, :-1]).sum(axis=2)
    union = (bars[:, 1:] | bars[:, :-1]).sum(axis=2)
    return [change_rate, _ratio(inter, union).mean(axis=1)]


def features_batch(
    active: np.ndarray,
    onset: np.ndarray,
    lowest_pitch: int = 36,
    steps_per_beat: int = 4,
    beats_per_bar: int = 4,
) -> np.ndarray:
    """float64[N, len(FEATURE_NAMES)] features of rolls ``active``/``onset`` bool[N, T, P]."""
    active = np.asarray(active, dtype=bool)
    onset = np.asarray(onset, dtype=bool)
    if active.ndim != 3 or active.shape != onset.shape:
        raise ValueError(f"expected two bool[N, T, P] arrays, got {active.shape} and {onset.shape}")
    onset = onset & active
    pc_counts = active.astype(np.float32) @ _pitch_class_matrix(active.shape[2], lowest_pitch)
    columns = [
        *_pitch_class_features(pc_counts),
        *_texture_features(active, onset, steps_per_beat),
        *_pitch_features(active, lowest_pitch),
        *_note_length_features(active, onset),
        *_voice_features(active),
        *_interval_class_shares(pc_counts.astype(np.float64)),
        *_change_features(active, onset, steps_per_beat * beats_per_bar),
    ]
    return np.stack(columns, axis=1).astype(np.float64)


def piece_features(active: np.ndarray, onset: np.ndarray, **kwargs: int) -> np.ndarray:
    """float64[len(FEATURE_NAMES)] features of one roll ``active``/``onset`` bool[T, P]."""
    return features_batch(np.asarray(active)[None], np.asarray(onset)[None], **kwargs)[0]

"""Objective music metrics for batches of piano-rolls, each named after what it computes.

Per-roll metrics take ``active``/``onset`` as ``bool[N, T, P]`` (or one ``[T, P]`` roll) with pitch
index 0 = ``lowest_pitch`` and return ``float64[N]`` (NaN where the metric is undefined, e.g. no
notes). Set-level comparisons (MGEval, classifier two-sample test, memorisation) take feature
matrices or rolls of two sets. Sources are given in each docstring:

- MusPy: Dong et al., "MusPy: A toolkit for symbolic music generation", ISMIR 2020.
- MuseGAN: Dong et al., "MuseGAN: Multi-track sequential GANs ...", AAAI 2018.
- C-RNN-GAN: Mogren, "C-RNN-GAN: Continuous recurrent neural networks with adversarial training",
  NeurIPS Constructive Machine Learning workshop 2016.
- MGEval: Yang & Lerch, "On the evaluation of generative models in music", Neural Computing and
  Applications 2018.
- C2ST: Lopez-Paz & Oquab, "Revisiting classifier two-sample tests", ICLR 2017.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from core.music.features import MAJOR_SCALE, note_spans, outer_voices

NOTE_LENGTH_BINS = (1, 2, 3, 4, 6, 8, 12, 16)


def _batch(active: np.ndarray, onset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    active = np.asarray(active, dtype=bool)
    if active.ndim == 2:
        active = active[None]
    if onset is None:
        onset = np.zeros_like(active)
    onset = np.asarray(onset, dtype=bool).reshape(active.shape) & active
    return active, onset


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den > 0)


def _note_pitch_class_counts(active: np.ndarray, onset: np.ndarray, lowest_pitch: int) -> np.ndarray:
    """float64[N, 12]: number of notes (each note once) per pitch class."""
    roll_idx, pitch_idx, _ = note_spans(active, onset)
    pcs = (pitch_idx + lowest_pitch) % 12
    return np.bincount(roll_idx * 12 + pcs, minlength=len(active) * 12).reshape(-1, 12).astype(np.float64)


def _entropy_bits(counts: np.ndarray) -> np.ndarray:
    total = counts.sum(axis=1, keepdims=True)
    prob = _ratio(counts, np.broadcast_to(total, counts.shape))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(prob > 0, prob * np.log2(prob), 0.0)
    return np.where(total[:, 0] > 0, -terms.sum(axis=1), np.nan)


# --- MusPy / MuseGAN -------------------------------------------------------------------------------


def pitch_range(active: np.ndarray) -> np.ndarray:
    """Highest minus lowest sounding pitch in semitones; 0 for an empty roll (MusPy ``pitch_range``)."""
    active, _ = _batch(active)
    used = active.any(axis=1)
    n_pitches = active.shape[2]
    span = (n_pitches - 1 - used[:, ::-1].argmax(axis=1)) - used.argmax(axis=1)
    return np.where(used.any(axis=1), span, 0).astype(np.float64)


def tone_span(active: np.ndarray) -> np.ndarray:
    """Half-tone steps between the lowest and highest tone (C-RNN-GAN "tone span"; = MusPy pitch range)."""
    return pitch_range(active)


def n_pitches_used(active: np.ndarray) -> np.ndarray:
    """Number of distinct pitches that sound (MusPy ``n_pitches_used``)."""
    active, _ = _batch(active)
    return active.any(axis=1).sum(axis=1).astype(np.float64)


def n_pitch_classes_used(active: np.ndarray, lowest_pitch: int = 36) -> np.ndarray:
    """Number of distinct pitch classes that sound (MusPy ``n_pitch_classes_used``)."""
    active, _ = _batch(active)
    used = active.any(axis=1)
    pcs = (lowest_pitch + np.arange(active.shape[2])) % 12
    per_class = np.zeros((len(active), 12), dtype=bool)
    for pc in range(12):
        per_class[:, pc] = used[:, pcs == pc].any(axis=1)
    return per_class.sum(axis=1).astype(np.float64)


def polyphony(active: np.ndarray) -> np.ndarray:
    """Mean number of sounding pitches over the steps where at least one sounds (MusPy ``polyphony``)."""
    active, _ = _batch(active)
    poly = active.sum(axis=2)
    return _ratio(poly.sum(axis=1), (poly > 0).sum(axis=1))


def polyphony_rate(active: np.ndarray, threshold: int = 2) -> np.ndarray:
    """Share of steps with more than ``threshold`` sounding pitches (MusPy ``polyphony_rate``, its ``>``)."""
    active, _ = _batch(active)
    return (active.sum(axis=2) > threshold).mean(axis=1)


def scale_consistency(active: np.ndarray, onset: np.ndarray, lowest_pitch: int = 36) -> np.ndarray:
    """Largest share of notes inside one major/minor scale, notes counted once each.

    MusPy ``scale_consistency``; the measure of C-RNN-GAN (Mogren 2016). A natural minor scale has
    the pitch classes of its relative major, so the 12 major scales cover all 24.
    """
    active, onset = _batch(active, onset)
    counts = _note_pitch_class_counts(active, onset, lowest_pitch)
    scale = np.zeros(12)
    scale[list(MAJOR_SCALE)] = 1.0
    scales = np.stack([np.roll(scale, root) for root in range(12)])
    return _ratio((counts @ scales.T).max(axis=1), counts.sum(axis=1))


def pitch_entropy(active: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Shannon entropy (bits) of the note pitch histogram, notes counted once (MusPy ``pitch_entropy``)."""
    active, onset = _batch(active, onset)
    roll_idx, pitch_idx, _ = note_spans(active, onset)
    n_pitches = active.shape[2]
    counts = np.bincount(roll_idx * n_pitches + pitch_idx, minlength=len(active) * n_pitches)
    return _entropy_bits(counts.reshape(-1, n_pitches).astype(np.float64))


def pitch_class_entropy(active: np.ndarray, onset: np.ndarray, lowest_pitch: int = 36) -> np.ndarray:
    """Shannon entropy (bits) of the note pitch-class histogram (MusPy ``pitch_class_entropy``)."""
    active, onset = _batch(active, onset)
    return _entropy_bits(_note_pitch_class_counts(active, onset, lowest_pitch))


def empty_beat_rate(active: np.ndarray, steps_per_beat: int = 4) -> np.ndarray:
    """Share of beats (a last partial beat included) in which no note sounds.

    After MusPy ``empty_beat_rate``; MusPy also marks the beat right after a note that ends exactly
    on a beat line, this counts only the steps where a note sounds.
    """
    active, _ = _batch(active)
    n, t, p = active.shape
    n_beats = -(-t // steps_per_beat)
    padded = np.zeros((n, n_beats * steps_per_beat, p), dtype=bool)
    padded[:, :t] = active
    beats = padded.reshape(n, n_beats, steps_per_beat * p)
    return _ratio((~beats.any(axis=2)).sum(axis=1), np.full(n, n_beats))


def _bars(roll: np.ndarray, steps_per_bar: int) -> np.ndarray:
    """[N, bars, steps_per_bar, P] view of whole bars."""
    n, t, p = roll.shape
    n_bars = t // steps_per_bar
    return roll[:, : n_bars * steps_per_bar].reshape(n, n_bars, steps_per_bar, p)


def groove_consistency(onset: np.ndarray, steps_per_bar: int = 16) -> np.ndarray:
    """1 - mean Hamming distance between consecutive bars' onset patterns (MusPy ``groove_consistency``).

    A bar's pattern marks the positions where any note starts; NaN with fewer than two bars.
    """
    onset, _ = _batch(onset)
    patterns = _bars(onset, steps_per_bar).any(axis=3)
    if patterns.shape[1] < 2:
        return np.full(len(onset), np.nan)
    distance = (patterns[:, 1:] != patterns[:, :-1]).mean(axis=(1, 2))
    return 1.0 - distance


def empty_bar_rate(active: np.ndarray, steps_per_bar: int = 16) -> np.ndarray:
    """EB: share of bars in which no note sounds (MuseGAN)."""
    active, _ = _batch(active)
    bars = _bars(active, steps_per_bar)
    return _ratio((~bars.any(axis=(2, 3))).sum(axis=1), np.full(len(active), bars.shape[1]))


def used_pitch_classes_per_bar(
    active: np.ndarray, steps_per_bar: int = 16, lowest_pitch: int = 36
) -> np.ndarray:
    """UPC: mean number of pitch classes sounding per bar (MuseGAN)."""
    active, _ = _batch(active)
    bars = _bars(active, steps_per_bar)
    n, n_bars, _, p = bars.shape
    per_bar = n_pitch_classes_used(bars.reshape(n * n_bars, steps_per_bar, p), lowest_pitch)
    return per_bar.reshape(n, n_bars).mean(axis=1) if n_bars else np.full(n, np.nan)


def qualified_note_rate(active: np.ndarray, onset: np.ndarray, min_steps: int = 2) -> np.ndarray:
    """QN: share of notes lasting at least ``min_steps`` steps (MuseGAN).

    MuseGAN counts notes of at least 3 of its 24 steps per beat (a 32nd note); on a 16th-note grid
    every note would qualify, so the default here is 2 steps (an eighth note).
    """
    active, onset = _batch(active, onset)
    roll_idx, _, lengths = note_spans(active, onset)
    n = len(active)
    good = np.bincount(roll_idx, weights=(lengths >= min_steps).astype(np.float64), minlength=n)
    return _ratio(good, np.bincount(roll_idx, minlength=n))


# --- C-RNN-GAN ---------------------------------------------------------------------------------------


def simultaneous_onset_rate(onset: np.ndarray) -> np.ndarray:
    """Share of note-start steps where at least two tones start together (C-RNN-GAN "polyphony")."""
    onset, _ = _batch(onset)
    starts = onset.sum(axis=2)
    return _ratio((starts >= 2).sum(axis=1), (starts >= 1).sum(axis=1))


def repetition_rate(active: np.ndarray, length: int = 4) -> np.ndarray:
    """Share of the melody's ``length``-interval patterns that already occurred earlier in the roll.

    After C-RNN-GAN's "repetitions" (recurrence of short subsequences), normalised to a rate. The
    melody is the top voice's sequence of pitches, one entry per change of pitch.
    """
    active, _ = _batch(active)
    top, _, sounding = outer_voices(active)
    rates = np.full(len(active), np.nan)
    for i in range(len(active)):
        line = top[i][sounding[i]]
        line = line[np.r_[True, np.diff(line) != 0]] if len(line) else line
        intervals = np.diff(line)
        if len(intervals) < length:
            continue
        grams = np.lib.stride_tricks.sliding_window_view(intervals, length)
        _, first = np.unique(grams, axis=0, return_index=True)
        rates[i] = 1.0 - len(first) / len(grams)
    return rates


# --- MGEval (Yang & Lerch 2018) -------------------------------------------------------------------------


def mgeval_features(active: np.ndarray, onset: np.ndarray, lowest_pitch: int = 36) -> dict[str, np.ndarray]:
    """Per-roll MGEval features: name -> float64[N, d] (pitch count/range/classes, intervals, rhythm)."""
    active, onset = _batch(active, onset)
    n = len(active)
    roll_idx, pitch_idx, lengths = note_spans(active, onset)
    pcs = (pitch_idx + lowest_pitch) % 12
    pch = np.bincount(roll_idx * 12 + pcs, minlength=n * 12).reshape(n, 12).astype(np.float64)
    bins = np.searchsorted(NOTE_LENGTH_BINS, np.minimum(lengths, NOTE_LENGTH_BINS[-1]), side="right") - 1
    nlh = np.bincount(roll_idx * len(NOTE_LENGTH_BINS) + bins, minlength=n * len(NOTE_LENGTH_BINS))
    nlh = nlh.reshape(n, -1).astype(np.float64)
    top, _, sounding = outer_voices(active)
    both = sounding[:, 1:] & sounding[:, :-1]
    size = np.abs(np.diff(top, axis=1))
    moved = both & (size > 0)
    onset_steps = onset.any(axis=2)
    n_onset_steps = onset_steps.sum(axis=1)
    span = np.where(
        n_onset_steps > 1, onset.shape[1] - 1 - onset_steps[:, ::-1].argmax(1) - onset_steps.argmax(1), 0
    )
    features = {
        "pitch_count": n_pitches_used(active)[:, None],
        "pitch_range": pitch_range(active)[:, None],
        "pitch_class_histogram": np.nan_to_num(_ratio(pch, pch.sum(axis=1, keepdims=True))),
        "avg_pitch_interval": np.nan_to_num(_ratio((size * moved).sum(axis=1), moved.sum(axis=1)))[:, None],
        "note_count": np.bincount(roll_idx, minlength=n).astype(np.float64)[:, None],
        "avg_ioi": np.nan_to_num(_ratio(span, n_onset_steps - 1))[:, None],
        "note_length_histogram": np.nan_to_num(_ratio(nlh, nlh.sum(axis=1, keepdims=True))),
    }
    return features


def intra_set_distances(features: np.ndarray) -> np.ndarray:
    """Euclidean distances between all pairs of different rolls of one set (MGEval intra-set)."""
    features = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    i, j = np.triu_indices(len(features), k=1)
    return np.linalg.norm(features[i] - features[j], axis=1)


def inter_set_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between every roll of set ``a`` and every roll of set ``b`` (MGEval inter-set)."""
    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2).ravel()


def _kde_on_grid(samples: np.ndarray, grid: np.ndarray, bandwidth_floor: float) -> np.ndarray:
    """Gaussian KDE (Scott's bandwidth, as scipy's ``gaussian_kde``) evaluated on an even ``grid``.

    The samples are binned on the grid first, then smoothed, so the cost does not grow with the
    number of pairs; a constant sample gets the ``bandwidth_floor`` width.
    """
    step = grid[1] - grid[0]
    width = max(samples.std(ddof=1) * len(samples) ** -0.2 if len(samples) > 1 else 0.0, bandwidth_floor)
    edges = np.r_[grid - step / 2, grid[-1] + step / 2]
    counts, _ = np.histogram(samples, bins=edges)
    half = int(np.ceil(4 * width / step))
    offsets = np.arange(-half, half + 1) * step
    kernel = np.exp(-0.5 * (offsets / width) ** 2)
    density = np.convolve(counts, kernel, mode="same") if half < len(grid) else _direct(counts, grid, width)
    return density / (len(samples) * width * np.sqrt(2 * np.pi))


def _direct(counts: np.ndarray, grid: np.ndarray, width: float) -> np.ndarray:
    """Unnormalised Gaussian smoothing of grid counts when the kernel is wider than the grid."""
    return (counts[None, :] * np.exp(-0.5 * ((grid[:, None] - grid[None, :]) / width) ** 2)).sum(axis=1)


def kde_overlap_and_kl(
    reference: np.ndarray, other: np.ndarray, grid_points: int = 512
) -> tuple[float, float]:
    """(overlapping area, KL(reference || other)) of the two samples' Gaussian KDEs (MGEval)."""
    reference = np.asarray(reference, dtype=np.float64)
    other = np.asarray(other, dtype=np.float64)
    both = np.concatenate([reference, other])
    spread = max(both.max() - both.min(), 1e-9)
    grid = np.linspace(both.min() - 0.1 * spread, both.max() + 0.1 * spread, grid_points)
    step = grid[1] - grid[0]
    floor = spread / 100
    p = _kde_on_grid(reference, grid, floor)
    q = _kde_on_grid(other, grid, floor)
    overlap = float(np.minimum(p, q).sum() * step)
    eps = 1e-12
    kl = float((p * np.log((p + eps) / (q + eps))).sum() * step)
    return min(overlap, 1.0), max(kl, 0.0)


def mgeval_compare(
    real: dict[str, np.ndarray], generated: dict[str, np.ndarray], max_rolls: int = 200, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Per MGEval feature: overlap and KL between real intra-set and real-vs-generated inter-set distances.

    An overlap near 1 and a KL near 0 mean the generated set lies where the real set does.
    ``max_rolls`` rolls per set are drawn at random to bound the number of pairs.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for name, real_values in real.items():
        gen_values = generated[name]
        r = real_values[rng.permutation(len(real_values))[:max_rolls]]
        g = gen_values[rng.permutation(len(gen_values))[:max_rolls]]
        overlap, kl = kde_overlap_and_kl(intra_set_distances(r), inter_set_distances(r, g))
        out[name] = {"overlap": overlap, "kl": kl}
    return out


# --- classifier two-sample test and memorisation ----------------------------------------------------------


def classifier_two_sample_test(real: np.ndarray, generated: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """(held-out accuracy, one-sided binomial p-value) of an RBF SVM telling real from generated.

    Lopez-Paz & Oquab 2017: both sets are cut to the same size, half of each trains the classifier,
    the other half tests it; accuracy 0.5 means indistinguishable, the p-value is that of the
    accuracy under chance (p = 0.5).
    """
    # scikit-learn takes about a second to import; only the two-sample test needs it
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    rng = np.random.default_rng(seed)
    n = min(len(real), len(generated))
    if n < 4:
        raise ValueError("the two-sample test needs at least 4 rolls per set")
    real = np.asarray(real)[rng.permutation(len(real))[:n]]
    generated = np.asarray(generated)[rng.permutation(len(generated))[:n]]
    half = n // 2
    x_train = np.concatenate([real[:half], generated[:half]])
    y_train = np.r_[np.ones(half), np.zeros(half)]
    x_test = np.concatenate([real[half:], generated[half:]])
    y_test = np.r_[np.ones(n - half), np.zeros(n - half)]
    model = make_pipeline(StandardScaler(), SVC(kernel="rbf", C=1.0, gamma="scale")).fit(x_train, y_train)
    correct = int((model.predict(x_test) == y_test).sum())
    p_value = stats.binomtest(correct, len(y_test), 0.5, alternative="greater").pvalue
    return correct / len(y_test), float(p_value)


def nearest_train_distance(samples: np.ndarray, train: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Jaccard distance of each sample's sounding cells to its nearest training roll (0 = a copy).

    ``samples`` bool[N, T, P] and ``train`` bool[M, T, P] of the same shape per roll; memorisation
    check after the nearest-neighbour tests used for GANs (e.g. MGEval's inter-set distances).
    """
    a = np.asarray(samples, dtype=bool).reshape(len(samples), -1).astype(np.float32)
    b = np.asarray(train, dtype=bool).reshape(len(train), -1).astype(np.float32)
    a_sizes = a.sum(axis=1)
    b_sizes = b.sum(axis=1)
    best = np.ones(len(a))
    for start in range(0, len(b), chunk):
        inter = a @ b[start : start + chunk].T
        union = a_sizes[:, None] + b_sizes[None, start : start + chunk] - inter
        similarity = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
        best = np.minimum(best, 1.0 - similarity.max(axis=1))
    return best

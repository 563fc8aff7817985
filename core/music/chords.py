"""Chord names of pitch-class sets: lookup tables over all 4,096 sets, so a batch is named by indexing.

A pitch-class set is a 12-bit mask (bit ``pc`` set when pitch class ``pc`` sounds, 0 = C). Tertian
chords are stacks of major and minor thirds (Kostka & Payne, *Tonal Harmony*, ch. 3 "Introduction to
triads and seventh chords"): the four triads (two thirds) and the seven seventh chords (three thirds
spanning less than an octave).

A set is *named* when it is exactly one of these chords on some root, or a seventh chord with a
perfect fifth that leaves the fifth out (root, third and seventh: the usual incomplete seventh chord of
four-part writing, e.g. V7 with a doubled root; Kostka & Payne, ch. 13). A triad must be complete: a
bare third is ambiguous (C–E is C major without its fifth or A minor without its root) and stays
unnamed. The augmented triad and the diminished seventh divide the octave equally; their root is
taken as their lowest pitch class from C. With the bass known (``chord_names``), a bare major or
minor third over its lower note in the bass is named as that triad without fifth (root position):
the usual spelling of a final tonic chord with tripled root (Kostka & Payne, ch. 5).
"""

from __future__ import annotations

import numpy as np

TRIADS = {"major": (0, 4, 7), "minor": (0, 3, 7), "diminished": (0, 3, 6), "augmented": (0, 4, 8)}
SEVENTHS = {
    "dominant seventh": (0, 4, 7, 10),
    "major seventh": (0, 4, 7, 11),
    "minor seventh": (0, 3, 7, 10),
    "half-diminished seventh": (0, 3, 6, 10),
    "diminished seventh": (0, 3, 6, 9),
    "minor-major seventh": (0, 3, 7, 11),
    "augmented-major seventh": (0, 4, 8, 11),
}
QUALITIES: tuple[str, ...] = (*TRIADS, *SEVENTHS)
"""Chord qualities by code: 0 major, 1 minor, 2 diminished, 3 augmented, 4.. the seventh chords."""
MAJOR, MINOR = 0, 1
DOMINANT_SEVENTH = QUALITIES.index("dominant seventh")
SEVENTH_CODES = tuple(range(len(TRIADS), len(QUALITIES)))
NO_CHORD = -1
N_SETS = 4096


def mask_of(pitch_classes: tuple[int, ...] | list[int], root: int = 0) -> int:
    """The 12-bit mask of ``pitch_classes`` transposed to ``root``."""
    return int(sum(1 << ((root + pc) % 12) for pc in set(pitch_classes)))


def _named_sets() -> list[tuple[int, int, int]]:
    """(mask, quality code, root) of every named set: complete chords first, then fifthless sevenths."""
    shapes = list(zip(QUALITIES, (*TRIADS.values(), *SEVENTHS.values()), strict=True))
    named = [
        (mask_of(tones, root), code, root) for code, (_, tones) in enumerate(shapes) for root in range(12)
    ]
    for code, (_, tones) in enumerate(shapes):
        if len(tones) == 4 and 7 in tones:
            fifthless = [t for t in tones if t != 7]
            named += [(mask_of(fifthless, root), code, root) for root in range(12)]
    return named


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    quality = np.full(N_SETS, NO_CHORD, dtype=np.int8)
    root = np.full(N_SETS, NO_CHORD, dtype=np.int8)
    for mask, code, chord_root in _named_sets():
        if quality[mask] == NO_CHORD:  # the first name wins: complete before fifthless, low root first
            quality[mask], root[mask] = code, chord_root
    complete = [mask_of(tones, r) for tones in (*TRIADS.values(), *SEVENTHS.values()) for r in range(12)]
    sets = np.arange(N_SETS)
    tertian = np.zeros(N_SETS, dtype=bool)
    for chord in complete:
        tertian |= (sets & ~chord) == 0
    tertian[0] = False  # silence is no chord
    return quality, root, tertian


CHORD_QUALITY, CHORD_ROOT, TERTIAN_SUBSET = _tables()
"""Indexed by mask: the chord quality code and root (``NO_CHORD`` where unnamed), and whether the set
is a non-empty subset of some tertian chord (any single pitch class or interval is)."""


def _bare_thirds() -> tuple[np.ndarray, np.ndarray]:
    """Indexed by mask: quality and root of the bare thirds read as a root-position triad without fifth."""
    quality = np.full(N_SETS, NO_CHORD, dtype=np.int8)
    root = np.full(N_SETS, NO_CHORD, dtype=np.int8)
    for code, third in ((MAJOR, 4), (MINOR, 3)):
        for chord_root in range(12):
            mask = mask_of((0, third), chord_root)
            quality[mask], root[mask] = code, chord_root
    return quality, root


BARE_THIRD_QUALITY, BARE_THIRD_ROOT = _bare_thirds()


def chord_names(pc_sets: np.ndarray, bass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(quality code, root) of each set given the pitch class of its lowest note, ``NO_CHORD`` if unnamed.

    The table names (``CHORD_QUALITY``, ``CHORD_ROOT``), plus a bare third whose lower note is in the
    bass, named as the root-position triad without fifth.
    """
    pc_sets = np.asarray(pc_sets)
    quality = CHORD_QUALITY[pc_sets].astype(np.int64)
    root = CHORD_ROOT[pc_sets].astype(np.int64)
    bare = (quality == NO_CHORD) & (BARE_THIRD_ROOT[pc_sets] == bass) & (bass >= 0)
    return np.where(bare, BARE_THIRD_QUALITY[pc_sets], quality), np.where(
        bare, BARE_THIRD_ROOT[pc_sets], root
    )

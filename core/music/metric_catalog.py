"""The catalogue of music-theory metrics: what each counts in plain words, its unit and its source.

``core.music.musicianship.theory_metrics`` computes them; ``better`` says which direction is better:
"lower", "higher", or "close to real" (the held-out real chorales are the reference).

Sources named in short: Kostka & Payne, *Tonal Harmony* (chapters of the 7th edition, 2013);
Huron, "Tone and voice", Music Perception 19(1), 2001; Vos & Troost, Music Perception 6(4), 1989;
Forte, *The Structure of Atonal Music*, 1973; Lerdahl & Jackendoff, *A Generative Theory of Tonal
Music*, 1983; Krumhansl, *Cognitive Foundations of Musical Pitch*, 1990; Cook, "The perception of
large-scale tonal closure", Music Perception 5(2), 1987.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.music.theory import note_name
from core.music.voicing import VOICE_NAMES, VOICE_RANGES


@dataclass(frozen=True)
class TheoryMetric:
    """One metric: ``label`` for a student, ``better`` is "lower", "higher" or "close to real"."""

    name: str
    label: str
    unit: str
    better: str
    meaning: str
    source: str


KP = "Kostka & Payne, Tonal Harmony"
_VOICE_RANGE_METRICS = tuple(
    TheoryMetric(
        f"{voice}_out_of_range_share",
        f"{voice} notes outside the {voice} range",
        "share of notes",
        "lower",
        f"share of the {voice}'s notes outside {note_name(low)}–{note_name(high)}",
        f"{KP}, ch. 5",
    )
    for voice, (low, high) in zip(VOICE_NAMES, VOICE_RANGES, strict=True)
)
THEORY_METRICS: tuple[TheoryMetric, ...] = (
    TheoryMetric(
        "four_voice_step_share",
        "steps with exactly four voices",
        "share of sounding steps",
        "close to real",
        "how often the music can be read as four singing parts",
        f"{KP}, ch. 5",
    ),
    TheoryMetric(
        "parallel_perfects_per_bar",
        "parallel fifths and octaves per bar",
        "per bar",
        "lower",
        "two voices moving the same way from a fifth to a fifth or an octave to an octave",
        f"{KP}, ch. 6; Huron 2001",
    ),
    TheoryMetric(
        "bars_with_parallels_share",
        "bars with parallel fifths or octaves",
        "share of bars",
        "lower",
        "bars in which at least one parallel fifth, octave or unison occurs",
        f"{KP}, ch. 6",
    ),
    TheoryMetric(
        "voice_crossing_share",
        "steps where two voices cross",
        "share of voiced steps",
        "lower",
        "a lower voice above a higher one (only for a model's own voices; NaN otherwise)",
        f"{KP}, ch. 5",
    ),
    TheoryMetric(
        "out_of_range_share",
        "notes outside the singers' ranges",
        "share of notes",
        "lower",
        "notes a choir could not comfortably sing (S C4–G5, A G3–D5, T C3–G4, B E2–C4)",
        f"{KP}, ch. 5",
    ),
    *_VOICE_RANGE_METRICS,
    TheoryMetric(
        "triad_share",
        "beat chords that are major or minor triads",
        "share of beats",
        "close to real",
        "beats whose notes form a complete major or minor chord",
        f"{KP}, ch. 3",
    ),
    TheoryMetric(
        "seventh_chord_share",
        "beat chords that are seventh chords",
        "share of beats",
        "close to real",
        "beats whose notes form a four-note chord of stacked thirds",
        f"{KP}, ch. 3",
    ),
    TheoryMetric(
        "non_tertian_share",
        "beat chords not built from thirds",
        "share of beats",
        "close to real",
        "clusters and other note sets that fit in no triad or seventh chord",
        f"{KP}, ch. 3; Forte 1973",
    ),
    TheoryMetric(
        "chord_types_per_1000_beats",
        "different chords per 1,000 beats",
        "per 1,000 beats",
        "close to real",
        "how many distinct chords (root and kind) the music uses",
        f"{KP}, ch. 3",
    ),
    TheoryMetric(
        "authentic_cadences_per_bar",
        "V→I cadences per bar",
        "per bar",
        "close to real",
        "dominant to tonic in the key, both chords with their root in the bass",
        f"{KP}, ch. 10",
    ),
    TheoryMetric(
        "dominant_tonic_per_bar",
        "V→I progressions per bar, any inversion",
        "per bar",
        "close to real",
        "dominant to tonic in the key, chords in any inversion",
        f"{KP}, ch. 10",
    ),
    TheoryMetric(
        "plagal_cadences_per_bar",
        "IV→I cadences per bar",
        "per bar",
        "close to real",
        "subdominant to tonic (the 'Amen' cadence)",
        f"{KP}, ch. 10",
    ),
    TheoryMetric(
        "deceptive_cadences_per_bar",
        "V→vi cadences per bar",
        "per bar",
        "close to real",
        "dominant to the sixth degree instead of the tonic",
        f"{KP}, ch. 10",
    ),
    TheoryMetric(
        "half_cadences_per_bar",
        "phrases resting on V per bar",
        "per bar",
        "close to real",
        "a dominant chord reached and then held for a beat without new notes",
        f"{KP}, ch. 10",
    ),
    TheoryMetric(
        "phrase_end_authentic_share",
        "phrase ends with a V→I cadence",
        "share of phrase ends",
        "close to real",
        "phrase ends (fermatas) closed by dominant to tonic; NaN without phrase marks",
        f"{KP}, ch. 10",
    ),
    TheoryMetric(
        "sixteenth_onset_beat_share",
        "beats with a note starting on a 16th",
        "share of beats",
        "close to real",
        "beats made busy by notes starting between the eighth notes",
        "Lerdahl & Jackendoff 1983, ch. 4",
    ),
    TheoryMetric(
        "soprano_step_share",
        "melody moves that are steps",
        "share of moves",
        "close to real",
        "soprano pitch changes of one or two semitones",
        "Huron 2001; Vos & Troost 1989",
    ),
    TheoryMetric(
        "bass_leap_share",
        "bass leaps larger than a fifth",
        "share of moves",
        "close to real",
        "bass pitch changes of more than seven semitones",
        f"{KP}, ch. 6",
    ),
    TheoryMetric(
        "key_strength",
        "how clearly one key is heard",
        "correlation (-1 to 1)",
        "close to real",
        "best correlation of the notes' durations with a Krumhansl–Kessler key profile",
        "Krumhansl 1990, ch. 4",
    ),
    TheoryMetric(
        "first_last_key_agreement",
        "ends in the key it began in",
        "share of pieces",
        "close to real",
        "key of the first four bars equals key of the last four; NaN under 8 bars (compare whole pieces)",
        "Cook 1987; Krumhansl 1990",
    ),
)
THEORY_METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in THEORY_METRICS)

"""The three ways to use the four-voice model: write freely, harmonise a melody, continue a piece.

- :func:`free_pieces`: pieces in a chosen key and mode (or a random one each), with a phrase end (fermata)
  every ``phrase_bars`` bars and the last in the last bar, so a piece ends on a cadence.
- :func:`harmonise`: the soprano is given (:func:`melody_from_midi`: a monophonic file, the top line of any
  file, or the soprano of a four-part file; :func:`chorale_pieces`: the chorales of a split); the model
  writes alto, tenor and bass under it. The soprano of every harmonisation is exactly the given one.
- :func:`continue_piece`: the first bars of a four-voice piece are kept and the model goes on.

Each returns :class:`VoicePieces`: the pieces as :class:`~core.music.voices.Voices` (four named parts, key,
phrase ends: ready for :func:`~core.music.voices_midi.voices_to_midi` and
:func:`~core.music.musicxml.voices_to_musicxml`) and as :class:`~core.models.base.Samples` for the ranker.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from core.data.corpus import DEFAULT_LIMITS
from core.data.voices import VoicePiece, load_chorale_voices, load_voice_files
from core.midi.parser import MidiParser, MidiRejected
from core.midi.score import Score
from core.models.base import Samples, one_thread
from core.models.satb_sampling import (
    Conditions,
    draw_tokens,
    free_conditions,
    tokens_to_samples,
    tokens_to_voices,
)
from core.models.satb_tokens import encode, phrase_schedule
from core.music.pianoroll import RollSpec, score_to_roll, seconds_to_beats
from core.music.theory import estimate_key
from core.music.voices import (
    FERMATA_TEXT,
    MODES,
    N_VOICES,
    PITCH_RANGES,
    REST,
    STEPS_PER_QUARTER,
    Voices,
    VoicesError,
)
from core.sampling.model import LoadedModel

FOUR_VOICE_KIND = "satb"
VOICE_MODES = ("free", "harmonise", "continue")
"""The three uses of the four-voice model."""
MAX_BARS = 64
PIANO = RollSpec(steps_per_beat=STEPS_PER_QUARTER, lowest_pitch=21, n_pitches=88)
"""The grid a melody is read on: sixteenth notes over the piano's keys."""


@dataclass(frozen=True)
class VoicePieces:
    """Pieces as voices and as arrays (the same pieces, in order), and remarks on what was changed."""

    voices: list[Voices]
    samples: Samples
    remarks: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.voices)


def writes_voices(model: LoadedModel) -> bool:
    """Whether a loaded model is the four-voice model (the only one these functions serve)."""
    return model.kind == FOUR_VOICE_KIND


def _check(model: LoadedModel, n: int, bars: float) -> None:
    if not writes_voices(model):
        raise ValueError(f"{model.family.label} does not write four voices; choose the four-voice model")
    if n < 1 or not 0 < bars <= MAX_BARS:
        raise ValueError(f"ask for at least one piece of 1 to {MAX_BARS} bars")


def _write(
    model: LoadedModel,
    conditions: Conditions,
    seed: int,
    temperature: float,
    forced: np.ndarray | None = None,
    tempo_bpm: float = 100.0,
    remarks: list[str] | None = None,
) -> VoicePieces:
    if temperature <= 0:
        raise ValueError("the temperature must be positive")
    with one_thread():
        tokens = draw_tokens(model.net, conditions, seed, temperature, forced)
    samples = tokens_to_samples(tokens, conditions.phrase_end, model.spec.n_pitches, model.spec.lowest_pitch)
    return VoicePieces(tokens_to_voices(tokens, conditions, tempo_bpm), samples, remarks or [])


def free_pieces(
    model: LoadedModel,
    n: int = 8,
    bars: int = 4,
    phrase_bars: int = 2,
    key: tuple[int, str] | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    tempo_bpm: float = 100.0,
) -> VoicePieces:
    """``n`` pieces of ``bars`` bars of 4/4 in ``key`` (tonic 0–11, "major"/"minor"; None: a random key
    for each piece), a phrase end every ``phrase_bars`` bars. The same seed gives the same pieces."""
    _check(model, n, bars)
    tonic, mode = (key[0], MODES.index(key[1])) if key else (None, None)
    conditions = free_conditions(n, bars * 4 * STEPS_PER_QUARTER, phrase_bars, seed, tonic, mode)
    return _write(model, conditions, seed, temperature, tempo_bpm=tempo_bpm)


# --- harmonising a melody ---------------------------------------------------------------------------------


def _piece_conditions(voices: Voices, n: int, phrase_end: np.ndarray) -> Conditions:
    """``n`` copies of a piece's key and metre with the phrase ends ``phrase_end`` (any length)."""
    return Conditions(
        np.full(n, voices.tonic),
        np.full(n, MODES.index(voices.mode)),
        np.broadcast_to(phrase_end, (n, len(phrase_end))).copy(),
        voices.beats_per_bar,
        voices.bar_offset,
    )


def _check_metre(model: LoadedModel, voices: Voices) -> None:
    beats = model.config.data.beats_per_bar
    if voices.steps_per_beat != STEPS_PER_QUARTER or voices.beats_per_bar != beats:
        numerator, denominator = voices.time_signature
        raise VoicesError(f"this piece is in {numerator}/{denominator}; the model was trained on {beats}/4")


def melody_phrase_ends(melody: Voices, phrase_bars: int) -> np.ndarray:
    """The melody's own fermatas, or a phrase end every ``phrase_bars`` bars and one on its last note."""
    if melody.phrase_end.any():
        return melody.phrase_end.copy()
    marks = np.zeros(melody.n_steps, bool)
    body = phrase_schedule(melody.n_steps - melody.bar_offset, phrase_bars, melody.steps_per_bar)
    marks[melody.bar_offset :] = body
    starts = np.flatnonzero(melody.onset[:, 0])
    if starts.size:
        last = int(starts[-1])
        marks[last - last % melody.steps_per_bar :] = False  # the last bar's mark moves to the last note
        marks[last] = True
    return marks


def harmonise(
    model: LoadedModel,
    melody: Voices,
    n: int = 8,
    seed: int = 0,
    temperature: float = 1.0,
    phrase_bars: int = 2,
) -> VoicePieces:
    """``n`` harmonisations of the soprano of ``melody`` (its other voices are ignored), in its key, with
    its fermatas as phrase ends (or every ``phrase_bars`` bars and on its last note when it has none)."""
    _check(model, n, melody.n_steps / melody.steps_per_bar)
    _check_metre(model, melody)
    soprano, remarks = fit_soprano(melody)
    pitch = np.full((soprano.n_steps, N_VOICES), REST, np.int16)
    pitch[:, 0] = soprano.pitch[:, 0]
    onset = np.zeros_like(pitch, bool)
    onset[:, 0] = soprano.onset[:, 0]
    forced = np.full((n, soprano.n_steps, N_VOICES), -1, np.int64)
    forced[:, :, 0] = encode(pitch, onset)[:, 0]
    conditions = _piece_conditions(soprano, n, melody_phrase_ends(soprano, phrase_bars))
    return _write(model, conditions, seed, temperature, forced, soprano.tempo_bpm, remarks)


def fit_soprano(melody: Voices) -> tuple[Voices, list[str]]:
    """The melody as a soprano: moved by whole octaves into the soprano's range when it lies outside
    (with a remark), or a :class:`VoicesError` when it spans more than that range."""
    low, high = PITCH_RANGES[0]
    sung = melody.pitch[:, 0][melody.pitch[:, 0] >= 0]
    if not sung.size:
        raise VoicesError("the melody has no notes")
    if int(sung.max()) - int(sung.min()) > high - low:
        raise VoicesError("the melody spans more than a soprano can sing (F#3–C6)")
    shift = 0
    while int(sung.min()) + shift < low:
        shift += 12
    while int(sung.max()) + shift > high:
        shift -= 12
    if int(sung.min()) + shift < low:
        raise VoicesError("the melody does not fit the soprano's range (F#3–C6) in any octave")
    if not shift:
        return melody, []
    remark = f"the melody was moved {shift:+d} semitones (whole octaves) into the soprano range"
    return melody.transpose(shift, ranges=None), [remark]


def melody_from_score(score: Score, key: tuple[int, str] | None = None) -> Voices:
    """The top line of a parsed file (the highest sounding note at every sixteenth step) as a soprano,
    with the file's fermata markers as phrase ends and its key (or the estimated key of the line)."""
    roll = score_to_roll(score, PIANO)
    sounding = roll.active.any(axis=1)
    highest = PIANO.lowest_pitch + PIANO.n_pitches - 1 - roll.active[:, ::-1].argmax(axis=1)
    top = np.where(sounding, highest, REST)
    column = np.clip(top - PIANO.lowest_pitch, 0, PIANO.n_pitches - 1)
    onset = sounding & roll.onset[np.arange(len(top)), column]
    pitch = np.full((len(top), N_VOICES), REST, np.int16)
    pitch[:, 0] = top
    onsets = np.zeros_like(pitch, bool)
    onsets[:, 0] = onset
    marks = np.zeros(len(top), bool)
    times = np.array([time for text, time in score.markers if text.strip().lower() == FERMATA_TEXT])
    if times.size and len(top):
        beats = seconds_to_beats(times, score.beat_times, 60.0 / roll.tempo_bpm)
        marks[np.clip(np.floor(beats * STEPS_PER_QUARTER + 0.5).astype(int), 0, len(top) - 1)] = True
    if key is None:
        sung = top[top >= 0]
        estimate = estimate_key(np.bincount(sung % 12, minlength=12)) if sung.size else None
        key = (estimate.tonic, estimate.mode) if estimate else (0, "major")
    numerator, denominator = score.meter
    if denominator != 4:
        raise VoicesError(f"the melody is in {numerator}/{denominator}; give one in 4/4")
    return Voices(pitch, onsets, marks, STEPS_PER_QUARTER, numerator, key[0], key[1], roll.tempo_bpm * 1.0)


def melody_from_midi(name: str, data: bytes) -> Voices:
    """The melody of an uploaded MIDI file: the soprano of a four-part file (its fermatas and key kept),
    else the file's top line. Raises :class:`VoicesError` (or MidiRejected) saying why it cannot be used."""
    corpus = load_voice_files([(name, data)], use_cache=False)
    if corpus.pieces:
        return corpus.pieces[0].voices
    with MidiParser(DEFAULT_LIMITS) as parser:
        score = parser.parse(data, name)
    return melody_from_score(score)


def voices_from_midi(name: str, data: bytes) -> Voices:
    """A four-part upload as voices, or a :class:`VoicesError` saying why it is not one."""
    corpus = load_voice_files([(name, data)], use_cache=False)
    if not corpus.pieces:
        raise VoicesError(corpus.reports[0].message if corpus.reports else f"{name} could not be read")
    return corpus.pieces[0].voices


def chorales_by_name(split: str = "test") -> dict[str, Voices]:
    """The 4/4 chorales of a split by name (``bwv257``): what a visitor or a command may harmonise or
    continue."""
    return {Path(piece.name).stem: piece.voices for piece in chorale_pieces(split)}


def chorale_pieces(split: str = "test", beats_per_bar: int = 4) -> list[VoicePiece]:
    """The bundled chorales of one split in ``beats_per_bar`` (melodies to harmonise, primers)."""
    corpus = load_chorale_voices().split(split)
    return [
        piece
        for piece in corpus.pieces
        if piece.voices.beats_per_bar == beats_per_bar and piece.voices.steps_per_beat == STEPS_PER_QUARTER
    ]


# --- continuing a piece ---------------------------------------------------------------------------------


def continue_piece(
    model: LoadedModel,
    primer: Voices,
    keep_bars: int = 2,
    bars: int = 8,
    n: int = 8,
    seed: int = 0,
    temperature: float = 1.0,
    phrase_bars: int = 2,
) -> VoicePieces:
    """Keep the first ``keep_bars`` bars of ``primer`` (after its pickup) and write on to ``bars`` bars in
    its key; the primer's fermatas stay, then a phrase end every ``phrase_bars`` bars and in the last bar."""
    _check(model, n, bars)
    _check_metre(model, primer)
    if not 1 <= keep_bars < bars:
        raise ValueError("keep at least one bar and fewer bars than the piece will have")
    bar = primer.steps_per_bar
    keep = primer.bar_offset + keep_bars * bar
    if primer.n_steps < keep:
        raise VoicesError(f"the piece is shorter than the {keep_bars} bars to keep")
    if primer.range_problem():
        raise VoicesError(primer.range_problem())
    total = primer.bar_offset + bars * bar
    kept = primer.window(0, keep)
    marks = np.zeros(total, bool)
    marks[:keep] = kept.phrase_end
    marks[keep:] = phrase_schedule(total - keep, phrase_bars, bar)
    forced = np.full((n, total, N_VOICES), -1, np.int64)
    forced[:, :keep] = encode(kept.pitch, kept.onset)
    conditions = _piece_conditions(kept, n, marks)
    return _write(model, conditions, seed, temperature, forced, primer.tempo_bpm)


# --- one entry for the three uses ----------------------------------------------------------------------


def write_in_mode(
    model: LoadedModel,
    mode: str,
    *,
    bars: int,
    piece: Voices | None = None,
    key: tuple[int, str] | None = None,
    phrase_bars: int = 2,
    keep_bars: int = 2,
    n: int = 8,
    seed: int = 0,
    temperature: float = 1.0,
    tempo_bpm: float = 100.0,
) -> VoicePieces:
    """One of :data:`VOICE_MODES`: ``free`` pieces of ``bars`` bars in ``key``; ``harmonise`` the soprano
    of ``piece``; ``continue`` the first ``keep_bars`` bars of ``piece`` with ``bars`` more. A ``key``
    given with a piece relabels it (its notes stay; the model hears them in that key)."""
    if mode not in VOICE_MODES:
        raise ValueError(f"mode must be one of {', '.join(VOICE_MODES)}, not {mode!r}")
    common = {"n": n, "seed": seed, "temperature": temperature}
    if mode == "free":
        return free_pieces(model, bars=bars, phrase_bars=phrase_bars, key=key, tempo_bpm=tempo_bpm, **common)
    if piece is None:
        raise ValueError(f"{mode} needs {'a melody' if mode == 'harmonise' else 'a piece to continue'}")
    if key is not None:
        piece = replace(piece, tonic=key[0], mode=key[1])
    if mode == "harmonise":
        return harmonise(model, piece, phrase_bars=phrase_bars, **common)
    return continue_piece(model, piece, keep_bars, keep_bars + bars, phrase_bars=phrase_bars, **common)


__all__ = [
    "VOICE_MODES",
    "MidiRejected",
    "VoicePieces",
    "chorale_pieces",
    "chorales_by_name",
    "continue_piece",
    "fit_soprano",
    "free_pieces",
    "harmonise",
    "melody_from_midi",
    "melody_from_score",
    "voices_from_midi",
    "write_in_mode",
    "writes_voices",
]

"""Corpora of four-voice pieces (:class:`~core.music.voices.Voices`) and their training windows.

- :func:`load_chorale_voices`: the bundled chorales (``data/chorales``) with the manifest's split and key;
  every file ends up a :class:`VoicePiece` or a :class:`~core.data.corpus.FileReport` saying why not.
- :func:`load_voice_files`: uploaded ``(name, bytes)`` files, MIDI or zip archives, the same way.
- :func:`voice_windows`: fixed-length windows of whole bars, with transposed copies whose key label moves
  with the notes, as arrays ready for a model (:class:`VoiceWindows`).
- the JSB Chorales benchmark split with separated voices (``data/jsb/Jsb16thSeparated.json``), for published
  comparisons, is read by :func:`core.data.jsb.load_jsb_voices`.

Parsing goes through the sandboxed :class:`~core.midi.parser.MidiParser`. Converted pieces are cached by
content hash in ``.cache/voices/`` (``$GMS_CACHE_DIR/voices``), so a second load starts no parser; the folder
is kept within :attr:`core.budgets.Budgets.disk_voices_bytes` (least recently read conversions deleted first).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.budgets import BUDGETS
from core.data.archives import load_zip
from core.data.corpus import DEFAULT_LIMITS, MIDI_SUFFIXES, FileReport, read_manifest
from core.data.uploads import accepted_files
from core.eviction import budget_for, touch
from core.files import write_bytes_atomic
from core.midi.parser import MidiParser, read_source
from core.midi.score import MidiLimits, MidiRejected
from core.music.voice_parts import Conversion, convert_score
from core.music.voices import (
    METRE_FEATURES,
    MODES,
    N_VOICES,
    PITCH_RANGES,
    REST,
    Voices,
    VoicesError,
    tonic_from_name,
)
from core.paths import DEFAULT_CORPUS, cache_subdir

VOICES_CODEC = "voices-1"
"""Changes whenever :func:`core.music.voice_parts.convert_score` converts a file differently (cache key)."""
PARSE_WORKERS = 2
ZIP_SUFFIX = ".zip"
UNSUPPORTED = "only .mid, .midi and .zip files are read"


@dataclass
class VoicePiece:
    """One accepted piece: its file name, voices, split (train/valid/test/upload) and metadata (manifest
    columns where known, and ``remarks``: what the conversion changed or left out)."""

    name: str
    voices: Voices
    split: str
    meta: dict = field(default_factory=dict)


@dataclass
class VoiceCorpus:
    """Accepted pieces and a report for every file offered (accepted with a summary, or why not)."""

    pieces: list[VoicePiece]
    reports: list[FileReport]

    def split(self, name: str) -> VoiceCorpus:
        """The pieces of one split (and their reports)."""
        pieces = [piece for piece in self.pieces if piece.split == name]
        names = {piece.name for piece in pieces}
        return VoiceCorpus(pieces, [report for report in self.reports if report.name in names])

    @property
    def voices(self) -> list[Voices]:
        return [piece.voices for piece in self.pieces]

    @property
    def rejected(self) -> list[FileReport]:
        return [report for report in self.reports if not report.accepted]


# --- the cache -----------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where converted pieces live: ``voices`` in the cache folder (see :mod:`core.paths`)."""
    return cache_subdir("voices")


def _cache_key(data: bytes, limits: MidiLimits, options: dict) -> str:
    settings = {"codec": VOICES_CODEC, "limits": asdict(limits), "options": options}
    return hashlib.sha256(data + json.dumps(settings, sort_keys=True).encode()).hexdigest()


def _write_cached(key: str, conversion: Conversion) -> None:
    """Store a conversion under ``key`` within the folder's disk budget; a read-only or full disk only costs
    speed."""
    voices = conversion.voices
    flags = voices.onset.astype(np.uint8) << np.arange(N_VOICES, dtype=np.uint8)
    flags = flags.sum(axis=1, dtype=np.uint8) | (voices.phrase_end.astype(np.uint8) << N_VOICES)
    info = {
        "steps_per_beat": voices.steps_per_beat,
        "beats_per_bar": voices.beats_per_bar,
        "tonic": voices.tonic,
        "mode": voices.mode,
        "tempo_bpm": voices.tempo_bpm,
        "bar_offset": voices.bar_offset,
        "tracks": list(conversion.tracks),
        "remarks": conversion.remarks,
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, pitch=voices.pitch, flags=flags, info=np.array(json.dumps(info)))
    data, folder = buffer.getvalue(), cache_dir()
    with contextlib.suppress(OSError):
        write_bytes_atomic(folder / f"{key}.npz", data)
        budget_for(folder, BUDGETS.disk_voices_bytes).wrote(folder, len(data))


def _read_cached(key: str) -> Conversion | None:
    path = cache_dir() / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            pitch, flags, info = stored["pitch"], stored["flags"], json.loads(str(stored["info"]))
        onset = (flags[:, None] >> np.arange(N_VOICES, dtype=np.uint8)) & 1
        voices = Voices(
            pitch,
            onset.astype(bool),
            (flags >> N_VOICES) & 1 > 0,
            int(info["steps_per_beat"]),
            int(info["beats_per_bar"]),
            int(info["tonic"]),
            str(info["mode"]),
            float(info["tempo_bpm"]),
            int(info["bar_offset"]),
        )
        conversion = Conversion(voices, tuple(info["tracks"]), list(info["remarks"]))
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile):
        return None
    touch(path)
    return conversion


# --- loading -------------------------------------------------------------------------------------------


@dataclass
class _Source:
    name: str
    data: bytes | None
    split: str
    meta: dict
    key: tuple[int, str] | None = None
    problem: str | None = None


def _summary(voices: Voices, remarks: list[str]) -> str:
    numerator, denominator = voices.time_signature
    bars = voices.n_steps / voices.steps_per_bar
    phrase_ends = int(voices.phrase_end.sum())
    text = (
        f"four voices, {bars:.0f} bars of {numerator}/{denominator}, {voices.key_name}, "
        f"{phrase_ends} phrase end{'s' if phrase_ends != 1 else ''}"
    )
    return "; ".join([text, *remarks])


def _load(sources: list[_Source], limits: MidiLimits, chords: str, use_cache: bool) -> VoiceCorpus:
    """Every source from the cache or through the parser; reports in source order."""
    outcomes: dict[int, tuple[VoicePiece | None, FileReport]] = {}
    misses: list[tuple[int, str]] = []
    for index, source in enumerate(sources):
        if source.problem is not None:
            outcomes[index] = (None, FileReport(source.name, False, source.problem))
            continue
        key = _cache_key(source.data, limits, {"chords": chords, "key": source.key})
        cached = _read_cached(key) if use_cache else None
        if cached is not None:
            outcomes[index] = _accept(source, cached)
        else:
            misses.append((index, key))
    if misses:
        files = ((sources[index].name, sources[index].data) for index, _ in misses)
        with MidiParser(limits, workers=PARSE_WORKERS) as parser:
            for (index, key), (_, result) in zip(misses, parser.parse_many(files), strict=True):
                outcomes[index] = _convert(sources[index], result, key, chords, use_cache)
    ordered = [outcomes[index] for index in range(len(sources))]
    return VoiceCorpus([piece for piece, _ in ordered if piece], [report for _, report in ordered])


def _convert(source: _Source, result: object, key: str, chords: str, use_cache: bool) -> tuple:
    if isinstance(result, MidiRejected):
        return None, FileReport(source.name, False, str(result))
    try:
        conversion = convert_score(result, key=source.key, chords=chords)
    except VoicesError as error:
        return None, FileReport(source.name, False, str(error))
    if use_cache:
        _write_cached(key, conversion)
    return _accept(source, conversion)


def _accept(source: _Source, conversion: Conversion) -> tuple[VoicePiece, FileReport]:
    meta = {**source.meta, "remarks": conversion.remarks}
    piece = VoicePiece(source.name, conversion.voices, source.split, meta)
    return piece, FileReport(source.name, True, _summary(conversion.voices, conversion.remarks))


def _manifest_source(path: Path, row: dict | None, limits: MidiLimits) -> _Source:
    meta = {name: value for name, value in (row or {}).items() if name not in ("id", "split") and value}
    for number in ("parts", "fermatas"):
        if str(meta.get(number, "")).isdigit():
            meta[number] = int(meta[number])
    key = None
    if row and row.get("key") and row.get("mode") in MODES:
        key = (tonic_from_name(row["key"]), row["mode"])
    split = (row or {}).get("split") or "upload"
    try:
        return _Source(path.name, read_source(path, limits)[0], split, meta, key)
    except MidiRejected as error:
        return _Source(path.name, None, split, meta, key, str(error))


def load_chorale_voices(
    folder: str | os.PathLike = DEFAULT_CORPUS,
    limits: MidiLimits = DEFAULT_LIMITS,
    chords: str = "outer",
    use_cache: bool = True,
) -> VoiceCorpus:
    """Every MIDI file of a folder with a ``manifest.csv`` (the bundled chorales by default) as voices.

    The manifest gives each file's split and its key and mode (which override the file's key signature);
    files it does not list go to the "upload" split. ``chords``: see
    :func:`~core.music.voice_parts.convert_score`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    manifest = read_manifest(folder)
    paths = sorted(
        path for path in folder.iterdir() if path.suffix.lower() in MIDI_SUFFIXES and path.is_file()
    )
    sources = [_manifest_source(path, manifest.get(path.stem), limits) for path in paths]
    return _load(sources, limits, chords, use_cache)


def load_voice_files(
    files: list[tuple[str, bytes]],
    limits: MidiLimits = DEFAULT_LIMITS,
    chords: str = "outer",
    use_cache: bool = True,
) -> VoiceCorpus:
    """Uploaded ``(name, bytes)`` files as voices, all in the "upload" split: MIDI files directly, zip
    archives unpacked (with the guards of :func:`core.data.archives.load_zip`); any other file is
    reported as not read. Each file gets a report: a summary, or why it cannot be used by this model."""
    sources: list[_Source] = []
    for name, data in files:
        lower = name.lower()
        if lower.endswith(MIDI_SUFFIXES):
            sources.append(_Source(name, bytes(data), "upload", {}))
        elif lower.endswith(ZIP_SUFFIX):
            sources += _zip_sources(name, data, limits)
        else:
            sources.append(_Source(name, None, "upload", {}, problem=UNSUPPORTED))
    return _load(sources, limits, chords, use_cache)


def _zip_sources(name: str, data: bytes, limits: MidiLimits) -> list[_Source]:
    """The members of an archive: those the archive guards refuse with their reason, the others' bytes."""
    checked = load_zip(data, limits=limits, name=name)
    members = dict(accepted_files([(name, data)], checked, limits))
    sources = []
    for report in checked.reports:
        if report.accepted and report.name in members:
            sources.append(_Source(report.name, members[report.name], "upload", {}))
        else:
            message = report.message if not report.accepted else "the archive member could not be read"
            sources.append(_Source(report.name, None, "upload", {}, problem=message))
    return sources


# --- training windows ----------------------------------------------------------------------------------


@dataclass
class VoiceWindows:
    """``N`` windows of ``T`` steps, ready for a model.

    - ``pitch`` ``int16[N, T, 4]`` (MIDI or -1), ``onset`` ``bool[N, T, 4]``, ``phrase_end`` ``bool[N, T]``;
    - ``metre`` ``float32[N, T, 7]`` (:data:`~core.music.voices.METRE_FEATURES`) and ``step_in_bar``
      ``int16[N, T]``;
    - ``tonic`` ``int8[N]`` (0–11), ``mode`` ``int8[N]`` (0 major, 1 minor), after transposition;
    - ``piece`` ``int32[N]`` (index into the pieces given), ``start`` ``int32[N]`` (first step in the
      piece), ``shift`` ``int8[N]`` (semitones the window was transposed by).
    """

    pitch: np.ndarray
    onset: np.ndarray
    phrase_end: np.ndarray
    metre: np.ndarray
    step_in_bar: np.ndarray
    tonic: np.ndarray
    mode: np.ndarray
    piece: np.ndarray
    start: np.ndarray
    shift: np.ndarray

    def __len__(self) -> int:
        return int(self.pitch.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.pitch.shape[1])

    @property
    def key(self) -> np.ndarray:
        """``int16[N]``: the key as 0–23 (major keys 0–11 by tonic, minor 12–23)."""
        return self.tonic.astype(np.int16) + 12 * self.mode.astype(np.int16)


def _empty_windows(n_steps: int) -> VoiceWindows:
    return VoiceWindows(
        np.zeros((0, n_steps, N_VOICES), np.int16),
        np.zeros((0, n_steps, N_VOICES), bool),
        np.zeros((0, n_steps), bool),
        np.zeros((0, n_steps, len(METRE_FEATURES)), np.float32),
        np.zeros((0, n_steps), np.int16),
        *(np.zeros(0, dtype) for dtype in (np.int8, np.int8, np.int32, np.int32, np.int8)),
    )


def _piece_windows(voices: Voices, steps: int, hop: int) -> tuple[np.ndarray, ...] | None:
    """Windows of one piece starting on bar lines: pitch, onset, phrase_end and their start steps."""
    starts = np.arange(voices.bar_offset, voices.n_steps - steps + 1, hop)
    if not starts.size:
        return None
    view = np.lib.stride_tricks.sliding_window_view
    pitch = view(voices.pitch, steps, axis=0)[starts].transpose(0, 2, 1)
    onset = view(voices.onset, steps, axis=0)[starts].transpose(0, 2, 1).copy()
    onset[:, 0] |= pitch[:, 0] >= 0  # a note held into the window starts there
    phrase_end = view(voices.phrase_end, steps, axis=0)[starts]
    return pitch.copy(), onset, phrase_end.copy(), starts


def voice_windows(
    pieces: Sequence[Voices],
    bars: int = 4,
    hop_bars: int = 1,
    steps_per_bar: int = 16,
    transpose: Iterable[int] = (),
    ranges: tuple[tuple[int, int], ...] = PITCH_RANGES,
) -> VoiceWindows:
    """Windows of ``bars`` whole bars every ``hop_bars`` bars from the pieces with ``steps_per_bar`` steps a
    bar (16: 4/4; 12: 3/4), first bar line included, pieces shorter than a window left out.

    ``transpose`` adds copies moved by those semitones (the originals are always kept) whose key moves with
    them; a copy in which a voice would leave its range (``ranges``) is left out. A window's metre features
    come from its own piece's metre (4/4 and 2/2 both have 16 steps a bar).
    """
    steps, hop = bars * steps_per_bar, hop_bars * steps_per_bar
    if steps < 1 or hop < 1:
        raise ValueError("bars, hop_bars and steps_per_bar must be at least 1")
    parts, metres = [], []
    for index, voices in enumerate(pieces):
        if voices.steps_per_bar != steps_per_bar:
            continue
        found = _piece_windows(voices, steps, hop)
        if found is None:
            continue
        parts.append((index, voices, *found))
        metres.append(voices.metre_features()[found[3][:, None] + np.arange(steps)])
    if not parts:
        return _empty_windows(steps)
    base = VoiceWindows(
        np.concatenate([part[2] for part in parts]),
        np.concatenate([part[3] for part in parts]),
        np.concatenate([part[4] for part in parts]),
        np.concatenate(metres),
        np.concatenate([part[1].step_in_bar()[part[5][:, None] + np.arange(steps)] for part in parts]),
        np.concatenate([np.full(len(part[5]), part[1].tonic, np.int8) for part in parts]),
        np.concatenate([np.full(len(part[5]), MODES.index(part[1].mode), np.int8) for part in parts]),
        np.concatenate([np.full(len(part[5]), part[0], np.int32) for part in parts]),
        np.concatenate([part[5] for part in parts]).astype(np.int32),
        np.zeros(sum(len(part[5]) for part in parts), np.int8),
    )
    return _transposed(base, sorted({int(shift) for shift in transpose} - {0}), ranges)


def _transposed(base: VoiceWindows, shifts: list[int], ranges: tuple[tuple[int, int], ...]) -> VoiceWindows:
    """The windows and their copies moved by each shift that keeps every voice within its range."""
    if not shifts:
        return base
    sounding = base.pitch >= 0
    lowest = np.where(sounding, base.pitch, 999).min(axis=1)  # [N, 4]
    highest = np.where(sounding, base.pitch, -999).max(axis=1)
    low = np.array([low for low, _ in ranges])
    high = np.array([high for _, high in ranges])
    chosen = [np.arange(len(base))]
    moves = [0]
    for shift in shifts:
        fits = ((lowest + shift >= low) & (highest + shift <= high)).all(axis=1)
        chosen.append(np.flatnonzero(fits))
        moves.append(shift)
    rows = np.concatenate(chosen)
    shift = np.concatenate(
        [np.full(len(index), move, np.int8) for index, move in zip(chosen, moves, strict=True)]
    )
    pitch = base.pitch[rows]
    pitch = np.where(pitch >= 0, pitch + shift[:, None, None], REST).astype(np.int16)
    return VoiceWindows(
        pitch,
        base.onset[rows],
        base.phrase_end[rows],
        base.metre[rows],
        base.step_in_bar[rows],
        ((base.tonic[rows].astype(np.int16) + shift) % 12).astype(np.int8),
        base.mode[rows],
        base.piece[rows],
        base.start[rows],
        shift,
    )

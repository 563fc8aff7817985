"""Corpora of piano-rolls: load a folder, uploads or a zip, cache the rolls, cut training windows, summarise.

Every file goes through :class:`core.midi_io.MidiParser` (a sandboxed worker) and
:func:`core.pianoroll.score_to_roll`; each ends up accepted (a :class:`Piece`) or rejected with its reason,
both listed in :attr:`Corpus.reports`. Accepted rolls are cached by content hash in ``.cache/rolls/``
(or ``$GMS_CACHE_DIR/rolls``), so a second load reads small ``.npz`` files and starts no worker.
Rejections are not cached: some (a worker that could not start, a time-out) depend on the moment.

CLI: ``python -m core.dataset stats DIR [--json]``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import threading
import zipfile
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path, PurePosixPath

import numpy as np

from core.cache import cache_subdir
from core.pianoroll import CODEC_VERSION, PianoRoll, RollSpec, roll_notes, score_to_roll
from core.score import MidiLimits, MidiRejected, Score

REPO_ROOT = Path(__file__).resolve().parents[1]
MIDI_SUFFIXES = (".mid", ".midi")
MANIFEST_NAME = "manifest.csv"
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
"""Krumhansl & Kessler (1982) key profiles, tonic first."""

ONSET_BIT = np.uint8(0x80)
"""A cached roll is one uint8 array: velocity (1–127 where active), plus this bit where a note starts."""
DEFAULT_SPEC = RollSpec()
DEFAULT_LIMITS = MidiLimits()
PARSE_WORKERS = 2
"""Worker processes for a load with cache misses (the second starts only while the first is busy)."""


@dataclass
class FileReport:
    """What happened to one file: accepted (``message`` is a summary) or rejected (``message`` says why)."""

    name: str
    accepted: bool
    message: str


@dataclass
class Piece:
    """One accepted file as a roll; ``split`` is train/valid/test/upload; ``meta`` holds title, key, meter."""

    name: str
    roll: PianoRoll
    split: str
    meta: dict = field(default_factory=dict)


@dataclass
class Corpus:
    """Pieces and the report of every file that was offered."""

    pieces: list[Piece]
    reports: list[FileReport]
    spec: RollSpec = field(default_factory=RollSpec)

    def split(self, name: str) -> Corpus:
        """The pieces of one split (and their reports)."""
        pieces = [piece for piece in self.pieces if piece.split == name]
        names = {piece.name for piece in pieces}
        return Corpus(pieces, [report for report in self.reports if report.name in names], self.spec)

    @property
    def rejected(self) -> list[FileReport]:
        """Reports of the files that were not accepted."""
        return [report for report in self.reports if not report.accepted]

    @property
    def n_steps(self) -> int:
        """Total steps over all pieces."""
        return sum(piece.roll.n_steps for piece in self.pieces)


@dataclass(frozen=True)
class ZipLimits:
    """Guards for an uploaded zip archive (on top of the per-file :class:`MidiLimits`)."""

    max_members: int = 2000
    max_total_bytes: int = 64 << 20
    """Declared uncompressed size of all MIDI members together."""
    max_ratio: float = 200.0
    """Uncompressed / compressed size above which a member is treated as a zip bomb."""
    max_depth: int = 8
    """Folders a member may be nested in."""


@dataclass
class _Source:
    """A file to load: its name, how to read its bytes, its split and manifest metadata."""

    name: str
    read: Callable[[], bytes]
    split: str
    meta: dict = field(default_factory=dict)


# --- cache -------------------------------------------------------------------------------------------


def default_corpus_dir() -> Path:
    """The bundled corpus: ``data/chorales`` in the repository."""
    return REPO_ROOT / "data" / "chorales"


def cache_dir() -> Path:
    """Where cached rolls live: ``rolls`` in the cache folder (see :mod:`core.cache`)."""
    return cache_subdir("rolls")


def cache_key(data: bytes, spec: RollSpec, limits: MidiLimits) -> str:
    """sha256 of the file bytes, the grid, the codec version and the limits the file was accepted under."""
    return hashlib.sha256(data + _settings_bytes(spec, limits)).hexdigest()


@lru_cache(maxsize=16)
def _settings_bytes(spec: RollSpec, limits: MidiLimits) -> bytes:
    settings = {"spec": asdict(spec), "codec": CODEC_VERSION, "limits": asdict(limits)}
    return json.dumps(settings, sort_keys=True).encode()


def _write_cache(key: str, roll: PianoRoll, info: dict) -> None:
    cells = roll.velocity | np.where(roll.onset, ONSET_BIT, np.uint8(0))
    info = {**info, "tempo_bpm": roll.tempo_bpm, "beats_per_bar": roll.beats_per_bar}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, cells=cells, info=np.array(json.dumps(info)))
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f"{key}.{os.getpid()}.{threading.get_ident()}.tmp"
        temporary.write_bytes(buffer.getvalue())
        os.replace(temporary, folder / f"{key}.npz")
    except OSError:
        pass  # a read-only or full disk only costs speed


def _read_cache(key: str, spec: RollSpec) -> tuple[PianoRoll, dict] | None:
    path = cache_dir() / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            cells, info = stored["cells"], json.loads(str(stored["info"]))
        velocity = cells & np.uint8(0x7F)
        roll = PianoRoll(velocity > 0, cells >= ONSET_BIT, velocity, spec)
        roll.tempo_bpm, roll.beats_per_bar = float(info["tempo_bpm"]), int(info["beats_per_bar"])
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None
    return roll, info


# --- loading -----------------------------------------------------------------------------------------


def _score_info(score: Score) -> dict:
    """What a report and a piece's metadata need from a score (it is cached with the roll)."""
    numerator, denominator = score.meter
    info = {"summary": score.summary(), "time_signature": f"{numerator}/{denominator}"}
    if score.key_signatures:
        key_number = int(score.key_signatures[0][0])
        info["key_signature"] = f"{PITCH_NAMES[key_number % 12]} {'minor' if key_number >= 12 else 'major'}"
    return info


def _piece(source: _Source, roll: PianoRoll, info: dict) -> tuple[Piece, FileReport]:
    meta = {"time_signature": info["time_signature"], "tempo_bpm": round(roll.tempo_bpm, 2)}
    if "key_signature" in info:
        meta["key_signature"] = info["key_signature"]
    meta.update(source.meta)
    return Piece(source.name, roll, source.split, meta), FileReport(source.name, True, info["summary"])


def _load_sources(
    sources: list[_Source], spec: RollSpec, limits: MidiLimits, progress: bool = False
) -> Corpus:
    """Load every source from the cache or, for cache misses only, through a :class:`MidiParser`."""
    loader = _Loader(sources, spec, limits)
    misses = loader.cache_misses(_progress(sources, progress))
    first = next(misses, None)
    if first is not None:
        loader.parse(chain([first], misses))
    ordered = [loader.outcomes[index] for index in range(len(sources))]
    pieces = [piece for piece, _ in ordered if piece is not None]
    return Corpus(pieces, [report for _, report in ordered], spec)


class _Loader:
    """Collects each source's outcome by index; cache misses wait in order for the parser's results."""

    def __init__(self, sources: list[_Source], spec: RollSpec, limits: MidiLimits) -> None:
        self.sources, self.spec, self.limits = sources, spec, limits
        self.outcomes: dict[int, tuple[Piece | None, FileReport]] = {}
        self.waiting: deque[tuple[int, str]] = deque()

    def cache_misses(self, sources: Iterable[_Source]) -> Iterator[tuple[str, bytes]]:
        """Settle cached and unreadable sources; yield ``(name, bytes)`` of the others."""
        for index, source in enumerate(sources):
            try:
                data = source.read()
            except MidiRejected as error:
                self.outcomes[index] = (None, FileReport(source.name, False, str(error)))
                continue
            key = cache_key(data, self.spec, self.limits)
            cached = _read_cache(key, self.spec)
            if cached is not None:
                self.outcomes[index] = _piece(source, *cached)
                continue
            self.waiting.append((index, key))
            yield source.name, data

    def parse(self, files: Iterable[tuple[str, bytes]]) -> None:
        """Parse the misses in workers, turn each score into a roll, cache it (on a writer thread)."""
        from core.midi_io import MidiParser

        with MidiParser(self.limits, workers=PARSE_WORKERS) as parser, ThreadPoolExecutor(1) as writer:
            for name, result in parser.parse_many(files):
                index, key = self.waiting.popleft()
                if isinstance(result, MidiRejected):
                    self.outcomes[index] = (None, FileReport(name, False, str(result)))
                    continue
                roll, info = score_to_roll(result, self.spec), _score_info(result)
                writer.submit(_write_cache, key, roll, info)
                self.outcomes[index] = _piece(self.sources[index], roll, info)


def _progress(sources: list[_Source], enabled: bool) -> Iterable[_Source]:
    if not enabled:
        return sources
    from tqdm import tqdm

    return tqdm(sources, desc="loading MIDI", unit="file", file=sys.stderr, leave=False)


def read_manifest(folder: Path) -> dict[str, dict]:
    """``manifest.csv`` rows keyed by ``id`` (a file's stem); empty when the folder has none."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as stream:
        return {row["id"]: row for row in csv.DictReader(stream) if row.get("id")}


def _manifest_meta(row: dict) -> tuple[str, dict]:
    """(split, metadata) of a manifest row; numbers become ints."""
    meta = {key: value for key, value in row.items() if key not in ("id", "split") and value}
    if str(meta.get("parts", "")).isdigit():
        meta["parts"] = int(meta["parts"])
    return row.get("split") or "upload", meta


def _path_reader(path: Path, limits: MidiLimits) -> Callable[[], bytes]:
    from core.midi_io import read_source

    return lambda: read_source(path, limits)[0]


def load_folder(
    path: str | os.PathLike,
    spec: RollSpec = DEFAULT_SPEC,
    limits: MidiLimits = DEFAULT_LIMITS,
    progress: bool = False,
) -> Corpus:
    """Every ``.mid``/``.midi`` file of a folder (not its subfolders), in name order.

    ``manifest.csv`` (columns id, title, key, mode, time_signature, parts, split), when present, gives each
    file's split and metadata by stem; files it does not list, and every file without one, get "upload".
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    manifest = read_manifest(folder)
    sources = []
    for file in sorted(folder.iterdir()):
        if file.suffix.lower() in MIDI_SUFFIXES and file.is_file():
            split, meta = _manifest_meta(manifest[file.stem]) if file.stem in manifest else ("upload", {})
            sources.append(_Source(file.name, _path_reader(file, limits), split, meta))
    return _load_sources(sources, spec, limits, progress)


def load_uploads(
    files: list[tuple[str, bytes]],
    spec: RollSpec = DEFAULT_SPEC,
    limits: MidiLimits = DEFAULT_LIMITS,
    progress: bool = False,
) -> Corpus:
    """Uploaded ``(name, bytes)`` files, all in the "upload" split."""
    sources = [_Source(name, _constant(data), "upload") for name, data in files]
    return _load_sources(sources, spec, limits, progress)


def _constant(data: bytes) -> Callable[[], bytes]:
    return lambda: bytes(data)


# --- zip archives ------------------------------------------------------------------------------------


def load_zip(
    data: bytes,
    spec: RollSpec = DEFAULT_SPEC,
    limits: MidiLimits = DEFAULT_LIMITS,
    zip_limits: ZipLimits = ZipLimits(),
    name: str = "archive.zip",
    progress: bool = False,
) -> Corpus:
    """The MIDI files inside an uploaded zip archive, all in the "upload" split; read in memory only.

    Folders inside the archive are fine; members with absolute or ``..`` paths, nested too deep, not
    ``.mid``/``.midi``, encrypted, oversized or suspiciously compressed are rejected with a report. An
    archive with too many members or too much content gives a corpus with one report and no pieces.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not _is_noise(info)]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return _refused(name, f"{name} is not a readable zip archive", spec)
    with archive:
        problem = _archive_problem(members, zip_limits)
        if problem:
            return _refused(name, problem, spec)
        reports, sources = [], []
        for info in members:
            reason = _member_problem(info, limits, zip_limits)
            if reason is None:
                sources.append(_Source(info.filename, _member_reader(archive, info, limits), "upload"))
            else:
                reports.append(FileReport(info.filename, False, reason))
        corpus = _load_sources(sources, spec, limits, progress)
    corpus.reports = reports + corpus.reports
    return corpus


def _refused(name: str, reason: str, spec: RollSpec) -> Corpus:
    return Corpus([], [FileReport(name, False, reason)], spec)


def _is_noise(info: zipfile.ZipInfo) -> bool:
    """Folders and the resource-fork files macOS adds to archives."""
    path = PurePosixPath(info.filename)
    return info.is_dir() or path.parts[:1] == ("__MACOSX",) or path.name.startswith("._")


def _archive_problem(members: list[zipfile.ZipInfo], zip_limits: ZipLimits) -> str | None:
    from core.midi_precheck import format_size

    if len(members) > zip_limits.max_members:
        return f"the archive holds {len(members)} files; the limit is {zip_limits.max_members}"
    total = sum(info.file_size for info in members if _has_midi_suffix(info.filename))
    if total > zip_limits.max_total_bytes:
        limit = format_size(zip_limits.max_total_bytes)
        return f"the archive unpacks to {format_size(total)}; the limit is {limit}"
    return None


def _has_midi_suffix(filename: str) -> bool:
    return PurePosixPath(filename).suffix.lower() in MIDI_SUFFIXES


def _member_problem(info: zipfile.ZipInfo, limits: MidiLimits, zip_limits: ZipLimits) -> str | None:
    """Why a member is refused before it is read, or None."""
    from core.midi_precheck import format_size

    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in "".join(path.parts[:1]):
        return "its path leaves the archive (absolute or with ..)"
    if len(path.parts) - 1 > zip_limits.max_depth:
        return f"it is nested {len(path.parts) - 1} folders deep; the limit is {zip_limits.max_depth}"
    if not _has_midi_suffix(info.filename):
        return "only .mid and .midi files are read from an archive"
    if info.flag_bits & 0x1:
        return "it is encrypted"
    if info.file_size > limits.max_bytes:
        return f"the file is {format_size(info.file_size)}; the limit is {format_size(limits.max_bytes)}"
    if info.file_size > zip_limits.max_ratio * max(info.compress_size, 1):
        return "it is compressed more than any MIDI file would be (a zip bomb?)"
    return None


def _member_reader(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: MidiLimits
) -> Callable[[], bytes]:
    """Reads at most the declared size (plus one byte to catch archives that lie about it)."""

    def read() -> bytes:
        try:
            with archive.open(info) as stream:
                data = stream.read(min(info.file_size, limits.max_bytes) + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError) as error:
            raise MidiRejected(f"the archive member could not be unpacked ({error})") from None
        if len(data) > info.file_size:
            raise MidiRejected("the archive member is larger than the archive says (a zip bomb?)")
        return data

    return read


# --- training windows --------------------------------------------------------------------------------


def windows(
    corpus: Corpus,
    bars: int = 4,
    hop_bars: int = 1,
    beats_per_bar: int = 4,
    transpose: Iterable[int] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``bars`` bars every ``hop_bars`` bars from the pieces with ``beats_per_bar`` beats a bar.

    Returns ``active, onset`` as ``bool[N, T, P]`` with ``T = bars * beats_per_bar * steps_per_beat``; a
    note held into a window gets an onset at its first step. ``transpose`` adds copies shifted by those
    semitones (the originals are always kept); a window whose notes a shift would push out of the pitch
    range is left out of that shift.
    """
    steps = bars * beats_per_bar * corpus.spec.steps_per_beat
    hop = hop_bars * beats_per_bar * corpus.spec.steps_per_beat
    if steps < 1 or hop < 1:
        raise ValueError("bars, hop_bars and beats_per_bar must be at least 1")
    parts = [
        _piece_windows(piece.roll, steps, hop)
        for piece in corpus.pieces
        if piece.roll.beats_per_bar == beats_per_bar and piece.roll.n_steps >= steps
    ]
    shape = (0, steps, corpus.spec.n_pitches)
    active = np.concatenate([a for a, _ in parts]) if parts else np.zeros(shape, bool)
    onset = np.concatenate([o for _, o in parts]) if parts else np.zeros(shape, bool)
    return _augment(active, onset, transpose)


def _piece_windows(roll: PianoRoll, steps: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    view = np.lib.stride_tricks.sliding_window_view
    active = view(roll.active, steps, axis=0)[::hop].transpose(0, 2, 1).copy()
    onset = view(roll.onset, steps, axis=0)[::hop].transpose(0, 2, 1).copy()
    onset[:, 0] |= active[:, 0]
    return active, onset


def _augment(active: np.ndarray, onset: np.ndarray, shifts: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """The windows plus their transpositions, written once into preallocated arrays."""
    extra = sorted({int(shift) for shift in shifts} - {0})
    if not extra:
        return active, onset
    lowest, highest = _pitch_span(active)
    n_pitches = active.shape[2]
    chosen = [(0, np.ones(len(active), bool))]
    chosen += [(shift, (lowest + shift >= 0) & (highest + shift < n_pitches)) for shift in extra]
    total = sum(int(mask.sum()) for _, mask in chosen)
    out_active = np.zeros((total, *active.shape[1:]), bool)
    out_onset = np.zeros_like(out_active)
    position = 0
    for shift, mask in chosen:
        rows = slice(position, position + int(mask.sum()))
        for source, target in ((active, out_active), (onset, out_onset)):
            kept = source[mask]
            if shift >= 0:
                target[rows, :, shift:] = kept[:, :, : n_pitches - shift]
            else:
                target[rows, :, :shift] = kept[:, :, -shift:]
        position = rows.stop
    return out_active, out_onset


def _pitch_span(active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest sounding pitch column of each window (0 and P - 1 for silent windows)."""
    sounding = active.any(axis=1)
    n_pitches = active.shape[2]
    anything = sounding.any(axis=1)
    lowest = np.where(anything, sounding.argmax(axis=1), 0)
    highest = np.where(anything, n_pitches - 1 - sounding[:, ::-1].argmax(axis=1), n_pitches - 1)
    return lowest, highest


# --- statistics --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyEstimate:
    """A key found by correlating a pitch-class distribution with the Krumhansl–Kessler profiles."""

    tonic: int
    mode: str
    correlation: float

    @property
    def name(self) -> str:
        """E.g. ``"G major"``."""
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"


def _key_profiles() -> np.ndarray:
    """``[24, 12]``: the major profile on each tonic 0–11, then the minor one."""
    rotations = [np.roll(profile, tonic) for profile in (MAJOR_PROFILE, MINOR_PROFILE) for tonic in range(12)]
    return np.stack(rotations)


def estimate_key(pitch_class_weights: np.ndarray) -> KeyEstimate | None:
    """The best-correlated of the 24 keys (Krumhansl–Kessler), or None for silence or a flat distribution."""
    weights = np.asarray(pitch_class_weights, dtype=np.float64)
    if weights.std() == 0:
        return None
    profiles = _key_profiles()
    z_profiles = (profiles - profiles.mean(axis=1, keepdims=True)) / profiles.std(axis=1, keepdims=True)
    correlations = z_profiles @ ((weights - weights.mean()) / weights.std()) / 12
    best = int(correlations.argmax())
    return KeyEstimate(best % 12, "major" if best < 12 else "minor", float(correlations[best]))


def pitch_class_weights(roll: PianoRoll) -> np.ndarray:
    """Sounding steps per pitch class (C = 0), i.e. duration-weighted."""
    classes = (np.arange(roll.spec.n_pitches) + roll.spec.lowest_pitch) % 12
    return np.bincount(classes, weights=roll.active.sum(axis=0), minlength=12)


@dataclass
class CorpusStats:
    """Descriptive statistics of a corpus. Histograms map a value to a count; steps are grid steps."""

    n_files: int
    n_accepted: int
    n_rejected: int
    n_pieces: int
    n_steps: int
    n_notes: int
    splits: dict[str, int]
    lowest_pitch: int | None
    highest_pitch: int | None
    pitch_histogram: dict[int, int]
    """MIDI pitch → notes starting on it."""
    pitch_class_histogram: list[float]
    """Share of sounding steps per pitch class, C first (sums to 1)."""
    polyphony_histogram: dict[int, int]
    """Notes sounding at once → steps."""
    mean_polyphony: float
    note_length_histogram: dict[int, int]
    """Length in steps → notes."""
    mean_note_length: float
    onsets_per_step: float
    time_signatures: dict[str, int]
    keys: dict[str, int]
    """Estimated key → pieces, most common first."""
    piece_keys: dict[str, str]
    """Piece name → estimated key."""
    bars: list[float]
    """Length of each piece in bars."""

    def to_dict(self) -> dict:
        """JSON-ready (histogram keys become strings)."""
        return json.loads(json.dumps(asdict(self)))

    def summary(self) -> str:
        """A few lines a person can read."""
        splits = ", ".join(f"{name} {count}" for name, count in sorted(self.splits.items()))
        meters = ", ".join(f"{meter} ×{count}" for meter, count in self.time_signatures.items())
        keys = ", ".join(f"{key} ({count})" for key, count in list(self.keys.items())[:5])
        mean_bars = float(np.mean(self.bars)) if self.bars else 0.0
        pitch_range = (
            f"{_pitch_name(self.lowest_pitch)}–{_pitch_name(self.highest_pitch)} "
            f"(MIDI {self.lowest_pitch}–{self.highest_pitch})"
            if self.lowest_pitch is not None
            else "no notes"
        )
        return "\n".join(
            [
                f"files: {self.n_files} ({self.n_accepted} accepted, {self.n_rejected} rejected)",
                f"pieces: {self.n_pieces} ({splits or 'none'}), mean length {mean_bars:.1f} bars",
                f"steps: {self.n_steps:,}, notes: {self.n_notes:,}",
                f"pitch range: {pitch_range}",
                f"mean polyphony: {self.mean_polyphony:.2f} notes per step",
                f"mean note length: {self.mean_note_length:.2f} steps",
                f"onsets per step: {self.onsets_per_step:.2f}",
                f"meters: {meters or 'none'}",
                f"top keys: {keys or 'none'}",
            ]
        )


def _pitch_name(pitch: int | None) -> str:
    return "?" if pitch is None else f"{PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"


def _counts(values: np.ndarray, offset: int = 0) -> dict[int, int]:
    counts = np.bincount(np.asarray(values, dtype=np.int64)) if len(values) else np.zeros(0, np.int64)
    return {index + offset: int(count) for index, count in enumerate(counts) if count}


def corpus_stats(corpus: Corpus) -> CorpusStats:
    """Pitch, polyphony, note-length, meter and key statistics of every piece of a corpus."""
    spec = corpus.spec
    polyphony = [piece.roll.active.sum(axis=1) for piece in corpus.pieces]
    runs = [roll_notes(piece.roll) for piece in corpus.pieces]
    pitches = np.concatenate([r["pitch"] for r in runs]) if runs else np.zeros(0, np.int64)
    lengths = np.concatenate([r["end"] - r["start"] for r in runs]) if runs else np.zeros(0, np.int64)
    all_polyphony = np.concatenate(polyphony) if polyphony else np.zeros(0, np.int64)
    class_weights = sum((pitch_class_weights(p.roll) for p in corpus.pieces), np.zeros(12))
    piece_keys = {piece.name: _key_name(pitch_class_weights(piece.roll)) for piece in corpus.pieces}
    n_steps = int(all_polyphony.size)
    n_onsets = sum(int(piece.roll.onset.sum()) for piece in corpus.pieces)
    return CorpusStats(
        n_files=len(corpus.reports),
        n_accepted=sum(report.accepted for report in corpus.reports),
        n_rejected=len(corpus.rejected),
        n_pieces=len(corpus.pieces),
        n_steps=n_steps,
        n_notes=int(pitches.size),
        splits=dict(Counter(piece.split for piece in corpus.pieces)),
        lowest_pitch=int(pitches.min()) if pitches.size else None,
        highest_pitch=int(pitches.max()) if pitches.size else None,
        pitch_histogram=_counts(pitches.astype(np.int64) - spec.lowest_pitch, spec.lowest_pitch),
        pitch_class_histogram=(class_weights / max(class_weights.sum(), 1)).round(4).tolist(),
        polyphony_histogram=_counts(all_polyphony),
        mean_polyphony=float(all_polyphony.mean()) if n_steps else 0.0,
        note_length_histogram=_counts(lengths),
        mean_note_length=float(lengths.mean()) if lengths.size else 0.0,
        onsets_per_step=n_onsets / n_steps if n_steps else 0.0,
        time_signatures=dict(Counter(_meter(piece) for piece in corpus.pieces).most_common()),
        keys=dict(Counter(piece_keys.values()).most_common()),
        piece_keys=piece_keys,
        bars=[piece.roll.n_steps / piece.roll.steps_per_bar for piece in corpus.pieces],
    )


def _meter(piece: Piece) -> str:
    return str(piece.meta.get("time_signature", "?"))


def _key_name(weights: np.ndarray) -> str:
    estimate = estimate_key(weights)
    return estimate.name if estimate else "unknown"


# --- command line ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m core.dataset stats DIR [--json]``."""
    parser = argparse.ArgumentParser(prog="python -m core.dataset", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    stats = commands.add_parser("stats", help="load a folder of MIDI files and summarise it")
    stats.add_argument("folder", nargs="?", default=str(default_corpus_dir()), help="default: data/chorales")
    stats.add_argument("--json", action="store_true", help="print the statistics as JSON")
    stats.add_argument("--rejected", action="store_true", help="list every rejected file and why")
    args = parser.parse_args(argv)
    try:
        corpus = load_folder(args.folder, progress=sys.stderr.isatty())
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = corpus_stats(corpus)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(result.summary())
    rejected = corpus.rejected if args.rejected else corpus.rejected[:5]
    for report in rejected:
        print(f"  rejected {report.name}: {report.message}")
    if len(corpus.rejected) > len(rejected):
        print(f"  ... and {len(corpus.rejected) - len(rejected)} more (--rejected lists them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Corpora of piano-rolls: a folder of MIDI files or uploaded files, each accepted or rejected with a reason.

Every file goes through :class:`core.midi.parser.MidiParser` (a sandboxed worker) and
:func:`core.music.pianoroll.score_to_roll`; each ends up accepted (a :class:`Piece`) or rejected with its
reason, both listed in :attr:`Corpus.reports`. Accepted rolls are cached by content hash in ``.cache/rolls/``
(or ``$GMS_CACHE_DIR/rolls``, see :mod:`core.data.rollcache`), so a second load reads small ``.npz`` files
and starts no worker. Rejections are not cached: some (a worker that could not start, a time-out) depend on
the moment. Zip archives: :mod:`core.data.archives`; windows: :mod:`core.data.windows`; statistics:
:mod:`core.data.stats`.
"""

from __future__ import annotations

import csv
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from tqdm import tqdm

from core.data.limits import DEFAULT_CORPUS_LIMITS, CorpusBudget, CorpusLimits, cut_roll, cut_score
from core.data.rollcache import cache_key, read_roll, write_roll
from core.midi.parser import MidiParser, read_source
from core.midi.score import MidiLimits, MidiRejected, Score
from core.music.pianoroll import DEFAULT_SPEC, PianoRoll, RollSpec, score_to_roll
from core.music.theory import PITCH_NAMES

MIDI_SUFFIXES = (".mid", ".midi")
MANIFEST_NAME = "manifest.csv"
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


@dataclass
class Source:
    """A file to load: its name, how to read its bytes, its split and manifest metadata; a source with a
    ``problem`` is reported as rejected for that reason without being read."""

    name: str
    read: Callable[[], bytes]
    split: str
    meta: dict = field(default_factory=dict)
    problem: str | None = None

    @classmethod
    def refused(cls, name: str, problem: str, split: str = "upload") -> Source:
        """A source refused before reading (an archive member that is not MIDI, a file over a budget)."""
        return cls(name, _refusal(problem), split, problem=problem)


# --- loading -----------------------------------------------------------------------------------------


def _score_info(score: Score) -> dict:
    """What a report and a piece's metadata need from a score (it is cached with the roll)."""
    numerator, denominator = score.meter
    info = {"summary": score.summary(), "time_signature": f"{numerator}/{denominator}"}
    if score.key_signatures:
        key_number = int(score.key_signatures[0][0])
        info["key_signature"] = f"{PITCH_NAMES[key_number % 12]} {'minor' if key_number >= 12 else 'major'}"
    return info


def _piece(source: Source, roll: PianoRoll, info: dict) -> tuple[Piece, FileReport]:
    meta = {"time_signature": info["time_signature"], "tempo_bpm": round(roll.tempo_bpm, 2)}
    if "key_signature" in info:
        meta["key_signature"] = info["key_signature"]
    meta.update(source.meta)
    message = f"{info['summary']}; {info['cut']}" if info.get("cut") else info["summary"]
    return Piece(source.name, roll, source.split, meta), FileReport(source.name, True, message)


def load_sources(
    sources: list[Source],
    spec: RollSpec,
    limits: MidiLimits,
    progress: bool = False,
    corpus_limits: CorpusLimits = DEFAULT_CORPUS_LIMITS,
) -> Corpus:
    """Load every source from the cache or, for cache misses only, through a :class:`MidiParser`.

    Pieces longer than ``corpus_limits.piece_steps`` are cut before their roll is built; the corpus admits
    pieces in order until it holds ``corpus_limits.corpus_steps`` steps (see :mod:`core.data.limits`).
    """
    loader = _Loader(sources, spec, limits, corpus_limits)
    misses = loader.cache_misses(_progress(sources, progress))
    first = next(misses, None)
    if first is not None:
        loader.parse(chain([first], misses))
    ordered = [loader.outcomes[index] for index in range(len(sources))]
    pieces = [piece for piece, _ in ordered if piece is not None]
    return Corpus(pieces, [report for _, report in ordered], spec)


class _Loader:
    """Collects each source's outcome by index; cache misses wait in order for the parser's results.

    Outcomes pass the corpus's step budget in index order (a cursor follows the settled outcomes), so which
    pieces are cut or left out does not depend on how fast the parser answers.
    """

    def __init__(self, sources: list[Source], spec: RollSpec, limits: MidiLimits, corpus: CorpusLimits):
        self.sources, self.spec, self.limits, self.corpus_limits = sources, spec, limits, corpus
        self.outcomes: dict[int, tuple[Piece | None, FileReport]] = {}
        self.waiting: deque[tuple[int, str]] = deque()
        self.budget = CorpusBudget(corpus.corpus_steps)
        self.cursor = 0

    def settle(self, index: int, outcome: tuple[Piece | None, FileReport]) -> None:
        """Record an outcome; admit every outcome from the cursor on that is now known, in order."""
        self.outcomes[index] = outcome
        while self.cursor in self.outcomes:
            self.outcomes[self.cursor] = self._admitted(*self.outcomes[self.cursor])
            self.cursor += 1

    def _admitted(self, piece: Piece | None, report: FileReport) -> tuple[Piece | None, FileReport]:
        if piece is None:
            return piece, report
        roll, note = self.budget.admit(piece.roll)
        if roll is None:
            return None, FileReport(report.name, False, str(note))
        if note:
            piece.roll, report.message = roll, f"{report.message}; {note}"
        return piece, report

    def cache_misses(self, sources: Iterable[Source]) -> Iterator[tuple[str, bytes]]:
        """Settle cached and unreadable sources; yield ``(name, bytes)`` of the others."""
        for index, source in enumerate(sources):
            if source.problem is not None:
                self.settle(index, (None, FileReport(source.name, False, source.problem)))
                continue
            if self.budget.full:  # nothing more fits: the file is not even read
                self.settle(index, (None, FileReport(source.name, False, self.budget.full_message())))
                continue
            try:
                data = source.read()
            except MidiRejected as error:
                self.settle(index, (None, FileReport(source.name, False, str(error))))
                continue
            key = cache_key(data, self.spec, self.limits, self.corpus_limits.piece_steps)
            cached = read_roll(key, self.spec)
            if cached is not None:
                self.settle(index, _piece(source, *cached))
                continue
            self.waiting.append((index, key))
            yield source.name, data

    def parse(self, files: Iterable[tuple[str, bytes]]) -> None:
        """Parse the misses in workers, turn each score into a roll, cache it (on a writer thread)."""
        with MidiParser(self.limits, workers=PARSE_WORKERS) as parser, ThreadPoolExecutor(1) as writer:
            for name, result in parser.parse_many(files):
                index, key = self.waiting.popleft()
                if isinstance(result, MidiRejected):
                    self.settle(index, (None, FileReport(name, False, str(result))))
                    continue
                roll, info = self.roll_of(result)
                writer.submit(write_roll, key, roll, info)
                self.settle(index, _piece(self.sources[index], roll, info))

    def roll_of(self, score: Score) -> tuple[PianoRoll, dict]:
        """The roll of a score cut to the piece budget first (see :func:`core.data.limits.cut_score`)."""
        max_steps = self.corpus_limits.piece_steps
        kept, cut = cut_score(score, self.spec, max_steps)
        info = _score_info(score)
        if cut:
            info["cut"] = cut
        return cut_roll(score_to_roll(kept, self.spec), max_steps), info


def _progress(sources: list[Source], enabled: bool) -> Iterable[Source]:
    if not enabled:
        return sources
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
    return lambda: read_source(path, limits)[0]


def load_folder(
    path: str | os.PathLike,
    spec: RollSpec = DEFAULT_SPEC,
    limits: MidiLimits = DEFAULT_LIMITS,
    progress: bool = False,
    corpus_limits: CorpusLimits = DEFAULT_CORPUS_LIMITS,
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
            sources.append(Source(file.name, _path_reader(file, limits), split, meta))
    return load_sources(sources, spec, limits, progress, corpus_limits)


def load_uploads(
    files: list[tuple[str, bytes]],
    spec: RollSpec = DEFAULT_SPEC,
    limits: MidiLimits = DEFAULT_LIMITS,
    progress: bool = False,
    corpus_limits: CorpusLimits = DEFAULT_CORPUS_LIMITS,
) -> Corpus:
    """Uploaded ``(name, bytes)`` files, all in the "upload" split."""
    sources = [Source(name, _constant(data), "upload") for name, data in files]
    return load_sources(sources, spec, limits, progress, corpus_limits)


def _constant(data: bytes) -> Callable[[], bytes]:
    return lambda: bytes(data)


def _refusal(problem: str) -> Callable[[], bytes]:
    def read() -> bytes:
        raise MidiRejected(problem)

    return read

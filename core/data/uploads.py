"""Uploaded MIDI files: load a batch (MIDI files and zip archives together) and keep the accepted ones.

``load_upload_batch`` gives one :class:`~core.data.corpus.Corpus` for everything a user uploaded at once,
within the upload budgets (:class:`~core.data.limits.CorpusLimits`: files and bytes per upload, steps per
piece and per corpus; over-long names are shortened).
``store_corpus`` writes accepted files into a content-addressed folder ``.cache/corpora/<hash>/``
(``$GMS_CACHE_DIR/corpora/<hash>/`` when that is set) with safe file names, so a training run can read it
as its ``data_dir``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from core.data.archives import count_members, zip_sources
from core.data.corpus import DEFAULT_LIMITS, DEFAULT_SPEC, MIDI_SUFFIXES, Corpus, Source, load_sources
from core.data.limits import DEFAULT_CORPUS_LIMITS, CorpusLimits, shorten_name
from core.files import atomic_folder
from core.midi.precheck import format_size
from core.midi.score import MidiLimits
from core.paths import cache_subdir

ZIP_SUFFIX = ".zip"
MAX_NAME_CHARS = 80
"""Longest stored file name, suffix included."""
UNSUPPORTED = "only .mid, .midi and .zip files are read"
_UNSAFE = re.compile(r"[^\w .()+-]")


def corpora_root() -> Path:
    """``.cache/corpora`` in the repository, or ``$GMS_CACHE_DIR/corpora``."""
    return cache_subdir("corpora")


def is_zip_name(name: str) -> bool:
    """Whether an uploaded file is a zip archive (by its name)."""
    return name.lower().endswith(ZIP_SUFFIX)


def is_midi_name(name: str) -> bool:
    """Whether an uploaded file is a MIDI file (by its name)."""
    return name.lower().endswith(MIDI_SUFFIXES)


def load_upload_batch(
    files: list[tuple[str, bytes]],
    limits: MidiLimits = DEFAULT_LIMITS,
    corpus_limits: CorpusLimits = DEFAULT_CORPUS_LIMITS,
) -> Corpus:
    """One corpus of every uploaded ``(name, bytes)``: MIDI files directly, ``.zip`` archives unpacked.

    Files with any other suffix, and files past the upload's file or byte budget, are rejected with a
    report without being read. Names longer than ``corpus_limits.name_chars`` are shortened, and say so.
    """
    sources = upload_sources(files, limits, corpus_limits)
    corpus = load_sources(sources, DEFAULT_SPEC, limits, corpus_limits=corpus_limits)
    long_names = {shorten_name(name, corpus_limits.name_chars): len(name) for name, _ in files}
    for report in corpus.reports:
        if long_names.get(report.name, 0) > corpus_limits.name_chars:
            report.message += (
                f" (its {long_names[report.name]:,}-character file name was shortened to "
                f"{corpus_limits.name_chars})"
            )
    return corpus


def upload_sources(
    files: list[tuple[str, bytes]], limits: MidiLimits, corpus_limits: CorpusLimits
) -> list[Source]:
    """Every uploaded file as sources, in order: a MIDI file is one, an archive its members; a file past
    the upload's budgets (files, zip members included, and bytes) is one refused source."""
    sources: list[Source] = []
    n_files = n_bytes = 0
    for name, data in files:
        name = shorten_name(name, corpus_limits.name_chars)
        n_bytes += len(data)
        if not (is_midi_name(name) or is_zip_name(name)):
            sources.append(Source.refused(name, UNSUPPORTED))
            continue
        adds = 1 if is_midi_name(name) else count_members(data)
        problem = _over_budget(n_files + adds, n_bytes, adds, corpus_limits)
        if problem:
            sources.append(Source.refused(name, problem))
        elif is_midi_name(name):
            sources.append(Source(name, _constant(data), "upload"))
        else:
            sources += zip_sources(data, limits, name=name)
        n_files += 0 if problem else adds
    return sources


def _over_budget(n_files: int, n_bytes: int, adds: int, corpus_limits: CorpusLimits) -> str | None:
    """Why a file would take an upload past its budgets (files counted so far with it, bytes), or None."""
    if n_bytes > corpus_limits.upload_bytes:
        return (
            f"not read: the files uploaded with it reach {format_size(n_bytes)}, and one upload may hold "
            f"at most {format_size(corpus_limits.upload_bytes)}; upload the rest separately"
        )
    if n_files > corpus_limits.upload_files:
        holds = f"its {adds:,} files would make" if adds > 1 else "it would make"
        return (
            f"not read: {holds} this upload {n_files:,} MIDI files, and one upload may hold at most "
            f"{corpus_limits.upload_files:,} (zip members included); upload the rest separately"
        )
    return None


def _constant(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def accepted_files(
    files: list[tuple[str, bytes]],
    corpus: Corpus,
    limits: MidiLimits = DEFAULT_LIMITS,
    corpus_limits: CorpusLimits = DEFAULT_CORPUS_LIMITS,
) -> list[tuple[str, bytes]]:
    """The uploaded files ``corpus`` accepted, as ``(name, bytes)`` under the names the corpus reports;
    accepted zip members are read out."""
    accepted = {report.name for report in corpus.reports if report.accepted}
    chosen = []
    for name, data in files:
        name = shorten_name(name, corpus_limits.name_chars)
        if is_zip_name(name):
            chosen += _zip_members(data, accepted, limits.max_bytes)
        elif is_midi_name(name) and name in accepted:
            chosen.append((name, data))
    return chosen


def _zip_members(data: bytes, names: set[str], max_bytes: int) -> list[tuple[str, bytes]]:
    """Members of an archive whose names are in ``names`` (already checked by ``load_zip``), size-bounded."""
    members = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.filename in names and not info.is_dir():
                    with archive.open(info) as stream:
                        content = stream.read(max_bytes + 1)
                    if len(content) <= max_bytes:
                        members.append((info.filename, content))
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError):
        return members
    return members


def display_name(text: str, limit: int = 120) -> str:
    """An untrusted name or message made safe to show: control characters dropped, length bounded."""
    shown = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def safe_file_name(name: str) -> str:
    """A plain file name for an untrusted one: no folders, control or odd characters, a MIDI suffix."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base)
    base = re.sub(r"\s+", " ", base).strip(" .")
    stem, suffix = os.path.splitext(base)
    if suffix.lower() not in MIDI_SUFFIXES:
        stem, suffix = base, ".mid"
    stem = stem.strip(" .") or "piece"
    return stem[: MAX_NAME_CHARS - len(suffix)].rstrip(" .") + suffix.lower()


def unique_names(names: list[str]) -> list[str]:
    """The names with ``name (2).mid``-style suffixes where two would be equal (ignoring case)."""
    seen: set[str] = set()
    result = []
    for name in names:
        stem, suffix = os.path.splitext(name)
        candidate, count = name, 1
        while candidate.lower() in seen:
            count += 1
            candidate = f"{stem} ({count}){suffix}"
        seen.add(candidate.lower())
        result.append(candidate)
    return result


def corpus_digest(files: list[tuple[str, bytes]]) -> str:
    """Hash of the stored names and contents, independent of upload order."""
    digest = hashlib.sha256()
    for name, data in sorted((name, hashlib.sha256(data).hexdigest()) for name, data in files):
        digest.update(f"{name}\0{data}\n".encode())
    return digest.hexdigest()[:24]


def store_corpus(files: list[tuple[str, bytes]]) -> Path:
    """Write ``(name, bytes)`` MIDI files into ``corpora/<hash>/`` with safe names; return the folder.

    The same files give the same folder (it is written once, atomically). Raises ``ValueError`` when
    there is nothing to store.
    """
    if not files:
        raise ValueError("there are no accepted MIDI files to store")
    ordered = sorted(files, key=lambda item: (safe_file_name(item[0]), hashlib.sha256(item[1]).digest()))
    names = unique_names([safe_file_name(name) for name, _ in ordered])
    stored = [(name, data) for name, (_, data) in zip(names, ordered, strict=True)]
    folder = corpora_root() / corpus_digest(stored)
    if folder.is_dir():
        return folder
    with atomic_folder(folder) as staging:
        for name, data in stored:
            (staging / name).write_bytes(data)
    return folder

"""Uploaded MIDI files: load a batch (MIDI files and zip archives together) and keep the accepted ones.

``load_upload_batch`` gives one :class:`~core.data.corpus.Corpus` for everything a user uploaded at once.
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
from pathlib import Path, PurePosixPath

from core.data.archives import load_zip
from core.data.corpus import DEFAULT_LIMITS, MIDI_SUFFIXES, Corpus, FileReport, load_uploads
from core.files import atomic_folder
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


def load_upload_batch(files: list[tuple[str, bytes]], limits: MidiLimits = DEFAULT_LIMITS) -> Corpus:
    """One corpus of every uploaded ``(name, bytes)``: MIDI files directly, ``.zip`` archives unpacked.

    Files with any other suffix are rejected with a report without being read.
    """
    midis = load_uploads([(name, data) for name, data in files if is_midi_name(name)], limits=limits)
    midi_reports, midi_pieces = iter(midis.reports), iter(midis.pieces)
    pieces, reports = [], []
    for name, data in files:
        if is_midi_name(name):
            reports.append(next(midi_reports))
            pieces += [next(midi_pieces)] if reports[-1].accepted else []
        elif is_zip_name(name):
            archive = load_zip(data, limits=limits, name=name)
            pieces, reports = pieces + archive.pieces, reports + archive.reports
        else:
            reports.append(FileReport(name, False, UNSUPPORTED))
    return Corpus(pieces, reports, midis.spec)


def accepted_files(
    files: list[tuple[str, bytes]], corpus: Corpus, limits: MidiLimits = DEFAULT_LIMITS
) -> list[tuple[str, bytes]]:
    """The uploaded files ``corpus`` accepted, as ``(name, bytes)``; accepted zip members are read out."""
    accepted = {report.name for report in corpus.reports if report.accepted}
    chosen = []
    for name, data in files:
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

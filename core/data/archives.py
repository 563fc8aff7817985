"""Uploaded zip archives: the MIDI files inside, read in memory with zip-bomb and path guards."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from core.budgets import BUDGETS
from core.data.corpus import DEFAULT_LIMITS, DEFAULT_SPEC, MIDI_SUFFIXES, Corpus, Source, load_sources
from core.data.limits import DEFAULT_CORPUS_LIMITS, CorpusLimits
from core.midi.precheck import format_size
from core.midi.score import MidiLimits, MidiRejected
from core.music.pianoroll import RollSpec


@dataclass(frozen=True)
class ZipLimits:
    """Guards for an uploaded zip archive (on top of the per-file :class:`MidiLimits`); the budgets among
    them come from :data:`core.budgets.BUDGETS`."""

    max_members: int = BUDGETS.upload_files
    """Files in the archive (folders and macOS resource files not counted)."""
    max_total_bytes: int = BUDGETS.zip_unpacked_bytes
    """Declared uncompressed size of all MIDI members together."""
    max_ratio: float = 200.0
    """Uncompressed / compressed size above which a member is treated as a zip bomb."""
    max_depth: int = 8
    """Folders a member may be nested in."""


def load_zip(
    data: bytes,
    spec: RollSpec = DEFAULT_SPEC,
    limits: MidiLimits = DEFAULT_LIMITS,
    zip_limits: ZipLimits = ZipLimits(),
    name: str = "archive.zip",
    progress: bool = False,
    corpus_limits: CorpusLimits = DEFAULT_CORPUS_LIMITS,
) -> Corpus:
    """The MIDI files inside an uploaded zip archive, all in the "upload" split; read in memory only.

    Folders inside the archive are fine; members with absolute or ``..`` paths, nested too deep, not
    ``.mid``/``.midi``, encrypted, oversized or suspiciously compressed are rejected with a report. An
    archive with too many members or too much content gives a corpus with one report and no pieces.
    """
    sources = zip_sources(data, limits, zip_limits, name)
    return load_sources(sources, spec, limits, progress, corpus_limits)


def zip_sources(
    data: bytes, limits: MidiLimits = DEFAULT_LIMITS, zip_limits: ZipLimits = ZipLimits(), name: str = ""
) -> list[Source]:
    """The members of an archive as sources, in archive order; refused members (and a refused archive,
    under its own ``name``) are sources that carry their ``problem`` and are never read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not _is_noise(info)]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return [Source.refused(name, f"{name} is not a readable zip archive")]
    problem = _archive_problem(members, zip_limits)
    if problem:
        return [Source.refused(name, problem)]
    sources = []
    for info in members:
        reason = _member_problem(info, limits, zip_limits)
        if reason is None:
            sources.append(Source(info.filename, _member_reader(archive, info, limits), "upload"))
        else:
            sources.append(Source.refused(info.filename, reason))
    return sources


def count_members(data: bytes) -> int:
    """How many files an archive holds (folders and macOS resource files not counted); 0 if unreadable."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(not _is_noise(info) for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return 0


def _is_noise(info: zipfile.ZipInfo) -> bool:
    """Folders and the resource-fork files macOS adds to archives."""
    path = PurePosixPath(info.filename)
    return info.is_dir() or path.parts[:1] == ("__MACOSX",) or path.name.startswith("._")


def _archive_problem(members: list[zipfile.ZipInfo], zip_limits: ZipLimits) -> str | None:
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

"""Every resource budget of the studio in one place: what one file, one upload, one cache, one render or one
training run may take from the class's server, so that nothing a visitor does can take it down or fill its
disk.

The limits of each stage take their defaults from :data:`BUDGETS`: :class:`core.midi.score.MidiLimits` (one
MIDI file), :class:`core.data.archives.ZipLimits` (one archive), :class:`core.data.limits.CorpusLimits`
(pieces, corpora, uploads), :class:`core.audio.config.RenderConfig` (one render), the in-memory caches of
:mod:`core.studio.memcache`, the disk budgets of :mod:`core.studio.storage` and the training process's
memory limit (:mod:`core.studio.jobs`). ``docs/security.md`` lists every budget with what happens when it is
reached; a test keeps that list and this class in step.

A *step* is one cell of the piano-roll's time grid (a sixteenth note on the default grid); a roll costs
144 bytes per step (three arrays of 48 pitches).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

MB = 1 << 20
"""One mebibyte: every size here is in bytes, written as a multiple of this."""


@dataclass(frozen=True)
class Budgets:
    """The studio's budgets. Sizes are in bytes, times in seconds, memory limits in MB (2**20 bytes)."""

    # one MIDI file
    midi_file_bytes: int = 1 * MB
    """Largest MIDI file read (refused above)."""
    midi_seconds: float = 600.0
    """Longest MIDI file read, in seconds (refused above)."""
    parse_seconds: float = 15.0
    """Wall-clock and CPU seconds the sandboxed reader may spend on one file (refused above)."""
    parse_worker_mb: int = 300
    """Memory the sandboxed reader may add to its start-up size (refused above)."""

    # one upload
    upload_file_mb: int = 8
    """Largest single uploaded file, in MB (a zip of MIDI files; the server refuses larger ones)."""
    upload_files: int = 300
    """MIDI files in one upload, zip members included (later ones are not read)."""
    upload_bytes: int = 32 * MB
    """Bytes of one upload, all files together (later files are not read)."""
    zip_unpacked_bytes: int = 64 * MB
    """Declared unpacked size of one archive's MIDI files (the archive is refused above)."""
    name_chars: int = 255
    """Longest file name kept; longer names are shortened (the longest name most file systems allow)."""

    # piano-rolls and training data
    piece_steps: int = 8192
    """Steps kept of one piece (512 bars of 4/4); a longer piece is cut, and says so."""
    corpus_steps: int = 500_000
    """Steps in one corpus (72 MB of rolls, 5.5 × the bundled chorales); later pieces are cut or left out."""
    training_windows: int = 30_000
    """Training windows (transpositions included) one run learns from; more are thinned evenly."""

    # memory
    cached_object_bytes: int = 96 * MB
    """Largest object an in-memory cache keeps (a larger one is rebuilt when needed)."""
    corpus_cache_bytes: int = 256 * MB
    """In-memory cache of loaded uploads (least recently used dropped first)."""
    audio_cache_bytes: int = 128 * MB
    """In-memory cache of rendered audio (least recently used dropped first)."""
    training_address_space_mb: int = 3072
    """Address space of a training process on a CPU (its allocations fail above; the run fails, saying so)."""

    # audio
    audio_seconds: float = 180.0
    """Seconds of a piece rendered to audio; a longer piece renders its beginning, and says so."""
    render_seconds: float = 60.0
    """Wall-clock seconds one render may take (FluidSynth is stopped above)."""

    # disk
    disk_audio_bytes: int = 512 * MB
    """Rendered audio in ``.cache/audio`` (least recently used renders deleted first)."""
    disk_rolls_bytes: int = 256 * MB
    """Cached piano-rolls in ``.cache/rolls`` (least recently used deleted first)."""
    disk_voices_bytes: int = 64 * MB
    """Cached four-voice conversions in ``.cache/voices`` (least recently used deleted first)."""
    disk_corpora_bytes: int = 256 * MB
    """Uploaded corpora in ``.cache/corpora`` (least recently used deleted first, never the one in use)."""
    disk_runs_bytes: int = 4096 * MB
    """Training runs in ``runs/``; when full, no new run starts until a teacher deletes old ones."""

    @property
    def disk_cache_bytes(self) -> int:
        """The evicted part of ``.cache/`` (audio, rolls, four-voice conversions and corpora) together."""
        return (
            self.disk_audio_bytes + self.disk_rolls_bytes + self.disk_voices_bytes + self.disk_corpora_bytes
        )

    def names(self) -> list[str]:
        """Every budget's field name, in declaration order."""
        return [field.name for field in fields(self)]


BUDGETS = Budgets()
"""The budgets the studio runs with."""


def format_bytes(n_bytes: int) -> str:
    """A size as people read it: ``"512 MB"``, ``"4 GB"``, ``"1.5 KB"``, ``"700 bytes"`` (powers of 1,024)."""
    for unit, size in (("GB", 1 << 30), ("MB", MB), ("KB", 1 << 10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n_bytes} bytes"

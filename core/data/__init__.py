"""Corpora of MIDI files as piano-rolls: loading (folders, uploads, zips), the roll cache, training windows,
statistics, uploaded-corpus storage and the JSB Chorales benchmark split."""

from core.data.archives import ZipLimits, load_zip
from core.data.corpus import (
    DEFAULT_LIMITS,
    MIDI_SUFFIXES,
    Corpus,
    FileReport,
    Piece,
    load_folder,
    load_uploads,
)
from core.data.stats import CorpusStats, corpus_stats, pitch_class_weights
from core.data.windows import windows

__all__ = [
    "DEFAULT_LIMITS",
    "MIDI_SUFFIXES",
    "Corpus",
    "CorpusStats",
    "FileReport",
    "Piece",
    "ZipLimits",
    "corpus_stats",
    "load_folder",
    "load_uploads",
    "load_zip",
    "pitch_class_weights",
    "windows",
]

"""Hostile uploads, built by code: what one visitor can send at once to exhaust the server.

Each builder returns ``(name, bytes)`` files as the Dataset page receives them; the tests state the exact
outcome of each (see ``tests/data/test_upload_budgets.py`` and ``tests/app/test_hostile_upload.py``).
"""

from __future__ import annotations

import io
import zipfile

from tests.support.hostile_midi import CASES, simple_file

LONG_NAME_CHARS = 5000
"""A file name far past every limit: Streamlit's server refuses a multipart part header this long (over
4,224 bytes, python-multipart's limit), so only a hand-made request or a test brings it to the page."""
UNICODE_NAME = "Bach – Choral №1 (äöü 中文 🎵).mid"
HIDDEN_CONTROLS_NAME = "evil\u202egnp.mid"
"""A right-to-left override that would show the name as "evildim.png"."""


def zip_of(members: list[tuple[str, bytes]]) -> bytes:
    """A deflated archive of ``members`` (in order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def long_but_tiny_files(count: int = 250) -> list[tuple[str, bytes]]:
    """``count`` different ten-minute files of 51 bytes (two notes at 2,000 bpm, 19,990 beats apart)."""
    return [
        (f"long_{index:03d}.mid", CASES["long_but_tiny"](24 + index % 100).data) for index in range(count)
    ]


def long_but_tiny_zip(count: int = 250) -> tuple[str, bytes]:
    """The archive of the report: a few KB whose files would make gigabytes of piano-rolls."""
    return "ten_minutes_each.zip", zip_of(long_but_tiny_files(count))


def many_small_files(count: int) -> list[tuple[str, bytes]]:
    """``count`` valid one-note files, each different."""
    return [(f"small_{index:04d}.mid", simple_file(1 + index % 7)) for index in range(count)]


def megabyte_files(count: int) -> list[tuple[str, bytes]]:
    """``count`` files of 1 MiB of zeros named ``.mid`` (refused as not MIDI, but they count as sent)."""
    return [(f"zeros_{index:02d}.mid", bytes(1 << 20)) for index in range(count)]


def long_name() -> str:
    """A ``.mid`` name of :data:`LONG_NAME_CHARS` characters."""
    return "n" * (LONG_NAME_CHARS - 4) + ".mid"

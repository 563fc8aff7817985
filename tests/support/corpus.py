"""A tiny corpus of MIDI files for training tests: three 6-bar pieces of alternating chords."""

from __future__ import annotations

from pathlib import Path

from tests.support.midi_files import make_midi


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, root in enumerate((48, 50, 53)):
        notes = []
        for bar in range(6):  # 6 bars of 4 beats at 120 bpm: 12 s
            for beat in range(4):
                start = bar * 2.0 + beat * 0.5
                chord = (
                    (root, root + 4, root + 7) if (bar + beat) % 2 == 0 else (root + 2, root + 5, root + 9)
                )
                notes += [(p, start, start + 0.5) for p in chord]
        (folder / f"piece{index}.mid").write_bytes(make_midi(notes))
    return folder

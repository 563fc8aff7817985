"""Input/output figures: corpus load (cold and warm cache), roll building, windows, peak memory, rendering.

Run as ``python benchmarks/bench_io.py [FOLDER]`` (default: the bundled chorales). Prints figures and the
targets they are meant to meet; asserts nothing. The cold load uses an empty temporary cache folder.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data import load_folder, windows
from core.music.pianoroll import roll_to_pretty_midi, score_to_roll, window
from core.paths import DEFAULT_CORPUS

TARGETS = {"cold load": 3.0, "warm load": 0.2, "peak RSS": 300.0}
RENDER_SECONDS = 30.0


def timed(function, *args, **kwargs):
    """``(result, seconds)`` of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def report(label: str, value: float, unit: str, target: float | None = None) -> None:
    verdict = (
        "" if target is None else f"  (target ≤ {target:g} {unit}: {'ok' if value <= target else 'MISSED'})"
    )
    print(f"{label:<34} {value:10.3f} {unit}{verdict}")


def bench_loads(folder: Path) -> object:
    """Cold and warm loads of ``folder`` through an empty cache; returns the warm corpus."""
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GMS_CACHE_DIR"] = cache
        cold, cold_s = timed(load_folder, folder)
        warm, warm_s = timed(load_folder, folder)
    counts = f"{len(cold.pieces)} pieces, {len(cold.rejected)} rejected, {cold.n_steps:,} steps"
    print(f"corpus: {folder.name}: {counts}")
    report("cold load (empty cache)", cold_s, "s", TARGETS["cold load"])
    report("warm load (cached)", warm_s, "s", TARGETS["warm load"])
    return warm


def bench_rolls(folder: Path) -> None:
    """Parsing alone, then score → roll for every file, to separate the two costs."""
    from core.midi.parser import MidiParser

    files = [(path.name, path.read_bytes()) for path in sorted(folder.glob("*.mid"))]
    with MidiParser() as parser:
        parser.start()
        scores, parse_s = timed(
            lambda: [s for _, s in parser.parse_many(files) if not isinstance(s, Exception)]
        )
    rolls, roll_s = timed(lambda: [score_to_roll(score) for score in scores])
    report("parse in worker (warm worker)", parse_s, "s")
    report("score → roll, all files", roll_s, "s")
    report("score → roll, per file", 1000 * roll_s / max(len(rolls), 1), "ms")


def bench_windows(corpus) -> None:
    (active, _), windows_s = timed(windows, corpus, bars=4, hop_bars=1, beats_per_bar=4)
    print(f"windows: {active.shape[0]:,} of {active.shape[1]} steps × {active.shape[2]} pitches")
    report("windows (4 bars, hop 1 bar)", windows_s, "s")
    (augmented, _), augmented_s = timed(windows, corpus, transpose=range(-3, 4))
    print(f"windows with transpositions -3..+3: {augmented.shape[0]:,}")
    report("windows with 6 transpositions", augmented_s, "s")


def bench_render(corpus) -> None:
    try:
        from core.audio import RenderConfig, render_wav
    except ImportError:
        print("render: core.audio.render_wav is not available")
        return
    roll = max(corpus.pieces, key=lambda piece: piece.roll.n_steps).roll
    steps = round(RENDER_SECONDS / roll.step_seconds)
    piece = window(roll, 0, steps)
    midi = roll_to_pretty_midi(piece)
    config = RenderConfig(sample_rate=22050, use_cache=False)
    audio, render_s = timed(render_wav, midi, config)
    print(f"render: {audio.seconds:.1f} s of audio at {audio.sample_rate} Hz with {audio.engine}")
    report("render time", render_s, "s")
    report("render speed", audio.seconds / render_s, "× real time")


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child, in MB (Linux: KiB units)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    corpus = bench_loads(folder)
    report("peak RSS after the loads", peak_rss_mb()[0], "MB", TARGETS["peak RSS"])
    bench_rolls(folder)
    bench_windows(corpus)
    bench_render(corpus)
    own, children = peak_rss_mb()
    report("peak RSS, this process (incl. transposed windows)", own, "MB")
    report("peak RSS, largest child (parse worker)", children, "MB", TARGETS["peak RSS"])


if __name__ == "__main__":
    main()

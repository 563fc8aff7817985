"""Export Bach's chorale harmonisations from music21's bundled corpus to MIDI files and a manifest.

The pieces are the 371 chorales of Riemenschneider's collection as music21 lists them
(`corpus.chorales.ChoraleListRKBWV`, the list behind `corpus.chorales.Iterator()`), one file per
distinct BWV number. Each file has 480 ticks per quarter, a conductor track (tempo, time and key
signatures, and a marker event "fermata" at the onset of every phrase-ending fermata) and one named track
per part; repeats are written out and a pickup bar is padded with rests so that bar lines fall on the MIDI
downbeats.

music21 is a development dependency (requirements-dev.txt); the app only reads the exported files.

    python scripts/export_chorales.py [--out DIR] [--limit N] [--verify-against OLD_DIR]

With ``--verify-against`` the new files are parsed next to an earlier export (a copy of the folder made
before this run) and every piece's notes and piano-roll must be identical; the script fails otherwise.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mido
    from music21 import stream

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "data" / "chorales"
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("id", "title", "key", "mode", "time_signature", "parts", "fermatas", "split")
TICKS_PER_QUARTER = 480
DEFAULT_TEMPO_BPM = 100.0
MUSICXML_SUFFIXES = (".mxl", ".xml", ".musicxml")
FERMATA_MARKER = "fermata"
"""Text of the MIDI marker event written at the onset of each phrase-ending fermata."""
MELODY_PART = "soprano"
"""The part whose fermatas mark the phrase ends (the chorale melody); matched at the start of a part name."""

log = logging.getLogger("export_chorales")


@dataclass(frozen=True)
class ChoraleSource:
    """One distinct chorale: its file id, music21 corpus name and title."""

    id: str
    corpus_name: str
    title: str


@dataclass(frozen=True)
class ExportedPiece:
    """What one exported file holds: a manifest row plus its size and note fingerprint."""

    row: dict[str, str]
    n_bytes: int
    fingerprint: str


class ChoraleSkipped(Exception):
    """A chorale that is not exported; the message says why."""


def chorale_id(bwv: str) -> str:
    """A filename-safe id from a BWV number: "248.12-2" -> "bwv248_12-2"."""
    return "bwv" + re.sub(r"[^A-Za-z0-9-]", "_", bwv)


def split_for(piece_id: str) -> str:
    """Deterministic split from a hash of the id: 80% train, 10% valid, 10% test."""
    bucket = int(hashlib.sha256(piece_id.encode()).hexdigest()[:8], 16) % 10
    if bucket == 8:
        return "valid"
    if bucket == 9:
        return "test"
    return "train"


def list_chorales() -> list[ChoraleSource]:
    """The distinct chorales of music21's Riemenschneider list, in Riemenschneider order."""
    from music21.corpus.chorales import ChoraleListRKBWV

    titles: dict[str, str] = {}
    for _, info in sorted(ChoraleListRKBWV().byRiemenschneider.items()):
        titles.setdefault(str(info["bwv"]), info["title"])
    sources, used = [], set()
    for bwv, title in titles.items():
        piece_id = unique_id(chorale_id(bwv), used)
        used.add(piece_id)
        sources.append(ChoraleSource(piece_id, f"bach/bwv{bwv}", title))
    return sources


def unique_id(piece_id: str, used: set[str]) -> str:
    """`piece_id`, or `piece_id` with the first free suffix "-2", "-3", ... when it is taken."""
    candidate, n = piece_id, 1
    while candidate in used:
        n += 1
        candidate = f"{piece_id}-{n}"
    return candidate


@contextmanager
def ticks_per_quarter(ticks: int) -> Iterator[None]:
    """Make music21 write MIDI at `ticks` per quarter note (its default is 10,080)."""
    from music21 import defaults

    saved = defaults.ticksPerQuarter
    defaults.ticksPerQuarter = ticks
    try:
        yield
    finally:
        defaults.ticksPerQuarter = saved


def pickup_padding(score: stream.Score) -> float:
    """Quarter notes missing from an incomplete first bar (0 when the piece starts on a downbeat)."""
    from music21 import stream

    first_bar = score.parts[0].getElementsByClass(stream.Measure).first()
    if first_bar is None:
        return 0.0
    missing = first_bar.barDuration.quarterLength - first_bar.duration.quarterLength
    return float(max(missing, 0.0))


def shift_music(part: stream.Part, quarters: float) -> None:
    """Delay everything in a flat part except the signatures, clefs and instruments at offset 0."""
    from music21 import note

    for element in list(part):
        offset = part.elementOffset(element)
        if offset > 0 or isinstance(element, note.GeneralNote):
            part.setElementOffset(element, offset + quarters)
    part.coreElementsChanged()


def keep_signatures(part: stream.Part, keep: bool) -> None:
    """Drop the part's tempo, time and key signatures (`keep=False`) or only those that restate
    the previous one, copies left by written-out repeats (`keep=True`)."""
    from music21 import key, meter, tempo

    labels = {
        meter.TimeSignature: lambda signature: signature.ratioString,
        key.KeySignature: lambda signature: signature.sharps,
        tempo.MetronomeMark: lambda mark: mark.getQuarterBPM(),
    }
    for kind, label in labels.items():
        previous = None
        for signature in list(part.getElementsByClass(kind)):
            if not keep or label(signature) == previous:
                part.remove(signature)
            previous = label(signature)


def midi_ready(score: stream.Score, tempo_bpm: float) -> stream.Score:
    """Flat parts with repeats written out and the pickup padded; the first part alone carries the
    tempo (a default one when the score has none), time and key signatures for MIDI's conductor track."""
    from music21 import stream, tempo

    try:
        expanded = score.expandRepeats()
    except Exception as err:
        raise ChoraleSkipped(f"music21 cannot expand its repeats ({type(err).__name__}: {err})") from err
    padding = pickup_padding(expanded)
    ready = stream.Score()
    for index, part in enumerate(expanded.parts):
        flat = part.flatten()
        keep_signatures(flat, keep=index == 0)
        if padding:
            shift_music(flat, padding)
        ready.insert(0, flat)
    if not expanded[tempo.MetronomeMark]:
        ready.parts[0].insert(0, tempo.MetronomeMark(number=tempo_bpm))
    return ready


def fermata_spans(part: stream.Part) -> list[tuple[float, float]]:
    """(onset, end) in quarter notes of every note, chord or rest of a flat part that bears a fermata.

    A fermata written on the second note of a tie (often the final chord, tied over a bar line) belongs to
    the note that sounds there, which started with the tie: its span starts at the tie's first note.
    """
    from music21 import expressions

    items = list(part.notesAndRests)
    spans = []
    for index, item in enumerate(items):
        if not any(isinstance(mark, expressions.Fermata) for mark in item.expressions):
            continue
        first = index
        while first > 0 and tied_over(items[first - 1], items[first]):
            first -= 1
        end = part.elementOffset(item) + item.quarterLength
        spans.append((float(part.elementOffset(items[first])), float(end)))
    return spans


def tied_over(before: object, after: object) -> bool:
    """Whether `after` continues `before` through a tie (same pitches, `before` tied onwards)."""
    tie = getattr(before, "tie", None)
    if tie is None or tie.type not in ("start", "continue") or getattr(after, "tie", None) is None:
        return False
    return [p.midi for p in before.pitches] == [p.midi for p in after.pitches]


def fermata_onsets(score: stream.Score) -> list[float]:
    """Onsets (quarter notes, in a prepared score) of the phrase ends that the fermatas mark.

    The melody's fermatas: those of the first part whose name starts with "Soprano". Inner voices often
    reach the cadence chord later than the melody, or carry a fermata the melody lacks, so they are not
    counted, except when the melody has no fermata at all: then the fermatas of all parts are merged,
    overlapping ones into one phrase end at the earliest onset.
    """
    names = [(part.partName or "").strip().lower() for part in score.parts]
    melody = next((index for index, name in enumerate(names) if name.startswith(MELODY_PART)), None)
    spans = fermata_spans(score.parts[melody]) if melody is not None else []
    if not spans:
        spans = [span for part in score.parts for span in fermata_spans(part)]
    onsets: list[float] = []
    latest_end = float("-inf")
    for onset, end in sorted(spans):
        if onset >= latest_end or not onsets:
            onsets.append(onset)
        latest_end = max(latest_end, end)
    return onsets


def midi_bytes(score: stream.Score, markers: list[float] = ()) -> bytes:
    """A format-1 MIDI file of a prepared score at TICKS_PER_QUARTER, one channel per part, with a
    fermata marker at each of the `markers` (quarter notes)."""
    from music21 import midi

    with ticks_per_quarter(TICKS_PER_QUARTER):
        midi_file = midi.translate.streamToMidiFile(score, addEndDelay=False)
        data = midi_file.writestr()
    ticks = [round(quarters * TICKS_PER_QUARTER) for quarters in markers]
    return finish_midi(data, ticks)


def finish_midi(data: bytes, marker_ticks: list[int]) -> bytes:
    """Give every music track its own channel (music21 shares one among parts with the same program),
    skipping the drum channel 10, so that a synthesizer keeps voices in unison apart; add a marker event
    FERMATA_MARKER at each of `marker_ticks` to the conductor track."""
    import mido

    midi_file = mido.MidiFile(file=io.BytesIO(data))
    channels = [channel for channel in range(16) if channel != 9]
    for index, track in enumerate(midi_file.tracks[1:]):
        for message in track:
            if hasattr(message, "channel"):
                message.channel = channels[index % len(channels)]
    markers = [mido.MetaMessage("marker", text=FERMATA_MARKER, time=tick) for tick in marker_ticks]
    midi_file.tracks[0] = with_events(midi_file.tracks[0], markers)
    out = io.BytesIO()
    midi_file.save(file=out)
    return out.getvalue()


def with_events(track: mido.MidiTrack, events: list[mido.MetaMessage]) -> mido.MidiTrack:
    """The track with `events` (their `time` an absolute tick) merged in: after the track's own events
    at the same tick, and before its end-of-track event, which moves to the latest tick if need be."""
    import mido

    timed, tick, end_tick = [], 0, 0
    for message in track:
        tick += message.time
        if message.type == "end_of_track":
            end_tick = tick
        else:
            timed.append((tick, message))
    timed += [(event.time, event) for event in events]
    timed.sort(key=lambda item: item[0])  # stable: the track's own events first at equal ticks
    merged, previous = mido.MidiTrack(), 0
    for tick, message in timed:
        merged.append(message.copy(time=tick - previous))
        previous = tick
    merged.append(mido.MetaMessage("end_of_track", time=max(end_tick - previous, 0)))
    return merged


def key_and_mode(score: stream.Score) -> tuple[str, str]:
    """Tonic ("Bb", "F#") and mode: the encoding's own key, else music21's key analysis."""
    from music21 import key

    found = score[key.KeySignature].first()
    if not (isinstance(found, key.Key) and found.mode in ("major", "minor")):
        found = score.analyze("key")
    return found.tonic.name.replace("-", "b"), found.mode


def time_signature(score: stream.Score) -> str:
    """The first time signature, e.g. "4/4" (music21's own default when the score has none)."""
    from music21 import meter

    first = score[meter.TimeSignature].first()
    return first.ratioString if first is not None else "4/4"


def note_fingerprint(score: stream.Score) -> str:
    """A hash of every part's (offset, pitches, duration) sequence, to find identical encodings."""
    digest = hashlib.sha256()
    for part in score.parts:
        for item in part.flatten().notes:
            pitches = ",".join(str(p.midi) for p in item.pitches)
            digest.update(f"{item.offset}:{pitches}:{item.quarterLength};".encode())
        digest.update(b"|")
    return digest.hexdigest()


def corpus_file(corpus_name: str) -> Path:
    """The corpus file for a name, preferring MusicXML (named parts, written-out repeats) to Humdrum."""
    from music21 import corpus

    found = corpus.getWork(corpus_name)
    paths = found if isinstance(found, list) else [found]
    return min((Path(path) for path in paths), key=lambda path: path.suffix not in MUSICXML_SUFFIXES)


def export_one(source: ChoraleSource, out_dir: Path, tempo_bpm: float) -> ExportedPiece:
    """Parse one chorale, write `<id>.mid` into `out_dir`, and describe it."""
    from music21 import converter

    try:
        score = converter.parse(corpus_file(source.corpus_name))
    except Exception as err:
        raise ChoraleSkipped(f"music21 cannot parse it ({type(err).__name__}: {err})") from err
    ready = midi_ready(score, tempo_bpm)
    fermatas = fermata_onsets(ready)
    data = midi_bytes(ready, fermatas)
    key, mode = key_and_mode(score)
    row = {
        "id": source.id,
        "title": source.title,
        "key": key,
        "mode": mode,
        "time_signature": time_signature(score),
        "parts": str(len(score.parts)),
        "fermatas": str(len(fermatas)),
        "split": split_for(source.id),
    }
    (out_dir / f"{source.id}.mid").write_bytes(data)
    return ExportedPiece(row, len(data), note_fingerprint(score))


def remove_previous_export(out_dir: Path) -> int:
    """Delete the MIDI files an earlier run listed in `out_dir`'s manifest; return how many."""
    manifest = out_dir / MANIFEST_NAME
    if not manifest.exists():
        return 0
    removed = 0
    with manifest.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            path = out_dir / f"{row['id']}.mid"
            if path.exists():
                path.unlink()
                removed += 1
    return removed


def write_manifest(rows: list[dict[str, str]], path: Path) -> None:
    """Write the manifest CSV (MANIFEST_COLUMNS), one row per exported file."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def export_all(
    sources: list[ChoraleSource], out_dir: Path, tempo_bpm: float
) -> tuple[list[ExportedPiece], dict[str, str]]:
    """Export every source; duplicates of an exported encoding and failures are skipped, with reasons."""
    from tqdm import tqdm

    exported: list[ExportedPiece] = []
    skipped: dict[str, str] = {}
    seen: dict[str, str] = {}
    for source in tqdm(sources, desc="chorales", unit="piece"):
        try:
            piece = export_one(source, out_dir, tempo_bpm)
        except ChoraleSkipped as err:
            skipped[source.id] = str(err)
            log.warning("skipped %s: %s", source.id, err)
            continue
        if piece.fingerprint in seen:
            (out_dir / f"{source.id}.mid").unlink()
            skipped[source.id] = f"same notes as {seen[piece.fingerprint]}"
            log.warning("skipped %s: %s", source.id, skipped[source.id])
            continue
        seen[piece.fingerprint] = source.id
        exported.append(piece)
    return exported, skipped


def summary(exported: list[ExportedPiece], skipped: dict[str, str], seconds: float) -> str:
    """A few lines: counts, size, meters, part counts, splits, skipped pieces, time taken."""
    rows = [piece.row for piece in exported]
    total_kb = sum(piece.n_bytes for piece in exported) / 1024
    lines = [
        f"exported {len(rows)} pieces ({total_kb:.0f} KiB) in {seconds:.1f} s; skipped {len(skipped)}",
        f"meters: {dict(Counter(row['time_signature'] for row in rows).most_common())}",
        f"parts: {dict(Counter(row['parts'] for row in rows).most_common())}",
        f"modes: {dict(Counter(row['mode'] for row in rows).most_common())}",
        f"fermatas per piece: {dict(sorted(Counter(int(row['fermatas']) for row in rows).items()))}",
        f"splits: {dict(Counter(row['split'] for row in rows).most_common())}",
    ]
    lines += [f"skipped {piece_id}: {reason}" for piece_id, reason in skipped.items()]
    return "\n".join(lines)


def verify_notes_unchanged(before: Path, after: Path, ids: list[str]) -> list[str]:
    """Differences between the notes of two exports of the same pieces (an empty list: none).

    Each file of `ids` is parsed in both folders the way the app parses it (sandboxed worker); its notes
    (pitch, velocity, program, track, start, end) and its piano-roll on a sixteenth-note grid over the
    88 piano keys (active, onset and velocity cells) must be identical.
    """
    sys.path.insert(0, str(REPO_ROOT))
    import numpy as np

    from core.midi.parser import MidiParser
    from core.music.pianoroll import RollSpec, score_to_roll

    spec = RollSpec(steps_per_beat=4, lowest_pitch=21, n_pitches=88)
    problems = []
    with MidiParser() as parser:
        for piece_id in ids:
            old_path, new_path = before / f"{piece_id}.mid", after / f"{piece_id}.mid"
            if not old_path.is_file():
                problems.append(f"{piece_id}: not in {before}")
                continue
            old = parser.parse(old_path.read_bytes(), old_path.name)
            new = parser.parse(new_path.read_bytes(), new_path.name)
            if not np.array_equal(old.notes, new.notes):
                problems.append(f"{piece_id}: the notes differ")
            old_roll, new_roll = score_to_roll(old, spec), score_to_roll(new, spec)
            for field in ("active", "onset", "velocity"):
                if not np.array_equal(getattr(old_roll, field), getattr(new_roll, field)):
                    problems.append(f"{piece_id}: the piano-roll's {field} cells differ")
    return problems


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/chorales)"
    )
    parser.add_argument("--limit", type=int, default=None, help="export only the first N chorales")
    parser.add_argument("--tempo", type=float, default=DEFAULT_TEMPO_BPM, help="bpm when a score has none")
    parser.add_argument(
        "--verify-against",
        type=Path,
        default=None,
        metavar="OLD_DIR",
        help="a copy of an earlier export: fail unless every piece's notes and piano-roll are unchanged",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    removed = remove_previous_export(args.out)
    if removed:
        log.info("removed %d files of the previous export", removed)
    sources = list_chorales()[: args.limit]
    started = time.perf_counter()
    exported, skipped = export_all(sources, args.out, args.tempo)
    write_manifest([piece.row for piece in exported], args.out / MANIFEST_NAME)
    print(summary(exported, skipped, time.perf_counter() - started))
    if not exported:
        return 1
    if args.verify_against is not None:
        ids = [piece.row["id"] for piece in exported]
        problems = verify_notes_unchanged(args.verify_against, args.out, ids)
        print("\n".join(problems) or f"verified: notes and piano-rolls of all {len(ids)} pieces unchanged")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fuzzing the MIDI boundary: seeded byte mutations of valid files and generated event streams.

Thousands of mutants go through the pure-Python pre-check (cheap); a few hundred go all the way through
the sandboxed worker. Only a :class:`MidiRejected` may ever escape, no worker may hang or die, and every
file is settled well within the per-file limits.
"""

from __future__ import annotations

import random
import struct
import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.midi.parser import MidiLimits, MidiParser, MidiRejected, Score
from core.midi.precheck import check_structure
from tests.support.hostile_midi import CASES, event, meta, mtrk, smf, time_signature
from tests.support.midi_files import make_midi

LIMITS = MidiLimits()
PRECHECK_MUTANTS = 20_000
WORKER_MUTANTS = 1000
SANDBOX_FAILURES = ("took too long", "stopped while reading", "could not start", "unreadable answer")
"""Messages that mean the worker hung, died or misbehaved rather than judging the file."""


def seed_files() -> list[bytes]:
    """Valid files of different shapes to mutate."""
    chord_song = make_midi(
        [(p, i * 0.25, i * 0.25 + 1.0) for i, p in enumerate([48, 55, 60, 64, 67, 72] * 3)]
    )
    meters = smf(
        mtrk(
            meta(0, 0x03, b"lead"), time_signature(0, 6, 8), *[event(0, 0x90, 60, 90), event(48, 0x80, 60, 0)]
        ),
        mtrk(event(0, 0xC1, 40), event(0, 0xB1, 64, 127), event(0, 0x91, 45, 80), event(96, 0x81, 45, 0)),
    )
    loading = [make().data for make in CASES.values() if make().loads and len(make().data) < 4096]
    return [make_midi(), chord_song, meters, *loading]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits: flip bits, overwrite, insert, delete, truncate, splice or fix a length."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        edit = rng.choice(EDITS)
        out = edit(out, rng)
    return bytes(out)


def _flip(out: bytearray, rng: random.Random) -> bytearray:
    if out:
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return out


def _overwrite(out: bytearray, rng: random.Random) -> bytearray:
    if out:
        out[rng.randrange(len(out))] = rng.choice([0x00, 0x7F, 0x80, 0xF0, 0xF7, 0xFF, rng.randrange(256)])
    return out


def _insert(out: bytearray, rng: random.Random) -> bytearray:
    position = rng.randrange(len(out) + 1)
    return out[:position] + bytearray(rng.randbytes(rng.randint(1, 8))) + out[position:]


def _delete(out: bytearray, rng: random.Random) -> bytearray:
    if out:
        position = rng.randrange(len(out))
        del out[position : position + rng.randint(1, 8)]
    return out


def _truncate(out: bytearray, rng: random.Random) -> bytearray:
    return out[: rng.randrange(len(out) + 1)]


def _splice(out: bytearray, rng: random.Random) -> bytearray:
    if len(out) > 2:
        start = rng.randrange(len(out) - 1)
        piece = out[start : start + rng.randint(1, 32)]
        position = rng.randrange(len(out))
        out = out[:position] + piece * rng.randint(1, 4) + out[position:]
    return out


def _length_field(out: bytearray, rng: random.Random) -> bytearray:
    """Rewrite a chunk's length (the header's or a track's) with a plausible wrong value."""
    chunks = [index for index in range(len(out) - 8) if out[index : index + 4] in (b"MThd", b"MTrk")]
    if chunks:
        index = rng.choice(chunks) + 4
        value = rng.choice([0, 1, 5, 0xFFFFFFFF, rng.randrange(1 << 16)])
        out[index : index + 4] = struct.pack(">I", value)
    return out


EDITS: list[Callable[[bytearray, random.Random], bytearray]] = [
    _flip, _overwrite, _overwrite, _insert, _delete, _truncate, _splice, _length_field,
]  # fmt: skip


def mutants(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    seeds = seed_files()
    return [mutate(rng.choice(seeds), rng) for _ in range(count)]


def mutants_passing_precheck(count: int, seed: int) -> list[bytes]:
    """Mutants the pre-check lets through: the ones only the worker can judge."""
    rng, seeds, chosen = random.Random(seed), seed_files(), []
    while len(chosen) < count:
        data = mutate(rng.choice(seeds), rng)
        try:
            check_structure(data, LIMITS)
        except MidiRejected:
            continue
        chosen.append(data)
    return chosen


def test_precheck_only_ever_rejects_with_a_sentence() -> None:
    accepted = rejected = 0
    slowest = 0.0
    for data in mutants(PRECHECK_MUTANTS, seed=2026):
        started = time.perf_counter()
        try:
            layout = check_structure(data, LIMITS)
        except MidiRejected as error:
            assert str(error)[:1].islower() and len(str(error)) < 300
            rejected += 1
        else:
            assert layout.data.startswith(b"MThd") and layout.n_tracks >= 1
            accepted += 1
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 1.0
    assert accepted > 1000 and rejected > 10_000  # the mutants exercise both sides


def test_worker_settles_every_mutant_without_hanging_or_dying() -> None:
    files = [
        (f"mutant{index}.mid", data)
        for index, data in enumerate(mutants_passing_precheck(WORKER_MUTANTS, seed=7))
    ]
    outcomes: list[Score | MidiRejected] = []
    started = time.monotonic()
    with MidiParser(LIMITS) as parser:
        for _, result in parser.parse_many(files):
            outcomes.append(result)
        worker = parser._workers[0].process
        alive = worker is not None and worker.poll() is None
    assert time.monotonic() - started < 60
    assert len(outcomes) == WORKER_MUTANTS and alive
    failures = [
        str(r) for r in outcomes if isinstance(r, MidiRejected) and any(s in str(r) for s in SANDBOX_FAILURES)
    ]
    assert not failures
    scores = [r for r in outcomes if isinstance(r, Score)]
    assert len(scores) > WORKER_MUTANTS // 3
    for score in scores:
        assert len(score.notes) and score.duration_s <= LIMITS.max_seconds
        assert (score.notes["end"] >= score.notes["start"]).all()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 1 << 21),  # delta (up to 3 VLQ bytes)
            st.sampled_from([0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0, 0xE0, 0xF0, 0xF7, 0xFF, 0xF2, 0xF8, 0x40]),
            st.binary(min_size=0, max_size=6),
        ),
        max_size=40,
    ),
    st.integers(1, 0x7FFF),
)
def test_generated_event_streams_only_pass_or_are_rejected(events, division) -> None:
    body = b"".join(_raw_event(delta, status, payload) for delta, status, payload in events)
    data = smf(b"MTrk" + struct.pack(">I", len(body)) + body, division=division)
    try:
        check_structure(data, LIMITS)
    except MidiRejected as error:
        assert str(error)


def _raw_event(delta: int, status: int, payload: bytes) -> bytes:
    if status == 0xFF:
        return event(delta, 0xFF, payload[:1][0] if payload else 0x01) + bytes([len(payload)]) + payload
    if status in (0xF0, 0xF7):
        return event(delta, status, len(payload)) + payload
    return event(delta, status) + payload


@pytest.mark.parametrize("seed", [1, 2])
def test_mutants_of_the_whole_corpus_through_the_worker_in_bulk(seed: int) -> None:
    """Two workers, as the dataset loader uses them; results stay in input order."""
    files = [
        (f"m{seed}-{index}.mid", data) for index, data in enumerate(mutants_passing_precheck(100, seed=seed))
    ]
    with MidiParser(LIMITS, workers=2) as parser:
        names = [
            name for name, result in parser.parse_many(files) if isinstance(result, Score | MidiRejected)
        ]
    assert names == [name for name, _ in files]

"""Guarded MIDI loading: untrusted bytes in, a validated :class:`Score` or a :class:`MidiRejected` out.

Every file first passes the pure-Python structural scan of :mod:`core.midi.precheck` in this process.
Parsing (mido + pretty_midi) then runs in a separate worker process (:mod:`core.midi.worker`, a clean
interpreter, never a fork) with an address-space cap, a CPU-time cap and a wall-clock timeout; a worker
that times out, crashes or runs out of memory is killed and replaced on the next file.

CLI: ``python -m core.midi_io check FILE...`` (:mod:`core.cli.midi`).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from core.midi.precheck import MidiLayout, check_structure, too_large_message
from core.midi.protocol import FRAME_HEADER, decode_array, encode_json, score_from_frames, write_frames
from core.midi.score import NOTE_DTYPE, MidiLimits, MidiRejected, Score
from core.paths import REPO_ROOT

__all__ = ["NOTE_DTYPE", "MidiLimits", "MidiParser", "MidiRejected", "Score", "load_midi", "read_source"]

DEFAULT_LIMITS = MidiLimits()
STARTUP_TIMEOUT_S = 30.0
STARTUP_ALLOWANCE_MB = 512
"""Address space the worker may use while importing numpy/mido/pretty_midi (measured: about 105 MB)."""
MAX_REPLY_FRAME = 64 << 20
THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class _WorkerLost(Exception):
    """The worker timed out or died; ``timed_out`` tells which."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__("timeout" if timed_out else "worker exited")
        self.timed_out = timed_out


def _resource_limiter(address_space: int, cpu_seconds: int) -> Callable[[], None]:
    """A ``preexec_fn`` that caps the child's address space and CPU time (computed before the fork)."""
    as_hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if as_hard != resource.RLIM_INFINITY:
        address_space = min(address_space, as_hard)
    if cpu_hard != resource.RLIM_INFINITY:
        cpu_seconds = min(cpu_seconds, cpu_hard)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_hard))

    return apply


class _Worker:
    """One worker process and the parent's side of its protocol."""

    def __init__(self, limits: MidiLimits) -> None:
        self.limits = limits
        self.process: subprocess.Popen | None = None
        self.busy = False
        self.baseline_vm_mb: float | None = None

    def start(self) -> None:
        env = {**os.environ, **THREAD_ENV, "PYTHONPATH": os.pathsep.join(_python_path())}
        address_space = (STARTUP_ALLOWANCE_MB + self.limits.worker_memory_mb) << 20
        cpu_seconds = int(STARTUP_TIMEOUT_S + self.limits.timeout_s) + 1
        command = [sys.executable, "-m", "core.midi.worker", "--memory-mb", str(self.limits.worker_memory_mb)]
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=REPO_ROOT,
                env=env,
                preexec_fn=_resource_limiter(address_space, cpu_seconds),
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise MidiRejected(f"the MIDI reader could not start ({error})") from None

    def wait_ready(self) -> None:
        try:
            ready = json.loads(self._read_frame(time.monotonic() + STARTUP_TIMEOUT_S))
        except (_WorkerLost, ValueError):
            self.kill()
            raise MidiRejected("the MIDI reader could not start") from None
        self.baseline_vm_mb = float(ready.get("vm_mb", 0.0))

    def ensure_started(self) -> None:
        if self.process is None:
            self.start()
            self.wait_ready()

    def send(self, name: str, layout: MidiLayout) -> float:
        """Send one request (restarting a dead worker once); return its deadline."""
        request = {
            "name": name,
            "limits": asdict(self.limits),
            "ticks_per_beat": layout.target_ticks_per_beat,
        }
        for attempt in range(2):
            self.ensure_started()
            try:
                write_frames(self.process.stdin, encode_json(request), layout.data)
                self.busy = True
                return time.monotonic() + self.limits.timeout_s
            except (BrokenPipeError, OSError):
                self.kill()
                if attempt:
                    raise MidiRejected("the MIDI reader stopped unexpectedly; please try again") from None
        raise AssertionError("unreachable")

    def receive(self, deadline: float) -> Score:
        """Read the reply to the last request; any failure becomes :class:`MidiRejected`."""
        self.busy = False
        try:
            header = json.loads(self._read_frame(deadline))
            if header.get("ok"):
                arrays = {name: decode_array(self._read_frame(deadline)) for name in header["arrays"]}
                return score_from_frames(header["score"], arrays)
        except _WorkerLost as lost:
            raise MidiRejected(self._lost_message(lost.timed_out)) from None
        except (ValueError, KeyError, TypeError):
            self.kill()
            raise MidiRejected("the MIDI reader sent an unreadable answer; please try again") from None
        raise MidiRejected(self._failure_message(header))

    def _failure_message(self, reply: dict) -> str:
        kind, message = reply.get("kind"), str(reply.get("message", ""))
        if kind == "memory":
            self.kill()
            return self._memory_message()
        if kind == "damaged":
            return f"the file could not be read as MIDI; it is probably damaged ({message})"
        return message

    def _lost_message(self, timed_out: bool) -> str:
        returncode = self.kill()
        if timed_out or returncode == -signal.SIGXCPU:
            return (
                f"reading the file took too long (over {self.limits.timeout_s:g} s); "
                "it is probably damaged or far too complex"
            )
        return (
            "the MIDI reader stopped while reading the file; it needed too much memory or the file is damaged"
        )

    def _memory_message(self) -> str:
        return (
            f"reading the file needed too much memory (over {self.limits.worker_memory_mb} MB); "
            "it is probably damaged or far too large"
        )

    def _read_frame(self, deadline: float) -> bytes:
        (size,) = FRAME_HEADER.unpack(self._read_exact(FRAME_HEADER.size, deadline))
        if size > MAX_REPLY_FRAME:
            raise ValueError("reply frame too large")
        return self._read_exact(size, deadline)

    def _read_exact(self, size: int, deadline: float) -> bytes:
        fd, chunks, remaining = self.process.stdout.fileno(), [], size
        while remaining:
            timeout = deadline - time.monotonic()
            if timeout <= 0 or not select.select([fd], [], [], timeout)[0]:
                raise _WorkerLost(timed_out=True)
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                raise _WorkerLost(timed_out=False)
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> int | None:
        """Kill the process (if any) and forget it; return its exit status."""
        process, self.process, self.busy = self.process, None, False
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        returncode = process.wait()
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        return returncode

    def stop(self) -> None:
        """Ask the worker to exit (end of input), then make sure it has."""
        process = self.process
        if process is not None and process.poll() is None:
            try:
                process.stdin.close()
                process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()


def _python_path() -> list[str]:
    existing = os.environ.get("PYTHONPATH", "")
    return [str(REPO_ROOT), *(part for part in existing.split(os.pathsep) if part)]


@dataclass
class _Pending:
    name: str
    result: Score | MidiRejected | None = None
    worker: _Worker | None = None
    deadline: float = 0.0


class MidiParser:
    """Parses many files through long-lived sandboxed workers. Not thread-safe; use one per thread.

    >>> with MidiParser() as parser:
    ...     score = parser.parse(data, "song.mid")
    """

    def __init__(self, limits: MidiLimits = DEFAULT_LIMITS, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.limits = limits
        self._workers = [_Worker(limits) for _ in range(workers)]

    def __enter__(self) -> MidiParser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start every worker now (in parallel) instead of on first use."""
        idle = [worker for worker in self._workers if worker.process is None]
        for worker in idle:
            worker.start()
        for worker in idle:
            worker.wait_ready()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()

    def parse(self, data: bytes, name: str = "upload.mid") -> Score:
        """Check and parse one file; raise :class:`MidiRejected` with a user-facing reason on failure."""
        [(_, result)] = list(self.parse_many([(name, data)]))
        if isinstance(result, MidiRejected):
            raise result
        return result

    def parse_many(self, files: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, Score | MidiRejected]]:
        """Yield ``(name, Score or MidiRejected)`` in input order, keeping every worker busy."""
        queue: deque[_Pending] = deque()
        try:
            for name, data in files:
                pending = self._submit_or_reject(name, data, queue)
                queue.append(pending)
                while queue and queue[0].result is not None:
                    yield self._finish(queue.popleft())
            while queue:
                yield self._finish(queue.popleft())
        finally:
            for pending in queue:
                self._finish(pending)

    def _submit_or_reject(self, name: str, data: bytes, queue: deque[_Pending]) -> _Pending:
        try:
            layout = check_structure(bytes(data), self.limits)
        except MidiRejected as error:
            return _Pending(name, result=error)
        worker = self._idle_worker(queue)
        try:
            return _Pending(name, worker=worker, deadline=worker.send(name, layout))
        except MidiRejected as error:
            return _Pending(name, result=error)

    def _idle_worker(self, queue: deque[_Pending]) -> _Worker:
        """An idle worker; while all are busy, collect the oldest replies (results stay queued)."""
        for pending in queue:
            idle = [worker for worker in self._workers if not worker.busy]
            if idle:
                return idle[0]
            self._collect(pending)
        return next(worker for worker in self._workers if not worker.busy)

    @staticmethod
    def _collect(pending: _Pending) -> None:
        if pending.result is None and pending.worker is not None:
            try:
                pending.result = pending.worker.receive(pending.deadline)
            except MidiRejected as error:
                pending.result = error

    def _finish(self, pending: _Pending) -> tuple[str, Score | MidiRejected]:
        self._collect(pending)
        return pending.name, pending.result


def read_source(source: bytes | str | os.PathLike, limits: MidiLimits = DEFAULT_LIMITS) -> tuple[bytes, str]:
    """Return ``(data, default name)`` for bytes or a path, refusing oversized files before reading them."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), "upload.mid"
    path = Path(source)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise MidiRejected(f"{path.name} is not a file")
        if size > limits.max_bytes:
            raise MidiRejected(too_large_message(size, limits.max_bytes))
        with path.open("rb") as stream:
            return stream.read(limits.max_bytes + 1), path.name
    except OSError as error:
        raise MidiRejected(f"could not read {path.name}: {error.strerror or error}") from None


def load_midi(
    source: bytes | str | os.PathLike, name: str | None = None, limits: MidiLimits = DEFAULT_LIMITS
) -> Score:
    """Load one untrusted MIDI file (bytes or path) into a :class:`Score`; only raises :class:`MidiRejected`.

    Starts a worker for this call; use :class:`MidiParser` to load many files.
    """
    data, default_name = read_source(source, limits)
    with MidiParser(limits) as parser:
        return parser.parse(data, name or default_name)

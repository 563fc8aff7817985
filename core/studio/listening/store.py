"""Where the listening test keeps its rounds and answers: one SQLite file in the runs folder.

Why plain :mod:`sqlite3` (in Python's standard library) rather than Streamlit's ``st.connection("sql")``:
the store lives in ``core/`` (no Streamlit there), is tested without a server, and needs exact control of
the transaction of each answer; ``st.connection`` adds SQLAlchemy and caches query results for a time,
which is wrong for live results.

Concurrency and durability: the database is in WAL mode (readers never block the writer), every write is
one ``BEGIN IMMEDIATE`` transaction (the writer takes the lock up front), commits are synchronous
(``synchronous=FULL``: an answer the page confirmed is on disk), and an answer is one row under a unique
key (round, listener, pair), inserted with ``ON CONFLICT DO NOTHING``: a double click, a retry or a
reload stores it exactly once.

Writers of one process (the server's sessions are threads) queue on a lock of their own before SQLite's:
SQLite makes a waiting writer poll with growing sleeps, and under a burst some waited seconds while others
went first; a thread lock wakes the next writer at once. Writers in other processes still wait on SQLite's
lock, up to :data:`BUSY_TIMEOUT_S`; past that the write fails with :class:`ListeningError` and stores
nothing.

No personal data: a listener is a random id (:func:`new_listener_id`), and the only thing asked about
them is an optional, coarse experience group (:data:`EXPERIENCE`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.paths import runs_root

DB_NAME = "listening.sqlite3"
BUSY_TIMEOUT_S = 30.0
_WRITE_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
CLIPS = ("A", "B")
KINDS = ("test", "attention")
EXPERIENCE = {
    "unsaid": "Prefer not to say",
    "none": "No musical training",
    "instrument": "I play an instrument or sing",
    "theory": "I have studied music theory",
}
"""The self-reported experience groups (key → the words a listener sees)."""
LISTENER_PATTERN = re.compile(r"^[0-9a-f]{16}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS rounds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    revealed INTEGER NOT NULL DEFAULT 0,
    settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pairs (
    round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('test', 'attention')),
    real_midi BLOB NOT NULL,
    other_midi BLOB NOT NULL,
    real_source TEXT NOT NULL,
    other_source TEXT NOT NULL,
    judges TEXT NOT NULL,
    PRIMARY KEY (round_id, position)
);
CREATE TABLE IF NOT EXISTS listeners (
    round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    listener TEXT NOT NULL,
    experience TEXT NOT NULL,
    joined_at REAL NOT NULL,
    PRIMARY KEY (round_id, listener)
);
CREATE TABLE IF NOT EXISTS plays (
    round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    listener TEXT NOT NULL,
    position INTEGER NOT NULL,
    clip TEXT NOT NULL CHECK (clip IN ('A', 'B')),
    played_at REAL NOT NULL,
    PRIMARY KEY (round_id, listener, position, clip)
);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    listener TEXT NOT NULL,
    position INTEGER NOT NULL,
    shown_as INTEGER NOT NULL,
    real_clip TEXT NOT NULL CHECK (real_clip IN ('A', 'B')),
    chosen_clip TEXT NOT NULL CHECK (chosen_clip IN ('A', 'B')),
    correct INTEGER NOT NULL,
    answered_at REAL NOT NULL,
    UNIQUE (round_id, listener, position)
);
"""


class ListeningError(ValueError):
    """An action the test does not allow (a closed round, clips not played yet); the message is for people."""


@dataclass(frozen=True)
class Pair:
    """One question: a real excerpt and another clip (generated, or random notes for the attention check).

    ``judges`` holds what the machines said about both clips: ``svm_real``, ``svm_other`` (the SVM's
    0–100 chorale-likeness grade) and ``d_real``, ``d_other`` (the discriminator's D(x), 0–1); None
    where a judge is missing.
    """

    position: int
    kind: str
    real_midi: bytes
    other_midi: bytes
    real_source: str
    other_source: str
    judges: dict


@dataclass(frozen=True)
class RoundInfo:
    """A round: its id, when it was opened, ``open``/``closed``, whether answers are revealed, settings."""

    id: int
    created_at: float
    state: str
    revealed: bool
    settings: dict

    @property
    def is_open(self) -> bool:
        return self.state == "open"


@dataclass(frozen=True)
class Answer:
    """One stored answer, with the listener's experience group."""

    listener: str
    position: int
    shown_as: int
    real_clip: str
    chosen_clip: str
    correct: bool
    answered_at: float
    experience: str


def _write_lock(path: Path) -> threading.Lock:
    """The lock this process's writers of one database file queue on."""
    with _LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(path.resolve(), threading.Lock())


def database_path() -> Path:
    """Where the server's listening test lives: ``listening.sqlite3`` in the runs folder."""
    return runs_root() / DB_NAME


def new_listener_id() -> str:
    """A random listener id (64 bits, hex): names nobody, and is unguessable enough for a class."""
    return secrets.token_hex(8)


def check_listener(listener: str) -> str:
    if not LISTENER_PATTERN.match(str(listener)):
        raise ListeningError("that listener id is not one this test gave out")
    return listener


class ListeningStore:
    """The listening test's SQLite database (``runs/listening.sqlite3`` unless a path is given)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else database_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA synchronous=FULL")
            yield connection
        finally:
            connection.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the write lock from its start; rolled back on any error."""
        with self._connect() as connection, _write_lock(self.path):
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:  # another process held the lock too long
                raise ListeningError(
                    f"the server is too busy to store this now ({error}); try again"
                ) from None
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    # --- rounds ------------------------------------------------------------------------------------

    def open_round(self, settings: dict, pairs: Sequence[Pair]) -> int:
        """Store a new round with its pairs and open it (any other open round is closed); returns its id."""
        if not pairs or sorted(p.position for p in pairs) != list(range(len(pairs))):
            raise ValueError("a round needs pairs at positions 0, 1, 2, ...")
        with self._write() as db:
            db.execute("UPDATE rounds SET state = 'closed' WHERE state = 'open'")
            cursor = db.execute(
                "INSERT INTO rounds (created_at, settings) VALUES (?, ?)", (time.time(), json.dumps(settings))
            )
            round_id = int(cursor.lastrowid)
            db.executemany(
                "INSERT INTO pairs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (round_id, p.position, p.kind, p.real_midi, p.other_midi, p.real_source, p.other_source,
                     json.dumps(p.judges))
                    for p in pairs
                ],
            )  # fmt: skip
        return round_id

    def latest_round(self) -> RoundInfo | None:
        """The most recently opened round (open or closed), or None before the first."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM rounds ORDER BY id DESC LIMIT 1").fetchone()
        return _round(row) if row else None

    def rounds(self) -> list[RoundInfo]:
        """Every round, oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM rounds ORDER BY id").fetchall()
        return [_round(row) for row in rows]

    def answer_counts(self) -> dict[int, int]:
        """Stored answers per round id (a round without answers is left out)."""
        with self._connect() as db:
            rows = db.execute("SELECT round_id, COUNT(*) FROM answers GROUP BY round_id").fetchall()
        return {int(round_id): int(count) for round_id, count in rows}

    def round(self, round_id: int) -> RoundInfo:
        with self._connect() as db:
            row = db.execute("SELECT * FROM rounds WHERE id = ?", (round_id,)).fetchone()
        if row is None:
            raise ListeningError(f"there is no round {round_id}")
        return _round(row)

    def pairs(self, round_id: int) -> list[Pair]:
        """The round's pairs in the teacher's order (positions 0, 1, ...)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT position, kind, real_midi, other_midi, real_source, other_source, judges FROM pairs "
                "WHERE round_id = ? ORDER BY position",
                (round_id,),
            ).fetchall()
        return [Pair(*row[:6], json.loads(row[6])) for row in rows]

    def set_state(self, round_id: int, state: str) -> None:
        """Close a round (no more answers) or open it again."""
        if state not in ("open", "closed"):
            raise ValueError(f"a round is 'open' or 'closed', not {state!r}")
        with self._write() as db:
            if state == "open":
                db.execute("UPDATE rounds SET state = 'closed' WHERE state = 'open'")
            db.execute("UPDATE rounds SET state = ? WHERE id = ?", (state, round_id))

    def set_revealed(self, round_id: int, revealed: bool) -> None:
        """Show (or hide again) which clip was real, to everyone."""
        with self._write() as db:
            db.execute("UPDATE rounds SET revealed = ? WHERE id = ?", (int(revealed), round_id))

    def reset(self, round_id: int) -> None:
        """Delete every answer, play and listener of a round, hide the answers and open it again."""
        with self._write() as db:
            for table in ("answers", "plays", "listeners"):
                db.execute(f"DELETE FROM {table} WHERE round_id = ?", (round_id,))
            db.execute("UPDATE rounds SET state = 'closed' WHERE state = 'open'")
            db.execute("UPDATE rounds SET state = 'open', revealed = 0 WHERE id = ?", (round_id,))

    # --- listeners ---------------------------------------------------------------------------------

    def join(self, round_id: int, listener: str, experience: str = "unsaid") -> None:
        """Register a listener with their experience group (the first answer given counts)."""
        if experience not in EXPERIENCE:
            raise ListeningError(f"experience must be one of {', '.join(EXPERIENCE)}")
        with self._write() as db:
            db.execute(
                "INSERT INTO listeners VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (round_id, check_listener(listener), experience, time.time()),
            )

    def experience_of(self, round_id: int, listener: str) -> str | None:
        """The listener's experience group, or None when they have not joined this round."""
        with self._connect() as db:
            row = db.execute(
                "SELECT experience FROM listeners WHERE round_id = ? AND listener = ?", (round_id, listener)
            ).fetchone()
        return row[0] if row else None

    def record_play(self, round_id: int, listener: str, position: int, clip: str) -> None:
        """Note that a listener opened one clip's player (the first time counts)."""
        if clip not in CLIPS:
            raise ValueError(f"a clip is 'A' or 'B', not {clip!r}")
        with self._write() as db:
            db.execute(
                "INSERT INTO plays VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (round_id, check_listener(listener), position, clip, time.time()),
            )

    def plays(self, round_id: int, listener: str) -> set[tuple[int, str]]:
        """``(position, clip)`` of every clip the listener has opened in this round."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT position, clip FROM plays WHERE round_id = ? AND listener = ?", (round_id, listener)
            ).fetchall()
        return {(int(position), str(clip)) for position, clip in rows}

    # --- answers -----------------------------------------------------------------------------------

    def record_answer(
        self, round_id: int, listener: str, position: int, shown_as: int, real_clip: str, chosen_clip: str
    ) -> bool:
        """Store one answer in one transaction; True when stored now, False when it was already stored.

        Raises :class:`ListeningError` when the round is closed, the listener has not joined, the pair does
        not exist, or the listener has not opened both clips of the pair.
        """
        if real_clip not in CLIPS or chosen_clip not in CLIPS:
            raise ValueError("clips are 'A' or 'B'")
        with self._write() as db:
            self._check_can_answer(db, round_id, check_listener(listener), position)
            cursor = db.execute(
                "INSERT INTO answers (round_id, listener, position, shown_as, real_clip, chosen_clip, "
                "correct, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (round_id, listener, position, shown_as, real_clip, chosen_clip,
                 int(real_clip == chosen_clip), time.time()),
            )  # fmt: skip
            return cursor.rowcount == 1

    @staticmethod
    def _check_can_answer(db: sqlite3.Connection, round_id: int, listener: str, position: int) -> None:
        state = db.execute("SELECT state FROM rounds WHERE id = ?", (round_id,)).fetchone()
        if state is None or state[0] != "open":
            raise ListeningError("this round is closed: answers are no longer taken")
        joined = db.execute(
            "SELECT 1 FROM listeners WHERE round_id = ? AND listener = ?", (round_id, listener)
        ).fetchone()
        if joined is None:
            raise ListeningError("start the test before answering")
        if (
            db.execute(
                "SELECT 1 FROM pairs WHERE round_id = ? AND position = ?", (round_id, position)
            ).fetchone()
            is None
        ):
            raise ListeningError("this round has no such pair")
        played = db.execute(
            "SELECT COUNT(*) FROM plays WHERE round_id = ? AND listener = ? AND position = ?",
            (round_id, listener, position),
        ).fetchone()[0]
        if played < len(CLIPS):
            raise ListeningError("play both clips before answering")

    def answers(self, round_id: int, listener: str | None = None) -> list[Answer]:
        """Every stored answer of a round (or of one listener), oldest first."""
        query = (
            "SELECT a.listener, a.position, a.shown_as, a.real_clip, a.chosen_clip, a.correct, "
            "a.answered_at, COALESCE(l.experience, 'unsaid') FROM answers a LEFT JOIN listeners l "
            "ON l.round_id = a.round_id AND l.listener = a.listener WHERE a.round_id = ?"
        )
        parameters: tuple = (round_id,)
        if listener is not None:
            query, parameters = query + " AND a.listener = ?", (round_id, listener)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY a.id", parameters).fetchall()
        return [Answer(r[0], int(r[1]), int(r[2]), r[3], r[4], bool(r[5]), float(r[6]), r[7]) for r in rows]

    def csv(self, round_id: int) -> str:
        """The round's answers as CSV: one row per answer, with the pair's kind and sources."""
        pairs = {pair.position: pair for pair in self.pairs(round_id)}
        stream = io.StringIO()
        writer = csv.writer(stream)
        writer.writerow(
            ["round", "listener", "experience", "pair", "kind", "shown_as", "real_clip", "chosen_clip",
             "correct", "answered_at_utc", "real_source", "other_source"]
        )  # fmt: skip
        for a in self.answers(round_id):
            pair = pairs[a.position]
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(a.answered_at))
            writer.writerow(
                [round_id, a.listener, a.experience, a.position + 1, pair.kind, a.shown_as, a.real_clip,
                 a.chosen_clip, int(a.correct), stamp, pair.real_source, pair.other_source]
            )  # fmt: skip
        return stream.getvalue()


def _round(row: tuple) -> RoundInfo:
    round_id, created_at, state, revealed, settings = row
    return RoundInfo(int(round_id), float(created_at), str(state), bool(revealed), json.loads(settings))

"""A visitor's own space: what they choose for themselves, kept in their session, never server-wide.

A space holds a random token (the owner of the runs the visitor asks for), their choice of generator on
Generate and of corpus for their own runs. It lives in the session's state (a plain dict under
:data:`SPACE_KEY`), so it ends with the browser tab and no other visitor ever sees it; a choice whose file
has vanished falls back to the class's choice (:mod:`core.studio.choices`).
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from core.studio.choices import active_checkpoint, active_corpus
from core.studio.roles import Visitor

SPACE_KEY = "gms_space"


@dataclass(frozen=True)
class Space:
    """One session's own choices; None means "the class's choice"."""

    owner: str
    checkpoint: Path | None = None
    corpus: Path | None = None

    @property
    def generator(self) -> Path:
        """Their chosen generator while it exists, else the class's."""
        return self.checkpoint if self.checkpoint and self.checkpoint.exists() else active_checkpoint()

    @property
    def training_corpus(self) -> Path:
        """Their corpus for their own runs while it exists, else the class's."""
        return self.corpus if self.corpus and self.corpus.is_dir() else active_corpus()


def space_of(session: MutableMapping[str, object]) -> Space:
    """The session's space, made (with a fresh token) on first use."""
    stored = session.get(SPACE_KEY)
    if not isinstance(stored, dict) or not stored.get("owner"):
        stored = {"owner": secrets.token_hex(8)}
        session[SPACE_KEY] = stored
    paths = {key: Path(stored[key]) if stored.get(key) else None for key in ("checkpoint", "corpus")}
    return Space(owner=str(stored["owner"]), **paths)


def update_space(session: MutableMapping[str, object], **changes: Path | None) -> Space:
    """Change the session's own choices (``checkpoint``, ``corpus``; None goes back to the class's)."""
    unknown = set(changes) - {"checkpoint", "corpus"}
    if unknown:
        raise KeyError(f"a space has no {', '.join(sorted(unknown))}")
    space_of(session)
    stored = dict(session[SPACE_KEY])
    stored.update({key: str(value) if value else None for key, value in changes.items()})
    session[SPACE_KEY] = stored
    return space_of(session)


def visitor_of(session: MutableMapping[str, object], teacher: bool) -> Visitor:
    """The session as someone who acts: their space's token and their role."""
    return Visitor(owner=space_of(session).owner, teacher=teacher)

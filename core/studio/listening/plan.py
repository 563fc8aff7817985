"""One listener's way through a round: the order of the pairs and which side holds the real clip.

Both are random per listener and fixed by the round and the listener id (a hash seeds the draw), so a
reload shows the same pair on the same sides. A :class:`ListenerSession` walks a listener through the
round: join (with the optional experience group), open both clips of the current pair, answer, next.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from core.studio.listening.store import CLIPS, ListeningError, ListeningStore, Pair, RoundInfo


@dataclass(frozen=True)
class Item:
    """A pair as one listener meets it: ``shown_as`` (1-based), its ``position`` in the round, and the
    side of the real clip."""

    shown_as: int
    position: int
    real_clip: str
    kind: str


def listener_plan(round_id: int, listener: str, kinds: list[str]) -> list[Item]:
    """The listener's order of the pairs (``kinds[i]`` is pair i's kind) and the real clip's side in each."""
    digest = hashlib.sha256(f"gms-listening:{round_id}:{listener}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    order = rng.permutation(len(kinds))
    sides = rng.integers(0, 2, size=len(kinds))
    return [
        Item(shown_as, int(position), CLIPS[int(sides[shown_as - 1])], kinds[position])
        for shown_as, position in enumerate(order.tolist(), start=1)
    ]


class ListenerSession:
    """One listener in one round (state lives in the store, so a reload or restart continues here)."""

    def __init__(self, store: ListeningStore, round_info: RoundInfo, listener: str) -> None:
        self.store, self.round, self.listener = store, round_info, listener
        self.pairs: list[Pair] = store.pairs(round_info.id)
        self.items = listener_plan(round_info.id, listener, [pair.kind for pair in self.pairs])

    @property
    def joined(self) -> bool:
        return self.store.experience_of(self.round.id, self.listener) is not None

    def join(self, experience: str = "unsaid") -> None:
        self.store.join(self.round.id, self.listener, experience)

    def answered(self) -> dict[int, bool]:
        """Position → correct, for the pairs this listener has answered."""
        return {a.position: a.correct for a in self.store.answers(self.round.id, self.listener)}

    def current(self) -> Item | None:
        """The first pair in this listener's order without an answer; None when all are answered."""
        done = self.answered()
        return next((item for item in self.items if item.position not in done), None)

    def clip_midi(self, item: Item, clip: str) -> bytes:
        """The MIDI behind clip ``A`` or ``B`` of an item."""
        pair = self.pairs[item.position]
        return pair.real_midi if clip == item.real_clip else pair.other_midi

    def played(self, item: Item) -> set[str]:
        """The clips of this item the listener has opened."""
        return {
            clip
            for position, clip in self.store.plays(self.round.id, self.listener)
            if position == item.position
        }

    def play(self, item: Item, clip: str) -> None:
        self.store.record_play(self.round.id, self.listener, item.position, clip)

    def answer(self, item: Item, chosen_clip: str) -> bool:
        """Store "``chosen_clip`` is the real one"; True when stored now (False: it was stored before)."""
        if not self.joined:
            raise ListeningError("start the test before answering")
        return self.store.record_answer(
            self.round.id, self.listener, item.position, item.shown_as, item.real_clip, chosen_clip
        )

"""Links that reproduce a result: the Generate page's settings as a web address, and file names after them.

The same model, settings and seed always give the same ranked pieces, so an address that holds every
setting (:meth:`GenerateSettings.to_query`) brings anyone who opens it to the same pieces. Addresses come
from the browser: :func:`settings_from_query` accepts only known names and values within the page's
limits, and says in words what it had to ignore.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from core.music.voices import ENSEMBLES, MODES, key_name
from core.sampling.satb import VOICE_MODES

INSTRUMENTS = {
    "Acoustic grand piano": 0,
    "Church organ": 19,
    "String ensemble": 48,
    "Choir aahs": 52,
    "Flute": 73,
    "Harpsichord": 6,
}
"""Instruments offered for playback, by name, with their General MIDI program numbers."""
LIMITS = {
    "candidates": (1, 64),
    "keep": (1, 64),
    "bars": (1, 16),
    "seed": (0, 10**6),
    "temperature": (0.5, 1.5),
    "tempo": (40, 200),
}
"""The smallest and largest value of each numeric setting."""
SHOW = "show"
"""The address flag saying that the ranked pieces were on show (a reload or a shared link shows them)."""


@dataclass(frozen=True)
class GenerateSettings:
    """Everything that decides what the Generate page shows: ``model`` is a checkpoint key."""

    model: str = "lstm_gan"
    candidates: int = 16
    keep: int = 4
    bars: int = 4
    seed: int = 1
    temperature: float = 1.0
    tempo: int = 100
    instrument: str = "Acoustic grand piano"

    @property
    def program(self) -> int:
        """The General MIDI program of the instrument."""
        return INSTRUMENTS[self.instrument]

    def to_query(self, show: bool = True) -> dict[str, str]:
        """Every setting as text, for an address (``show=1`` when the pieces were on show)."""
        query = {field.name: _text(getattr(self, field.name)) for field in dataclasses.fields(self)}
        return {**query, SHOW: "1"} if show else query

    def link(self, base: str, show: bool = True, extra: Mapping[str, str] | None = None) -> str:
        """The address of these settings (and ``extra`` ones, e.g. :meth:`VoiceSettings.to_query`) on the
        page at ``base`` (any query of ``base`` is replaced)."""
        page = urllib.parse.urlsplit(base)._replace(query="", fragment="").geturl()
        return f"{page}?{urllib.parse.urlencode({**self.to_query(show), **(extra or {})})}"

    def file_name(self, rank: int, extension: str) -> str:
        """A download's name after the model, seed and rank: ``lstm_gan_seed7_rank01.mid``."""
        model = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.model)
        return f"{model}_seed{self.seed}_rank{rank:02d}.{extension}"


def _text(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def settings_from_query(
    query: Mapping[str, str], defaults: GenerateSettings | None = None
) -> tuple[GenerateSettings, list[str]]:
    """Settings from an address's query (unknown names ignored) and a sentence per value it refused.

    A refused value keeps the default; ``keep`` is at most ``candidates``; the model key is taken as
    given (the caller checks that such a model exists).
    """
    settings = defaults or GenerateSettings()
    changes: dict[str, object] = {}
    problems = []
    for name, (low, high) in LIMITS.items():
        if name not in query:
            continue
        kind = float if name == "temperature" else int
        try:
            value = kind(query[name])
        except (TypeError, ValueError):
            problems.append(f"{name} {query[name]!r} is not a number")
            continue
        if not low <= value <= high:
            problems.append(f"{name} {query[name]} is outside {low:g}–{high:g}")
            continue
        changes[name] = value
    if "instrument" in query:
        if query["instrument"] in INSTRUMENTS:
            changes["instrument"] = query["instrument"]
        else:
            problems.append(f"there is no instrument called {query['instrument']!r}")
    if query.get("model"):
        changes["model"] = str(query["model"])
    result = dataclasses.replace(settings, **changes)
    return dataclasses.replace(result, keep=min(result.keep, result.candidates)), problems


ANY_KEY = "any key"
KEY_NAMES = (ANY_KEY, *(key_name(tonic, mode) for mode in MODES for tonic in range(12)))
"""The keys a four-voice piece may be asked for, as the page names them."""
VOICE_LIMITS = {"phrases": (1, 8), "keep_bars": (1, 4)}
PHRASE_BARS = (2, 4)


@dataclass(frozen=True)
class VoiceSettings:
    """What decides the four-voice model's pieces besides :class:`GenerateSettings`: the mode, the key of
    free pieces, the phrases, the ensemble, and the held-out chorale whose melody is harmonised or whose
    first ``keep_bars`` bars are continued (empty: an uploaded file, which no address can carry)."""

    mode: str = "free"
    key: str = ANY_KEY
    phrase_bars: int = 2
    phrases: int = 2
    ensemble: str = "choir"
    chorale: str = ""
    keep_bars: int = 2

    @property
    def linkable(self) -> bool:
        """Whether an address can bring someone to the same pieces (not with an uploaded file)."""
        return self.mode == "free" or bool(self.chorale)

    def to_query(self) -> dict[str, str]:
        """The settings that matter for the mode, as text for an address."""
        query = {"mode": self.mode, "phrase_bars": str(self.phrase_bars), "phrases": str(self.phrases)}
        query["ensemble"] = self.ensemble
        if self.mode == "free":
            query["key"] = self.key
        elif self.chorale:
            query["chorale"] = self.chorale
        if self.mode == "continue":
            query["keep_bars"] = str(self.keep_bars)
        return query


def voice_settings_from_query(
    query: Mapping[str, str], chorales: tuple[str, ...] | list[str]
) -> tuple[VoiceSettings, list[str]]:
    """Four-voice settings from an address (``chorales``: the names a link may use) and a sentence per
    value it refused; a refused value keeps its default."""
    changes: dict[str, object] = {}
    problems: list[str] = []
    choices = {"mode": VOICE_MODES, "key": KEY_NAMES, "ensemble": tuple(ENSEMBLES)}
    choices["chorale"] = tuple(chorales)
    for name, allowed in choices.items():
        if name in query:
            if query[name] in allowed:
                changes[name] = query[name]
            else:
                problems.append(f"there is no {name} called {query[name]!r}")
    numbers = {**VOICE_LIMITS, "phrase_bars": (min(PHRASE_BARS), max(PHRASE_BARS))}
    for name, (low, high) in numbers.items():
        if name not in query:
            continue
        try:
            value = int(query[name])
        except (TypeError, ValueError):
            problems.append(f"{name} {query[name]!r} is not a number")
            continue
        if not low <= value <= high or (name == "phrase_bars" and value not in PHRASE_BARS):
            problems.append(f"{name} {query[name]} is not one of the page's choices")
            continue
        changes[name] = value
    return dataclasses.replace(VoiceSettings(), **changes), problems

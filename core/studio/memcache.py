"""In-memory caches bounded by bytes, shared by every session of the server.

Streamlit's ``st.cache_data`` bounds a cache by its number of entries only, and unpickles a fresh copy of
the value on every hit: eight cached uploads of 250 ten-minute pieces held 6.5 GB. A :class:`SizedCache`
instead measures every value it keeps (:func:`deep_size`), never keeps one above its per-object budget, and
drops the least recently used values until its total fits its own budget. It hands out the cached object
itself: callers must treat it as read-only.

:func:`named_cache` gives the one cache of a name per server process, and :func:`memory_in_use` reports all
of them against their budgets (the Home page's status line).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from core.budgets import BUDGETS

T = TypeVar("T")
OBJECT_OVERHEAD = 64
"""Bytes counted for any Python object beyond its contents (a rough figure; arrays dominate)."""


def deep_size(value: object, seen: set[int] | None = None) -> int:
    """Approximate bytes held by ``value``: numpy arrays by their buffers, bytes and strings by length,
    containers and dataclasses by their contents (each object counted once)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        base = value.base if isinstance(value.base, np.ndarray) else None
        return OBJECT_OVERHEAD + (deep_size(base, seen) if base is not None else value.nbytes)
    if isinstance(value, bytes | bytearray | str):
        return OBJECT_OVERHEAD + len(value)
    if isinstance(value, dict):
        return OBJECT_OVERHEAD + sum(deep_size(k, seen) + deep_size(v, seen) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return OBJECT_OVERHEAD + sum(deep_size(item, seen) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return OBJECT_OVERHEAD + sum(deep_size(getattr(value, field.name), seen) for field in fields)
    if hasattr(value, "__dict__"):
        return OBJECT_OVERHEAD + deep_size(vars(value), seen)
    return OBJECT_OVERHEAD


def content_key(*parts: object) -> str:
    """A hash of strings, bytes and lists or tuples of them (an upload's names and contents, in order)."""
    digest = hashlib.sha256()

    def feed(part: object) -> None:
        if isinstance(part, list | tuple):
            digest.update(b"[%d" % len(part))
            for item in part:
                feed(item)
            digest.update(b"]")
        else:
            data = part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass")
            digest.update(b"%d:" % len(data) + data)

    for part in parts:
        feed(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheUsage:
    """What one cache holds: bytes against its budget, entries, and values it refused as too large."""

    name: str
    n_bytes: int
    max_bytes: int
    entries: int
    refused: int


class SizedCache:
    """A least-recently-used cache whose values are measured in bytes. Thread-safe."""

    def __init__(self, name: str, max_bytes: int, max_item_bytes: int = BUDGETS.cached_object_bytes):
        self.name, self.max_bytes, self.max_item_bytes = name, max_bytes, min(max_item_bytes, max_bytes)
        self._values: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._refused = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> object | None:
        """The value under ``key`` (now the most recently used), or None."""
        with self._lock:
            if key not in self._values:
                return None
            self._values.move_to_end(key)
            return self._values[key][0]

    def put(self, key: str, value: object) -> bool:
        """Keep ``value`` unless it is larger than the per-object budget; returns whether it was kept."""
        size = deep_size(value)
        with self._lock:
            if size > self.max_item_bytes:
                self._refused += 1
                return False
            if key in self._values:
                self._bytes -= self._values.pop(key)[1]
            self._values[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._values.popitem(last=False)
                self._bytes -= dropped
            return True

    def get_or_make(self, key: str, make: Callable[[], T]) -> T:
        """The cached value under ``key``, or ``make()`` (kept when it fits)."""
        found = self.get(key)
        if found is not None:
            return found  # type: ignore[return-value]
        value = make()
        self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._bytes = 0

    def usage(self) -> CacheUsage:
        with self._lock:
            return CacheUsage(self.name, self._bytes, self.max_bytes, len(self._values), self._refused)


_CACHES: dict[str, SizedCache] = {}
_CACHES_LOCK = threading.Lock()


def named_cache(name: str, max_bytes: int) -> SizedCache:
    """The one cache called ``name`` in this process (created with ``max_bytes`` on first use)."""
    with _CACHES_LOCK:
        if name not in _CACHES:
            _CACHES[name] = SizedCache(name, max_bytes)
        return _CACHES[name]


def memory_in_use() -> list[CacheUsage]:
    """Every named cache's usage, by name."""
    with _CACHES_LOCK:
        caches = sorted(_CACHES.values(), key=lambda cache: cache.name)
    return [cache.usage() for cache in caches]

"""In-memory caches bounded by bytes (core.studio.memcache)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.studio.memcache import SizedCache, content_key, deep_size, memory_in_use, named_cache


@dataclass
class Holder:
    arrays: list
    label: str


def test_deep_size_counts_array_buffers_once() -> None:
    big = np.zeros(1_000_000, dtype=np.uint8)
    assert 1_000_000 <= deep_size(Holder([big, big[:10], big], "x")) < 1_001_000
    assert deep_size({"a": b"x" * 5000}) > 5000


def test_least_recently_used_values_are_dropped_to_fit_the_budget() -> None:
    cache = SizedCache("test", max_bytes=3_500_000, max_item_bytes=2_000_000)
    for key in "abc":
        cache.put(key, np.zeros(1_000_000, dtype=np.uint8))
    cache.get("a")  # now the most recently used
    cache.put("d", np.zeros(1_000_000, dtype=np.uint8))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("d") is not None
    assert cache.usage().n_bytes <= 3_500_000 and cache.usage().entries == 3


def test_a_value_over_the_object_budget_is_returned_but_not_kept() -> None:
    cache = SizedCache("test", max_bytes=10_000_000, max_item_bytes=1_000)
    made = cache.get_or_make("big", lambda: np.ones(5_000))
    assert made.sum() == 5_000 and cache.get("big") is None and cache.usage().refused == 1
    calls = []
    cache.get_or_make("small", lambda: calls.append(1) or b"ok")
    assert cache.get_or_make("small", lambda: calls.append(1) or b"again") == b"ok" and calls == [1]


def test_content_keys_follow_names_contents_and_order() -> None:
    one, two = [("a.mid", b"1"), ("b.mid", b"2")], [("b.mid", b"2"), ("a.mid", b"1")]
    assert content_key(one) == content_key([("a.mid", b"1"), ("b.mid", b"2")])
    assert content_key(one) != content_key(two) != content_key([("a.mid", b"12")])


def test_named_caches_are_shared_and_reported() -> None:
    assert named_cache("test-shared", 100) is named_cache("test-shared", 999)
    assert any(usage.name == "test-shared" and usage.max_bytes == 100 for usage in memory_in_use())

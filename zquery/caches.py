"""The two small caches the pipeline keeps: per schema graph, and bounded per key.

:class:`PerGraph` holds one value per :class:`~zquery.schema.graph.SchemaGraph`, weakly
(a dropped graph takes its value with it). It answers the graph asked for last without
a dictionary lookup: a ``WeakKeyDictionary`` lookup builds a weak reference on every
call, and one graph usually serves every request.

:func:`bounded` is the memo for values built from what a client chooses (columns,
numbers, positions): computed once per key, and started over when it reaches its limit,
so a stream of new keys costs rebuilds, never memory.

>>> calls = []
>>> cache: dict[int, str] = {}
>>> bounded(cache, 2, 3, lambda: calls.append(2) or "two"), bounded(cache, 2, 3, str)
('two', 'two')
>>> calls
[2]
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from zquery.schema.graph import SchemaGraph

__all__ = ["PerGraph", "bounded"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _nothing() -> None:
    return None


class PerGraph(Generic[V]):
    """One value per graph, built by *build* the first time the graph is asked for."""

    __slots__ = ("_build", "_last", "_values")

    def __init__(self, build: Callable[[SchemaGraph], V]) -> None:
        self._build = build
        self._values: weakref.WeakKeyDictionary[SchemaGraph, V] = weakref.WeakKeyDictionary()
        self._last: tuple[Callable[[], SchemaGraph | None], V | None] = (_nothing, None)

    def get(self, graph: SchemaGraph) -> V:
        """The value of *graph* (built once per graph)."""
        last = self._last
        if last[0]() is graph and last[1] is not None:
            return last[1]
        found = self._values.get(graph)
        if found is None:
            found = self._values[graph] = self._build(graph)
        self._last = (weakref.ref(graph), found)
        return found


def bounded(cache: dict[K, V], key: K, limit: int, build: Callable[..., V],
            *args: Any) -> V:
    """``cache[key]``, built by ``build(*args)`` when missing; *cache* starts over at *limit*.

    *args* spare a hot caller the closure it would build on every call, hit or miss.
    """
    found = cache.get(key)
    if found is None:
        found = build(*args)
        if len(cache) >= limit:
            cache.clear()
        cache[key] = found
    return found

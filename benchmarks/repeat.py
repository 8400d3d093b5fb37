"""Section 2: a shape seen before — zquery's per-request overhead, and SQLAlchemy's cache.

A request whose shape was seen before (same parameters, paths and operators; new values)
goes through zquery's shape cache (:class:`zquery.shapes.ShapeCache`, what ``ZQuery.run``
uses): parse, look the shape up, coerce and bind the new values. Side by side, per entry:

* ``zquery``: ``parse_request`` + ``ShapeCache.prepare`` on new values (the shape warmed up
  first) — the whole per-request overhead before the database;
* ``no_cache``: parse → resolve → compile again on new values;
* ``same_text``: the very same request again (only zquery's per-text caches help);
* ``parse``: ``parse_request`` alone on new values — what any shape cache that still runs
  the grammar would cost at least;
* ``floor``: building the statements by hand.

:func:`compiled_cache_stats` then executes every entry's statements on new values and counts
SQLAlchemy's compiled-cache hits and misses (``ExecutionContext.cache_hit``), showing that
statements differing only in values share one cached compilation.

>>> from benchmarks.schema import test_graph
>>> from benchmarks.corpus import BY_NAME
>>> result = run_repeat(test_graph(), [BY_NAME["one_condition"]], rounds=2, warmup=1,
...                     target=0.001)
>>> sorted(result.rows[0].medians)
['floor', 'no_cache', 'parse', 'same_text', 'zquery']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import default

from benchmarks.compile_cost import floor_case, fresh_values, zquery_case
from benchmarks.corpus import RESOURCE, Entry
from benchmarks.handwritten import hand_tables
from benchmarks.timing import Case, measure, median, ratio_median
from zquery.compile import compile_plan
from zquery.execute import execute
from zquery.request import parse_request
from zquery.resolve import resolve
from zquery.schema.graph import SchemaGraph
from zquery.shapes import ShapeCache

__all__ = ["CONTENDERS", "CacheStats", "RepeatResult", "RepeatRow", "compiled_cache_stats",
           "run_repeat"]

#: The contenders of this section, in report order.
CONTENDERS = ("zquery", "no_cache", "same_text", "parse", "floor")


@dataclass(frozen=True)
class RepeatRow:
    """Medians in µs per request, and each contender's same-round ratio to the floor."""

    entry: str
    medians: dict[str, float]
    to_floor: dict[str, float]


@dataclass(frozen=True)
class RepeatResult:
    rows: list[RepeatRow]
    rounds: int


@dataclass(frozen=True)
class CacheStats:
    """SQLAlchemy's compiled cache over ``executions`` requests of one entry."""

    entry: str
    executions: int
    statements: int
    misses: int
    hits: int
    marker: str


def _same_text_case(key: tuple[str, ...], graph: SchemaGraph, entry: Entry,
                    dialect: str) -> Case:
    pairs = entry.request(fresh_values(entry))  # one request, repeated verbatim
    return zquery_case(key, graph, entry, dialect, request=lambda: pairs)


def _shape_cache_case(key: tuple[str, ...], graph: SchemaGraph, entry: Entry,
                      dialect: str) -> Case:
    cache = ShapeCache(graph)
    cache.prepare(parse_request(entry.request(fresh_values(entry))), RESOURCE, dialect)

    def run(batch: list[list[tuple[str, str]]]) -> None:
        for pairs in batch:
            cache.prepare(parse_request(pairs), RESOURCE, dialect)

    return Case(key, lambda n: [entry.request(fresh_values(entry)) for _ in range(n)], run)


def _parse_case(key: tuple[str, ...], entry: Entry) -> Case:
    def run(batch: list[list[tuple[str, str]]]) -> None:
        for pairs in batch:
            parse_request(pairs)

    return Case(key, lambda n: [entry.request(fresh_values(entry)) for _ in range(n)], run)


def run_repeat(graph: SchemaGraph, entries: Sequence[Entry], *, rounds: int, warmup: int,
               target: float, dialect: str = "sqlite", seed: int = 20240602,
               progress: Callable[[str], None] | None = None) -> RepeatResult:
    tables = hand_tables(graph)
    cases: list[Case] = []
    for entry in entries:
        cases.append(_shape_cache_case((entry.name, "zquery"), graph, entry, dialect))
        cases.append(zquery_case((entry.name, "no_cache"), graph, entry, dialect))
        cases.append(_same_text_case((entry.name, "same_text"), graph, entry, dialect))
        cases.append(_parse_case((entry.name, "parse"), entry))
        cases.append(floor_case((entry.name, "floor"), tables, entry, dialect))
    samples = measure(cases, rounds=rounds, warmup=warmup, target=target, seed=seed,
                      progress=progress)
    rows = []
    for entry in entries:
        floor = samples[(entry.name, "floor")]["total"]
        medians = {name: median(samples[(entry.name, name)]["total"]) * 1e6
                   for name in CONTENDERS}
        to_floor = {name: ratio_median(samples[(entry.name, name)]["total"], floor)
                    for name in CONTENDERS if name != "floor"}
        rows.append(RepeatRow(entry.name, medians, to_floor))
    return RepeatResult(rows, rounds)


def compiled_cache_stats(engine: sa.Engine, graph: SchemaGraph, entries: Sequence[Entry], *,
                         executions: int = 20) -> tuple[list[CacheStats], int]:
    """Run each entry *executions* times on new values through ``execute``; count cache
    hits and misses per entry; also return the cache's size at the end."""
    counts: dict[str, int] = {}
    marker: list[str] = []

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        hit = context.cache_hit
        kind = ("hit" if hit is default.CACHE_HIT
                else "miss" if hit is default.CACHE_MISS else "uncached")
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "hit" and not marker:
            marker.append(context._get_cache_stats())

    engine.clear_compiled_cache()
    event.listen(engine, "after_cursor_execute", after)
    stats = []
    try:
        with engine.connect() as conn:
            for entry in entries:
                counts.clear()
                marker.clear()
                for _ in range(executions):
                    plan = resolve(parse_request(entry.request(fresh_values(entry))), graph,
                                   RESOURCE)
                    execute(conn, plan, compile_plan(plan, graph, dialect=engine.dialect.name),
                            graph)
                total = sum(counts.values())
                stats.append(CacheStats(entry.name, executions, total, counts.get("miss", 0),
                                        counts.get("hit", 0), marker[0] if marker else ""))
    finally:
        event.remove(engine, "after_cursor_execute", after)
    cache = engine._compiled_cache
    return stats, len(cache) if cache is not None else 0

"""Section 1: what turning a request into a ``Select`` costs, cold, per stage and in total.

For each corpus entry, four contenders run side by side in interleaved rounds, each on
values no request used before (:meth:`~benchmarks.values.Values.variant`), so no cache can
answer from the text:

* ``zquery``: ``parse_request`` → ``resolve`` → ``compile_plan`` (stages timed apart);
* ``floor``: the same statements built by hand (:mod:`benchmarks.handwritten`) from
  already-typed values;
* ``value floor``: the floor on a prebuilt ``SELECT`` list (``hand_tables(prebuilt=True)``):
  only what holds the values is built, the least a hand-writer does through SQLAlchemy's
  public operators (a peer's ``select(Model)`` is one entity, not the column list the floor
  coerces each time; zquery builds its comparisons directly and can go below it);
* ``pyrsql`` and ``odata``: the peer's text → ``Select`` (only the filters it can say, and
  only when its statement finds the floor's rows: :func:`peer_problems`).

>>> from benchmarks.schema import test_graph
>>> from benchmarks.corpus import BY_NAME
>>> result = run_compile_cost(test_graph(), [BY_NAME["one_condition"]], rounds=2, warmup=1,
...                           target=0.001, peer_notes={})
>>> row = result.rows[0]
>>> sorted(row.zquery), row.ratio_to_floor > 0
(['compile', 'parse', 'resolve', 'total'], True)
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from benchmarks.check import same_uuids
from benchmarks.corpus import RESOURCE, Entry, Pairs
from benchmarks.handwritten import HandTables, hand_tables
from benchmarks.peers import PEER_NAMES, Peers, peers_for
from benchmarks.timing import Case, measure, median, ratio_median, spread
from benchmarks.values import LIST_SIZE, Values
from zquery.compile import compile_plan
from zquery.request import parse_request
from zquery.resolve import resolve
from zquery.schema.graph import SchemaGraph

__all__ = ["STAGES", "CompileResult", "CompileRow", "fresh_values", "peer_problems",
           "run_compile_cost", "zquery_case"]

#: zquery's stages, in pipeline order.
STAGES = ("parse", "resolve", "compile")
_VARIANTS = itertools.count(1)


def fresh_values(entry: Entry | None = None) -> Values:
    """Values never handed out before in this process (the list only if *entry* uses it)."""
    return Values.variant(next(_VARIANTS),
                          list_size=LIST_SIZE if entry is None or entry.uses_list else 0)


@dataclass(frozen=True)
class CompileRow:
    """One entry's medians (µs per request) and same-round ratios."""

    entry: str
    zquery: dict[str, float]
    floor: float
    ratio_to_floor: float
    ratio_spread: float
    peers: dict[str, float] = field(default_factory=dict)
    peer_ratio: dict[str, float] = field(default_factory=dict)  # peer time / zquery time
    #: The value floor (µs): the floor with its SELECT list prebuilt; zquery / it, same-round.
    value_floor: float = 0.0
    ratio_to_value_floor: float = 0.0
    peer_notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CompileResult:
    rows: list[CompileRow]
    dialect: str
    rounds: int


def zquery_case(key: tuple[str, ...], graph: SchemaGraph, entry: Entry, dialect: str,
                request: Callable[[], Pairs] | None = None) -> Case:
    """Parse, resolve and compile *entry*, stages timed apart; each iteration on a fresh
    request unless *request* says which (``same_text`` hands the same one every time)."""
    make = request if request is not None else lambda: entry.request(fresh_values(entry))
    clock = time.perf_counter

    def run(batch: list[Any]) -> dict[str, float]:
        parse = resolving = compiling = 0.0
        for pairs in batch:
            start = clock()
            parsed_request = parse_request(pairs)
            parsed = clock()
            plan = resolve(parsed_request, graph, RESOURCE)
            resolved = clock()
            compile_plan(plan, graph, dialect=dialect)
            done = clock()
            parse += parsed - start
            resolving += resolved - parsed
            compiling += done - resolved
        return {"parse": parse, "resolve": resolving, "compile": compiling}

    return Case(key, lambda n: [make() for _ in range(n)], run)


def floor_case(key: tuple[str, ...], tables: HandTables, entry: Entry, dialect: str) -> Case:
    def run(batch: list[Values]) -> None:
        build = entry.floor
        for values in batch:
            build(tables, values, dialect)

    return Case(key, lambda n: [fresh_values(entry) for _ in range(n)], run)


def _peer_case(key: tuple[str, ...], peers: Peers, peer: str, entry: Entry,
               text_of: Callable[[Values], str]) -> Case:
    def run(batch: list[str]) -> None:
        build = peers.build
        for text in batch:
            build(peer, text)

    return Case(key, lambda n: [text_of(fresh_values(entry)) for _ in range(n)], run)


def _peer_text(entry: Entry, peer: str) -> Callable[[Values], str] | None:
    return entry.rsql if peer == "pyrsql" else entry.odata


def peer_problems(conn: sa.Connection, graph: SchemaGraph, entries: Sequence[Entry],
                  values: Values) -> dict[tuple[str, str], str]:
    """(entry, peer) → why the peer is left out: no text, an error, or wrong rows.

    *conn* holds bench data for *graph*; *values* hit its rows.
    """
    peers = peers_for(graph, RESOURCE)
    tables = hand_tables(graph)
    notes: dict[tuple[str, str], str] = {}
    for entry in entries:
        floor = entry.floor(tables, values, conn.dialect.name)
        for peer in PEER_NAMES:
            text_of = _peer_text(entry, peer)
            if text_of is None or floor.rows is None:
                notes[(entry.name, peer)] = "—"
                continue
            try:
                stmt = peers.build(peer, text_of(values))
                with warnings.catch_warnings():  # a wrong peer statement may warn; it is noted
                    warnings.simplefilter("ignore", sa.exc.SAWarning)
                    problem = same_uuids(conn, floor.rows, stmt)
            except Exception as error:  # a peer's own failure, whatever its type
                problem = f"error: {type(error).__name__}: {str(error).splitlines()[0][:60]}"
            if problem is not None:
                notes[(entry.name, peer)] = problem
    return notes


def run_compile_cost(graph: SchemaGraph, entries: Sequence[Entry], *, rounds: int,
                     warmup: int, target: float, peer_notes: Mapping[tuple[str, str], str],
                     dialect: str = "sqlite", seed: int = 20240601,
                     progress: Callable[[str], None] | None = None) -> CompileResult:
    """Time every entry's contenders; peers with a note in *peer_notes* are left out."""
    tables = hand_tables(graph)
    prebuilt = hand_tables(graph, prebuilt=True)
    peers = peers_for(graph, RESOURCE)
    cases: list[Case] = []
    for entry in entries:
        cases.append(zquery_case((entry.name, "zquery"), graph, entry, dialect))
        cases.append(floor_case((entry.name, "floor"), tables, entry, dialect))
        cases.append(floor_case((entry.name, "value floor"), prebuilt, entry, dialect))
        for peer in PEER_NAMES:
            text_of = _peer_text(entry, peer)
            if text_of is not None and (entry.name, peer) not in peer_notes:
                cases.append(_peer_case((entry.name, peer), peers, peer, entry, text_of))
    samples = measure(cases, rounds=rounds, warmup=warmup, target=target, seed=seed,
                      progress=progress)
    rows = []
    for entry in entries:
        zq = samples[(entry.name, "zquery")]
        floor = samples[(entry.name, "floor")]["total"]
        values_only = samples[(entry.name, "value floor")]["total"]
        ratios = [a / b for a, b in zip(zq["total"], floor, strict=True)]
        row = CompileRow(
            entry=entry.name, zquery={stage: median(zq[stage]) * 1e6 for stage in zq},
            floor=median(floor) * 1e6, ratio_to_floor=median(ratios),
            ratio_spread=spread(ratios), value_floor=median(values_only) * 1e6,
            ratio_to_value_floor=ratio_median(zq["total"], values_only))
        for peer in PEER_NAMES:
            note = peer_notes.get((entry.name, peer))
            if note is None and _peer_text(entry, peer) is None:
                note = "—"
            if note is not None:
                row.peer_notes[peer] = note
                continue
            found = samples[(entry.name, peer)]["total"]
            row.peers[peer] = median(found) * 1e6
            row.peer_ratio[peer] = ratio_median(found, zq["total"])
        rows.append(row)
    return CompileResult(rows, dialect, rounds)

"""Section 3: running the statements on bench data in SQLite, PostgreSQL and MariaDB.

Per database and corpus entry, four shapes run side by side in interleaved rounds, each
fetching every row: ``zquery`` (its page and total statements), ``floor`` (the best
hand-written SQL), ``reference`` (the reference ZStack server's nested-IN shape) and
``zquery_reply`` (zquery's whole ``execute()``: statements, nested ``vmNics`` and the
reply dicts). Before any timing each shape must answer like the floor
(:func:`benchmarks.check.compare`), and every zquery statement is EXPLAINed
(:mod:`benchmarks.explain`).

>>> from benchmarks.databases import open_database
>>> from benchmarks.dataset import prepare_dataset
>>> from benchmarks.corpus import BY_NAME
>>> db = open_database("sqlite")
>>> data = prepare_dataset([db], scale=300, kind="bench")
>>> result = run_execution([db], data.graph, data.values, [BY_NAME["one_hop"]], rounds=1,
...                        warmup=1, target=0.001)
>>> row = result.rows[0]
>>> row.problems, row.scans, sorted(row.medians)
([], [], ['floor', 'reference', 'zquery', 'zquery_reply'])
>>> db.close()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from benchmarks.check import compare
from benchmarks.corpus import RESOURCE, Entry
from benchmarks.databases import Database
from benchmarks.explain import full_scans, join_keys, plan_lines, unindexed
from benchmarks.handwritten import Statements, hand_tables
from benchmarks.timing import Case, measure, median, ratio_median
from benchmarks.values import Values
from zquery.compile import compile_plan
from zquery.dialects import bytewise_name, statement_timeout, stats_for
from zquery.errors import QueryTimeout
from zquery.execute import execute
from zquery.plan import QueryPlan
from zquery.request import parse_request
from zquery.resolve import resolve
from zquery.schema.graph import SchemaGraph

__all__ = ["SHAPES", "ExecResult", "ExecRow", "run_execution"]

#: The shapes timed per entry, in report order.
SHAPES = ("zquery", "floor", "reference", "zquery_reply")


@dataclass(frozen=True)
class ExecRow:
    """One (database, entry): medians in ms, same-round ratios, checks and EXPLAIN findings."""

    database: str
    entry: str
    medians: dict[str, float]
    to_floor: float
    to_reference: float | None
    reply_to_statements: float
    problems: list[str] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)
    root_scan: bool = False
    #: Shapes that ran past the cap in their trial run: not timed, their median is the cap
    #: (a lower bound), so a ratio with one of them on either side is a bound too.
    capped: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExecResult:
    rows: list[ExecRow]
    rounds: int
    join_keys: list[tuple[str, str]]
    unindexed: dict[str, list[tuple[str, str]]]


@dataclass
class _Prepared:
    """One (database, entry) ready to time: the open connection and each shape's work."""

    db: Database
    entry: Entry
    plan: QueryPlan
    shapes: dict[str, Statements]
    problems: list[str]
    scans: list[str]
    root_scan: bool
    capped: tuple[str, ...]


def _within_cap(conn: sa.Connection, cap: float | None, work: Callable[[], object]) -> bool:
    """Run *work* once under a statement timeout of *cap* seconds; False when cut off.
    Without a cap nothing runs: the row checks and the warm-up round run every shape anyway."""
    if cap is None:
        return True
    try:
        with statement_timeout(conn, int(cap * 1000)):
            work()
    except (sa.exc.DBAPIError, QueryTimeout):  # execute() raises zquery's own timeout
        conn.rollback()
        return False
    return True


def _prepare(db: Database, conn: sa.Connection, graph: SchemaGraph, values: Values,
             entry: Entry, cap: float | None) -> _Prepared:
    tables = hand_tables(graph)
    plan = resolve(parse_request(entry.request(values)), graph, RESOURCE)
    # As ZQuery.run compiles: the database's collation and SQLite's statistics.
    compiled = compile_plan(plan, graph, dialect=bytewise_name(conn), stats=stats_for(conn))
    shapes = {"zquery": Statements(compiled.rows, compiled.count, ordered=entry.total_order),
              "floor": entry.floor(tables, values, db.kind)}
    if entry.reference is not None:
        shapes["reference"] = entry.reference(tables, values, db.kind)
    capped = tuple(shape for shape, statements in shapes.items()
                   if not _within_cap(conn, cap, lambda s=statements: _run_all(conn, s.all())))
    if not _within_cap(conn, cap, lambda: execute(conn, plan, compiled, graph)):
        capped += ("zquery_reply",)
    problems = [f"{shape} over the {cap:g} s cap" for shape in capped]
    for shape in ("zquery", "reference"):
        if shape in shapes and not {"floor", shape} & set(capped):
            problem = compare(conn, shapes["floor"], shapes[shape])
            if problem is not None:
                problems.append(f"{shape}: {problem}")
    root = plan.resource.table
    scanned: list[str] = []
    for stmt in shapes["zquery"].all():
        scanned.extend(full_scans(db.kind, plan_lines(conn, stmt)))
    scans = sorted({name for name in scanned if name != root})
    return _Prepared(db, entry, plan, shapes, problems, scans, root in scanned, capped)


def _run_all(conn: sa.Connection, statements: tuple[Any, ...]) -> None:
    for stmt in statements:
        conn.execute(stmt).all()


def _statements_case(key: tuple[str, ...], conn: sa.Connection,
                     statements: tuple[Any, ...]) -> Case:
    def run(n: int) -> None:
        for _ in range(n):
            for stmt in statements:
                conn.execute(stmt).all()

    return Case(key, lambda n: n, run, max_batch=200)


def _reply_case(key: tuple[str, ...], conn: sa.Connection, graph: SchemaGraph,
                prepared: _Prepared) -> Case:
    plan = prepared.plan
    # As ZQuery.run compiles: the database's collation and SQLite's statistics.
    compiled = compile_plan(plan, graph, dialect=bytewise_name(conn), stats=stats_for(conn))

    def run(n: int) -> None:
        for _ in range(n):
            execute(conn, plan, compiled, graph)

    return Case(key, lambda n: n, run, max_batch=200)


def run_execution(databases: Sequence[Database], graph: SchemaGraph, values: Values,
                  entries: Sequence[Entry], *, rounds: int, warmup: int, target: float,
                  seed: int = 20240603, cap: float | None = None,
                  progress: Callable[[str], None] | None = None) -> ExecResult:
    """Check, EXPLAIN and time every entry on every (loaded) database.

    *cap* (seconds; ``--exec-cap``): a shape whose trial run takes longer is not timed,
    and its time is reported as over the cap (at full scale the reference shape and whole
    replies of tens of thousands of rows can take minutes).
    """
    connections = {db.kind: db.engine.connect() for db in databases}
    try:
        prepared = []
        for db in databases:
            for entry in entries:
                if progress is not None:
                    progress(f"checking {entry.name} on {db.kind}")
                prepared.append(_prepare(db, connections[db.kind], graph, values, entry, cap))
        cases: list[Case] = []
        for item in prepared:
            conn = connections[item.db.kind]
            base = (item.db.kind, item.entry.name)
            for shape, statements in item.shapes.items():
                if shape not in item.capped:
                    cases.append(_statements_case((*base, shape), conn, statements.all()))
            if "zquery_reply" not in item.capped:
                cases.append(_reply_case((*base, "zquery_reply"), conn, graph, item))
        samples = measure(cases, rounds=rounds, warmup=warmup, target=target, seed=seed,
                          progress=progress)
        keys = sorted(join_keys(graph, [item.plan for item in prepared]))
        missing = {db.kind: unindexed(db.engine, keys) for db in databases}
    finally:
        for conn in connections.values():
            conn.rollback()
            conn.close()
    rows = []
    for item in prepared:
        base = (item.db.kind, item.entry.name)
        times = {shape: samples[(*base, shape)]["total"] for shape in SHAPES
                 if (*base, shape) in samples}
        for shape in item.capped:  # the cap is a lower bound on its time
            times[shape] = [float(cap or 0)] * rounds
        rows.append(ExecRow(
            database=item.db.kind, entry=item.entry.name,
            medians={shape: median(found) * 1e3 for shape, found in times.items()},
            to_floor=ratio_median(times["zquery"], times["floor"]),
            to_reference=(ratio_median(times["zquery"], times["reference"])
                          if "reference" in times else None),
            reply_to_statements=ratio_median(times["zquery_reply"], times["zquery"]),
            problems=item.problems, scans=item.scans, root_scan=item.root_scan,
            capped=item.capped))
    return ExecResult(rows, rounds, keys, missing)

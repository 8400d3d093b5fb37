"""Same rows or not: the correctness check every timed statement passes first.

Two versions of a request agree when their full results (``LIMIT``/``OFFSET`` removed) are
the same multiset, their pages have the right size and come from that set, a page with a
total order on both sides is the same list, and their totals are equal. A peer (which
selects ORM entities) agrees with the floor when the uuids it finds are the same.

>>> import sqlalchemy as sa
>>> t = sa.table("t", sa.column("uuid"))
>>> engine = sa.create_engine("sqlite://")
>>> with engine.begin() as conn:
...     _ = conn.exec_driver_sql("CREATE TABLE t (uuid TEXT)")
...     _ = conn.exec_driver_sql("INSERT INTO t VALUES ('a'), ('b'), ('c')")
...     every = Statements(sa.select(t.c.uuid).limit(2), None)
...     some = Statements(sa.select(t.c.uuid).where(t.c.uuid != "c").limit(2), None)
...     compare(conn, every, every), compare(conn, every, some)
(None, 'full results differ: 3 rows against 2')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import Select

from benchmarks.handwritten import Statements

__all__ = ["compare", "full_rows", "page_rows", "same_uuids"]


def _sortable(row: Sequence[Any]) -> tuple[Any, ...]:
    # NULLs and mixed types sort by (is-null, text) so any two rows compare.
    return tuple((value is None, str(value)) for value in row)


def _normal(row: Sequence[Any]) -> tuple[Any, ...]:
    # MariaDB hands back 0/1 for booleans and Decimal for some numbers: compare as text.
    return tuple(None if value is None else str(value) for value in row)


def full_rows(conn: sa.Connection, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    """Every row the statement matches, its page limits removed, in a canonical order."""
    rows = conn.execute(stmt.limit(None).offset(None)).all()
    return sorted((_normal(row) for row in rows), key=_sortable)


def page_rows(conn: sa.Connection, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    return [_normal(row) for row in conn.execute(stmt).all()]


def compare(conn: sa.Connection, expected: Statements, got: Statements) -> str | None:
    """None when *got* answers like *expected*; otherwise what differs (one line)."""
    if (expected.rows is None) != (got.rows is None):
        return "one has a page statement, the other not"
    if (expected.count is None) != (got.count is None):
        return "one has a count statement, the other not"
    if expected.rows is not None and got.rows is not None:
        problem = _compare_pages(conn, expected.rows, got.rows,
                                 expected.ordered and got.ordered)
        if problem is not None:
            return problem
    if expected.count is not None and got.count is not None:
        want, have = conn.execute(expected.count).scalar(), conn.execute(got.count).scalar()
        if want != have:
            return f"totals differ: {want} against {have}"
    return None


def _compare_pages(conn: sa.Connection, expected: Select[Any], got: Select[Any],
                   ordered: bool) -> str | None:
    want_all, have_all = full_rows(conn, expected), full_rows(conn, got)
    if want_all != have_all:
        return f"full results differ: {len(want_all)} rows against {len(have_all)}"
    want, have = page_rows(conn, expected), page_rows(conn, got)
    if len(want) != len(have):
        return f"pages differ in size: {len(want)} against {len(have)}"
    if ordered:
        return None if want == have else "ordered pages differ"
    members = set(want_all)
    return None if all(row in members for row in have) else "page holds rows outside the set"


def same_uuids(conn: sa.Connection, expected: Select[Any], got: Select[Any],
               key: str = "uuid") -> str | None:
    """None when both statements (limits removed) find the same *key* values."""
    want = sorted(str(row._mapping[key])
                  for row in conn.execute(expected.limit(None).offset(None)))
    have = sorted(str(row._mapping[key]) for row in conn.execute(got.limit(None).offset(None)))
    if want == have:
        return None
    return f"wrong rows: {len(have)} found, {len(want)} expected"

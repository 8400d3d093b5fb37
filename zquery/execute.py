"""Run a compiled query and build the ZStack-shaped reply (contract sections 5 and 8).

:func:`execute` runs the page statement and, when asked, the count statement of a
:class:`~zquery.compile.CompiledQuery`, each under an optional statement timeout, then
turns rows into inventories (:mod:`zquery.reply`): field names as keys, nulls omitted,
Timestamps in the reference's format or ISO 8601. Mapped fields and nested collections
(``vmNics`` inside a VM) are filled with one query per field or collection for the whole
page (:mod:`zquery.execute_nested`), never one per row. Database failures become
:class:`~zquery.errors.QueryTimeout`, :class:`~zquery.errors.DatabaseUnavailable` or
:class:`~zquery.errors.ExecuteError`, without SQL text.

>>> import sqlalchemy as sa
>>> from zquery.compile import compile_plan
>>> from zquery.request import parse_request
>>> from zquery.resolve import resolve
>>> from zquery.schema.graph import Field, FieldType, Resource, SchemaGraph
>>> from zquery.schema.tables import build_metadata, table_of
>>> zone = Resource(name="Zone", table="ZoneVO", primary_key="uuid",
...                 fields={"uuid": Field("uuid", FieldType.STRING),
...                         "name": Field("name", FieldType.STRING),
...                         "createDate": Field("createDate", FieldType.TIMESTAMP)})
>>> graph = SchemaGraph(resources={"Zone": zone})
>>> engine = sa.create_engine("sqlite://")
>>> build_metadata(graph).create_all(engine)
>>> from datetime import datetime
>>> with engine.begin() as conn:
...     _ = conn.execute(table_of(graph, "Zone").insert(), [
...         {"uuid": "z1", "name": "zone1", "createDate": datetime(2017, 5, 11, 13, 23, 2)},
...         {"uuid": "z2", "name": None, "createDate": None}])
...     plan = resolve(parse_request("sort=uuid&replyWithCount=true"), graph, "Zone")
...     execute(conn, plan, compile_plan(plan, graph), graph)
{'inventories': [{'uuid': 'z1', 'name': 'zone1', 'createDate': 'May 11, 2017 1:23:02 PM'}, \
{'uuid': 'z2'}], 'total': 2}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from zquery import dialects
from zquery.compile import CompiledQuery
from zquery.errors import ExecuteError
from zquery.execute_nested import PageLoader
from zquery.plan import QueryPlan
from zquery.reply import JsonValue, row_formatter
from zquery.schema.graph import Field, SchemaGraph

__all__ = ["execute", "map_database_error"]

#: The key that carries the size of a group in a ``groupBy`` reply.
COUNT_KEY = "count"


def execute(
    conn: sa.Connection | Session,
    plan: QueryPlan,
    compiled: CompiledQuery,
    graph: SchemaGraph,
    *,
    iso_dates: bool = False,
    timeout_ms: int | None = None,
) -> dict[str, Any]:
    """Run *compiled* on *conn* (a Connection or an ORM Session) and build the reply dict.

    ``{"inventories": [...]}``, plus ``"total"`` with ``replyWithCount``; ``{"total": N}``
    alone with ``count``; with ``groupBy`` one object per group (group fields and
    ``"count"``). ``timeout_ms`` bounds each statement on databases that support it (set
    once per call on PostgreSQL and MariaDB, re-armed per statement on SQLite).
    """
    with map_database_error():
        # A Session connects lazily: reaching the database may fail right here.
        connection = conn.connection() if isinstance(conn, Session) else conn
        dialects.ensure(connection)
        # One timeout setting per request, not per statement: on PostgreSQL and MariaDB the
        # setting is a round trip each way, which tripled a small request's statements.
        with dialects.statement_timeout(connection, timeout_ms):
            return _reply(connection, plan, compiled, graph, iso_dates, timeout_ms)


def _reply(connection: sa.Connection, plan: QueryPlan, compiled: CompiledQuery,
           graph: SchemaGraph, iso_dates: bool, timeout_ms: int | None) -> dict[str, Any]:
    reply: dict[str, Any] = {}
    if compiled.rows is not None:
        rows = _run(connection, compiled.rows, timeout_ms, compiled.params).all()
        if plan.group_by:
            reply["inventories"] = _groups(compiled.columns, rows, iso_dates)
        else:
            loader = PageLoader(connection, graph, scope=plan.scope, iso_dates=iso_dates,
                                run=lambda stmt, params: _run(connection, stmt, timeout_ms,
                                                              params))
            reply["inventories"] = loader.inventories(
                plan.resource, compiled.columns, rows, selected=plan.fields,
                hidden=compiled.hidden)
    if compiled.count is not None:
        total = _run(connection, compiled.count, timeout_ms, compiled.params).scalar_one()
        reply["total"] = int(total)
    return reply


def _run(connection: sa.Connection, statement: sa.Executable, timeout_ms: int | None,
         params: Mapping[str, Any] | None = None) -> sa.Result[Any]:
    """One statement; with a timeout, fetched at once and (SQLite) under a fresh deadline."""
    if not timeout_ms or timeout_ms <= 0:
        return connection.execute(statement, params or {})
    if connection.dialect.name == "sqlite":
        dialects.apply_timeout(connection, timeout_ms)  # a deadline per statement; no I/O
    # Fetch now: MariaDB/SQLite may stream rows after execute() returns.
    return connection.execute(statement, params or {}).freeze()()


def _groups(columns: Sequence[Field], rows: Sequence[sa.Row[Any]],
            iso_dates: bool) -> list[dict[str, JsonValue]]:
    """One object per group: the group fields (nulls omitted) and the group's size."""
    build = row_formatter(columns, iso_dates=iso_dates)  # per page, not per row
    out: list[dict[str, JsonValue]] = []
    for row in rows:
        group = build(row)  # the count follows the fields
        group[COUNT_KEY] = int(row[len(columns)])
        out.append(group)
    return out


# -- database errors --------------------------------------------------------------------


@contextmanager
def map_database_error() -> Iterator[None]:
    """Turn SQLAlchemy/driver errors into the :class:`ExecuteError` family, no SQL text.

    The classification (timeout, unreachable, other) is the dialect layer's.

    >>> with map_database_error():
    ...     raise sa_exc.OperationalError("SELECT secret FROM t", {}, Exception("boom"))
    Traceback (most recent call last):
    zquery.errors.ExecuteError: the database failed to run the query
    """
    try:
        yield
    except ExecuteError:
        raise
    except sa_exc.SQLAlchemyError as error:
        raise dialects.classify_db_error(error) from error

"""EXPLAIN every zquery statement and find table accesses no index serves.

The planner is pushed towards indexes first (PostgreSQL ``enable_seqscan = off``, MariaDB
``max_seeks_for_key = 1``; SQLite plans from ``ANALYZE``), so a full scan that remains
means no index fits. Scans of the queried table itself are expected when its own
conditions keep many rows and are listed apart; a full scan of any *other* table is a
finding. :func:`join_keys` lists the columns the corpus joins on and :func:`unindexed`
checks each against the indexes the database really has.

>>> full_scans("sqlite", ["SEARCH VmInstanceVO USING INDEX x (uuid=?)", "SCAN VmNicVO_1"])
['VmNicVO']
>>> full_scans("postgresql", ['Seq Scan on "HostVO" "HostVO_1"  (cost=...)'])
['HostVO']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import Select

from zquery.plan import QueryPlan
from zquery.schema.graph import SchemaGraph

__all__ = ["full_scans", "join_keys", "plan_lines", "unindexed"]

_ALIAS_NUMBER = re.compile(r"_\d+$")
_PG_SCAN = re.compile(r'Seq Scan on "?([^"\s]+)"?')
_SQLITE_SCAN = re.compile(r"^SCAN (\S+)$")
_PUSH_TO_INDEXES = {
    "postgresql": ("SET enable_seqscan = off", "RESET enable_seqscan"),
    "mysql": ("SET SESSION max_seeks_for_key = 1", "SET SESSION max_seeks_for_key = DEFAULT"),
}


def _literal_sql(stmt: Select[Any], dialect: sa.engine.Dialect) -> str:
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def plan_lines(conn: sa.Connection, stmt: Select[Any]) -> list[str]:
    """The plan of *stmt* as text lines (values inlined), planner pushed towards indexes."""
    kind = "mysql" if conn.dialect.name == "mariadb" else conn.dialect.name
    sql = _literal_sql(stmt, conn.dialect)
    if kind == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
        return [str(row[-1]) for row in rows]
    push, undo = _PUSH_TO_INDEXES[kind]
    conn.exec_driver_sql(push)
    try:
        result = conn.exec_driver_sql("EXPLAIN " + sql)
        if kind == "postgresql":
            return [str(row[0]) for row in result.all()]
        names = list(result.keys())
        return [" ".join(f"{name}={value}" for name, value in zip(names, row, strict=True))
                for row in result.all()]
    finally:
        conn.exec_driver_sql(undo)


def full_scans(kind: str, lines: Iterable[str]) -> list[str]:
    """Tables read in full in a plan (alias numbers dropped), in plan order."""
    found: list[str] = []
    for line in lines:
        name = None
        if kind == "sqlite":
            match = _SQLITE_SCAN.match(line.strip())
            name = match.group(1) if match else None
        elif kind == "postgresql":
            match = _PG_SCAN.search(line)
            name = match.group(1) if match else None
        elif " type=ALL " in f" {line} ":
            table = re.search(r"\btable=(\S+)", line)
            name = table.group(1) if table and not table.group(1).startswith("<") else None
        if name is not None:
            found.append(_ALIAS_NUMBER.sub("", name))
    return found


def join_keys(graph: SchemaGraph, plans: Iterable[QueryPlan]) -> set[tuple[str, str]]:
    """(table, column) pairs the plans' conditions join on: both ends of every hop, link
    columns, tag owner columns, and the relation of every guard."""
    keys: set[tuple[str, str]] = set()
    for plan in plans:
        for cond in plan.conditions:
            relations = [hop.relation for hop in cond.hops]
            relations.extend(guard.relation for guard in cond.guards)
            for rel in relations:
                keys.add((graph.resources[rel.source].table, rel.local_key))
                keys.add((graph.resources[rel.target].table, rel.remote_key))
                if rel.through is not None:
                    keys.add((rel.through.table, rel.through.source_column))
                    keys.add((rel.through.table, rel.through.target_column))
            if cond.tag is not None and graph.tags is not None:
                table = (graph.tags.system_table if cond.tag.kind.value == "system"
                         else graph.tags.user_table)
                keys.add((table, graph.tags.resource_uuid))
                keys.add((cond.resource.table, cond.resource.primary_key))
    return keys


def unindexed(engine: sa.Engine, keys: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The keys no index (or primary key) of the live database starts with."""
    inspector = sa.inspect(engine)
    leading: dict[str, set[str]] = {}
    missing = []
    for table, column in keys:
        if table not in leading:
            firsts = {index["column_names"][0] for index in inspector.get_indexes(table)
                      if index["column_names"] and index["column_names"][0]}
            primary = inspector.get_pk_constraint(table)["constrained_columns"]
            if primary:
                firsts.add(primary[0])
            leading[table] = {str(name) for name in firsts}
        if column not in leading[table]:
            missing.append((table, column))
    return missing

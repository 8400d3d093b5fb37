"""Make the manual's query examples find something in the demo database.

The manual's examples mostly ask for one row by a uuid or a name it made up
(``QueryImage`` with ``uuid=0538611e…``). For each example whose conditions are all plain
``field=value`` tests on the resource's own columns and that selects nothing yet, one
existing row of that resource is copied with the example's values (and a fresh key unless
the example gives the key). Examples the manual gets wrong (marked ``erratum``) are left
alone: they must keep failing.

>>> simple_assignments([("name", "vm1"), ("state", "Running")])
{'name': 'vm1', 'state': 'Running'}
>>> simple_assignments([("name", "a"), ("name", "b")]) is None
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from zquery.ast import Operator
from zquery.demo.context import Ctx
from zquery.demo.generic import foreign_keys
from zquery.errors import ZQueryError
from zquery.schema.graph import SchemaGraph

__all__ = ["plant_examples", "simple_assignments"]


def simple_assignments(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any] | None:
    """column → value, or None when two conditions want different values in one column."""
    out: dict[str, Any] = {}
    for column, value in pairs:
        if column in out and out[column] != value:
            return None
        out[column] = value
    return out


def plant_examples(ctx: Ctx, conn: sa.Connection, graph: SchemaGraph,
                   examples: Sequence[Mapping[str, Any]]) -> int:
    """Copy one row per example that needs it (rows go through the sink); return how many."""
    from zquery.api import ZQuery
    from zquery.schema.tables import build_metadata

    zq = ZQuery(graph)
    metadata = build_metadata(graph)
    refs = foreign_keys(graph)
    planted = 0
    for example in examples:
        if example.get("erratum") or not example.get("conditions"):
            continue
        query = "&".join("q=" + quote(c, safe="") for c in example["conditions"])
        try:
            plan = zq.plan(example["api"], query)
            if zq.run(conn, example["api"], query + "&count=true")["total"]:
                continue
        except ZQueryError:
            continue
        pairs = []
        for cond in plan.conditions:
            if cond.hops or cond.field is None or cond.field.mapped is not None or \
                    cond.op is not Operator.EQ or cond.guards:
                break
            pairs.append((cond.field.column, cond.value))
        else:
            assignments = simple_assignments(pairs)
            if assignments is None:
                continue
            res = plan.resource
            key = _clone(ctx, conn, metadata.tables[res.table], res.primary_key, res.row_filter,
                         assignments, f"line-{example.get('line', planted)}")
            if key is not None:
                _parents(ctx, conn, metadata, refs, res.table, assignments)
                if res.owned:
                    ctx.owners.own(res.table, str(key), ctx.owners.accounts[0].uuid,
                                   ctx.clock(f"example:{planted}").stamp())
                planted += 1
                ctx.sink.close()  # the next example's check must see this row
    return planted


def _parents(ctx: Ctx, conn: sa.Connection, metadata: sa.MetaData,
             refs: Mapping[tuple[str, str], list[tuple[str, str]]], table: str,
             assignments: Mapping[str, Any]) -> None:
    """A made-up foreign key of the manual (``accountUuid=3897…``) gets its parent row."""
    for column, value in assignments.items():
        for parent, key in refs.get((table, column), [])[:1]:
            target = metadata.tables.get(parent)
            if target is not None and [c.name for c in target.primary_key.columns] == [key]:
                ctx.sink.close()
                if _clone(ctx, conn, target, key, (), {key: value},
                          f"for-{str(value)[:8]}") is not None:
                    ctx.owners.own(parent, str(value), ctx.owners.accounts[0].uuid,
                                   ctx.clock(f"example-parent:{value}").stamp())


def _clone(ctx: Ctx, conn: sa.Connection, table: sa.Table, key: str,
           row_filter: tuple[tuple[str, tuple[str, ...]], ...], assignments: dict[str, Any],
           label: str) -> Any:
    """Write a copy of the resource's first row with *assignments*; return its key."""
    query = sa.select(table).order_by(table.c[key]).limit(1)
    for column, values in row_filter:
        query = query.where(table.c[column].in_(list(values)))
    source = conn.execute(query).mappings().first()
    if source is None:
        return None
    row = dict(source)
    if "name" in row and "name" not in assignments and row["name"] is not None:
        row["name"] = f"example-{label}"  # not a second 'vm1'
    row.update(assignments)
    if key not in assignments:
        if isinstance(table.c[key].type, sa.Integer):
            row[key] = conn.execute(sa.select(sa.func.max(table.c[key]))).scalar_one() + 1
        else:
            row[key] = ctx.ids.uuid(f"example:{label}", 0)
    elif conn.execute(sa.select(sa.func.count()).select_from(table)
                      .where(table.c[key] == row[key])).scalar_one():
        return None  # the key exists under another typed child: leave it
    ctx.sink.emit(table.name, row)
    return row[key]

"""A few plausible rows for every table the hand-written parts do not fill.

The catalogue has far more resources than the estate models by hand (monitoring, billing,
IAM2, SDN, baremetal …). So that every Query API answers something, this module gives each
remaining table — and each typed child (``CephBackupStorage`` in ``BackupStorageVO``) that
has no row yet — a handful of rows, driven only by the schema graph:

* foreign keys come from the graph's relations, link tables and mapped fields, and are drawn
  from the keys really written (so cross-table conditions find rows);
* a typed child's rows carry its row-filter value (``type='Ceph'``);
* other values follow the field type and name (``choices`` cycle, ``*Ip`` is an address …).

>>> import random
>>> from zquery.schema.graph import FieldType
>>> value_for("managementIp", FieldType.STRING, (), random.Random(1), 3, "Host")
'10.250.0.3'
>>> value_for("state", FieldType.STRING, ("Enabled", "Disabled"), random.Random(1), 3, "Host")
'Disabled'
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from zquery.demo.context import Ctx
from zquery.demo.values import Clock, ip_text, mac_text
from zquery.schema.graph import Cardinality, Field, FieldType, Resource, SchemaGraph

__all__ = ["Variant", "fill_generic", "foreign_keys", "value_for", "watched_columns"]

Key = tuple[str, str]  # (table, column)
_GiB = 1024**3


@dataclass(frozen=True)
class Variant:
    """Rows to make for one table: as one resource (maybe a typed child) or a link table."""

    table: str
    resource: Resource | None
    count: int


def foreign_keys(graph: SchemaGraph) -> dict[Key, list[Key]]:
    """(table, column) → the (table, column)s its values come from, read off the graph."""
    refs: dict[Key, set[Key]] = {}

    def add(child: Key, parent: Key) -> None:
        if child != parent:
            refs.setdefault(child, set()).add(parent)

    for res in graph:
        for rel in res.relations.values():
            target = graph.resources[rel.target]
            if rel.through is not None:
                add((rel.through.table, rel.through.source_column), (res.table, rel.local_key))
                add((rel.through.table, rel.through.target_column),
                    (target.table, rel.remote_key))
                continue
            local_pk = rel.local_key == res.primary_key
            remote_pk = rel.remote_key == target.primary_key
            if local_pk and remote_pk:
                continue  # one-to-one on both keys: no side is the owner
            if rel.cardinality is Cardinality.ONE and not local_pk:
                add((res.table, rel.local_key), (target.table, rel.remote_key))
            elif not remote_pk:
                add((target.table, rel.remote_key), (res.table, rel.local_key))
        for field in res.fields.values():
            if field.mapped is not None:
                add((field.mapped.table, field.mapped.join_column),
                    (res.table, field.mapped.owner_key))
    return {key: sorted(parents) for key, parents in sorted(refs.items())}


def fill_generic(ctx: Ctx, graph: SchemaGraph, metadata: sa.MetaData,
                 skip: frozenset[str]) -> None:
    """Rows for every table not in *skip* and every typed child with no row yet."""
    refs = foreign_keys(graph)
    variants = _variants(ctx, graph, metadata, skip)
    planned: dict[Key, list[Any]] = {}
    keys: dict[Variant, list[Any]] = {}
    # Pass 1: keys that are not foreign keys, so every table can point at every other.
    for variant in variants:
        pk = _pk(metadata.tables[variant.table])
        if pk is not None and (variant.table, pk.name) not in refs:
            if isinstance(pk.type, sa.Integer):
                start = len(planned.get((variant.table, pk.name), [])) + 1
                values: list[Any] = list(range(start, start + variant.count))
            else:
                label = variant.resource.name if variant.resource else variant.table
                values = [ctx.ids.uuid(f"generic:{label}", j) for j in range(variant.count)]
            keys[variant] = values
            planned.setdefault((variant.table, pk.name), []).extend(values)
    # Pass 2: keys that are foreign keys (a ref table keyed by its resource), distinct.
    for variant in variants:
        pk = _pk(metadata.tables[variant.table])
        if pk is not None and variant not in keys:
            rng = ctx.rng(f"generic-keys:{variant.table}")
            pool = sorted(set(_pool(ctx, planned, refs[(variant.table, pk.name)])), key=str)
            keys[variant] = rng.sample(pool, min(len(pool), variant.count))
    for variant in variants:
        _rows(ctx, graph, metadata.tables[variant.table], variant, keys.get(variant), refs,
              planned)


def _pk(table: sa.Table) -> sa.Column[Any] | None:
    columns = list(table.primary_key.columns)
    return columns[0] if len(columns) == 1 else None


def _pool(ctx: Ctx, planned: dict[Key, list[Any]], sources: Sequence[Key]) -> list[Any]:
    values: list[Any] = []
    for source in sources:
        values.extend(ctx.sink.pool(*source) or planned.get(source, []))
    return values


def _variants(ctx: Ctx, graph: SchemaGraph, metadata: sa.MetaData,
              skip: frozenset[str]) -> list[Variant]:
    by_table: dict[str, list[Resource]] = {}
    for res in graph:
        by_table.setdefault(res.table, []).append(res)
    base = ctx.sizes.generic_rows
    out: list[Variant] = []
    for name in sorted(metadata.tables):
        resources = by_table.get(name, [])
        if name in skip:
            seen = ctx.sink.seen.get(name, set())
            watched = watched_columns(graph).get(name, ())
            out.extend(Variant(name, res, max(2, base // 3)) for res in resources
                       if res.row_filter and not _satisfied(res, watched, seen))
            continue
        if not resources:
            out.append(Variant(name, None, base))
            continue
        plain = [res for res in resources if not res.row_filter]
        out.extend(Variant(name, res, base) for res in plain[:1])
        out.extend(Variant(name, res, max(2, base // 3)) for res in resources if res.row_filter)
    return out


def watched_columns(graph: SchemaGraph) -> dict[str, tuple[str, ...]]:
    """Per table, the columns typed children filter on (the sink records their values)."""
    columns: dict[str, set[str]] = {}
    for res in graph:
        for column, _ in res.row_filter:
            columns.setdefault(res.table, set()).add(column)
    return {table: tuple(sorted(cols)) for table, cols in columns.items()}


def _satisfied(res: Resource, watched: tuple[str, ...], seen: set[tuple[Any, ...]]) -> bool:
    positions = {column: i for i, column in enumerate(watched)}
    return any(all(combo[positions[column]] in values for column, values in res.row_filter)
               for combo in seen)


def _rows(ctx: Ctx, graph: SchemaGraph, table: sa.Table, variant: Variant,
          keys: list[Any] | None, refs: dict[Key, list[Key]],
          planned: dict[Key, list[Any]]) -> None:
    res = variant.resource
    label = res.name if res else table.name.removesuffix("VO")
    rng = ctx.rng(f"generic:{label}")
    clock = Clock(rng)
    fields: dict[str, Field] = {}
    for other in graph:
        if other.table == table.name:
            for f in other.fields.values():
                if f.mapped is None:
                    fields.setdefault(f.column, f)
    if res is not None:  # a resource's own columns first: its choices win
        fields.update({f.column: f for f in res.fields.values() if f.mapped is None})
        columns = [c for c in table.columns if c.name in
                   {f.column for f in res.fields.values()} | {res.primary_key}]
    else:
        columns = list(table.columns)
    pk = _pk(table)
    filters = dict(res.row_filter) if res else {}
    count = len(keys) if keys is not None else variant.count
    for j in range(count):
        created, changed = clock.pair()
        row: dict[str, Any] = {}
        for column in columns:
            name = column.name
            if pk is not None and name == pk.name and keys is not None:
                row[name] = keys[j]
            elif name in filters:
                row[name] = filters[name][j % len(filters[name])]
            elif name == "createDate":
                row[name] = created
            elif name == "lastOpDate":
                row[name] = changed
            elif (table.name, name) in refs:
                pool = _pool(ctx, planned, refs[(table.name, name)])
                row[name] = pool[rng.randrange(len(pool))] if pool and rng.random() < 0.9 \
                    else None
            else:
                field = fields.get(name)
                ftype = field.type if field else _type_of(column)
                row[name] = value_for(name, ftype, field.choices if field else (), rng, j, label)
        ctx.sink.emit(table.name, row)
        if res is not None and res.owned and pk is not None and row.get(pk.name) is not None:
            ctx.owners.own(table.name, str(row[pk.name]), ctx.owners.pick(), created)


def _type_of(column: sa.Column[Any]) -> FieldType:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return FieldType.BOOLEAN
    if isinstance(kind, sa.Integer):
        return FieldType.LONG if isinstance(kind, sa.BigInteger) else FieldType.INTEGER
    if isinstance(kind, (sa.Float, sa.Numeric)):
        return FieldType.DOUBLE
    if isinstance(kind, sa.DateTime):
        return FieldType.TIMESTAMP
    return FieldType.STRING


def value_for(column: str, ftype: FieldType, choices: tuple[str, ...], rng: random.Random,
              j: int, label: str) -> Any:
    """A plausible value for *column* of row *j*, by field type and name."""
    name = column.lower()
    if choices:
        return choices[j % len(choices)]
    if ftype is FieldType.BOOLEAN:
        return j % 2 == 0
    if ftype is FieldType.TIMESTAMP:
        return Clock(rng).stamp()
    if ftype.is_integer:
        if "port" in name:
            return (22, 80, 443, 8080, 3306, 6443)[j % 6]
        if ftype is FieldType.LONG and any(w in name for w in ("size", "capacity", "memory")):
            return rng.randint(1, 512) * _GiB
        return rng.randint(0, 1000 if ftype is not FieldType.SHORT else 100)
    if ftype.is_number:
        return round(rng.uniform(0, 100), 2)
    return _text(column, name, rng, j, label)


def _text(column: str, name: str, rng: random.Random, j: int, label: str) -> str | None:
    if name == "description":
        return None if j % 3 == 0 else f"{label} number {j}"
    if name == "name":
        return f"{label if j % 4 else label.upper()}-{j}"
    if name == "state":
        return ("Enabled", "Enabled", "Disabled")[j % 3]
    if name == "status":
        return ("Connected", "Ready", "Disconnected")[j % 3]
    if name.endswith("uuid"):
        return f"{rng.getrandbits(128):032x}"
    if name == "ip" or column.endswith(("Ip", "IP")) or name.endswith("address"):
        return ip_text((10 << 24) | (250 << 16) | j)
    if "mac" in name:
        return mac_text(0xF00000 + j)
    if "cidr" in name:
        return f"10.{j % 256}.0.0/24"
    if "url" in name or "path" in name:
        return f"/{label.lower()}/{j}"
    return f"{column}-{j}"

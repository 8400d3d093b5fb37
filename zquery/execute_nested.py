"""Page loading for the executor: inventories with mapped fields and nested collections.

A :class:`PageLoader` turns the rows of one page into inventories. Every mapped field
(``Field.mapped``: a value kept in another table) and every nested collection
(``Relation.nested``: ``vmNics`` inside a VM) costs ONE query for the whole page,
``WHERE key IN (page keys)`` with an expanding bind parameter, never one query per row.
Nested inventories are built the same way, recursively, down to :data:`MAX_NESTED_DEPTH`,
ordered by primary key and, under an account scope, limited to what the account may see.

>>> import sqlalchemy as sa
>>> from zquery.schema.graph import (Cardinality, Field, FieldType, Relation, Resource,
...                                  SchemaGraph)
>>> from zquery.schema.tables import build_metadata, table_of
>>> S = FieldType.STRING
>>> vm = Resource("Vm", "VmVO", "uuid", {"uuid": Field("uuid", S)}, relations={
...     "nics": Relation("nics", "Vm", "Nic", Cardinality.MANY, "uuid", "vmUuid", nested=True)})
>>> nic = Resource("Nic", "NicVO", "uuid", {"uuid": Field("uuid", S), "vmUuid": Field("vmUuid", S)})
>>> graph = SchemaGraph(resources={"Vm": vm, "Nic": nic})
>>> engine = sa.create_engine("sqlite://")
>>> build_metadata(graph).create_all(engine)
>>> with engine.begin() as conn:
...     _ = conn.execute(table_of(graph, "Nic").insert(), [
...         {"uuid": "n2", "vmUuid": "v1"}, {"uuid": "n1", "vmUuid": "v1"}])
...     loader = PageLoader(conn, graph)
...     loader.inventories(vm, (vm.field("uuid"),), [("v1",), ("v2",)])
[{'uuid': 'v1', 'nics': [{'uuid': 'n1', 'vmUuid': 'v1'}, {'uuid': 'n2', 'vmUuid': 'v1'}]}, \
{'uuid': 'v2', 'nics': []}]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from zquery.compile_support import Context, graph_tables
from zquery.dialects import traits_for
from zquery.plan import Scope
from zquery.reply import JsonValue, format_value, row_formatter
from zquery.schema.graph import Field, Relation, Resource, SchemaGraph
from zquery.schema.tables import link_table_of, table_of

__all__ = ["MAX_NESTED_DEPTH", "PageLoader", "Runner"]

#: How deep nested collections go: the root's collections and theirs.
MAX_NESTED_DEPTH = 2
#: Keys per ``IN`` list; a page larger than this costs one more query per chunk.
MAX_KEYS_PER_QUERY = 10_000
#: The label of the parent key selected next to a nested row.
_PARENT = "zq_parent_key"

#: Runs one statement with bound parameters (lets the executor add its timeout).
Runner = Callable[[sa.Executable, dict[str, Any]], sa.Result[Any]]


def _chunks(keys: Sequence[Any]) -> Iterable[list[Any]]:
    for at in range(0, len(keys), MAX_KEYS_PER_QUERY):
        yield list(keys[at:at + MAX_KEYS_PER_QUERY])


def _distinct(values: Iterable[Any]) -> list[Any]:
    """Non-null values, each once, in a stable order."""
    return list(dict.fromkeys(v for v in values if v is not None))


class PageLoader:
    """Builds the inventories of one page with one extra query per mapped field/collection."""

    def __init__(self, connection: sa.Connection, graph: SchemaGraph, *,
                 scope: Scope | None = None, iso_dates: bool = False,
                 run: Runner | None = None, max_depth: int = MAX_NESTED_DEPTH) -> None:
        self.connection = connection
        self.graph = graph
        self.scope = scope
        self.iso_dates = iso_dates
        self.run: Runner = run or (lambda stmt, params: connection.execute(stmt, params))
        self.max_depth = max_depth
        self._context = Context(graph_tables(graph), traits_for(connection.dialect.name),
                                None, scope)

    def inventories(self, resource: Resource, columns: Sequence[Field],
                    rows: Sequence[Sequence[Any]], *, selected: Sequence[Field] = (),
                    hidden: Iterable[str] = (), depth: int = 0) -> list[dict[str, JsonValue]]:
        """Inventories for *rows* whose leading values follow *columns*.

        ``selected`` is the ``fields`` projection (empty: every field and the nested
        collections). ``hidden`` names columns selected only as keys for the extra
        queries: they are read, never shown.
        """
        unshown = set(hidden)
        shown = [(at, f) for at, f in enumerate(columns) if f.name not in unshown]
        if len(shown) == len(columns):
            build = row_formatter(columns, iso_dates=self.iso_dates)
            out = [build(row) for row in rows]
        else:
            build = row_formatter([f for _, f in shown], iso_dates=self.iso_dates)
            out = [build([row[at] for at, _ in shown]) for row in rows]
        if not rows:
            return out
        wanted = list(selected) if selected else list(resource.fields.values())
        present = {f.name for f in columns}
        needed = {f.mapped.owner_key for f in wanted
                  if f.mapped is not None and f.name not in present}
        if not selected and depth < self.max_depth:
            needed.update(r.local_key for r in resource.relations.values() if r.nested)
        records = self._records(columns, rows, needed)
        for field in wanted:
            if field.mapped is not None and field.name not in present:
                self._fill_mapped(field, records, out)
        if not selected and depth < self.max_depth:
            for relation in resource.relations.values():
                if relation.nested:
                    self._fill_nested(relation, records, out, depth)
        return out

    @staticmethod
    def _records(columns: Sequence[Field], rows: Sequence[Sequence[Any]],
                 needed: set[str]) -> list[dict[str, Any]]:
        """Per row, the *needed* key columns only, read by position (from *columns* or
        from extra labelled values past them)."""
        positions: dict[str, int] = {}
        labels = list(getattr(rows[0], "_fields", ()))
        for name in needed:
            at = next((i for i, f in enumerate(columns) if f.column == name), None)
            if at is None and name in labels:
                at = labels.index(name)
            if at is not None:
                positions[name] = at
        return [{name: row[at] for name, at in positions.items()} for row in rows]

    def _fill_mapped(self, field: Field, records: list[dict[str, Any]],
                     out: list[dict[str, JsonValue]]) -> None:
        mapped = field.mapped
        assert mapped is not None
        link = link_table_of(self.graph, mapped.table)
        join, value = link.c[mapped.join_column], link.c[mapped.value_column]
        keys = _distinct(r.get(mapped.owner_key) for r in records)
        found: dict[Any, list[Any]] = {}
        statement = sa.select(join, value).where(join.in_(sa.bindparam("keys", expanding=True)))
        for chunk in _chunks(keys):
            for row in self.run(statement, {"keys": chunk}):
                key, raw = tuple(row)
                if raw is not None:
                    found.setdefault(key, []).append(raw)
        for record, inv in zip(records, out, strict=True):
            values = found.get(record.get(mapped.owner_key), [])
            if mapped.many:
                # Sorted in Python: the same list whatever the database's collation.
                inv[field.name] = sorted(format_value(field, v, iso_dates=self.iso_dates)
                                         for v in values)
            elif values:
                inv[field.name] = format_value(field, values[0], iso_dates=self.iso_dates)

    def _fill_nested(self, relation: Relation, records: list[dict[str, Any]],
                     out: list[dict[str, JsonValue]], depth: int) -> None:
        target = self.graph.resources[relation.target]
        table = table_of(self.graph, target)
        columns = tuple(f for f in target.fields.values() if f.mapped is None)
        selected = [table.c[f.column] for f in columns]
        keys = _distinct(r.get(relation.local_key) for r in records)
        marker: sa.BindParameter[Any] = sa.bindparam("keys", expanding=True)
        if relation.through is None:
            parent = table.c[relation.remote_key]
            statement = sa.select(*selected, parent.label(_PARENT)).where(parent.in_(marker))
        else:
            link = link_table_of(self.graph, relation.through.table)
            parent = link.c[relation.through.source_column]
            statement = (sa.select(*selected, parent.label(_PARENT))
                         .join_from(link, table, link.c[relation.through.target_column]
                                    == table.c[relation.remote_key])
                         .where(parent.in_(marker)))
        # The compiler's row filter and account scope: nested rows obey the root's rules.
        statement = statement.where(*self._context.filters(target, table))
        rows: list[sa.Row[Any]] = []
        for chunk in _chunks(keys):
            rows.extend(self.run(statement, {"keys": chunk}))
        # Primary-key order, compared in Python so every database lists children alike.
        pk_at = [f.column for f in columns].index(target.primary_key)
        rows.sort(key=lambda row: row[pk_at])
        children = self.inventories(target, columns, rows, depth=depth + 1)
        by_parent: dict[Any, list[dict[str, JsonValue]]] = {}
        for row, child in zip(rows, children, strict=True):
            by_parent.setdefault(row._mapping[_PARENT], []).append(child)
        for record, inv in zip(records, out, strict=True):
            inv[relation.name] = by_parent.get(record.get(relation.local_key), [])

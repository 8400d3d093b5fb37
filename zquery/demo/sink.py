"""Where generated rows go: buffered per table, written in large batches.

A :class:`Sink` takes rows as dicts keyed by column name, keeps only the columns the
table really has (so a catalogue change never breaks the generator), numbers integer
primary keys the row leaves out, remembers a sample of every table's key values (the
generic filler draws foreign keys from it) and the typed-child columns seen, and hands
full batches to a writer.

>>> import sqlalchemy as sa
>>> metadata = sa.MetaData()
>>> _ = sa.Table("T", metadata, sa.Column("id", sa.Integer, primary_key=True),
...              sa.Column("name", sa.String(20)))
>>> written = []
>>> sink = Sink(metadata, lambda table, columns, rows: written.append((table.name, rows)))
>>> sink.emit("T", {"name": "a", "unknown": 1})
>>> sink.emit("Missing", {"x": 1})
>>> sink.close()
>>> written, sink.counts["T"], sink.pool("T", "id")
([('T', [(1, 'a')])], 1, [1])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

__all__ = ["POOL_SIZE", "Row", "Sink", "WriteBatch"]

#: A generated row: column name → value.
Row = Mapping[str, Any]
#: ``write(table, column_names, rows_as_tuples)``: how a batch reaches the database.
WriteBatch = Callable[[sa.Table, Sequence[str], list[tuple[Any, ...]]], None]
#: How many key values of each table are kept for drawing foreign keys.
POOL_SIZE = 2000
_BATCH = 20_000


class Sink:
    """Buffer rows per table and flush them through *write* in batches of *batch* rows."""

    def __init__(self, metadata: sa.MetaData, write: WriteBatch, *, batch: int = _BATCH,
                 watch: Mapping[str, Sequence[str]] | None = None) -> None:
        self._tables = metadata.tables
        self._write = write
        self._batch = batch
        self._columns: dict[str, tuple[str, ...]] = {}
        self._buffers: dict[str, list[tuple[Any, ...]]] = {}
        self._keys: dict[str, int | None] = {}  # position of an integer key
        self._serial: dict[str, int] = {}
        self._pools: dict[tuple[str, str], list[Any]] = {}
        self._pool_slots: dict[str, list[tuple[list[Any], int]]] = {}
        self._watch = {name: tuple(cols) for name, cols in (watch or {}).items()}
        self._watch_slots: dict[str, tuple[int | None, ...]] = {}
        #: Rows written per table.
        self.counts: dict[str, int] = {}
        #: Per watched table, the tuples of watched column values seen (typed children).
        self.seen: dict[str, set[tuple[Any, ...]]] = {}

    def has(self, table: str) -> bool:
        return table in self._tables

    def emit(self, table: str, row: Row) -> None:
        """Queue one row (ignored when the schema has no such table)."""
        columns = self._columns.get(table)
        if columns is None:
            if table not in self._tables:
                return
            columns = self._prepare(table)
        values = tuple(map(row.get, columns))
        key = self._keys[table]
        if key is not None and values[key] is None:
            # An integer key the generator did not number: count like AUTO_INCREMENT would.
            self._serial[table] += 1
            values = (*values[:key], self._serial[table], *values[key + 1:])
        buffer = self._buffers[table]
        buffer.append(values)
        slots = self._pool_slots[table]
        if slots:
            self._remember(table, slots, values)
        watched = self._watch_slots.get(table)
        if watched is not None:
            self.seen[table].add(tuple(None if i is None else values[i] for i in watched))
        if len(buffer) >= self._batch:
            self.flush(table)

    def emit_all(self, table: str, rows: Iterable[Row]) -> None:
        for row in rows:
            self.emit(table, row)

    def pool(self, table: str, column: str) -> list[Any]:
        """A sample (the first :data:`POOL_SIZE`) of the values written to a key column."""
        return self._pools.get((table, column), [])

    def add_pool(self, table: str, column: str, values: Iterable[Any]) -> None:
        pool = self._pools.setdefault((table, column), [])
        for value in values:
            if len(pool) >= POOL_SIZE:
                break
            pool.append(value)

    def flush(self, table: str) -> None:
        rows = self._buffers.get(table)
        if rows:
            self._write(self._tables[table], self._columns[table], rows)
            self.counts[table] = self.counts.get(table, 0) + len(rows)
            self._buffers[table] = []

    def close(self) -> None:
        for table in list(self._buffers):
            self.flush(table)

    def _prepare(self, table: str) -> tuple[str, ...]:
        sa_table = self._tables[table]
        columns = tuple(column.name for column in sa_table.columns)
        self._columns[table] = columns
        self._buffers[table] = []
        keys = list(sa_table.primary_key.columns)
        integer_key = len(keys) == 1 and isinstance(keys[0].type, sa.Integer)
        self._keys[table] = columns.index(keys[0].name) if integer_key else None
        self._serial[table] = 0
        self.counts.setdefault(table, 0)
        pooled = dict.fromkeys(["uuid", *(key.name for key in keys)])
        self._pool_slots[table] = [(self._pools.setdefault((table, name), []), columns.index(name))
                                   for name in pooled if name in columns]
        if table in self._watch:
            self._watch_slots[table] = tuple(columns.index(c) if c in columns else None
                                             for c in self._watch[table])
            self.seen.setdefault(table, set())
        return columns

    def _remember(self, table: str, slots: list[tuple[list[Any], int]],
                  values: tuple[Any, ...]) -> None:
        full = 0
        for pool, index in slots:
            if len(pool) < POOL_SIZE:
                if values[index] is not None:
                    pool.append(values[index])
            else:
                full += 1
        if full == len(slots):
            self._pool_slots[table] = []  # every pool is full: stop looking

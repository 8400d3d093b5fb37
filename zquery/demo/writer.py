"""Fast bulk loading into SQLite, PostgreSQL and MariaDB/MySQL.

Tables are created without their indexes, filled, then indexed and analysed:

* SQLite: ``journal_mode=OFF``/``synchronous=OFF`` for the build, ``executemany`` on the
  driver cursor, one transaction;
* PostgreSQL: ``COPY … FROM STDIN`` through psycopg;
* MariaDB/MySQL: the driver's ``executemany``, which sends multi-row ``INSERT``s;
* any other database: SQLAlchemy ``executemany``.

Values go through each column type's bind processor, so what lands in the database is
exactly what SQLAlchemy itself would store (SQLite keeps timestamps as text).

>>> import sqlalchemy as sa
>>> metadata = sa.MetaData()
>>> table = sa.Table("T", metadata, sa.Column("id", sa.Integer, primary_key=True),
...                  sa.Column("name", sa.String(20), index=True))
>>> engine = sa.create_engine("sqlite://")
>>> with engine.begin() as conn:
...     writer = writer_for(conn)
...     create_tables(conn, metadata)
...     writer.write(table, ["id", "name"], [(1, "a"), (2, "b")])
...     create_indexes(conn, metadata)
...     writer.finish(metadata)
...     conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
2
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from zquery.schema.tables import mysql_collation

__all__ = ["BulkWriter", "create_indexes", "create_tables", "drop_tables", "writer_for"]

_MYSQL = ("mysql", "mariadb")


def create_tables(conn: sa.Connection, metadata: sa.MetaData) -> None:
    """``CREATE TABLE`` for every table, without indexes (they come after the load)."""
    name = conn.dialect.name
    for table in metadata.sorted_tables:
        if name in _MYSQL:
            # What zquery's own before_create hook does: the server's NO PAD binary collation.
            table.dialect_options[name]["collate"] = mysql_collation(conn.dialect)
        conn.execute(CreateTable(table))


def create_indexes(conn: sa.Connection, metadata: sa.MetaData) -> None:
    for table in metadata.sorted_tables:
        for index in sorted(table.indexes, key=lambda ix: ix.name or ""):
            index.create(conn)


def drop_tables(conn: sa.Connection, metadata: sa.MetaData) -> None:
    metadata.drop_all(conn, checkfirst=True)


Processor = Callable[[Any], Any]


class BulkWriter:
    """SQLAlchemy ``executemany``: correct everywhere; subclasses are faster."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self._processors: dict[str, list[tuple[int, Processor]]] = {}

    def prepare(self) -> None:
        """Session settings for a fast build (before any row is written)."""

    def write(self, table: sa.Table, columns: Sequence[str],
              rows: list[tuple[Any, ...]]) -> None:
        self.conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])

    def finish(self, metadata: sa.MetaData) -> None:
        """Refresh the planner's statistics."""

    def processed(self, table: sa.Table, columns: Sequence[str],
                  rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """*rows* with every value through its column's bind processor (when it has one)."""
        processors = self._processors.get(table.name)
        if processors is None:
            processors = []
            for index, name in enumerate(columns):
                column_type = table.c[name].type.dialect_impl(self.dialect)
                processor = self.fast_processor(column_type) or \
                    column_type.bind_processor(self.dialect)
                if processor is not None:
                    processors.append((index, processor))
            self._processors[table.name] = processors
        if not processors:
            return rows
        out = []
        for row in rows:
            values = list(row)
            for index, processor in processors:
                if values[index] is not None:
                    values[index] = processor(values[index])
            out.append(tuple(values))
        return out

    def fast_processor(self, column_type: sa.types.TypeEngine[Any]) -> Processor | None:
        """A quicker equivalent of a column type's bind processor, when there is one."""
        return None

    def _driver(self) -> Any:
        return self.conn.connection.driver_connection


class SqliteWriter(BulkWriter):
    def fast_processor(self, column_type: sa.types.TypeEngine[Any]) -> Processor | None:
        if isinstance(column_type, sa.DateTime):
            # SQLAlchemy's SQLite storage format, built in C (the same text, checked in tests).
            return _sqlite_datetime
        if isinstance(column_type, sa.Boolean):
            return int
        return None

    def prepare(self) -> None:
        # Safe only because a failed build is thrown away (the file is built aside).
        self.conn.exec_driver_sql("PRAGMA journal_mode=OFF")
        self.conn.exec_driver_sql("PRAGMA synchronous=OFF")
        self.conn.exec_driver_sql("PRAGMA cache_size=-512000")  # 512 MB for the build

    def write(self, table: sa.Table, columns: Sequence[str],
              rows: list[tuple[Any, ...]]) -> None:
        names = ", ".join(f'"{name}"' for name in columns)
        marks = ", ".join("?" for _ in columns)
        cursor = self._driver().cursor()
        try:
            cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',
                               self.processed(table, columns, rows))
        finally:
            cursor.close()

    def finish(self, metadata: sa.MetaData) -> None:
        self.conn.exec_driver_sql("ANALYZE")


def _sqlite_datetime(value: Any) -> str:
    return str(value.isoformat(" ", "microseconds"))


class PostgresWriter(BulkWriter):
    def write(self, table: sa.Table, columns: Sequence[str],
              rows: list[tuple[Any, ...]]) -> None:
        names = ", ".join(f'"{name}"' for name in columns)
        with self._driver().cursor() as cursor, \
                cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in self.processed(table, columns, rows):
                copy.write_row(row)

    def finish(self, metadata: sa.MetaData) -> None:
        self.conn.exec_driver_sql("ANALYZE")


class MysqlWriter(BulkWriter):
    def prepare(self) -> None:
        self.conn.exec_driver_sql("SET unique_checks=0")

    def write(self, table: sa.Table, columns: Sequence[str],
              rows: list[tuple[Any, ...]]) -> None:
        names = ", ".join(f"`{name}`" for name in columns)
        marks = ", ".join("%s" for _ in columns)
        cursor = self._driver().cursor()
        try:
            # PyMySQL folds an INSERT … VALUES executemany into multi-row statements.
            cursor.executemany(f"INSERT INTO `{table.name}` ({names}) VALUES ({marks})",
                               self.processed(table, columns, rows))
        finally:
            cursor.close()

    def finish(self, metadata: sa.MetaData) -> None:
        self.conn.exec_driver_sql("SET unique_checks=1")
        names = [f"`{table.name}`" for table in metadata.sorted_tables]
        for start in range(0, len(names), 50):
            self.conn.exec_driver_sql("ANALYZE TABLE " + ", ".join(names[start:start + 50]))


def writer_for(conn: sa.Connection) -> BulkWriter:
    """The fastest writer for the connection's database and driver."""
    name, driver = conn.dialect.name, conn.dialect.driver
    if name == "sqlite" and driver == "pysqlite":
        return SqliteWriter(conn)
    if name == "postgresql" and driver == "psycopg":
        return PostgresWriter(conn)
    if name in _MYSQL and driver == "pymysql":
        return MysqlWriter(conn)
    return BulkWriter(conn)

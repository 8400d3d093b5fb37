"""Scratch databases for the harness and the fast bulk load of :mod:`benchmarks.data`.

Each run gets databases of its own, dropped at the end: a SQLite file in a temporary
directory, and ``zqb_<random>`` on the PostgreSQL and MariaDB servers named by
``ZQUERY_PG_URL`` / ``ZQUERY_MYSQL_URL`` (the project's defaults when unset). A server that
does not answer is skipped, with the reason kept for the report.

The fallback bench data (:mod:`benchmarks.data`) goes in through the demo's bulk writers
(:mod:`zquery.demo.writer`: tables, rows, zquery's indexes, ``ANALYZE``).
:func:`add_filter_indexes` then indexes the columns the corpus filters by with ``=`` (the
research's deployment advice) unless the run says otherwise.

>>> db = open_database("sqlite")
>>> db.kind, db.version.startswith("SQLite 3.")
('sqlite', True)
>>> db.close()
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.data import COLUMNS, Rows
from zquery import dialects
from zquery.demo.writer import create_indexes, create_tables, writer_for
from zquery.schema.graph import SchemaGraph
from zquery.schema.tables import build_metadata

__all__ = ["DATABASE_KINDS", "DEFAULT_URLS", "FILTER_INDEXES", "KEPT_DIRECTORY", "Database",
           "add_filter_indexes", "load_bench_data", "open_database", "open_databases"]

DATABASE_KINDS = ("sqlite", "postgresql", "mysql")
DEFAULT_URLS = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
                "mysql": "mysql+pymysql://root@127.0.0.1:3306/test"}
_URL_VARIABLES = {"postgresql": "ZQUERY_PG_URL", "mysql": "ZQUERY_MYSQL_URL"}
#: Columns the corpus filters by with ``=``: indexed unless ``--no-filter-indexes``.
#: Where ``--keep-data`` keeps SQLite databases (outside the repository's tracked files).
KEPT_DIRECTORY = Path(os.environ.get("ZQUERY_BENCH_DATA", Path(tempfile.gettempdir()) / "zqb_kept"))
FILTER_INDEXES = (("VmNicVO", "ip"), ("VipVO", "ip"), ("EipVO", "vipIp"),
                  ("HostVO", "managementIp"), ("VmInstanceVO", "name"),
                  ("L3NetworkVO", "name"), ("ClusterVO", "name"))


@dataclass
class Database:
    """One scratch database; :meth:`close` drops it."""

    kind: str
    engine: sa.Engine
    version: str
    _cleanup: list[Any] = field(default_factory=list)

    def close(self) -> None:
        """Dispose of the engine and drop the database; a failure to drop is only warned
        about (a restarted server must not keep the other databases from being dropped)."""
        self.engine.dispose()
        for step in reversed(self._cleanup):
            try:
                step()
            except sa.exc.SQLAlchemyError as error:
                warnings.warn(f"could not drop the scratch {self.kind} database: "
                              f"{str(error).splitlines()[0]}", stacklevel=2)


def _server_version(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(conn.exec_driver_sql("SELECT sqlite_version()").scalar())
        text = str(conn.exec_driver_sql("SELECT version()").scalar())
    return text.split(" on ")[0] if engine.dialect.name == "postgresql" else "MariaDB " + text


def _database_exists(conn: sa.Connection, name: str) -> bool:
    sql = ("SELECT 1 FROM pg_database WHERE datname = :name" if conn.dialect.name == "postgresql"
           else "SELECT 1 FROM information_schema.schemata WHERE schema_name = :name")
    return conn.execute(sa.text(sql), {"name": name}).first() is not None


def open_database(kind: str, kept: str | None = None) -> Database:
    """A fresh scratch database of *kind*; raises ``sqlalchemy.exc.OperationalError`` if the
    server does not answer.

    *kept* names a database that outlives the run instead (``--keep-data``): created when
    missing, reused as it is when present (:func:`benchmarks.dataset.prepare_dataset` checks
    its contents), never dropped. A kept SQLite database is a file in :data:`KEPT_DIRECTORY`.
    """
    if kind == "sqlite":
        if kept is not None:
            KEPT_DIRECTORY.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(f"sqlite:///{KEPT_DIRECTORY / kept}.sqlite")
            dialects.install(engine)
            return Database(kind, engine, _server_version(engine))
        directory = tempfile.mkdtemp(prefix="zqb_")
        engine = sa.create_engine(f"sqlite:///{directory}/bench.sqlite")
        dialects.install(engine)
        return Database(kind, engine, _server_version(engine),
                        [lambda: shutil.rmtree(directory, ignore_errors=True)])
    base = sa.make_url(os.environ.get(_URL_VARIABLES[kind]) or DEFAULT_URLS[kind])
    name = kept or f"zqb_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        suffix = " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" if kind == "mysql" else ""
        if not (kept and _database_exists(conn, name)):
            conn.exec_driver_sql(f"CREATE DATABASE {name}{suffix}")
    if kept is not None:
        admin.dispose()
        engine = sa.create_engine(base.set(database=name))
        return Database(kind, engine, _server_version(engine))

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()

    engine = sa.create_engine(base.set(database=name))
    return Database(kind, engine, _server_version(engine), [drop])


def open_databases(kinds: Sequence[str],
                   kept: str | None = None) -> tuple[list[Database], list[str]]:
    """The databases that answered, and one line per one that did not."""
    opened: list[Database] = []
    skipped: list[str] = []
    for kind in kinds:
        try:
            opened.append(open_database(kind, kept))
        except sa.exc.SQLAlchemyError as error:
            skipped.append(f"{kind}: not reachable ({type(error).__name__}: "
                           f"{str(error).splitlines()[0][:120]})")
    return opened, skipped


def load_bench_data(databases: Sequence[Database], graph: SchemaGraph,
                    chunks: Iterable[Rows]) -> None:
    """Create the graph's tables in every database and fill them with *chunks* (generated
    once, written to each), through the demo's bulk writers; then index and analyse."""
    metadata = build_metadata(graph)
    with ExitStack() as stack:
        writers = []
        for db in databases:
            conn = stack.enter_context(db.engine.begin())
            writer = writer_for(conn)
            writer.prepare()
            create_tables(conn, metadata)
            writers.append((conn, writer))
        for chunk in chunks:
            for _, writer in writers:
                for name, rows in chunk.items():
                    if rows:
                        writer.write(metadata.tables[name], COLUMNS[name], rows)
        for conn, writer in writers:
            create_indexes(conn, metadata)
            writer.finish(metadata)


def add_filter_indexes(db: Database) -> None:
    """Index :data:`FILTER_INDEXES` and refresh those tables' statistics."""
    quote = db.engine.dialect.identifier_preparer.quote
    tables = sorted({table for table, _ in FILTER_INDEXES})
    with db.engine.begin() as conn:
        for table, column in FILTER_INDEXES:
            conn.exec_driver_sql(f"CREATE INDEX {quote(f'ix_bench_{table}_{column}')} "
                                 f"ON {quote(table)} ({quote(column)})")
        if db.kind == "mysql":
            # Column statistics too: plain ANALYZE leaves MariaDB blind on unindexed columns.
            names = ", ".join(quote(table) for table in tables)
            conn.exec_driver_sql(f"ANALYZE TABLE {names} PERSISTENT FOR ALL").all()
        else:
            for table in tables:
                conn.exec_driver_sql(f"ANALYZE {quote(table)}")

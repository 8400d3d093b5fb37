"""Per-database details: traits, SQLite's Unicode ``lower``, selectivity statistics.

The compiler asks :func:`traits_for` what a database needs (``COLLATE "C"`` and
explicit ``NULLS FIRST`` on PostgreSQL, a Unicode-aware lower-casing function on
SQLite, NUL-free text on PostgreSQL, choosing ``IN`` or ``EXISTS`` by selectivity on
SQLite). SQLite's built-in ``lower``/``LIKE`` fold ASCII only, so :func:`install`
registers ``zq_lower`` (Python's :meth:`str.lower`) on every new SQLite connection of an
engine and :func:`ensure` does it, cheaply and idempotently, on one connection.
:class:`SelectivityStats` reads ``sqlite_stat1`` (filled by ``ANALYZE``) so the compiler
can tell selective conditions from unselective ones. :func:`statement_timeout` bounds a
statement's run time on each database and :func:`classify_db_error` turns a driver
error into an :class:`~zquery.errors.ExecuteError` without SQL text or values.

>>> traits_for("mariadb").name, traits_for("postgresql+psycopg").exact_collation
('mysql', 'C')
>>> import sqlalchemy as sa
>>> engine = sa.create_engine("sqlite://")
>>> install(engine)
>>> with engine.connect() as conn:
...     conn.exec_driver_sql("SELECT zq_lower('ÉCOLE Ünïcode')").scalar()
'école ünïcode'
"""

from __future__ import annotations

import sqlite3
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from zquery.errors import (
    DatabaseUnavailable,
    ExecuteError,
    PatternTooLong,
    QueryTimeout,
    UnsupportedDialect,
)

__all__ = [
    "BYTEWISE_POSTGRESQL",
    "DIALECT_NAMES",
    "LOWER_FUNCTION",
    "DialectTraits",
    "Selectivity",
    "SelectivityStats",
    "apply_timeout",
    "bytewise_name",
    "classify_db_error",
    "ensure",
    "install",
    "statement_timeout",
    "stats_for",
    "traits_for",
]

#: The name of the Unicode lower-casing function registered on SQLite connections.
LOWER_FUNCTION = "zq_lower"


BYTEWISE_POSTGRESQL = "postgresql-bytewise"


@dataclass(frozen=True, slots=True)
class DialectTraits:
    """What the compiler must do differently on one database.

    ``exact_collation``: collation forcing code-point order for ordering operators and
    ORDER BY on strings (None when the tables already compare by code point).
    ``explicit_nulls_order``: NULLs sort last in ascending order unless told otherwise.
    ``text_holds_nul``: a text value may contain ``\\x00`` (PostgreSQL's cannot).
    ``like_holds_nul``: LIKE handles a pattern containing ``\\x00`` (SQLite's stops there).
    ``choose_by_selectivity``: neither IN nor EXISTS is safe, pick per condition (and a
    selective to-one path is an inner JOIN: the planner guesses 25 rows for any IN).
    """

    name: str
    lower_function: str
    exact_collation: str | None
    explicit_nulls_order: bool
    text_holds_nul: bool
    like_holds_nul: bool
    choose_by_selectivity: bool


_TRAITS = {
    "sqlite": DialectTraits("sqlite", LOWER_FUNCTION, None, False, True, False, True),
    "postgresql": DialectTraits("postgresql", "lower", "C", True, False, False, False),
    # A PostgreSQL database whose default collation already orders by code point (libc
    # C/POSIX/C.UTF-8): no per-query COLLATE "C", which would keep ORDER BY pk off the
    # primary-key index (24 ms against 0.18 ms for a page at 50,000 rows). See bytewise_name.
    BYTEWISE_POSTGRESQL: DialectTraits(BYTEWISE_POSTGRESQL, "lower", None, True, False, False,
                                       False),
    "mysql": DialectTraits("mysql", "lower", None, False, True, True, False),
}
_SYNONYMS = {"postgres": "postgresql", "mariadb": "mysql"}
_BYTEWISE_COLLATIONS = frozenset({"c", "posix", "c.utf-8", "c.utf8"})
_BYTEWISE: weakref.WeakKeyDictionary[sa.Engine, bool] = weakref.WeakKeyDictionary()


def bytewise_name(bind: sa.Engine | sa.Connection) -> str:
    """The dialect name to compile for on *bind*: ``postgresql-bytewise`` for a PostgreSQL
    database whose default collation is libc's C/POSIX/C.UTF-8 (code-point order already),
    else the plain dialect name. Read once per engine; zquery's tables inherit the default.
    """
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    name = engine.dialect.name
    if name != "postgresql":
        return name
    known = _BYTEWISE.get(engine)
    if known is None:
        query = ("SELECT datcollate, {provider} FROM pg_database "
                 "WHERE datname = current_database()")
        provider = "datlocprovider" if _server_version(engine) >= 150000 else "'c'"
        if isinstance(bind, sa.Connection):
            row = bind.exec_driver_sql(query.format(provider=provider)).one()
        else:
            with engine.connect() as conn:
                row = conn.exec_driver_sql(query.format(provider=provider)).one()
        known = str(row[1]) == "c" and str(row[0]).lower() in _BYTEWISE_COLLATIONS
        _BYTEWISE[engine] = known
    return BYTEWISE_POSTGRESQL if known else name


def _server_version(engine: sa.Engine) -> int:
    info = engine.dialect.server_version_info
    if info is None:
        with engine.connect():  # the first connection fills server_version_info in
            info = engine.dialect.server_version_info
    major, minor = (*tuple(info or (0,)), 0)[:2]
    return int(major) * 10000 + int(minor)


#: Every dialect name :func:`traits_for` accepts.
DIALECT_NAMES = (*_TRAITS, *_SYNONYMS)


def traits_for(dialect: str) -> DialectTraits:
    """The traits of a dialect name (``sqlite``, ``postgresql``, ``mysql``, ``mariadb``).

    A driver suffix (``postgresql+psycopg``) is ignored.
    """
    known = _TRAITS.get(dialect)  # the usual spelling: one lookup
    if known is not None:
        return known
    base = dialect.split("+", 1)[0].lower()
    traits = _TRAITS.get(_SYNONYMS.get(base, base))
    if traits is None:
        raise UnsupportedDialect(
            f"zquery does not compile for the '{dialect}' database", param="dialect",
            value=dialect, start=0, end=len(dialect),
            hint="use one of: " + ", ".join(DIALECT_NAMES))
    return traits


# -- SQLite's Unicode lower ---------------------------------------------------------------

def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _register(dbapi_connection: Any) -> None:
    dbapi_connection.create_function(LOWER_FUNCTION, 1, _unicode_lower, deterministic=True)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    _register(dbapi_connection)


def install(engine: sa.Engine) -> None:
    """Register ``zq_lower`` on every new connection of a SQLite engine (idempotent).

    Other databases need nothing: this is a no-op for them.
    """
    if engine.dialect.name != "sqlite" or event.contains(engine, "connect", _on_connect):
        return
    event.listen(engine, "connect", _on_connect)


def ensure(connection: sa.Connection) -> None:
    """Make sure ``zq_lower`` exists on this (possibly pooled, older) SQLite connection.

    Costs one dict lookup once done: the mark lives in the pooled connection's ``info``.
    """
    if connection.dialect.name != "sqlite":
        return
    pooled = connection.connection
    if pooled.info.get(LOWER_FUNCTION):
        return
    _register(pooled.driver_connection)
    pooled.info[LOWER_FUNCTION] = True


# -- selectivity --------------------------------------------------------------------------

class Selectivity(Enum):
    """How many rows a condition is expected to keep (drives IN vs EXISTS on SQLite)."""

    SELECTIVE = "selective"
    UNSELECTIVE = "unselective"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SelectivityStats:
    """Row counts and rows-per-key from SQLite's ``sqlite_stat1`` (after ``ANALYZE``).

    ``rows_per_key[(table, column)]`` is the average number of rows sharing one value of
    ``column``, known for the leading column of every analysed index; ``indexed`` lists
    the leading columns of all indexes (known even without ``ANALYZE``).

    >>> stats = SelectivityStats(table_rows={"VmNicVO": 1000},
    ...                          rows_per_key={("VmNicVO", "ip"): 1.0})
    >>> stats.per_key("VmNicVO", "ip"), stats.rows("VmNicVO"), stats.rows("HostVO")
    (1.0, 1000, None)
    """

    table_rows: Mapping[str, int] = field(default_factory=dict)
    rows_per_key: Mapping[tuple[str, str], float] = field(default_factory=dict)
    indexed: frozenset[tuple[str, str]] = frozenset()

    def rows(self, table: str) -> int | None:
        return self.table_rows.get(table)

    def per_key(self, table: str, column: str) -> float | None:
        return self.rows_per_key.get((table, column))

    @classmethod
    def from_sqlite(cls, connection: sa.Connection) -> SelectivityStats:
        """Read the statistics of a SQLite database (empty when never analysed)."""
        indexed: set[tuple[str, str]] = set()
        leading: dict[str, tuple[str, str]] = {}
        tables = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'").scalars().all()
        for table in tables:
            for row in connection.exec_driver_sql(f"PRAGMA index_list({_quoted(table)})"):
                info = connection.exec_driver_sql(f"PRAGMA index_info({_quoted(row[1])})").first()
                if info is not None and info[2] is not None:
                    leading[row[1]] = (table, info[2])
                    indexed.add((table, info[2]))
        table_rows: dict[str, int] = {}
        per_key: dict[tuple[str, str], float] = {}
        if "sqlite_stat1" in tables:
            for table, index, stat in connection.exec_driver_sql(
                    "SELECT tbl, idx, stat FROM sqlite_stat1"):
                numbers = [int(part) for part in str(stat).split() if part.isdigit()]
                if not numbers:
                    continue
                table_rows[table] = max(table_rows.get(table, 0), numbers[0])
                if index in leading and len(numbers) > 1:
                    per_key[leading[index]] = float(numbers[1])
        return cls(table_rows, per_key, frozenset(indexed))


def _quoted(name: str) -> str:
    # Names come from sqlite_master itself, but may still hold a double quote.
    return '"' + name.replace('"', '""') + '"'


_STATS: weakref.WeakKeyDictionary[sa.Engine, SelectivityStats] = weakref.WeakKeyDictionary()


def stats_for(bind: sa.Engine | sa.Connection, *,
              refresh: bool = False) -> SelectivityStats | None:
    """The selectivity statistics of a SQLite database, cached per engine.

    None for other databases (they do not need them). Pass ``refresh=True`` after an
    ``ANALYZE``.
    """
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    if engine.dialect.name != "sqlite":
        return None
    cached = None if refresh else _STATS.get(engine)
    if cached is None:
        if isinstance(bind, sa.Connection):
            cached = SelectivityStats.from_sqlite(bind)
        else:
            with engine.connect() as conn:
                cached = SelectivityStats.from_sqlite(conn)
        _STATS[engine] = cached
    return cached


# -- statement timeouts -------------------------------------------------------------------

# SQLite calls the progress handler every this many virtual-machine instructions.
_SQLITE_PROGRESS_STEPS = 1000


def apply_timeout(connection: sa.Connection, ms: int) -> None:
    """Bound every following statement on *connection* to *ms* milliseconds.

    PostgreSQL: ``set_config('statement_timeout', …, true)`` (``SET LOCAL``: until the
    transaction ends). MariaDB: the session's ``max_statement_time`` (MySQL:
    ``max_execution_time``), which stays set: prefer :func:`statement_timeout`, which
    restores it. SQLite: a progress handler that aborts once the deadline has passed.
    """
    name = connection.dialect.name
    if name == "postgresql":
        connection.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"),
                           {"ms": str(int(ms))})
    elif name in ("mysql", "mariadb"):
        variable, amount = _mysql_timeout_variable(connection, ms)
        connection.execute(sa.text(f"SET @@SESSION.{variable} = :amount"), {"amount": amount})
    elif name == "sqlite":
        deadline = time.monotonic() + ms / 1000

        def past_deadline() -> int:
            return 1 if time.monotonic() > deadline else 0

        connection.connection.driver_connection.set_progress_handler(  # type: ignore[union-attr]
            past_deadline, _SQLITE_PROGRESS_STEPS)


@contextmanager
def statement_timeout(connection: sa.Connection, ms: int | None) -> Iterator[None]:
    """Run the block's statements under a timeout, then put the previous setting back.

    ``ms`` None or ≤ 0 means no timeout (the block runs unchanged).
    """
    if not ms or ms <= 0:
        yield
        return
    name = connection.dialect.name
    previous: Any = None
    if name == "postgresql":
        previous = connection.exec_driver_sql(
            "SELECT current_setting('statement_timeout')").scalar()
    elif name in ("mysql", "mariadb"):
        variable, _ = _mysql_timeout_variable(connection, ms)
        previous = connection.exec_driver_sql(f"SELECT @@SESSION.{variable}").scalar()
    apply_timeout(connection, ms)
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        _restore(connection, name, previous, ms, failed=failed)


def _restore(connection: sa.Connection, name: str, previous: Any, ms: int, *,
             failed: bool) -> None:
    if connection.invalidated or connection.closed:
        return
    if name == "sqlite":
        raw = connection.connection.driver_connection
        raw.set_progress_handler(None, _SQLITE_PROGRESS_STEPS)  # type: ignore[union-attr]
    elif name == "postgresql":
        # After a failure the transaction is aborted and SET LOCAL dies with its rollback.
        if not failed and connection.in_transaction():
            connection.execute(sa.text("SELECT set_config('statement_timeout', :v, true)"),
                               {"v": str(previous)})
    elif name in ("mysql", "mariadb"):
        variable, _ = _mysql_timeout_variable(connection, ms)
        try:
            connection.execute(sa.text(f"SET @@SESSION.{variable} = :v"), {"v": previous})
        except sa.exc.DBAPIError:
            # Never hide the error that ended the block behind a failed reset.
            if not failed:
                raise


def _mysql_timeout_variable(connection: sa.Connection, ms: int) -> tuple[str, float | int]:
    # MariaDB counts seconds (a float) for every statement; MySQL milliseconds, SELECTs only.
    if getattr(connection.dialect, "is_mariadb", False):
        return "max_statement_time", ms / 1000
    return "max_execution_time", int(ms)


# -- database errors ----------------------------------------------------------------------

_SQLITE_LONG_PATTERN = "LIKE or GLOB pattern too complex"
_PG_TIMEOUT = {"57014"}                         # query_canceled (statement_timeout)
_PG_GONE = {"57P01", "57P02", "57P03"}          # admin/crash shutdown, cannot connect now
_MYSQL_TIMEOUT = {1969, 3024, 1317}             # max_statement_time, max_execution_time, killed
_MYSQL_GONE = {2002, 2003, 2006, 2013, 2055}    # cannot connect, server gone, lost connection


def classify_db_error(exc: BaseException) -> ExecuteError | PatternTooLong:
    """Map a driver/SQLAlchemy error to :class:`QueryTimeout`, :class:`DatabaseUnavailable`
    or :class:`ExecuteError`, or to :class:`PatternTooLong` (a 400) when SQLite refuses a
    LIKE pattern as too long; the message names no SQL text and no value.

    >>> classify_db_error(sqlite3.OperationalError("interrupted")).code
    'execute.timeout'
    >>> classify_db_error(ValueError("boom")).message
    'the database failed to run the query'
    """
    if isinstance(exc, ExecuteError):
        return exc
    if isinstance(exc, (sa.exc.TimeoutError, sa.exc.DisconnectionError)):
        return DatabaseUnavailable("the database is unavailable")
    orig: BaseException = exc
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    errno = _mysql_errno(orig)
    code = errno if errno is not None else sqlstate
    extra = {"db_code": code} if code is not None else None
    if (sqlstate in _PG_TIMEOUT or errno in _MYSQL_TIMEOUT
            or (isinstance(orig, sqlite3.OperationalError) and str(orig) == "interrupted")):
        return QueryTimeout("the query ran past its statement timeout", extra=extra,
                            hint="narrow the conditions or raise the timeout")
    if isinstance(orig, sqlite3.OperationalError) and str(orig) == _SQLITE_LONG_PATTERN:
        return PatternTooLong("a ~= or !~= value is longer than SQLite's LIKE accepts",
                              hint="SQLite reads LIKE patterns up to 50,000 bytes; shorten "
                                   "the value or use PostgreSQL or MariaDB")
    if (getattr(exc, "connection_invalidated", False)
            or (isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _PG_GONE))
            or errno in _MYSQL_GONE or _is_psycopg_link_failure(orig, sqlstate)
            or (isinstance(orig, sqlite3.OperationalError)
                and "unable to open database" in str(orig))):
        return DatabaseUnavailable("the database is unavailable", extra=extra)
    return ExecuteError("the database failed to run the query", extra=extra)


def _mysql_errno(orig: BaseException) -> int | None:
    if not type(orig).__module__.startswith(("pymysql", "MySQLdb", "mysql")):
        return None
    first = orig.args[0] if orig.args else None
    return first if isinstance(first, int) else None


def _is_psycopg_link_failure(orig: BaseException, sqlstate: str | None) -> bool:
    # psycopg reports a failed or broken link as OperationalError without a SQLSTATE.
    return (sqlstate is None and type(orig).__module__.startswith("psycopg")
            and type(orig).__name__ == "OperationalError")

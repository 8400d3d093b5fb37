"""Statement timeouts: a real zquery-compiled query that is too expensive is cut off on
PostgreSQL (``statement_timeout``), MariaDB (``max_statement_time``) and SQLite (a
progress handler), surfaces as :class:`~zquery.errors.QueryTimeout` (the manual's
``SYS.1001``) and as 503 over HTTP, and leaves nothing behind: the same pooled connection
then runs the same query to the end.

The big estate (60,000 VMs, 120,000 NICs) is filled by each database itself in a second
or two; the query is an unselective ``~=`` through a to-many hop plus a count, which takes
tens of milliseconds at least, against a 1 ms budget. A cut-off is retried a few times
before the test gives up, so a fast machine cannot make it flaky.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from estate import drop_estate_engines, sibling_engine
from zstack_like import GRAPH

from zquery.api import ZQuery, ZQueryConfig
from zquery.errors import QueryTimeout
from zquery.schema.tables import build_metadata
from zquery.server import QueryService

VMS = 60_000
EXPENSIVE = "q=vmNics.mac~=%25zz%25&q=name~=%25q%25&replyWithCount=true&limit=5"
ATTEMPTS = 3

# Each database fills the tables itself: Python would take longer than the whole test.
_NUMBERS = {
    "postgresql": "SELECT i FROM generate_series(1, {n}) AS s(i)",
    "mysql": "SELECT seq AS i FROM seq_1_to_{n}",
    "sqlite": "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
              "SELECT i FROM s",
}


def _fill(engine: sa.Engine) -> None:
    build_metadata(GRAPH).create_all(engine)
    dialect = engine.dialect.name
    q = "`" if dialect == "mysql" else '"'
    text = "CAST(i AS CHAR)" if dialect == "mysql" else "CAST(i AS TEXT)"

    def concat(*parts: str) -> str:
        return f"CONCAT({', '.join(parts)})" if dialect == "mysql" else " || ".join(parts)

    numbers = _NUMBERS[dialect]
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO {q}VmInstanceVO{q} (uuid, name, state, {q}cpuNum{q}) "
            f"SELECT {concat(repr('vm'), text)}, {concat(repr('name-'), text)}, 'Running', 2 "
            f"FROM ({numbers.format(n=VMS)}) AS n")
        conn.exec_driver_sql(
            f"INSERT INTO {q}VmNicVO{q} (uuid, {q}vmInstanceUuid{q}, mac, ip) "
            f"SELECT {concat(repr('nic'), text)}, {concat(repr('vm'), text)}, "
            f"{concat(repr('fa:16:'), text)}, '10.0.0.1' FROM ({numbers.format(n=VMS)}) AS n")
        conn.exec_driver_sql(
            f"INSERT INTO {q}VmNicVO{q} (uuid, {q}vmInstanceUuid{q}, mac, ip) "
            f"SELECT {concat(repr('nic2-'), text)}, {concat(repr('vm'), text)}, "
            f"{concat(repr('fa:17:'), text)}, '10.0.0.2' FROM ({numbers.format(n=VMS)}) AS n")


@pytest.fixture(scope="module")
def big(any_engine: sa.Engine) -> Iterator[sa.Engine]:
    engine = sibling_engine(any_engine, "big_timeouts", _fill)
    yield engine
    drop_estate_engines()


def one_connection(engine: sa.Engine) -> sa.Engine:
    """An engine on the same database with a pool of exactly one connection, so the query
    after a timeout provably runs on the connection that timed out."""
    return sa.create_engine(engine.url, pool_size=1, max_overflow=0, poolclass=sa.pool.QueuePool)


def run(engine: sa.Engine, timeout_ms: int | None) -> dict[str, object]:
    zq = ZQuery(GRAPH, ZQueryConfig(timeout_ms=timeout_ms))
    with engine.connect() as conn:
        return zq.run(conn, "vm-instances", EXPENSIVE)


def test_expensive_query_is_cut_off_then_connection_recovers(big: sa.Engine) -> None:
    engine = one_connection(big)
    try:
        for attempt in range(ATTEMPTS):
            try:
                run(engine, timeout_ms=1)
            except QueryTimeout as error:
                body = error.to_dict()["error"]
                assert body["code"] == "SYS.1001" and error.http_status == 503
                assert "SELECT" not in str(body) and "VmInstanceVO" not in str(body)
                break
            assert attempt < ATTEMPTS - 1, "the expensive query was never cut off"
        # The same (only) connection, no timeout now: the query runs to the end.
        reply = run(engine, timeout_ms=None)
        assert reply["total"] == 0 and reply["inventories"] == []
        # A generous timeout does not cut it either: the setting was put back, not stuck.
        assert run(engine, timeout_ms=60_000)["total"] == 0
    finally:
        engine.dispose()


def test_timeout_over_http_is_503_sys_1001(big: sa.Engine) -> None:
    engine = one_connection(big)
    try:
        slow = QueryService(ZQuery(GRAPH, ZQueryConfig(timeout_ms=1)), engine)
        statuses = []
        for _ in range(ATTEMPTS):
            reply = slow.handle("GET", "/zstack/v1/vm-instances", EXPENSIVE)
            statuses.append(reply.status)
            if reply.status == 503:
                body = reply.json()["error"]
                assert body["code"] == "SYS.1001" and body["description"] == "Operation timeout"
                assert "SELECT" not in reply.body.decode() and "zq_" not in reply.body.decode()
                break
        assert 503 in statuses, statuses
        patient = QueryService(ZQuery(GRAPH, ZQueryConfig(timeout_ms=60_000)), engine)
        cheap = patient.handle("GET", "/zstack/v1/vm-instances", "q=uuid=vm7&fields=uuid")
        assert cheap.status == 200 and cheap.json() == {"inventories": [{"uuid": "vm7"}]}
    finally:
        engine.dispose()


def test_cheap_query_under_tight_timeout(big: sa.Engine) -> None:
    """A keyed lookup finishes well inside 200 ms even on the big estate."""
    zq = ZQuery(GRAPH, ZQueryConfig(timeout_ms=200))
    with big.connect() as conn:
        reply = zq.run(conn, "vm-instances", "q=uuid?=vm1,vm2&fields=uuid&sort=uuid")
    assert reply == {"inventories": [{"uuid": "vm1"}, {"uuid": "vm2"}]}

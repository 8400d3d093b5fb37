"""The executor: reply shapes, value formats, nested collections and mapped fields loaded
with one query per page, count/replyWithCount/groupBy, sessions, scope inside nested
lists, statement timeouts and database errors, on SQLite and (``any_engine``) on
PostgreSQL and MariaDB too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from estate import drop_estate_engines, estate_engine, generate, sibling_engine
from sqlalchemy import event
from sqlalchemy.orm import Session
from zstack_like import GRAPH

from zquery.compile import CompiledQuery, compile_plan
from zquery.errors import DatabaseUnavailable, ExecuteError, QueryTimeout
from zquery.execute import execute
from zquery.plan import QueryPlan, Scope
from zquery.reply import format_timestamp, format_value
from zquery.request import parse_request
from zquery.resolve import ResolveOptions, resolve
from zquery.schema.graph import (
    Cardinality,
    Field,
    FieldType,
    LinkTable,
    OwnershipConfig,
    Relation,
    Resource,
    SchemaGraph,
    Through,
)
from zquery.schema.tables import build_metadata, link_table_of, table_of

ESTATE = generate(seed=5, size=1)
JAVA_DATE = re.compile(r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4} "
                       r"(1[0-2]|[1-9]):[0-5]\d:[0-5]\d (AM|PM)")


@pytest.fixture(scope="session")
def _drop_estates() -> Iterator[None]:
    yield
    drop_estate_engines()


@pytest.fixture
def sqlite_estate(sqlite_engine: sa.Engine, _drop_estates: None) -> sa.Engine:
    return estate_engine(sqlite_engine, ESTATE)


@pytest.fixture
def any_estate(any_engine: sa.Engine, _drop_estates: None) -> sa.Engine:
    return estate_engine(any_engine, ESTATE)


def plan_for(resource: str, query: str | list[tuple[str, str]], *, graph: SchemaGraph = GRAPH,
             account: str | None = None) -> QueryPlan:
    options = ResolveOptions(scope=Scope(account) if account else None)
    return resolve(parse_request(query), graph, resource, options=options)


def run(bind: sa.Connection | Session, resource: str, query: str | list[tuple[str, str]] = "",
        *, graph: SchemaGraph = GRAPH, account: str | None = None,
        iso: bool = False) -> dict[str, Any]:
    plan = plan_for(resource, query, graph=graph, account=account)
    engine_bind = bind.get_bind() if isinstance(bind, Session) else bind
    compiled = compile_plan(plan, graph, dialect=engine_bind.dialect.name)
    return execute(bind, plan, compiled, graph, iso_dates=iso)


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """Every SQL statement sent to the database inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def rows_of(table: str) -> list[dict[str, Any]]:
    return ESTATE.rows(table)


# -- value formatting --------------------------------------------------------------------

UTC8 = timezone(timedelta(hours=8))
TIMESTAMPS = [
    (datetime(2017, 5, 11, 13, 23, 2), False, "May 11, 2017 1:23:02 PM"),
    (datetime(2017, 1, 6, 3, 51, 16), False, "Jan 6, 2017 3:51:16 AM"),
    (datetime(2018, 1, 1, 0, 0, 0), False, "Jan 1, 2018 12:00:00 AM"),
    (datetime(2019, 6, 30, 12, 0, 0), False, "Jun 30, 2019 12:00:00 PM"),
    (datetime(2020, 12, 31, 23, 59, 59, 999999), False, "Dec 31, 2020 11:59:59 PM"),
    (datetime(2017, 5, 11, 21, 23, 2, tzinfo=UTC8), False, "May 11, 2017 1:23:02 PM"),
    (datetime(2017, 5, 11, 13, 23, 2, 500000), True, "2017-05-11T13:23:02Z"),
    (datetime(2017, 5, 11, 21, 23, 2, tzinfo=UTC8), True, "2017-05-11T13:23:02Z"),
]


@pytest.mark.parametrize(("value", "iso", "text"), TIMESTAMPS)
def test_format_timestamp(value: datetime, iso: bool, text: str) -> None:
    assert format_timestamp(value, iso=iso) == text


S, INT, L, D, B, T = (FieldType.STRING, FieldType.INTEGER, FieldType.LONG, FieldType.DOUBLE,
                      FieldType.BOOLEAN, FieldType.TIMESTAMP)
VALUES = [
    (B, 1, True), (B, 0, False), (B, True, True), (INT, 7, 7), (L, 8.0, 8),
    (L, 5_000_000_000, 5_000_000_000), (D, Decimal("0.25"), 0.25), (D, 3, 3.0),
    (T, "2017-05-11 13:23:02.000000", "May 11, 2017 1:23:02 PM"), (S, "é", "é"),
    (S, None, None), (T, None, None),
]


@pytest.mark.parametrize(("kind", "raw", "json_value"), VALUES)
def test_format_value(kind: FieldType, raw: Any, json_value: Any) -> None:
    got = format_value(Field("f", kind), raw)
    assert got == json_value and type(got) is type(json_value)


# -- reply shapes over the estate ------------------------------------------------------------


def test_inventories_key_by_field_and_omit_nulls(any_estate: sa.Engine) -> None:
    with any_estate.connect() as conn:
        reply = run(conn, "VmInstance", "sort=uuid")
    vm = GRAPH.resource("VmInstance")
    by_uuid = {r["uuid"]: r for r in rows_of("VmInstanceVO")}
    assert set(reply) == {"inventories"}
    assert len(reply["inventories"]) == len(by_uuid)
    for inv in reply["inventories"]:
        raw = by_uuid[inv["uuid"]]
        present = {f.name for f in vm.fields.values() if raw.get(f.column) is not None}
        assert set(inv) == present | {"vmNics"}


def test_dates_default_and_iso(any_estate: sa.Engine) -> None:
    query = "q=createDate=2017-05-11 13:23:02"
    with any_estate.connect() as conn:
        java, iso = run(conn, "VmInstance", query), run(conn, "VmInstance", query, iso=True)
    assert java["inventories"], "the estate carries this fixed timestamp"
    assert {inv["createDate"] for inv in java["inventories"]} == {"May 11, 2017 1:23:02 PM"}
    assert {inv["createDate"] for inv in iso["inventories"]} == {"2017-05-11T13:23:02Z"}
    with any_estate.connect() as conn:
        every = run(conn, "VmInstance")["inventories"]
    stamps = [inv[k] for inv in every for k in ("createDate", "lastOpDate") if k in inv]
    assert stamps and all(JAVA_DATE.fullmatch(s) for s in stamps)


def test_json_types(any_estate: sa.Engine) -> None:
    with any_estate.connect() as conn:
        hosts = run(conn, "Host")["inventories"]
        l3s = run(conn, "L3Network")["inventories"]
        vms = run(conn, "VmInstance")["inventories"]
    assert all(type(h["cpuUsage"]) is float for h in hosts if "cpuUsage" in h)
    assert all(type(h["totalCpu"]) is int for h in hosts if "totalCpu" in h)
    assert all(type(n["system"]) is bool for n in l3s if "system" in n)
    assert {n["system"] for n in l3s if "system" in n} == {True, False}
    assert any(v.get("memorySize", 0) > 2**31 for v in vms)
    json.dumps([hosts, l3s, vms])  # every value is plain JSON


FIELDS = [
    ("VmInstance", "fields=uuid,name", {"uuid", "name"}),
    ("VmInstance", [("fields", "name"), ("fields", "cpuNum")], {"name", "cpuNum"}),
    ("Host", "fields=name,availableCpuCapacity", {"name", "availableCpuCapacity"}),
    ("L2Network", "fields=attachedClusterUuids", {"attachedClusterUuids"}),
]


@pytest.mark.parametrize(("resource", "query", "allowed"), FIELDS)
def test_fields_only(sqlite_estate: sa.Engine, resource: str, query: Any,
                     allowed: set[str]) -> None:
    with sqlite_estate.connect() as conn:
        inventories = run(conn, resource, query)["inventories"]
    keys = set().union(*map(set, inventories))
    assert keys <= allowed and keys & allowed


def test_nested_collections_match_children(any_estate: sa.Engine) -> None:
    with any_estate.connect() as conn:
        vms = run(conn, "VmInstance", "sort=uuid", iso=True)["inventories"]
    for vm in vms:
        children = sorted((n for n in rows_of("VmNicVO") if n["vmInstanceUuid"] == vm["uuid"]),
                          key=lambda n: n["uuid"])
        assert [n["uuid"] for n in vm["vmNics"]] == [n["uuid"] for n in children]
        for inv, raw in zip(vm["vmNics"], children, strict=True):
            assert inv.get("ip") == raw["ip"] and inv.get("deviceId") == raw["deviceId"]
            if raw["createDate"] is not None:
                assert inv["createDate"] == raw["createDate"].isoformat() + "Z"
    assert any(vm["vmNics"] == [] for vm in vms) and any(len(vm["vmNics"]) > 1 for vm in vms)


def test_mapped_fields(any_estate: sa.Engine) -> None:
    with any_estate.connect() as conn:
        hosts = run(conn, "Host")["inventories"]
        l2s = run(conn, "L2Network")["inventories"]
    capacity = {c["uuid"]: c["availableCpu"] for c in rows_of("HostCapacityVO")}
    for host in hosts:
        assert host.get("availableCpuCapacity") == capacity[host["uuid"]]
    links = rows_of("L2NetworkClusterRefVO")
    for l2 in l2s:
        want = sorted(r["clusterUuid"] for r in links if r["l2NetworkUuid"] == l2["uuid"])
        assert l2["attachedClusterUuids"] == want


# (resource, query, statements expected: page + one per mapped field/collection + count)
STATEMENT_COUNTS = [
    ("VmInstance", "", 2),
    ("VmInstance", "limit=3", 2),
    ("VmInstance", "replyWithCount=true&sort=name", 3),
    ("VmInstance", "count=true", 1),
    ("VmInstance", "fields=uuid,name", 1),
    ("VmInstance", "q=name=no such vm", 1),
    ("VmInstance", "groupBy=state&replyWithCount=true", 2),
    ("Host", "", 2),
    ("Host", "fields=name", 1),
    ("L2Network", "", 2),
    ("VmNic", "", 1),
]


@pytest.mark.parametrize(("resource", "query", "count"), STATEMENT_COUNTS)
def test_one_query_per_collection_per_page(any_estate: sa.Engine, resource: str, query: str,
                                           count: int) -> None:
    with any_estate.connect() as conn:
        run(conn, resource, "")  # warm up: connection set-up statements are not counted
        with statements(any_estate) as seen:
            run(conn, resource, query)
    assert len(seen) == count, seen
    for extra in seen[1:]:
        if "count(" not in extra.lower():
            assert " IN (" in extra.upper()


def test_count_and_reply_with_count(any_estate: sa.Engine) -> None:
    with any_estate.connect() as conn:
        total = run(conn, "VmInstance", "q=cpuNum>1&count=true")
        page = run(conn, "VmInstance", "q=cpuNum>1&replyWithCount=true&limit=2&sort=uuid")
    want = sum(1 for v in rows_of("VmInstanceVO") if (v["cpuNum"] or 0) > 1)
    assert total == {"total": want}
    assert set(page) == {"inventories", "total"} and page["total"] == want
    assert len(page["inventories"]) == min(2, want)


def test_group_by(any_estate: sa.Engine) -> None:
    with any_estate.connect() as conn:
        reply = run(conn, "VmInstance", "groupBy=state,cpuNum&replyWithCount=true")
    raw = rows_of("VmInstanceVO")
    groups = {(r["state"], r["cpuNum"]) for r in raw}
    assert reply["total"] == len(groups) == len(reply["inventories"])
    assert sum(g["count"] for g in reply["inventories"]) == len(raw)
    for group in reply["inventories"]:
        assert set(group) <= {"state", "cpuNum", "count"}
        state, cpu = group.get("state"), group.get("cpuNum")
        assert group["count"] == sum(1 for r in raw if (r["state"], r["cpuNum"]) == (state, cpu))


def test_session_is_accepted(sqlite_estate: sa.Engine) -> None:
    with Session(sqlite_estate) as session:
        reply = run(session, "VmInstance", "sort=uuid&limit=2&replyWithCount=true")
    assert len(reply["inventories"]) == 2 and reply["total"] == len(rows_of("VmInstanceVO"))


# -- a small graph for scope, link tables and depth inside nested collections --------------

def _tiny_graph() -> SchemaGraph:
    def res(name: str, fields: list[str], relations: list[Relation], owned: bool) -> Resource:
        return Resource(name, f"{name}VO", "uuid", {f: Field(f, S) for f in fields},
                        relations={r.name: r for r in relations}, tag_type=f"{name}VO",
                        owned=owned)

    to_b = Through("ABRef", "aUuid", "bUuid")
    to_a = Through("ABRef", "bUuid", "aUuid")
    a = res("A", ["uuid", "name"], [
        Relation("bs", "A", "B", Cardinality.MANY, "uuid", "uuid", through=to_b, nested=True),
        Relation("cs", "A", "C", Cardinality.MANY, "uuid", "aUuid", nested=True)], False)
    b = res("B", ["uuid"], [
        Relation("as_", "B", "A", Cardinality.MANY, "uuid", "uuid", through=to_a, nested=True)],
        False)
    c = res("C", ["uuid", "aUuid"], [], True)
    link = LinkTable("ABRef", (("id", L), ("aUuid", S), ("bUuid", S)), primary_key=("id",))
    return SchemaGraph(resources={"A": a, "B": b, "C": c}, link_tables={"ABRef": link},
                       ownership=OwnershipConfig())


TINY = _tiny_graph()


def _load_tiny(engine: sa.Engine) -> None:
    build_metadata(TINY).create_all(engine)
    with engine.begin() as conn:
        conn.execute(table_of(TINY, "A").insert(), [{"uuid": "a1", "name": "x"},
                                                    {"uuid": "a2", "name": "y"}])
        conn.execute(table_of(TINY, "B").insert(), [{"uuid": "b1"}, {"uuid": "b2"}])
        conn.execute(link_table_of(TINY, "ABRef").insert(), [
            {"id": 1, "aUuid": "a1", "bUuid": "b2"}, {"id": 2, "aUuid": "a1", "bUuid": "b1"},
            {"id": 3, "aUuid": "a2", "bUuid": "b1"}])
        conn.execute(table_of(TINY, "C").insert(), [
            {"uuid": "c1", "aUuid": "a1"}, {"uuid": "c2", "aUuid": "a1"},
            {"uuid": "c3", "aUuid": "a1"}, {"uuid": "c4", "aUuid": "a2"}])
        conn.execute(link_table_of(TINY, "AccountResourceRefVO").insert(), [
            {"id": 1, "accountUuid": "acct", "resourceUuid": "c1", "resourceType": "CVO"},
            {"id": 2, "accountUuid": "other", "resourceUuid": "c2", "resourceType": "CVO"},
            {"id": 3, "accountUuid": "other", "resourceUuid": "c3", "resourceType": "CVO"},
            # Right uuid, wrong resource type: must not make c2 visible to "acct".
            {"id": 4, "accountUuid": "acct", "resourceUuid": "c2", "resourceType": "AVO"}])
        conn.execute(link_table_of(TINY, "SharedResourceVO").insert(), [
            {"id": 1, "toPublic": True, "resourceUuid": "c3", "resourceType": "CVO"}])


@pytest.fixture
def tiny(any_engine: sa.Engine, _drop_estates: None) -> Iterator[sa.Connection]:
    with sibling_engine(any_engine, "tiny", _load_tiny).connect() as conn:
        yield conn


def test_nested_through_link_and_depth(tiny: sa.Connection) -> None:
    reply = run(tiny, "A", "sort=uuid", graph=TINY)
    first = reply["inventories"][0]
    assert [b["uuid"] for b in first["bs"]] == ["b1", "b2"]
    # Depth 2: B's own collection is filled, but not the collections below it.
    assert [a["uuid"] for a in first["bs"][0]["as_"]] == ["a1", "a2"]
    assert "bs" not in first["bs"][0]["as_"][0] and "cs" not in first["bs"][0]["as_"][0]


SCOPED = [(None, ["c1", "c2", "c3"]), ("acct", ["c1", "c3"]), ("nobody", ["c3"])]


@pytest.mark.parametrize(("account", "visible"), SCOPED)
def test_nested_collections_are_scoped(tiny: sa.Connection, account: str | None,
                                       visible: list[str]) -> None:
    reply = run(tiny, "A", "q=uuid=a1", graph=TINY, account=account)
    assert [c["uuid"] for c in reply["inventories"][0]["cs"]] == visible


# -- timeouts and database errors ------------------------------------------------------------

SLOW = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
              "WHERE x < 300000000) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(3)",
    "mysql": "SELECT SLEEP(3)",
}


def _raw(statement: str) -> tuple[QueryPlan, CompiledQuery]:
    plan = plan_for("Zone", "count=true")
    return plan, CompiledQuery(rows=None, count=sa.text(statement),  # type: ignore[arg-type]
                               columns=(), shapes=())


def test_timeout_becomes_query_timeout(any_engine: sa.Engine) -> None:
    plan, compiled = _raw(SLOW[any_engine.dialect.name])
    with any_engine.connect() as conn, pytest.raises(QueryTimeout) as caught:
        execute(conn, plan, compiled, GRAPH, timeout_ms=100)
    assert caught.value.to_dict()["error"]["code"] == "SYS.1001"


def test_fast_query_under_timeout(any_estate: sa.Engine) -> None:
    plan = plan_for("VmInstance", "replyWithCount=true&limit=3&sort=uuid")
    compiled = compile_plan(plan, GRAPH, dialect=any_estate.dialect.name)
    with any_estate.connect() as conn:
        reply = execute(conn, plan, compiled, GRAPH, timeout_ms=5000)
    assert len(reply["inventories"]) == 3 and reply["total"] == len(rows_of("VmInstanceVO"))


def test_database_error_hides_sql(any_engine: sa.Engine) -> None:
    plan, compiled = _raw("SELECT secret_column FROM zq_no_such_table")
    with any_engine.connect() as conn, pytest.raises(ExecuteError) as caught:
        execute(conn, plan, compiled, GRAPH)
    assert type(caught.value) is ExecuteError
    shown = json.dumps(caught.value.to_dict()) + str(caught.value)
    assert "secret_column" not in shown and "zq_no_such_table" not in shown


UNREACHABLE = [
    "sqlite:////zq-no-such-directory/db.sqlite",
    "postgresql+psycopg://postgres@127.0.0.1:1/test",
    "mysql+pymysql://root@127.0.0.1:1/test",
]


@pytest.mark.parametrize("url", UNREACHABLE)
def test_unreachable_database(url: str) -> None:
    plan = plan_for("Zone", "")
    engine = sa.create_engine(url)
    compiled = compile_plan(plan, GRAPH, dialect=engine.dialect.name)
    with Session(engine) as session, pytest.raises(DatabaseUnavailable):
        execute(session, plan, compiled, GRAPH)


@pytest.mark.parametrize(("limit", "start"), [(2, 2), (2, 3), (3, 2), (2, 2), (1, 4)])
def test_pages_with_equal_and_unequal_limit_and_start(any_estate: sa.Engine, limit: int,
                                                      start: int) -> None:
    """LIMIT and OFFSET parameters are shared objects per value: a page whose limit equals
    its start must not disturb the compiled cache for one where they differ (run in order
    on one engine)."""
    with any_estate.connect() as conn:
        page = run(conn, "VmInstance", f"sort=uuid&limit={limit}&start={start}")
    uuids = sorted(v["uuid"] for v in rows_of("VmInstanceVO"))
    assert [v["uuid"] for v in page["inventories"]] == uuids[start:start + limit]

"""The compiler (``zquery/compile*.py``) and the dialect layer (``zquery/dialects.py``).

* SQL shape per dialect, for resolved plans: one flat semi-join per condition (IN, or
  one correlated EXISTS on SQLite when unselective), never a JOIN for a to-many path,
  ``NOT EXISTS`` for negated tags, ``COLLATE "C"`` and ``NULLS FIRST/LAST`` on PostgreSQL
  only, ``ESCAPE '!'``, values bound (never in the SQL text), a lean count statement.
* The compiled-cache property: plans differing only in values share a cache key.
* Execution on SQLite, PostgreSQL and MariaDB over a small hand-made estate, each
  expected answer worked out from the contract; all three databases must agree.
* Statement timeouts, database error classification and SQLite selectivity statistics.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import DATABASES, _scratch_engine
from sqlalchemy.dialects import mysql, postgresql, sqlite
from zstack_like import GRAPH

from zquery import dialects
from zquery.compile import CompiledQuery, compile_plan
from zquery.errors import (
    DatabaseUnavailable,
    ExecuteError,
    PatternTooLong,
    QueryTimeout,
    UnsupportedDialect,
    ZQueryError,
)
from zquery.plan import QueryPlan, Scope
from zquery.request import parse_request
from zquery.resolve import ResolveOptions, resolve
from zquery.schema.tables import build_metadata

SQL_DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect(),
                "mysql": mysql.dialect()}
ACCOUNT = "acct-a"


def planned(query: Any, resource: str = "VmInstance", *, scope: str | None = None) -> QueryPlan:
    options = ResolveOptions(scope=Scope(scope) if scope else None)
    return resolve(parse_request(query), GRAPH, resource, options=options)


def sql(stmt: Any, dialect: str) -> str:
    return " ".join(str(stmt.compile(dialect=SQL_DIALECTS[dialect])).split())


# -- SQL shapes ------------------------------------------------------------------------

IN_NIC = ('"VmInstanceVO".uuid IN (SELECT "VmNicVO_1"."vmInstanceUuid" FROM "VmNicVO" AS '
          '"VmNicVO_1"')
EXISTS_NIC = ('EXISTS (SELECT 1 FROM "VmNicVO" AS "VmNicVO_1" WHERE '
              '"VmNicVO_1"."vmInstanceUuid" = "VmInstanceVO".uuid')
SHAPES: list[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]]] = [
    # (id, query, resource, dialect, fragments present, fragments absent)
    ("to-many IN pg", "q=vmNics.ip=zqv1", "VmInstance", "postgresql",
     (IN_NIC + ' WHERE "VmNicVO_1".ip = %(ip_1)s',), ("EXISTS", " JOIN ")),
    ("to-many IN mysql", "q=vmNics.ip=zqv1", "VmInstance", "mysql",
     ("`VmInstanceVO`.uuid IN (SELECT `VmNicVO_1`.`vmInstanceUuid`",), ("EXISTS", " JOIN ")),
    ("to-many selective sqlite", "q=vmNics.ip=zqv1", "VmInstance", "sqlite",
     (IN_NIC,), ("EXISTS",)),
    ("to-many unselective sqlite", "q=vmNics.ip!=zqv1", "VmInstance", "sqlite",
     (EXISTS_NIC + ' AND "VmNicVO_1".ip != ?',), (" IN (SELECT", " JOIN ")),
    ("to-many unselective pg", "q=vmNics.ip!=zqv1", "VmInstance", "postgresql",
     (IN_NIC,), ("EXISTS",)),
    ("two hops flat", "q=vmNics.eip.vipIp=zqv", "VmInstance", "postgresql",
     (IN_NIC + ' JOIN "EipVO" AS "EipVO_1" ON "EipVO_1"."vmNicUuid" = "VmNicVO_1".uuid '
      'WHERE "EipVO_1"."vipIp" =',), ("EXISTS", "IN (SELECT \"EipVO")),
    ("two hops one EXISTS sqlite", "q=vmNics.eip.vipIp~=%zqv", "VmInstance", "sqlite",
     ('EXISTS (SELECT 1 FROM "VmNicVO" AS "VmNicVO_1" JOIN "EipVO" AS "EipVO_1"',),
     (" IN (SELECT",)),
    ("many-to-many link", "q=l2Network.name=zqv", "Cluster", "postgresql",
     ('"ClusterVO".uuid IN (SELECT "L2NetworkClusterRefVO_1"."clusterUuid" FROM '
      '"L2NetworkClusterRefVO" AS "L2NetworkClusterRefVO_1" JOIN "L2NetworkVO" AS '
      '"L2NetworkVO_1" ON "L2NetworkVO_1".uuid = "L2NetworkClusterRefVO_1"."l2NetworkUuid"',),
     ("EXISTS",)),
    ("to-one stays IN on sqlite", "q=host.name!=zqv", "VmInstance", "sqlite",
     ('"VmInstanceVO"."hostUuid" IN (SELECT "HostVO_1".uuid FROM "HostVO" AS "HostVO_1"',),
     ("EXISTS", " JOIN ")),
    ("to-one selective sqlite joins", "q=host.managementIp=zqv", "VmInstance", "sqlite",
     ('FROM "VmInstanceVO" JOIN "HostVO" AS "HostVO_1" ON "HostVO_1".uuid = '
      '"VmInstanceVO"."hostUuid" WHERE "HostVO_1"."managementIp" = ?',),
     (" IN (SELECT", "EXISTS")),
    ("to-one two hops sqlite joins", "q=host.zone.name=zqv&sort=-host.name&limit=2",
     "VmInstance", "sqlite",
     ('FROM "VmInstanceVO" JOIN "HostVO" AS "HostVO_1" ON "HostVO_1".uuid = '
      '"VmInstanceVO"."hostUuid" JOIN "ZoneVO" AS "ZoneVO_1" ON "ZoneVO_1".uuid = '
      '"HostVO_1"."zoneUuid" LEFT OUTER JOIN "HostVO" AS "HostVO_2" ON "HostVO_2".uuid = '
      '"VmInstanceVO"."hostUuid" WHERE "ZoneVO_1".name = ?',), (" IN (SELECT",)),
    ("to-one selective pg stays IN", "q=host.managementIp=zqv", "VmInstance", "postgresql",
     ('"VmInstanceVO"."hostUuid" IN (SELECT "HostVO_1".uuid FROM "HostVO" AS "HostVO_1"',),
     (" JOIN ",)),
    ("to-one tag stays IN on sqlite", "q=host.__systemTag__!=zqv", "VmInstance", "sqlite",
     ('"VmInstanceVO"."hostUuid" IN (SELECT "HostVO_1".uuid FROM "HostVO" AS "HostVO_1"',),
     (' JOIN "HostVO"',)),
    ("to-one mapped stays IN on sqlite", "q=host.availableCpuCapacity=4", "VmInstance",
     "sqlite", ('"VmInstanceVO"."hostUuid" IN (SELECT "HostVO_1".uuid FROM "HostVO" AS '
                '"HostVO_1" JOIN "HostCapacityVO"',), (' JOIN "HostVO"',)),
    ("to-one conditions share", "q=host.name=zqv&q=host.state=Enabled", "VmInstance",
     "postgresql", ('"HostVO_1".name = %(name_1)s::VARCHAR AND "HostVO_1".state = '
                    '%(state_1)s::VARCHAR',),
     ('"HostVO_2"',)),
    ("tag positive", "q=__systemTag__=zqv", "VmInstance", "postgresql",
     ('"VmInstanceVO".uuid IN (SELECT "SystemTagVO_1"."resourceUuid" FROM "SystemTagVO" AS '
      '"SystemTagVO_1" WHERE "SystemTagVO_1"."resourceType" = %(resourceType_1)s',),
     ("NOT",)),
    ("tag negative", "q=__systemTag__!=zqv", "VmInstance", "mysql",
     ("NOT (EXISTS (SELECT 1 FROM `SystemTagVO` AS `SystemTagVO_1` WHERE "
      "`SystemTagVO_1`.`resourceUuid` = `VmInstanceVO`.uuid AND "
      "`SystemTagVO_1`.`resourceType` = %s AND `SystemTagVO_1`.tag = %s",), ("NOT IN", "!=")),
    ("tag is null", "q=__userTag__ is null", "VmInstance", "postgresql",
     ('NOT (EXISTS (SELECT 1 FROM "UserTagVO" AS "UserTagVO_1"',), ('"UserTagVO_1".tag',)),
    ("tag not null sqlite", "q=__systemTag__ not null", "VmInstance", "sqlite",
     ('EXISTS (SELECT 1 FROM "SystemTagVO" AS "SystemTagVO_1"',), ('"SystemTagVO_1".tag',)),
    ("tag at path end", "q=vmNics.l3Network.__userTag__=zqv", "VmInstance", "postgresql",
     ('JOIN "UserTagVO" AS "UserTagVO_1" ON "UserTagVO_1"."resourceUuid" = '
      '"L3NetworkVO_1".uuid',), ("EXISTS",)),
    ("mapped value", "q=availableCpuCapacity>4", "Host", "postgresql",
     ('"HostVO".uuid IN (SELECT "HostCapacityVO_1".uuid FROM "HostCapacityVO" AS '
      '"HostCapacityVO_1" WHERE "HostCapacityVO_1"."availableCpu" >',), ("EXISTS",)),
    ("mapped is null", "q=availableCpuCapacity is null", "Host", "postgresql",
     ('NOT (EXISTS (SELECT 1 FROM "HostCapacityVO" AS "HostCapacityVO_1" WHERE '
      '"HostCapacityVO_1".uuid = "HostVO".uuid AND "HostCapacityVO_1"."availableCpu" IS NOT '
      'NULL',), ()),
    ("mapped list", "q=attachedClusterUuids=zqv", "L2Network", "sqlite",
     ('"L2NetworkVO".uuid IN (SELECT "L2NetworkClusterRefVO_1"."l2NetworkUuid"',), ()),
    ("guard at root", "q=vmNics.vmInstance.name=zqv", "VmInstance", "postgresql",
     ('"VmInstanceVO".name = %(name_1)s::VARCHAR AND ' + IN_NIC + ")",), ("EXISTS",)),
    ("guard at depth 1", "q=vmNics.eip.vmNic.ip=zqv", "VmInstance", "postgresql",
     (IN_NIC + ' JOIN "EipVO" AS "EipVO_1" ON "EipVO_1"."vmNicUuid" = "VmNicVO_1".uuid WHERE '
      '"VmNicVO_1".ip =',), ('"VmNicVO_2"',)),
    ("like sqlite", "q=name~=zqv%", "VmInstance", "sqlite",
     ("""zq_lower("VmInstanceVO".name) LIKE zq_lower(?) ESCAPE '!'""",), ()),
    ("like pg", "q=name!~=zqv%", "VmInstance", "postgresql",
     ("""lower("VmInstanceVO".name) NOT LIKE lower(%(param_1)s::VARCHAR) ESCAPE '!'""",),
     ("zq_lower",)),
    ("like mysql", "q=name~=zqv%", "VmInstance", "mysql",
     ("lower(`VmInstanceVO`.name) LIKE lower(%s) ESCAPE '!'",), ("zq_lower",)),
    ("collate and nulls pg", "q=name>zqv&sort=name&limit=5", "VmInstance", "postgresql",
     ('("VmInstanceVO".name COLLATE "C") >',
      'ORDER BY "VmInstanceVO".name COLLATE "C" ASC NULLS FIRST, "VmInstanceVO".uuid COLLATE '
      '"C" ASC LIMIT'), ()),
    ("no collate mysql", "q=name>zqv&sort=name&limit=5", "VmInstance", "mysql",
     ("ORDER BY `VmInstanceVO`.name ASC, `VmInstanceVO`.uuid ASC LIMIT",), ("COLLATE", "NULLS")),
    ("no nulls clause sqlite", "sort=-name&start=2", "VmInstance", "sqlite",
     ('ORDER BY "VmInstanceVO".name DESC, "VmInstanceVO".uuid ASC LIMIT ? OFFSET ?',),
     ("NULLS", "COLLATE")),
    ("sort join pg", "sort=-zone.name", "VmInstance", "postgresql",
     ('FROM "VmInstanceVO" LEFT OUTER JOIN "ZoneVO" AS "ZoneVO_1" ON "ZoneVO_1".uuid = '
      '"VmInstanceVO"."zoneUuid"', '"ZoneVO_1".name COLLATE "C" DESC NULLS LAST'),
     ('"VmInstanceVO".uuid COLLATE',)),
    ("sort join scoped", "sort=l3Network.name", "VmNic", "postgresql",
     ('LEFT OUTER JOIN "L3NetworkVO" AS "L3NetworkVO_1" ON "L3NetworkVO_1".uuid = '
      '"VmNicVO"."l3NetworkUuid" AND ("L3NetworkVO_1".uuid IN (SELECT',), ()),
    ("number sort", "q=cpuNum>2&sort=cpuNum&start=3", "VmInstance", "postgresql",
     ('"VmInstanceVO"."cpuNum" > %(cpuNum_1)s', '"VmInstanceVO"."cpuNum" ASC NULLS FIRST',
      "OFFSET"), ('"cpuNum" COLLATE',)),
    ("group by", "groupBy=state&sort=-count&limit=2", "VmInstance", "postgresql",
     ('SELECT "VmInstanceVO".state, count(*) AS count FROM "VmInstanceVO" GROUP BY '
      '"VmInstanceVO".state ORDER BY count DESC, "VmInstanceVO".state COLLATE "C" ASC NULLS '
      'FIRST LIMIT',), ()),
    ("fields", "fields=name,uuid", "VmInstance", "mysql",
     ("SELECT `VmInstanceVO`.name, `VmInstanceVO`.uuid FROM `VmInstanceVO`",), ("cpuNum",)),
]


#: Shape cases compiled with an account scope.
SCOPED = {"sort join scoped"}


@pytest.mark.parametrize(("case", "query", "resource", "dialect", "present", "absent"), SHAPES,
                         ids=[c[0] for c in SHAPES])
def test_sql_shape(case: str, query: str, resource: str, dialect: str,
                   present: tuple[str, ...], absent: tuple[str, ...]) -> None:
    plan = planned(query, resource, scope=ACCOUNT if case in SCOPED else None)
    compiled = compile_plan(plan, GRAPH, dialect=dialect)
    assert compiled.rows is not None
    text = sql(compiled.rows, dialect)
    for fragment in present:
        assert fragment in text
    for fragment in absent:
        assert fragment not in text
    assert "zqv" not in text  # every value is a bound parameter


COUNTED = ["q=vmNics.ip!=x&sort=zone.name&limit=3&start=1&replyWithCount=true",
           "q=__systemTag__=x&q=host.name=y&count=true",
           "q=vmNics.l3Network.name=x&sort=-name&replyWithCount=true",
           "groupBy=state,zoneUuid&sort=-count&count=true"]


@pytest.mark.parametrize("dialect", list(SQL_DIALECTS))
@pytest.mark.parametrize("query", COUNTED)
def test_count_statement_is_lean(query: str, dialect: str) -> None:
    compiled = compile_plan(planned(query, scope=ACCOUNT), GRAPH, dialect=dialect)
    assert compiled.count is not None
    text = sql(compiled.count, dialect)
    assert text.startswith("SELECT count(*)")
    for banned in ("ORDER BY", "DISTINCT", " OVER ", "LEFT OUTER JOIN", "LIMIT"):
        assert banned not in text
    assert (compiled.rows is None) == ("count=true" in query)


def test_count_of_groups_counts_the_groups() -> None:
    compiled = compile_plan(planned("groupBy=state&count=true"), GRAPH, dialect="postgresql")
    assert compiled.count is not None
    assert sql(compiled.count, "postgresql") == (
        'SELECT count(*) AS count_1 FROM (SELECT "VmInstanceVO".state AS state FROM '
        '"VmInstanceVO" GROUP BY "VmInstanceVO".state) AS zq_groups')


def test_scope_reaches_every_owned_alias() -> None:
    plan = planned("q=vmNics.l3Network.name=x&q=vmNics.eip.name=y&replyWithCount=true",
                   scope=ACCOUNT)
    compiled = compile_plan(plan, GRAPH, dialect="postgresql")
    assert compiled.rows is not None and compiled.count is not None
    text = sql(compiled.rows, "postgresql")
    # VmInstance (root), L3Network and Eip are owned; VmNic is not.
    assert text.count('FROM "AccountResourceRefVO"') == 3
    assert text.count('FROM "SharedResourceVO"') == 3
    assert '"VmNicVO_1".uuid IN (SELECT "AccountResourceRefVO"' not in text
    assert ACCOUNT not in text
    assert sql(compiled.count, "postgresql").count('FROM "AccountResourceRefVO"') == 3


def test_sqlite_count_prefers_exists_when_selectivity_is_unknown() -> None:
    compiled = compile_plan(planned("q=vmNics.ip~=10.%&replyWithCount=true"), GRAPH)
    assert compiled.rows is not None and compiled.count is not None
    assert " IN (SELECT" in sql(compiled.rows, "sqlite")
    assert "EXISTS" in sql(compiled.count, "sqlite")
    assert [s.split(":")[0] for s in compiled.shapes] == ["q[0]", "q[0] (count)"]


SHAPE_NOTES = [
    ("q=name=x", "sqlite", "q[0]: column test on VmInstance"),
    ("q=vmNics.ip!=x", "sqlite",
     "q[0]: EXISTS semi-join over VmInstance→VmNic (SQLite, unselective: operator '!=')"),
    ("q=vmNics.ip=x", "postgresql", "q[0]: IN semi-join over VmInstance→VmNic"),
    ("q=__userTag__!~=x%", "mysql", "q[0]: NOT EXISTS on UserTagVO"),
    ("q=host.name=x&q=host.state=Enabled", "postgresql",
     "q[1]: IN semi-join over VmInstance→Host (to-one, shared by q[0], q[1])"),
    ("q=host.name=x&q=host.state!=Enabled", "sqlite",
     "q[1]: inner JOIN over VmInstance→Host (to-one, shared by q[0], q[1]; SQLite, "
     "selective: operator '=')"),
    ("q=host.name!=x", "sqlite",
     "q[0]: IN semi-join over VmInstance→Host (to-one; SQLite, unselective: operator '!=')"),
    ("q=vmNics.eip.vmNic.ip=1", "postgresql",
     "q[0]: IN semi-join over VmInstance→VmNic, with at least one eip"),
]


@pytest.mark.parametrize(("query", "dialect", "note"), SHAPE_NOTES)
def test_shapes_explain_each_condition(query: str, dialect: str, note: str) -> None:
    assert note in compile_plan(planned(query), GRAPH, dialect=dialect).shapes


def test_nul_value_on_postgresql_compiles_to_a_constant() -> None:
    plan = planned({"q": ["name=a\x00b"]})
    text = sql(compile_plan(plan, GRAPH, dialect="postgresql").rows, "postgresql")
    assert "WHERE false LIMIT" in text
    negated = planned({"q": ["vmNics.ip!=\x00"]})
    text = sql(compile_plan(negated, GRAPH, dialect="postgresql").rows, "postgresql")
    assert 'WHERE "VmNicVO_1".ip IS NOT NULL)' in text
    on_sqlite = compile_plan(plan, GRAPH).rows
    assert on_sqlite is not None and "a\x00b" in on_sqlite.compile().params.values()


@pytest.mark.parametrize(("query", "columns", "hidden"), [
    ("fields=name", ("name",), ()),
    ("fields=availableCpuCapacity,name", ("name", "uuid"), ("uuid",)),
    ("fields=uuid,availableCpuCapacity", ("uuid",), ()),
    ("", None, ()),
])
def test_columns_and_hidden_keys(query: str, columns: tuple[str, ...] | None,
                                 hidden: tuple[str, ...]) -> None:
    compiled = compile_plan(planned(query, "Host"), GRAPH)
    host = GRAPH.resource("Host")
    expected = columns or tuple(f.name for f in host.fields.values() if f.mapped is None)
    assert tuple(f.name for f in compiled.columns) == expected
    assert compiled.hidden == hidden
    assert compiled.rows is not None
    assert tuple(compiled.rows.selected_columns.keys()) == expected


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(UnsupportedDialect) as info:
        compile_plan(planned("q=name=x"), GRAPH, dialect="oracle")
    assert info.value.param == "dialect" and "sqlite" in (info.value.hint or "")


# -- the compiled cache: same shape, same key ------------------------------------------

SAME_SHAPE = [
    ("q=name=a", "q=name=b"),
    ("q=name?=a", "q=name?=a,b,c,d,e,f"),
    ("q=vmNics.ip!=1", "q=vmNics.ip!=2"),
    ("q=vmNics.eip.vipIp=1&q=host.name=h", "q=vmNics.eip.vipIp=2&q=host.name=k"),
    ("q=name~=a%&limit=10&start=5", "q=name~=zz_&limit=99&start=7"),
    ("q=__systemTag__!=a", "q=__systemTag__!=b"),
    ("q=cpuNum>1&sort=-zone.name", "q=cpuNum>7&sort=-zone.name"),
    ("q=createDate>2020-01-01", "q=createDate>2021-05-06 10:00:00"),
]
OTHER_SHAPE = [
    ("q=name=a", "q=name!=a"),
    ("q=vmNics.ip=1", "q=host.name=1"),
    ("sort=name", "sort=-name"),
    ("q=name=a", "q=name=a&limit=10"),
    ("q=vmNics.ip=1", "q=vmNics.ip=1&q=vmNics.ip=2"),
]


def _keys(query: str, dialect: str, scope: str | None = None) -> list[Any]:
    compiled = compile_plan(planned(query, scope=scope), GRAPH, dialect=dialect)
    return [None if s is None else s._generate_cache_key()
            for s in (compiled.rows, compiled.count)]


@pytest.mark.parametrize("dialect", list(SQL_DIALECTS))
@pytest.mark.parametrize(("first", "second"), SAME_SHAPE)
def test_values_do_not_change_the_cache_key(first: str, second: str, dialect: str) -> None:
    assert _keys(first + "&replyWithCount=true", dialect) == \
        _keys(second + "&replyWithCount=true", dialect)


def test_booleans_and_accounts_share_a_key() -> None:
    plan_true = resolve(parse_request("q=isDefault=true"), GRAPH, "Zone")
    plan_false = resolve(parse_request("q=isDefault=false"), GRAPH, "Zone")
    key = [compile_plan(p, GRAPH).rows._generate_cache_key()  # type: ignore[union-attr]
           for p in (plan_true, plan_false)]
    assert key[0] == key[1]
    assert _keys("q=vmNics.l3Network.name=x", "mysql", "acct-1") == \
        _keys("q=vmNics.l3Network.name=y", "mysql", "acct-2")


@pytest.mark.parametrize(("first", "second"), OTHER_SHAPE)
def test_other_shapes_get_other_keys(first: str, second: str) -> None:
    assert _keys(first, "postgresql") != _keys(second, "postgresql")


# -- execution on every database -------------------------------------------------------

def _rows(table: str, *rows: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    columns = build_metadata(GRAPH).tables[table].columns.keys()
    return table, [{c: row.get(c) for c in columns} for row in rows]


VM, HOST, TAGS = "VmInstanceVO", "HostVO", "SystemTagVO"
ESTATE = [
    _rows("ZoneVO", {"uuid": "z1", "name": "zone-b"}, {"uuid": "z2", "name": "Zone-a"},
          {"uuid": "z3"}),
    _rows("ClusterVO", {"uuid": "c1", "zoneUuid": "z1"}, {"uuid": "c2", "zoneUuid": "z2"}),
    _rows("L2NetworkVO", {"uuid": "l2a", "name": "flat", "zoneUuid": "z1"},
          {"uuid": "l2b", "name": "vlan", "zoneUuid": "z2"}),
    _rows("L2NetworkClusterRefVO", {"id": 1, "clusterUuid": "c1", "l2NetworkUuid": "l2a"},
          {"id": 2, "clusterUuid": "c2", "l2NetworkUuid": "l2a"},
          {"id": 3, "clusterUuid": "c2", "l2NetworkUuid": "l2b"}),
    _rows(HOST, {"uuid": "h1", "zoneUuid": "z1", "clusterUuid": "c1", "name": "host-1",
                 "managementIp": "10.0.0.1"},
          {"uuid": "h2", "zoneUuid": "z2", "clusterUuid": "c2", "name": "Host-2",
           "managementIp": "10.0.0.2"},
          {"uuid": "h3", "zoneUuid": "z1", "clusterUuid": "c1"}),
    _rows("HostCapacityVO", {"uuid": "h1", "availableCpu": 8}, {"uuid": "h2"}),
    _rows("L3NetworkVO", {"uuid": "l3a", "l2NetworkUuid": "l2a", "zoneUuid": "z1",
                          "name": "pub"},
          {"uuid": "l3b", "l2NetworkUuid": "l2b", "zoneUuid": "z2", "name": "priv"}),
    _rows(VM, {"uuid": "v1", "name": "vm1", "zoneUuid": "z1", "hostUuid": "h1",
               "state": "Running", "cpuNum": 2},
          {"uuid": "v2", "name": "VM2", "zoneUuid": "z2", "hostUuid": "h2", "state": "Stopped",
           "cpuNum": 4},
          {"uuid": "v3", "zoneUuid": "z1", "state": "Running"},
          {"uuid": "v4", "name": "ÉCOLE", "hostUuid": "h3", "state": "Running", "cpuNum": 8},
          {"uuid": "v5", "name": "50%_off\\x", "zoneUuid": "z2", "hostUuid": "h1",
           "state": "Stopped", "cpuNum": 1}),
    _rows("VmNicVO", {"uuid": "n1", "vmInstanceUuid": "v1", "l3NetworkUuid": "l3a",
                      "ip": "10.1.0.1"},
          {"uuid": "n2", "vmInstanceUuid": "v1", "l3NetworkUuid": "l3b", "ip": "10.2.0.1"},
          {"uuid": "n3", "vmInstanceUuid": "v2", "l3NetworkUuid": "l3a"},
          {"uuid": "n4", "vmInstanceUuid": "v4", "l3NetworkUuid": "l3b", "ip": "10.2.0.4"}),
    _rows("VipVO", {"uuid": "p1", "l3NetworkUuid": "l3a", "ip": "100.64.0.1"},
          {"uuid": "p2", "l3NetworkUuid": "l3b", "ip": "100.64.0.2"}),
    _rows("EipVO", {"uuid": "e1", "vmNicUuid": "n1", "vipUuid": "p1", "vipIp": "100.64.0.1"},
          {"uuid": "e2", "vmNicUuid": "n4", "vipUuid": "p2", "vipIp": "100.64.0.2"},
          {"uuid": "e3", "vipUuid": "p2", "vipIp": "100.64.0.2"}),
    _rows(TAGS, *({"uuid": f"t{i}", "resourceUuid": r, "resourceType": t, "tag": tag}
                  for i, (r, t, tag) in enumerate([
                      ("v1", VM, "hostname::web"), ("v2", VM, "bootMode::UEFI"),
                      ("h1", HOST, "capability::On"), ("v4", HOST, "hostname::web"),
                      ("v1", VM, "ha::NeverStop")]))),
    _rows("UserTagVO", {"uuid": "u1", "resourceUuid": "v2", "resourceType": VM, "tag": "Prod"},
          {"uuid": "u2", "resourceUuid": "l3a", "resourceType": "L3NetworkVO", "tag": "web"}),
    # v5 is referenced with another resource type: it must not count as owned.
    _rows("AccountResourceRefVO", *({"id": i, "accountUuid": ACCOUNT, "resourceUuid": r,
                                     "resourceType": t}
                                    for i, (r, t) in enumerate([
                                        ("v1", VM), ("v2", VM), ("l3a", "L3NetworkVO"),
                                        ("e1", "EipVO"), ("p1", "VipVO"),
                                        ("v5", "L3NetworkVO")], 1))),
    _rows("SharedResourceVO",
          {"id": 1, "receiverAccountUuid": ACCOUNT, "toPublic": False, "resourceUuid": "v3",
           "resourceType": VM},
          {"id": 2, "toPublic": True, "resourceUuid": "v4", "resourceType": VM},
          {"id": 3, "receiverAccountUuid": "acct-b", "toPublic": False, "resourceUuid": "v5",
           "resourceType": VM}),
]

# (query, resource, account, expected primary keys; a list when the order is fixed)
RUNS: list[tuple[str, str, str | None, Any]] = [
    ("q=name=vm1", "VmInstance", None, {"v1"}),
    ("q=name!=vm1", "VmInstance", None, {"v2", "v4", "v5"}),
    ("q=vmNics.ip=10.1.0.1", "VmInstance", None, {"v1"}),
    ("q=vmNics.ip!=10.1.0.1", "VmInstance", None, {"v1", "v4"}),
    ("q=vmNics.ip is null", "VmInstance", None, {"v2"}),
    ("q=vmNics.ip not null", "VmInstance", None, {"v1", "v4"}),
    ("q=vmNics.ip?=10.1.0.1,10.2.0.4,none", "VmInstance", None, {"v1", "v4"}),
    ("q=vmNics.ip!?=10.1.0.1,10.2.0.1", "VmInstance", None, {"v4"}),
    ("q=vmNics.ip~=10.2.%", "VmInstance", None, {"v1", "v4"}),
    ("q=vmNics.ip=10.1.0.1&q=vmNics.l3NetworkUuid=l3b", "VmInstance", None, {"v1"}),
    ("q=vmNics.l3Network.name=pub", "VmInstance", None, {"v1", "v2"}),
    ("q=l3Network.name=priv", "VmInstance", None, {"v1", "v4"}),
    ("q=vmNics.eip.vipIp=100.64.0.2", "VmInstance", None, {"v4"}),
    ("q=vmNics.eip.vip.ip!=100.64.0.2", "VmInstance", None, {"v1"}),
    ("q=host.name~=HOST%", "VmInstance", None, {"v1", "v2", "v5"}),
    ("q=host.name is null", "VmInstance", None, {"v4"}),
    ("q=host.name~=host%&q=host.managementIp>10.0.0.1", "VmInstance", None, {"v2"}),
    ("q=zone.uuid is null", "VmInstance", None, {"v4"}),
    ("q=host.managementIp=10.0.0.1", "VmInstance", None, {"v1", "v5"}),  # JOIN on SQLite
    ("q=host.zone.name=zone-b&q=host.zoneUuid=z1&sort=-host.name&limit=10", "VmInstance",
     None, ["v1", "v5", "v4"]),
    ("q=l3Network.name=priv", "VmNic", None, {"n2", "n4"}),
    ("q=__systemTag__=hostname::web", "VmInstance", None, {"v1"}),
    ("q=__systemTag__!=hostname::web", "VmInstance", None, {"v2", "v3", "v4", "v5"}),
    ("q=__systemTag__ is null", "VmInstance", None, {"v3", "v4", "v5"}),
    ("q=__systemTag__ not null", "VmInstance", None, {"v1", "v2"}),
    ("q=__systemTag__!~=HOSTNAME%", "VmInstance", None, {"v2", "v3", "v4", "v5"}),
    ("q=__userTag__~=prod", "VmInstance", None, {"v2"}),
    ("q=vmNics.l3Network.__userTag__=web", "VmInstance", None, {"v1", "v2"}),
    ("q=host.__systemTag__?=capability::On", "VmInstance", None, {"v1", "v5"}),
    ("q=availableCpuCapacity>4", "Host", None, {"h1"}),
    ("q=availableCpuCapacity is null", "Host", None, {"h2", "h3"}),
    ("q=availableCpuCapacity not null", "Host", None, {"h1"}),
    ("q=attachedClusterUuids=c2", "L2Network", None, {"l2a", "l2b"}),
    ("q=attachedClusterUuids!=c2", "L2Network", None, {"l2a"}),
    ("q=l2Network.name=vlan", "Cluster", None, {"c2"}),
    ("q=cluster.uuid=c1", "L2Network", None, {"l2a"}),
    ("q=vmNics.vmInstance.name?=vm1,50%_off\\x", "VmInstance", None, {"v1"}),
    ("q=vmNics.eip.vmNic.ip~=10.%", "VmInstance", None, {"v1", "v4"}),
    ("q=name~=école", "VmInstance", None, {"v4"}),
    ("q=name~=50\\%\\_OFF\\x", "VmInstance", None, {"v5"}),
    ("q=name~=%\\\\x", "VmInstance", None, {"v5"}),
    ("q=name~=50_%", "VmInstance", None, {"v5"}),
    ("q=name~=5\\_%", "VmInstance", None, set()),
    ("", "VmInstance", ACCOUNT, {"v1", "v2", "v3", "v4"}),
    ("q=vmNics.l3Network.name=priv", "VmInstance", ACCOUNT, set()),
    ("q=vmNics.l3Network.name=pub", "VmInstance", ACCOUNT, {"v1", "v2"}),
    ("q=vmNics.eip.vipIp=100.64.0.1", "VmInstance", ACCOUNT, {"v1"}),
    ("q=vmNics.eip.vipIp=100.64.0.2", "VmInstance", ACCOUNT, set()),
    ("q=vmNics.eip.vip.ip?=100.64.0.1,100.64.0.2", "VmInstance", ACCOUNT, {"v1"}),
    ("q=l3Network.name=priv", "VmNic", ACCOUNT, set()),  # the JOINed target is scoped
    ("q=l3Network.name=pub", "VmNic", ACCOUNT, {"n1", "n3"}),
    ("sort=host.name&limit=10", "VmInstance", None, ["v3", "v4", "v2", "v1", "v5"]),
    ("sort=-host.name&limit=10", "VmInstance", None, ["v1", "v5", "v2", "v3", "v4"]),
    ("sort=name&limit=10", "VmInstance", None, ["v3", "v5", "v2", "v1", "v4"]),
    ("sort=name&limit=2&start=1", "VmInstance", None, ["v5", "v2"]),
    ("sort=-zone.name,-cpuNum&start=1", "VmInstance", None, ["v3", "v2", "v5", "v4"]),
    ("sort=-availableCpuCapacity&start=0&limit=3", "Host", None, ["h1", "h2", "h3"]),
    ("sort=l3Network.name&limit=9", "VmNic", ACCOUNT, ["n2", "n4", "n1", "n3"]),
]


@pytest.fixture(scope="module", params=DATABASES)
def estate(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[sa.Engine]:
    """A private database per kind with the hand-made estate loaded."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("compile") / "estate.sqlite"
        engines: Iterator[sa.Engine] = iter([sa.create_engine(f"sqlite:///{path}")])
    else:
        engines = _scratch_engine(request.param)
    engine = next(engines)
    dialects.install(engine)
    metadata = build_metadata(GRAPH)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for table, rows in ESTATE:
            conn.execute(metadata.tables[table].insert(), rows)
    yield engine
    engine.dispose()
    next(engines, None)


def _run(engine: sa.Engine, plan: QueryPlan) -> tuple[list[Any], int | None, CompiledQuery]:
    with engine.connect() as conn:
        dialects.ensure(conn)
        compiled = compile_plan(plan, GRAPH, dialect=engine.dialect.name,
                                stats=dialects.stats_for(conn))
        assert compiled.rows is not None
        keys = [row._mapping[plan.resource.primary_key]
                for row in conn.execute(compiled.rows)]
        total = None if compiled.count is None else conn.execute(compiled.count).scalar_one()
    return keys, total, compiled


@pytest.mark.parametrize(("query", "resource", "account", "expected"), RUNS,
                         ids=[f"{r[1]}?{r[0]}{'@' + r[2] if r[2] else ''}" for r in RUNS])
def test_runs_on_every_database(estate: sa.Engine, query: str, resource: str,
                                account: str | None, expected: Any) -> None:
    plan = planned(query + "&replyWithCount=true", resource, scope=account)
    keys, total, _ = _run(estate, plan)
    if isinstance(expected, list):
        assert keys == expected
    else:
        assert set(keys) == expected and len(keys) == len(expected)
        assert total == len(expected)


GROUPS: list[tuple[str, list[tuple[Any, ...]], int]] = [
    ("groupBy=state&sort=-count", [("Running", 3), ("Stopped", 2)], 2),
    ("groupBy=zoneUuid&sort=zoneUuid&limit=5", [(None, 1), ("z1", 2), ("z2", 2)], 3),
    ("groupBy=state,zoneUuid&sort=-count&limit=2&start=1", [("Stopped", "z2", 2),
                                                             ("Running", None, 1)], 3),
    ("groupBy=state&q=vmNics.ip not null", [("Running", 2)], 1),
    ("groupBy=state&q=host.managementIp=10.0.0.1", [("Running", 1), ("Stopped", 1)], 2),
]


@pytest.mark.parametrize(("query", "expected", "groups"), GROUPS)
def test_group_by_on_every_database(estate: sa.Engine, query: str,
                                    expected: list[tuple[Any, ...]], groups: int) -> None:
    plan = planned(query + "&replyWithCount=true")
    with estate.connect() as conn:
        compiled = compile_plan(plan, GRAPH, dialect=estate.dialect.name)
        assert compiled.rows is not None and compiled.count is not None
        rows = [tuple(row) for row in conn.execute(compiled.rows)]
        total = conn.execute(compiled.count).scalar_one()
    if "start=" in query:
        # sort=-count leaves equal counts in group-field order (the tie-breaker)
        assert rows == expected
    else:
        assert sorted(rows, key=repr) == sorted(expected, key=repr)
    assert total == groups


def test_count_only_on_every_database(estate: sa.Engine) -> None:
    plan = planned("q=vmNics.ip not null&count=true")
    with estate.connect() as conn:
        compiled = compile_plan(plan, GRAPH, dialect=estate.dialect.name)
        assert compiled.rows is None and compiled.count is not None
        assert conn.execute(compiled.count).scalar_one() == 2


# -- the dialect layer ------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("sqlite", "sqlite"), ("postgresql", "postgresql"), ("postgres", "postgresql"),
    ("postgresql+psycopg", "postgresql"), ("mysql", "mysql"), ("mariadb", "mysql"),
    ("MySQL+pymysql", "mysql")])
def test_dialect_names(name: str, expected: str) -> None:
    assert dialects.traits_for(name).name == expected


_LONG_STATEMENTS = {
    "sqlite": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
              "WHERE n < 500000000) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(3)",
    "mysql": "SELECT SLEEP(3)",
}
_SETTING = {"postgresql": "SELECT current_setting('statement_timeout')",
            "mysql": "SELECT @@SESSION.max_statement_time"}


def test_statement_timeout_stops_a_long_statement(any_engine: sa.Engine) -> None:
    kind = any_engine.dialect.name
    with any_engine.connect() as conn:
        before = conn.exec_driver_sql(_SETTING[kind]).scalar() if kind in _SETTING else None
        with pytest.raises(sa.exc.OperationalError) as info, \
                dialects.statement_timeout(conn, 150):
            conn.exec_driver_sql(_LONG_STATEMENTS[kind]).all()
        error = dialects.classify_db_error(info.value)
        assert isinstance(error, QueryTimeout) and error.api_code == "SYS.1001"
        assert "SELECT" not in str(error) and "pg_sleep" not in str(error)
        conn.rollback()
        if kind in _SETTING:
            assert conn.exec_driver_sql(_SETTING[kind]).scalar() == before
        # No deadline left behind: a statement after the block runs to its end.
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


def test_statement_timeout_lets_a_quick_statement_through(any_engine: sa.Engine) -> None:
    with any_engine.connect() as conn, dialects.statement_timeout(conn, 5000):
        assert conn.exec_driver_sql("SELECT 41 + 1").scalar() == 42


def test_apply_timeout_sets_the_database_setting(any_engine: sa.Engine) -> None:
    kind = any_engine.dialect.name
    with any_engine.connect() as conn:
        dialects.apply_timeout(conn, 2500)
        if kind == "postgresql":
            assert conn.exec_driver_sql(_SETTING[kind]).scalar() == "2500ms"
        elif kind == "mysql":
            assert float(conn.exec_driver_sql(_SETTING[kind]).scalar()) == 2.5
            conn.exec_driver_sql("SET @@SESSION.max_statement_time = 0")
        else:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
            conn.connection.driver_connection.set_progress_handler(None, 0)  # type: ignore


def _psycopg_error(sqlstate: str) -> Exception:
    import psycopg

    return psycopg.errors.lookup(sqlstate)("SELECT secret FROM t")


def _pymysql_error(errno: int) -> Exception:
    import pymysql

    return pymysql.err.OperationalError(errno, "SELECT secret FROM t")


ERRORS: list[tuple[str, Any, type[ExecuteError]]] = [
    ("sqlite interrupted", lambda: sqlite3.OperationalError("interrupted"), QueryTimeout),
    ("sqlite cannot open", lambda: sqlite3.OperationalError("unable to open database file"),
     DatabaseUnavailable),
    ("sqlite syntax", lambda: sqlite3.OperationalError("near 'x': syntax error"), ExecuteError),
    ("sqlite long LIKE pattern",
     lambda: sqlite3.OperationalError("LIKE or GLOB pattern too complex"), PatternTooLong),
    ("pg statement timeout", lambda: _psycopg_error("57014"), QueryTimeout),
    ("pg connection failure", lambda: _psycopg_error("08006"), DatabaseUnavailable),
    ("pg admin shutdown", lambda: _psycopg_error("57P01"), DatabaseUnavailable),
    ("pg syntax", lambda: _psycopg_error("42601"), ExecuteError),
    ("mariadb max_statement_time", lambda: _pymysql_error(1969), QueryTimeout),
    ("mysql max_execution_time", lambda: _pymysql_error(3024), QueryTimeout),
    ("mysql server gone", lambda: _pymysql_error(2006), DatabaseUnavailable),
    ("mysql lost connection", lambda: _pymysql_error(2013), DatabaseUnavailable),
    ("mysql deadlock", lambda: _pymysql_error(1213), ExecuteError),
    ("pool timeout", lambda: sa.exc.TimeoutError("pool exhausted"), DatabaseUnavailable),
    ("not a database error", lambda: ValueError("SELECT secret"), ExecuteError),
]


@pytest.mark.parametrize("wrapped", [False, True])
@pytest.mark.parametrize(("case", "make", "kind"), ERRORS, ids=[e[0] for e in ERRORS])
def test_classify_db_error(case: str, make: Any, kind: type[ZQueryError],
                           wrapped: bool) -> None:
    error = make()
    if wrapped and not isinstance(error, sa.exc.SQLAlchemyError):
        error = sa.exc.OperationalError("SELECT secret FROM t WHERE x = :v", {"v": "hidden"},
                                        error)
    classified = dialects.classify_db_error(error)
    assert type(classified) is kind
    text = str(classified) + repr(classified.to_dict())
    assert "secret" not in text and "hidden" not in text


def test_invalidated_connection_is_unavailable() -> None:
    error = sa.exc.OperationalError("SELECT 1", {}, Exception("gone"),
                                    connection_invalidated=True)
    assert isinstance(dialects.classify_db_error(error), DatabaseUnavailable)


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres@127.0.0.1:1/test",
                                 "mysql+pymysql://root@127.0.0.1:1/test"])
def test_unreachable_server_is_unavailable(url: str) -> None:
    engine = sa.create_engine(url)
    with pytest.raises(sa.exc.OperationalError) as info:
        engine.connect()
    assert isinstance(dialects.classify_db_error(info.value), DatabaseUnavailable)


def test_install_and_ensure_register_the_lower_function(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'lower.sqlite'}")
    with engine.connect() as conn:  # opened before install: ensure() must fix it
        dialects.ensure(conn)
        dialects.ensure(conn)
        assert conn.exec_driver_sql("SELECT zq_lower('ÄRGER')").scalar() == "ärger"
    dialects.install(engine)
    dialects.install(engine)
    assert sa.event.contains(engine, "connect", dialects._on_connect)
    engine.dispose()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT zq_lower(NULL)").scalar() is None


# -- SQLite: statistics choose the shape ------------------------------------------------

@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """200 VMs with one NIC each, every NIC on the same L3 network, 10 VMs on each of 20
    hosts (one cluster per host, 10 hosts per zone), then ANALYZE."""
    engine = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('stats') / 's.sqlite'}")
    dialects.install(engine)
    tables = build_metadata(GRAPH).tables
    build_metadata(GRAPH).create_all(engine)
    with engine.begin() as conn:
        conn.execute(tables["L3NetworkVO"].insert(), [{"uuid": "l3a", "name": "pub"}])
        conn.execute(tables[HOST].insert(), [
            {"uuid": f"h{i:02d}", "clusterUuid": f"c{i:02d}", "zoneUuid": "za" if i < 10 else "zb"}
            for i in range(20)])
        conn.execute(tables[VM].insert(), [{"uuid": f"v{i:03d}", "name": f"vm{i}",
                                            "hostUuid": f"h{i % 20:02d}"} for i in range(200)])
        conn.execute(tables["VmNicVO"].insert(), [
            {"uuid": f"n{i:03d}", "vmInstanceUuid": f"v{i:03d}", "l3NetworkUuid": "l3a",
             "ip": f"10.0.{i // 100}.{i % 100}"} for i in range(200)])
        conn.exec_driver_sql("ANALYZE")
    yield engine
    engine.dispose()


def test_stats_read_sqlite_stat1(analysed: sa.Engine) -> None:
    stats = dialects.stats_for(analysed, refresh=True)
    assert stats is not None and stats is dialects.stats_for(analysed)
    assert stats.rows(VM) == 200
    assert stats.per_key("VmNicVO", "l3NetworkUuid") == 200
    assert stats.per_key("VmNicVO", "vmInstanceUuid") == 1
    assert stats.per_key("VmNicVO", "ip") is None
    assert ("VmNicVO", "l3NetworkUuid") in stats.indexed


#: (query, shape, why, matches): semi-joins choose IN or EXISTS by selectivity; to-one
#: paths an inner JOIN when few root rows match, else IN. Without statistics the operator
#: decides, and the rows are the same either way.
STATS_SHAPES = [
    ("q=vmNics.l3NetworkUuid=l3a", "EXISTS semi-join", "unselective: ~200 of 200 rows", 200),
    ("q=vmNics.uuid?=n001,n002", "IN semi-join", "selective: ~2 of 200 rows", 2),
    ("q=vmNics.ip=10.0.1.5", "IN semi-join", "selective: operator '='", 1),
    ("q=vmNics.l3Network.uuid=l3a", "EXISTS semi-join", "~200 of 200", 200),  # FK collapse
    ("q=vmNics.ip!=10.0.1.5", "EXISTS semi-join", "unselective: operator '!='", 199),
    ("q=host.clusterUuid=c03", "inner JOIN over", "selective: ~10 of 200 rows", 10),
    ("q=host.zoneUuid=za", "IN semi-join", "unselective: ~100 of 200 rows", 100),
    ("q=host.zoneUuid=za&q=host.clusterUuid=c03", "inner JOIN over", "~10 of 200", 10),
]


@pytest.mark.parametrize(("query", "kind", "why", "matches"), STATS_SHAPES)
def test_stats_choose_the_shape(analysed: sa.Engine, query: str, kind: str, why: str,
                                matches: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from zquery import compile_conditions

    # The estate is small (200 VMs): let its pages take EXISTS as a large table's would.
    monkeypatch.setattr(compile_conditions, "PAGE_EXISTS_MIN_ROWS", 100)
    plan = planned(query + "&replyWithCount=true")
    keys, total, compiled = _run(analysed, plan)
    assert compiled.shapes[0].startswith(f"q[0]: {kind}") and why in compiled.shapes[0]
    assert len(keys) == total == matches
    without, _, _ = _run_without_stats(analysed, plan)
    assert sorted(without) == sorted(keys)


def test_sqlite_joins_an_unselective_to_one_path_on_a_large_table(
        analysed: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """From TO_ONE_JOIN_MIN_ROWS root rows an unselective to-one path is a JOIN too."""
    from zquery import compile_conditions

    plan = planned("q=host.zoneUuid=za&replyWithCount=true&limit=30")
    small_keys, small_total, small = _run(analysed, plan)
    assert small.shapes[0].startswith("q[0]: IN semi-join")
    monkeypatch.setattr(compile_conditions, "TO_ONE_JOIN_MIN_ROWS", 100)
    keys, total, compiled = _run(analysed, plan)
    assert compiled.shapes[0].startswith("q[0]: inner JOIN over VmInstance→Host")
    assert compiled.shapes[0].endswith("root of 200 ≥ 100 rows)")
    assert compiled.rows is not None and " JOIN " in sql(compiled.rows, "sqlite")
    assert (keys, total) == (small_keys, small_total) and total == 100


def test_sqlite_page_keeps_in_on_a_small_table(analysed: sa.Engine) -> None:
    """Under PAGE_EXISTS_MIN_ROWS root rows an unselective page stays IN, with the reason."""
    plan = planned("q=vmNics.l3NetworkUuid=l3a")
    keys, _, compiled = _run(analysed, plan)
    assert len(keys) == 200 and "EXISTS" not in sql(compiled.rows, "sqlite")
    assert compiled.shapes[0].endswith("; page over 200 < 10000 rows)")


def test_sqlite_count_keeps_in_on_a_small_table(analysed: sa.Engine,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """An unselective condition pages with EXISTS, but its count stays IN while the root
    table is under COUNT_EXISTS_MIN_ROWS rows; from that size on the count is EXISTS."""
    from zquery import compile_conditions

    monkeypatch.setattr(compile_conditions, "PAGE_EXISTS_MIN_ROWS", 100)
    plan = planned("q=vmNics.l3NetworkUuid=l3a&replyWithCount=true")
    _, total, small = _run(analysed, plan)
    assert small.count is not None and total == 200
    assert "EXISTS" not in sql(small.count, "sqlite")
    assert small.shapes[1] == ("q[0] (count): IN semi-join over VmInstance→VmNic (SQLite, "
                               "unselective: ~200 of 200 rows; count over 200 < 50000 rows)")
    monkeypatch.setattr(compile_conditions, "COUNT_EXISTS_MIN_ROWS", 200)
    _, total, large = _run(analysed, plan)
    assert large.count is not None and total == 200
    assert "EXISTS" in sql(large.count, "sqlite") and len(large.shapes) == 1


def _run_without_stats(engine: sa.Engine, plan: QueryPlan) -> tuple[list[Any], None, None]:
    compiled = compile_plan(plan, GRAPH)
    assert compiled.rows is not None
    with engine.connect() as conn:
        return [row.uuid for row in conn.execute(compiled.rows)], None, None


def test_other_databases_need_no_stats(any_engine: sa.Engine) -> None:
    assert (dialects.stats_for(any_engine) is None) == (any_engine.dialect.name != "sqlite")


# -- typed children: the row filter on every alias ---------------------------------------

def _typed_graph() -> Any:
    from zquery.schema.graph import Cardinality, Field, FieldType, Relation, Resource, SchemaGraph

    def fields(*names: str) -> dict[str, Field]:
        return {n: Field(n, FieldType.STRING) for n in names}

    zone = Resource("Zone", "ZoneVO", "uuid", fields("uuid", "name"), relations={
        "appliance": Relation("appliance", "Zone", "Appliance", Cardinality.MANY, "uuid",
                              "zoneUuid")})
    vm = Resource("Vm", "VmInstanceVO", "uuid", fields("uuid", "name", "type", "zoneUuid"))
    appliance = Resource("Appliance", "VmInstanceVO", "uuid",
                         fields("uuid", "name", "type", "zoneUuid"),
                         row_filter=(("type", ("ApplianceVm",)),))
    return SchemaGraph(resources={"Zone": zone, "Vm": vm, "Appliance": appliance})


TYPED = _typed_graph()


def test_row_filter_applies_to_root_and_every_alias() -> None:
    root = compile_plan(resolve(parse_request("q=name=x"), TYPED, "Appliance"), TYPED,
                        dialect="postgresql")
    assert '"VmInstanceVO".type IN (__[POSTCOMPILE_type_1])' in sql(root.rows, "postgresql")
    hop = compile_plan(resolve(parse_request("q=appliance.name=x&sort=name&limit=5"),
                               TYPED, "Zone"), TYPED, dialect="postgresql")
    assert ('WHERE "VmInstanceVO_1".type IN (__[POSTCOMPILE_type_1]) AND '
            '"VmInstanceVO_1".name =') in sql(hop.rows, "postgresql")


def test_row_filter_keeps_other_types_out(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'typed.sqlite'}")
    tables = build_metadata(TYPED).tables
    build_metadata(TYPED).create_all(engine)
    with engine.begin() as conn:
        conn.execute(tables["ZoneVO"].insert(), [{"uuid": "z1"}, {"uuid": "z2"}])
        conn.execute(tables["VmInstanceVO"].insert(), [
            {"uuid": "a1", "name": "x", "type": "ApplianceVm", "zoneUuid": "z1"},
            {"uuid": "u1", "name": "x", "type": "UserVm", "zoneUuid": "z2"}])
    with engine.connect() as conn:
        for query, resource, expected in [("q=name=x", "Appliance", {"a1"}),
                                          ("q=name=x", "Vm", {"a1", "u1"}),
                                          ("q=appliance.name=x", "Zone", {"z1"})]:
            plan = resolve(parse_request(query), TYPED, resource)
            compiled = compile_plan(plan, TYPED)
            assert compiled.rows is not None
            assert set(conn.execute(compiled.rows).scalars()) == expected
    engine.dispose()


def test_the_facade_and_the_server_compile_with_the_statistics(
        analysed: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """``ZQuery.run`` (and so the server) passes SQLite's statistics to the shape cache."""
    from zquery import compile_conditions
    from zquery.api import ZQuery

    monkeypatch.setattr(compile_conditions, "PAGE_EXISTS_MIN_ROWS", 100)

    zq = ZQuery(GRAPH)
    query = "q=vmNics.l3NetworkUuid=l3a&replyWithCount=true"
    with analysed.connect() as conn:
        reply = zq.run(conn, "VmInstance", query)
    assert reply["total"] == 200
    prepared = zq.prepare("VmInstance", query, dialect="sqlite",
                          stats=dialects.stats_for(analysed))
    assert prepared.compiled.shapes[0].startswith("q[0]: EXISTS semi-join")
    blind = zq.prepare("VmInstance", query, dialect="sqlite")
    assert blind.compiled.shapes[0].startswith("q[0]: IN semi-join")


def test_postgresql_skips_collate_when_the_default_is_code_point_order(
        postgresql_engine: sa.Engine) -> None:
    """A C/C.UTF-8 database already orders by code point: no COLLATE "C", so ORDER BY pk
    can use the primary-key index; a database of another collation keeps it."""
    from zquery.api import ZQuery

    with postgresql_engine.connect() as conn:
        collate = conn.exec_driver_sql(
            "SELECT datcollate FROM pg_database WHERE datname = current_database()").scalar()
    name = dialects.bytewise_name(postgresql_engine)
    assert (name == dialects.BYTEWISE_POSTGRESQL) == (str(collate).lower() in
                                                      {"c", "posix", "c.utf-8", "c.utf8"})
    zq = ZQuery(GRAPH)
    query = "q=name>vm&sort=name&limit=5"
    plain = zq.prepare("VmInstance", query, dialect="postgresql").compiled.rows
    bytewise = zq.prepare("VmInstance", query,
                          dialect=dialects.BYTEWISE_POSTGRESQL).compiled.rows
    dialect = postgresql_engine.dialect
    assert 'COLLATE "C"' in str(plain.compile(dialect=dialect))
    assert "COLLATE" not in str(bytewise.compile(dialect=dialect))


@pytest.mark.parametrize("dialect", sorted(SQL_DIALECTS))
def test_distinct_field_lists_keep_the_compile_memo_bounded(
        dialect: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``fields`` lists are the client's choice and key the per-graph memo: 60 distinct
    lists through a memo bounded at 8 keep it at 8 or fewer, and a list compiled again
    after the memo started over gives the same SQL as the first time."""
    from itertools import permutations

    from zquery import compile_support

    monkeypatch.setattr(compile_support, "MEMO_LIMIT", 8)
    tables = compile_support.graph_tables(GRAPH)
    lists = [",".join(names) for names in permutations(
        ["name", "state", "cpuNum", "zoneUuid", "hostUuid"], 3)]
    first = sql(compile_plan(planned(f"fields={lists[0]}&limit=3"), GRAPH,
                             dialect=dialect).rows, dialect)
    for fields in lists:
        compile_plan(planned(f"fields={fields}&limit=3"), GRAPH, dialect=dialect)
        assert len(tables._memo) <= 8
    again = sql(compile_plan(planned(f"fields={lists[0]}&limit=3"), GRAPH,
                             dialect=dialect).rows, dialect)
    assert again == first

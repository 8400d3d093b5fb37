"""Cross-database results: every request of the table, run through the whole pipeline
(parse → resolve → compile → execute) on SQLite, PostgreSQL and MariaDB, must give the
reply the independent evaluator (``estate_eval.py``) computes from the contract, and the
three databases must agree with each other.

Cases are ``(id, resource, params, options)``; params are ``name=value`` strings (no URL
encoding, so ``%`` and ``+`` stay literal); ``{zone0}``-style names are filled with uuids
of the estate. Options: ``account`` (scope; ``admin`` = the admin account), ``cycles``
(policy), ``error`` (the zquery error class expected instead of a reply), ``empty`` (the
case may legitimately select nothing or everything).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from estate import (
    ACCOUNTS,
    ADMIN,
    Expected,
    compare,
    drop_estate_engines,
    estate_engine,
    generate,
)
from estate_eval import Evaluator
from zstack_like import GRAPH

from zquery import errors
from zquery.compile import compile_plan
from zquery.execute import execute
from zquery.plan import CyclePolicy, Scope
from zquery.request import parse_request
from zquery.resolve import ResolveOptions, resolve

ESTATE = generate(seed=11, size=2)
EVALUATOR = Evaluator(ESTATE)
A, B = ACCOUNTS[0], ACCOUNTS[1]


def _refs() -> dict[str, str]:
    """Placeholders for uuids of the estate: ``zone0``, ``l3_1``, ``cluster0``…"""
    out: dict[str, str] = {}
    for name, table in (("zone", "ZoneVO"), ("cluster", "ClusterVO"), ("host", "HostVO"),
                        ("l2_", "L2NetworkVO"), ("l3_", "L3NetworkVO"), ("vm", "VmInstanceVO"),
                        ("vip", "VipVO")):
        for i, row in enumerate(ESTATE.rows(table)[:3]):
            out[f"{name}{i}"] = row["uuid"]
    return out


REFS = _refs()

# (id, resource, params, options)
CASES: list[tuple[str, str, tuple[str, ...], dict[str, Any]]] = [
    # -- strings: every operator, binary comparison, LIKE folding, escapes ---------------
    # "web" and "web " both exist: a PAD SPACE collation (MariaDB's utf8mb4_bin) would mix them.
    ("str-eq", "VmInstance", ("q=name=web",), {}),
    ("str-eq-trailing-space", "VmInstance", ("q=name=web ",), {}),
    ("str-ne", "VmInstance", ("q=name!=web",), {}),
    ("str-in", "VmInstance", ("q=name?=web,WEB,café",), {}),
    ("str-not-in", "VmInstance", ("q=name!?=web,WEB,Web",), {}),
    ("str-in-escaped-comma", "VmInstance", ("q=name?=x\\,y,web",), {}),
    ("str-like-prefix", "VmInstance", ("q=name~=WEB%",), {}),
    ("str-not-like", "VmInstance", ("q=name!~=web%",), {}),
    ("str-like-accent-fold", "VmInstance", ("q=name~=%É",), {}),
    ("str-like-cyrillic", "VmInstance", ("q=name~=ж%",), {}),
    ("str-like-greek", "VmInstance", ("q=name~=δ%",), {}),
    ("str-like-eszett", "VmInstance", ("q=name~=STRA%E",), {}),
    ("str-like-literal-percent", "VmInstance", ("q=name~=%\\%%",), {}),
    ("str-like-literal-underscore", "VmInstance", ("q=name~=db\\_01",), {}),
    ("str-like-wildcard-underscore", "VmInstance", ("q=name~=db_01",), {}),
    ("str-like-escaped-backslash", "VmInstance", ("q=name~=a\\\\b",), {}),
    ("str-like-lone-backslash", "VmInstance", ("q=name~=a\\b",), {}),
    ("str-gt-codepoint", "VmInstance", ("q=name>Web",), {}),
    ("str-le-codepoint", "VmInstance", ("q=name<=a_b",), {}),
    ("str-quote", "VmInstance", ("q=name=O'Brien",), {}),
    ("str-double-quote", "VmInstance", ('q=name=say "hi"',), {}),
    ("str-empty", "VmInstance", ("q=name=",), {}),
    ("str-leading-space", "VmInstance", ("q=name= lead",), {}),
    # -- null forms ------------------------------------------------------------------------
    ("null-is", "VmInstance", ("q=description is null",), {}),
    ("null-not", "VmInstance", ("q=description not null",), {}),
    ("null-eq-null", "VmInstance", ("q=hostUuid=null",), {}),
    ("null-ne-null", "VmInstance", ("q=hostUuid!=null",), {}),
    ("null-is-not", "VmInstance", ("q=platform is not null",), {}),
    ("null-like-all", "VmInstance", ("q=description~=%",), {}),
    # -- numbers, booleans, timestamps, enums --------------------------------------------
    ("int-eq", "VmInstance", ("q=cpuNum=4",), {}),
    ("int-gt", "VmInstance", ("q=cpuNum>2",), {}),
    ("int-le", "VmInstance", ("q=cpuNum<=2",), {}),
    ("int-in", "VmInstance", ("q=cpuNum?=1,16",), {}),
    ("int-not-in", "VmInstance", ("q=cpuNum!?=1,16",), {}),
    ("int-ne", "VmInstance", ("q=cpuNum!=4",), {}),
    ("long-ge", "VmInstance", ("q=memorySize>=2147483648",), {}),
    ("long-big", "Host", ("q=totalCpu>2147483647",), {}),
    ("double-gt", "Host", ("q=cpuUsage>50.5",), {}),
    ("double-lt", "Host", ("q=cpuUsage<25",), {}),
    ("bool-true", "L3Network", ("q=system=true",), {}),
    ("bool-ne-any-case", "L3Network", ("q=system!=TRUE",), {}),
    ("bool-null", "L3Network", ("q=system is null",), {}),
    ("bool-in", "L3Network", ("q=system?=true,false",), {}),
    ("time-gt-sdk", "VmInstance", ("q=createDate>2019-01-01 00:00:00",), {}),
    ("time-lt-iso-zone", "VmInstance", ("q=createDate<2018-01-01T08:00:00+08:00",), {}),
    ("time-eq-reply-form", "VmInstance", ("q=createDate=May 11, 2017 1:23:02 PM",), {}),
    ("time-ge-epoch-ms", "VmInstance", ("q=lastOpDate>=1514764800000",), {}),
    ("enum-in", "VmInstance", ("q=state?=Running,Stopped",), {}),
    ("enum-ne", "VmInstance", ("q=state!=Running",), {}),
    # -- paths: to-one, to-many, many-to-many, existential negatives --------------------
    ("one-hop", "VmInstance", ("q=zone.name~=%é",), {}),
    ("one-hop-null-test", "VmInstance", ("q=host.managementIp is null",), {}),
    ("two-one-hops", "VmInstance", ("q=cluster.zone.state=Enabled",), {}),
    ("many-eq", "VmInstance", ("q=vmNics.ip=192.168.1.2",), {}),
    ("many-ne-existential", "VmInstance", ("q=vmNics.ip!=192.168.0.1",), {}),
    ("many-is-null", "VmInstance", ("q=vmNics.ip is null",), {}),
    ("many-not-null", "VmInstance", ("q=vmNics.deviceId not null",), {}),
    ("many-not-like", "VmInstance", ("q=vmNics.mac!~=fa:16:3e:%",), {"empty": True}),
    ("many-then-one", "VmInstance", ("q=vmNics.l3Network.state=Enabled",), {}),
    ("three-hops", "VmInstance", ("q=vmNics.eip.vip.state=Enabled",), {}),
    ("two-independent-existentials", "VmInstance",
     ("q=vmNics.ip=192.168.1.5", "q=vmNics.deviceId=1"), {}),
    ("many-to-many", "Cluster", ("q=l2Network.physicalInterface=eth0",), {}),
    ("many-to-many-back", "L2Network", ("q=cluster.hypervisorType~=kvm",), {}),
    ("child-to-parent", "VmNic", ("q=vmInstance.state=Running",), {}),
    ("vip-eip-nic", "Vip", ("q=eip.vmNic.ip~=192.168.%",), {}),
    # -- key collapse and aliases ----------------------------------------------------------
    ("collapse-eq", "VmInstance", ("q=zone.uuid={zone0}",), {}),
    ("collapse-is-null", "VmInstance", ("q=zone.uuid is null",), {}),
    ("collapse-after-many", "VmInstance", ("q=vmNics.l3Network.uuid?={l3_0},{l3_1}",), {}),
    ("alias", "VmInstance", ("q=l3Network.state=Disabled",), {}),
    ("alias-collapse", "VmInstance", ("q=l3Network.uuid={l3_1}",), {}),
    # -- mapped fields ---------------------------------------------------------------------
    ("mapped-one", "Host", ("q=availableCpuCapacity>=4",), {}),
    ("mapped-one-null", "Host", ("q=availableCpuCapacity is null",), {}),
    ("mapped-many", "L2Network", ("q=attachedClusterUuids={cluster0}",), {}),
    ("mapped-many-ne", "L2Network", ("q=attachedClusterUuids!={cluster0}",), {}),
    # -- tags ------------------------------------------------------------------------------
    ("tag-eq", "VmInstance", ("q=__systemTag__=bootMode::Legacy",), {}),
    ("tag-ne", "VmInstance", ("q=__systemTag__!=bootMode::Legacy",), {}),
    ("tag-like", "VmInstance", ("q=__userTag__~=WEB%",), {}),
    ("tag-not-like", "VmInstance", ("q=__userTag__!~=web",), {}),
    ("tag-in-comma", "VmInstance", ("q=__systemTag__?=a\\,b,50%off",), {}),
    ("tag-not-in", "VmInstance", ("q=systemTag!?=a\\,b,ha::NeverStop",), {}),
    ("tag-is-null", "VmInstance", ("q=__userTag__ is null",), {}),
    ("tag-not-null", "VmInstance", ("q=userTag not null",), {}),
    ("tag-end-of-many", "VmInstance", ("q=vmNics.__systemTag__~=%a%",), {}),
    ("tag-end-of-one-neg", "VmInstance", ("q=zone.__userTag__!=prod",), {}),
    ("tag-end-of-one-null", "VmInstance", ("q=host.__systemTag__ is null",), {}),
    # -- cycles ----------------------------------------------------------------------------
    ("cycle-back-simplify", "VmInstance", ("q=vmNics.vmInstance.cpuNum>1",), {}),
    ("cycle-back-allow", "VmInstance", ("q=vmNics.vmInstance.cpuNum>1",), {"cycles": "allow"}),
    ("cycle-back-reject", "VmInstance", ("q=vmNics.vmInstance.cpuNum>1",),
     {"cycles": "reject", "error": errors.CycleRejected}),
    ("cycle-meaningful", "VmInstance", ("q=zone.vmInstance.state=Stopped",), {}),
    ("cycle-meaningful-allow", "VmInstance", ("q=zone.vmInstance.state=Stopped",),
     {"cycles": "allow"}),
    ("cycle-long", "VmNic", ("q=vmInstance.vmNics.l3Network.vmNic.ip=192.168.1.2",), {}),
    # -- sort, paging, fields --------------------------------------------------------------
    ("sort-desc-paged", "VmInstance", ("sort=-cpuNum", "limit=5"), {}),
    ("sort-asc-start", "VmInstance", ("sort=name", "start=3", "limit=4"), {}),
    ("sort-unpaged", "VmInstance", ("sort=createDate",), {}),
    ("sort-to-one", "VmInstance", ("sort=zone.name", "limit=10"), {}),
    ("sort-two-keys", "VmInstance", ("sort=-memorySize,name", "start=2", "limit=7"), {}),
    ("sort-by-direction", "Host", ("sortBy=cpuUsage", "sortDirection=desc", "limit=6"), {}),
    ("sort-bool-nulls", "L3Network", ("sort=system", "start=1"), {}),
    ("page-pk-order", "VmNic", ("limit=5", "start=5"), {}),
    ("page-past-end", "VmInstance", ("start=1000",), {"empty": True}),
    ("limit-zero", "VmInstance", ("limit=0", "replyWithCount=true"), {"empty": True}),
    ("fields", "VmInstance", ("fields=uuid,name", "sort=uuid", "q=cpuNum>1"), {}),
    ("fields-repeated-mapped", "Host", ("fields=name", "fields=availableCpuCapacity"), {}),
    ("fields-mapped-many", "L2Network", ("fields=uuid,attachedClusterUuids",), {}),
    # -- count, replyWithCount, groupBy ----------------------------------------------------
    ("count", "VmInstance", ("q=cpuNum>2", "count=true"), {}),
    ("reply-with-count", "VmInstance", ("q=state!=Running", "replyWithCount=true", "limit=2",
                                        "sort=uuid"), {}),
    ("group-one", "VmInstance", ("groupBy=state",), {}),
    ("group-two-sorted", "VmInstance", ("groupBy=state,cpuNum", "sort=-count", "limit=3"), {}),
    ("group-count", "VmInstance", ("groupBy=hypervisorType", "count=true"), {}),
    ("group-with-count", "Host", ("groupBy=state", "replyWithCount=true", "q=cpuUsage>10"), {}),
    ("group-sort-field", "VmNic", ("groupBy=deviceId", "sort=deviceId"), {}),
    # -- scope -----------------------------------------------------------------------------
    ("scope-root", "VmInstance", ("sort=uuid",), {"account": A}),
    ("scope-other-account", "VmInstance", ("sort=uuid", "replyWithCount=true"),
     {"account": B}),
    ("scope-path", "VmInstance", ("q=vmNics.l3Network.name~=%",), {"account": A}),
    ("scope-path-tag", "Eip", ("q=vip.__systemTag__ is null",), {"account": A}),
    # B sees two EIPs whose VIPs it cannot see: the path must not reach them (admin would).
    ("scope-path-hides", "Eip", ("q=vip.name~=%",), {"account": B, "empty": True}),
    ("scope-nonowned-root", "VmNic", ("q=l3Network.state=Enabled",), {"account": A}),
    ("scope-count", "L3Network", ("count=true",), {"account": A}),
    ("scope-admin", "VmInstance", ("sort=uuid", "limit=9"), {"account": "admin"}),
]

IDS = [c[0] for c in CASES]
assert len(IDS) == len(set(IDS)), "case ids must be unique"


@pytest.fixture(scope="session")
def _drop_estates() -> Iterator[None]:
    yield
    drop_estate_engines()


@pytest.fixture
def loaded(any_engine: sa.Engine, _drop_estates: None) -> sa.Engine:
    return estate_engine(any_engine, ESTATE)


def _params(params: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = []
    for text in params:
        name, value = text.split("=", 1)
        pairs.append((name, value.format(**REFS)))
    return pairs


def _account(options: dict[str, Any]) -> str | None:
    account: str | None = options.get("account")
    return ADMIN if account == "admin" else account


def run_zquery(engine: sa.Engine, resource: str, params: tuple[str, ...],
               options: dict[str, Any]) -> dict[str, Any]:
    """The whole pipeline, ISO dates, on one engine; the admin account is unscoped."""
    account = _account(options)
    scope = Scope(account) if account is not None and account != ADMIN else None
    resolve_options = ResolveOptions(cycle_policy=CyclePolicy(options.get("cycles", "simplify")),
                                     scope=scope)
    plan = resolve(parse_request(_params(params)), GRAPH, resource, options=resolve_options)
    compiled = compile_plan(plan, GRAPH, dialect=engine.dialect.name)
    with engine.connect() as conn:
        return execute(conn, plan, compiled, GRAPH, iso_dates=True)


def expected(resource: str, params: tuple[str, ...], options: dict[str, Any]) -> Expected:
    return EVALUATOR.run(parse_request(_params(params)), resource, account=_account(options))


@pytest.mark.parametrize(("case_id", "resource", "params", "options"), CASES, ids=IDS)
def test_result_equals_evaluator(loaded: sa.Engine, case_id: str, resource: str,
                                 params: tuple[str, ...], options: dict[str, Any]) -> None:
    if "error" in options:
        with pytest.raises(options["error"]):
            run_zquery(loaded, resource, params, options)
        return
    got = run_zquery(loaded, resource, params, options)
    want = expected(resource, params, options)
    problem = compare(got, want)
    assert problem is None, f"{case_id} on {loaded.dialect.name}: {problem}"


@pytest.mark.parametrize(("case_id", "resource", "params", "options"), CASES, ids=IDS)
def test_case_is_not_vacuous(case_id: str, resource: str, params: tuple[str, ...],
                             options: dict[str, Any]) -> None:
    """A filtering case must select some rows but not all, or it cannot catch a bug."""
    if "error" in options or options.get("empty"):
        return
    request = parse_request(_params(params))
    root_rows = EVALUATOR.select(parse_request([]), resource, _account(options))
    selected = EVALUATOR.select(request, resource, _account(options))
    assert selected, f"{case_id} selects nothing"
    if request.conditions:
        assert len(selected) < len(root_rows), f"{case_id} selects every row"
    if request.start or request.limit_given:
        assert len(selected) > request.start, f"{case_id} pages past the end"


def _normalised(reply: dict[str, Any], runs: tuple[int, ...]) -> list[Any]:
    """The reply with the order inside each free run made canonical."""
    rows = reply.get("inventories", [])
    out: list[Any] = [sorted(reply), reply.get("total"), len(rows)]
    at = 0
    for length in (*runs, len(rows)):  # the last slice catches rows past the expected ones
        out.append(sorted(json.dumps(r, sort_keys=True) for r in rows[at:at + length]))
        at += length
    return out


@pytest.mark.parametrize(("case_id", "resource", "params", "options"),
                         [c for c in CASES if "error" not in c[3]],
                         ids=[c[0] for c in CASES if "error" not in c[3]])
def test_identical_on_every_database(
        sqlite_engine: sa.Engine, postgresql_engine: sa.Engine, mysql_engine: sa.Engine,
        _drop_estates: None, case_id: str, resource: str, params: tuple[str, ...],
        options: dict[str, Any]) -> None:
    engines = [estate_engine(e, ESTATE) for e in (sqlite_engine, postgresql_engine, mysql_engine)]
    runs = expected(resource, params, options).runs
    replies = {engine.dialect.name: _normalised(
        run_zquery(engine, resource, params, options), runs) for engine in engines}
    assert replies["sqlite"] == replies["postgresql"] == replies["mysql"], case_id

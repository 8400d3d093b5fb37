"""Every limit of the contract (section 7) is enforced with its own error, at its boundary,
with the defaults and with a custom configuration, in the library and over HTTP.

A request exactly at a limit passes; one step past it gets 400 with the limit's own error
class and code, the parameter it came from, a position inside that value, and the limit's
name, maximum and actual size in the error JSON. A flood far past a limit is refused fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from zstack_like import GRAPH

from zquery.api import ZQuery, ZQueryConfig
from zquery.errors import (
    LimitError,
    LimitTooLarge,
    TooDeep,
    TooLong,
    TooManyConditions,
    TooManyListElements,
)
from zquery.limits import Limits
from zquery.plan import CyclePolicy
from zquery.server import QueryService

Query = list[tuple[str, str]]
# VmInstance → Zone → Cluster → Host → VmInstance …: a cycle that means something, so it is
# kept (not simplified) and every hop counts toward the depth limit.
LOOP = ("zone", "cluster", "host", "vmInstance")


def deep(hops: int) -> str:
    """A condition walking exactly *hops* relations from VmInstance, ending on a name."""
    return ".".join([LOOP[i % 4] for i in range(hops)] + ["name"]) + "=x"


def in_list(elements: int) -> str:
    return "name?=" + ",".join(f"v{i}" for i in range(elements))


def sized(length: int) -> str:
    return "name=" + "a" * (length - len("name="))


@dataclass(frozen=True)
class LimitCase:
    name: str
    limits: Limits
    at_limit: Query
    past_limit: Query
    error: type[LimitError]
    code: str
    param: str
    maximum: int


def cases(limits: Limits, tag: str) -> list[Any]:
    depth, items, length = limits.max_depth, limits.max_list_elements, limits.max_value_length
    conditions = limits.max_conditions
    rows = [
        LimitCase("conditions", limits, [("q", "name=x")] * conditions,
                  [("q", "name=x")] * (conditions + 1), TooManyConditions,
                  "limit.conditions", f"q[{conditions}]", conditions),
        LimitCase("depth", limits, [("q", deep(depth))], [("q", deep(depth + 1))], TooDeep,
                  "limit.depth", "q[0]", depth),
        LimitCase("list elements", limits, [("q", in_list(items))],
                  [("q", in_list(items + 1))], TooManyListElements, "limit.list_elements",
                  "q[0]", items),
        LimitCase("condition length", limits, [("q", sized(length))],
                  [("q", sized(length + 1))], TooLong, "limit.value_length", "q[0]", length),
        LimitCase("sort length", limits, [("sort", "a" * length)],
                  [("sort", "a" * (length + 1))], TooLong, "limit.value_length", "sort",
                  length),
    ]
    if limits.max_limit is not None:
        rows.append(LimitCase("max limit", limits, [("limit", str(limits.max_limit))],
                              [("limit", str(limits.max_limit + 1))], LimitTooLarge,
                              "limit.max_limit", "limit", limits.max_limit))
    return [pytest.param(row, id=f"{tag}-{row.name}") for row in rows]


DEFAULTS = Limits(max_limit=1000)
SMALL = Limits(max_conditions=3, max_depth=2, max_list_elements=5, max_value_length=200,
               max_limit=10)
CASES = cases(DEFAULTS, "default") + cases(SMALL, "small")
LIMIT_NAMES = {"limit.conditions": "max_conditions", "limit.depth": "max_depth",
               "limit.list_elements": "max_list_elements",
               "limit.value_length": "max_value_length", "limit.max_limit": "max_limit"}


def zquery(limits: Limits) -> ZQuery:
    return ZQuery(GRAPH, ZQueryConfig(limits=limits, cycle_policy=CyclePolicy.SIMPLIFY))


def test_contract_defaults() -> None:
    limits = Limits()
    assert (limits.max_conditions, limits.max_depth, limits.max_list_elements,
            limits.max_value_length, limits.max_limit) == (100, 8, 10_000, 64 * 1024, None)


@pytest.mark.parametrize("case", CASES)
def test_at_limit_passes(case: LimitCase) -> None:
    """The sort case reaches the resolver: its 'aaa…' is not a field, but not past a limit."""
    try:
        zquery(case.limits).plan("VmInstance", case.at_limit)
    except LimitError as error:
        pytest.fail(f"refused at the limit: {error.message}")
    except Exception as error:  # a non-limit refusal (unknown sort field) is fine here
        assert case.name == "sort length", error


@pytest.mark.parametrize("case", CASES)
def test_past_limit_refused_with_its_own_error(case: LimitCase) -> None:
    with pytest.raises(LimitError) as caught:
        zquery(case.limits).plan("VmInstance", case.past_limit)
    error = caught.value
    assert type(error) is case.error and error.code == case.code
    assert error.http_status == 400 and error.param == case.param
    assert error.value is not None and error.start is not None
    assert 0 <= error.start <= (error.end or error.start) <= len(error.value)
    detail = error.to_dict()["error"]["opaque"]["zquery"]
    assert detail["max"] == case.maximum and detail["actual"] > case.maximum
    assert detail["limit"] == LIMIT_NAMES[case.code] and str(case.maximum) in error.message
    assert error.hint


@pytest.fixture(scope="module")
def empty_db() -> sa.Engine:
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool,
                              connect_args={"check_same_thread": False})
    ZQuery(GRAPH).create_tables(engine)
    return engine


@pytest.mark.parametrize("case", CASES)
def test_limits_over_http(case: LimitCase, empty_db: sa.Engine) -> None:
    service = QueryService(zquery(case.limits), empty_db)
    query = "&".join(f"{name}={value}" for name, value in case.past_limit)
    reply = service.handle("GET", "/zstack/v1/vm-instances", query.replace("+", "%2B"))
    assert reply.status == 400
    body = reply.json()["error"]
    assert body["code"] == "SYS.1007" and body["opaque"]["zquery"]["code"] == case.code
    if case.name != "sort length":
        ok = service.handle("GET", "/zstack/v1/vm-instances",
                            "&".join(f"{n}={v}" for n, v in case.at_limit) + "&count=true")
        assert ok.status == 200, ok.body[:300]


FLOODS = [
    ("200,000 conditions", "&".join(["q=name=x"] * 200_000), TooManyConditions),
    ("a 4 MB condition", "q=name=" + "a" * 4_000_000, TooLong),
    ("a 60,000-element list", "q=name?=" + "," * 60_000, TooManyListElements),
    ("an 8,000-hop path", "q=" + "zone.cluster.host.vmInstance." * 2_000 + "name=x", TooDeep),
]


@pytest.mark.parametrize(("query", "error"), [pytest.param(q, e, id=name)
                                              for name, q, e in FLOODS])
def test_floods_are_refused_fast(query: str, error: type[Exception]) -> None:
    """Far past a limit, the refusal costs about as much as reading the request."""
    started = time.perf_counter()
    with pytest.raises(error):
        ZQuery(GRAPH).plan("VmInstance", query)
    assert time.perf_counter() - started < 5.0


def test_hop_back_pairs_are_simplified_fast() -> None:
    """5,000 hops straight back onto the same row are simplified away (contract section 3:
    they do not count toward the depth), without recursion trouble or a slow resolve."""
    started = time.perf_counter()
    plan = ZQuery(GRAPH).plan("VmInstance", "q=" + "vmNics.vmInstance." * 3_500 + "name=x")
    assert time.perf_counter() - started < 5.0
    assert plan.conditions[0].hops == () and plan.warnings

"""The shape cache (``zquery.shapes``) and the memoised condition parse (``zquery.parse``).

* every request of the cross-database results table, run through ``ZQuery.run`` with the
  cache (first on a shape: a miss; then again and across same-shaped cases: hits), gives the
  uncached pipeline's reply on SQLite, PostgreSQL and MariaDB, or its error;
* a hit binds new values only: the statement objects are reused and SQLAlchemy's compiled
  cache answers the second execution;
* the prefix memo of the condition parser gives exactly Lark's result (or error) on arbitrary
  texts (Hypothesis).
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from estate import ADMIN, drop_estate_engines, estate_engine
from hypothesis import given, settings
from hypothesis import strategies as st
from lark.exceptions import LarkError
from test_results import (
    CASES,
    ESTATE,
    _account,
    _normalised,
    _params,
    expected,
    run_zquery,
)
from zstack_like import GRAPH

from zquery import parse as parse_module
from zquery.api import ZQuery, ZQueryConfig
from zquery.ast import Operator
from zquery.dialects import traits_for
from zquery.errors import ZQueryError
from zquery.operators import OPERATORS, bind_value, predicate
from zquery.plan import CyclePolicy
from zquery.request import parse_request
from zquery.shapes import ShapeCache, shape_key

_APIS: dict[tuple[str, str], ZQuery] = {}


def _api(engine: sa.Engine, cycles: str) -> ZQuery:
    """One ZQuery (one shape cache) per database and cycle policy, shared by every case."""
    key = (engine.url.render_as_string(), cycles)
    if key not in _APIS:
        _APIS[key] = ZQuery(GRAPH, ZQueryConfig(iso_dates=True,
                                                cycle_policy=CyclePolicy(cycles)))
    return _APIS[key]


@pytest.fixture(scope="module")
def _drop_estates() -> Any:
    yield
    drop_estate_engines()


def _cached_run(engine: sa.Engine, resource: str, params: tuple[str, ...],
                options: dict[str, Any]) -> dict[str, Any]:
    account = _account(options)
    zq = _api(engine, options.get("cycles", "simplify"))
    with engine.connect() as conn:
        return zq.run(conn, resource, _params(params),
                      account=None if account == ADMIN else account)


@pytest.mark.parametrize(("case_id", "resource", "params", "options"), CASES,
                         ids=[c[0] for c in CASES])
def test_cached_equals_uncached(any_engine: sa.Engine, _drop_estates: None, case_id: str,
                                resource: str, params: tuple[str, ...],
                                options: dict[str, Any]) -> None:
    engine = estate_engine(any_engine, ESTATE)
    if "error" in options:
        for _ in range(2):
            with pytest.raises(options["error"]):
                _cached_run(engine, resource, params, options)
        return
    runs = expected(resource, params, options).runs
    want = _normalised(run_zquery(engine, resource, params, options), runs)
    zq = _api(engine, options.get("cycles", "simplify"))
    for attempt in range(2):
        got = _normalised(_cached_run(engine, resource, params, options), runs)
        assert got == want, f"{case_id} attempt {attempt} on {engine.dialect.name}"
    size = len(zq.shapes)
    _cached_run(engine, resource, params, options)
    assert len(zq.shapes) == size, "a repeated shape must not add an entry"


# Same shape, other values: each pair's second request must hit and still be right.
SAME_SHAPE = [
    ("like", "VmInstance", "q=name~=web%&limit=3&start=1&sort=-name",
     "q=name~=d%&limit=2&start=2&sort=-name"),
    ("list", "VmInstance", "q=name?=web,WEB", "q=name?=db01,x\\,y,web,café"),
    ("tag", "VmInstance", "q=__userTag__~=we%", "q=__userTag__~=pr%"),
    ("two-hops", "VmInstance", "q=vmNics.l3Network.name!=x&replyWithCount=true",
     "q=vmNics.l3Network.name!=y&replyWithCount=true"),
    ("group", "VmInstance", "groupBy=state&sort=-count&q=cpuNum>1",
     "groupBy=state&sort=-count&q=cpuNum>3"),
    ("count", "VmInstance", "q=memorySize>=1&count=true", "q=memorySize>=9999999&count=true"),
]


@pytest.mark.parametrize(("case_id", "resource", "first", "second"), SAME_SHAPE,
                         ids=[c[0] for c in SAME_SHAPE])
@pytest.mark.parametrize("account", [None, "a1000000000000000000000000000001"])
def test_hit_with_new_values(any_engine: sa.Engine, _drop_estates: None, case_id: str,
                             resource: str, first: str, second: str,
                             account: str | None) -> None:
    engine = estate_engine(any_engine, ESTATE)
    zq = ZQuery(GRAPH, ZQueryConfig(iso_dates=True))
    with engine.connect() as conn:
        zq.run(conn, resource, first, account=account)
        size = len(zq.shapes)
        got = zq.run(conn, resource, second, account=account)
        assert len(zq.shapes) == size == 1
        plan = zq.plan(resource, second, account=account)
        from zquery.compile import compile_plan
        from zquery.execute import execute
        want = execute(conn, plan, compile_plan(plan, GRAPH, dialect=engine.dialect.name),
                       GRAPH, iso_dates=True)
    assert sorted(map(repr, got.get("inventories", []))) == \
        sorted(map(repr, want.get("inventories", [])))
    assert got.get("total") == want.get("total")


def test_second_execution_hits_sqlalchemy_compiled_cache(sqlite_engine: sa.Engine,
                                                         _drop_estates: None) -> None:
    engine = estate_engine(sqlite_engine, ESTATE)
    zq = ZQuery(GRAPH)
    compiled_cache: dict[Any, Any] = {}
    with engine.connect() as conn:
        conn = conn.execution_options(compiled_cache=compiled_cache)
        first = zq.run(conn, "VmInstance", "q=cpuNum>0&q=name!?=x,y&limit=5&start=1")
        entries = len(compiled_cache)
        second = zq.run(conn, "VmInstance", "q=cpuNum>1&q=name!?=a,b,c,d&limit=9&start=2")
        assert first["inventories"] and second["inventories"]  # nested loads ran both times
        assert entries >= 1 and len(compiled_cache) == entries


@pytest.mark.parametrize(("first", "second", "same"), [
    ("q=name=a", "q=name=b", True),
    ("q=name=a", "q=name!=a", False),
    ("q=name~=a%", "q=name~=%a", False),  # a leading wildcard may change SQLite's shape
    ("q=name=a&start=1", "q=name=a&start=2", True),
    ("q=name=a&start=1", "q=name=a&start=0", False),
    ("q=name=a&limit=1", "q=name=a", False),
    ("q=name?=a", "q=name?=a,b,c", True),
    ("sort=name", "sort=-name", False),
    ("fields=name", "fields=uuid", False),
])
def test_shape_key(first: str, second: str, same: bool) -> None:
    def key(text: str) -> object:
        return shape_key(parse_request(text), "VmInstance", "sqlite", False)
    assert (key(first) == key(second)) is same


@pytest.mark.parametrize(("first", "second"), [
    ("q=name=web", "q=name=a\x00b"),
    ("q=name~=web", "q=name~=a\x00%"),
    ("q=name?=web", "q=name?=x,a\x00b"),
])
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_nul_values_bypass_the_cache(first: str, second: str, dialect: str) -> None:
    cache = ShapeCache(GRAPH)
    cache.prepare(parse_request(first), "VmInstance", dialect)
    prepared = cache.prepare(parse_request(second), "VmInstance", dialect)
    uncached = cache.prepare(parse_request(second), "VmInstance", dialect)
    nul_rewritten = dialect == "postgresql" or "~=" in first
    assert (prepared.compiled.params is None) is nul_rewritten
    assert uncached.compiled.params == prepared.compiled.params


def test_bad_value_on_a_hit_fails_like_uncached() -> None:
    cache = ShapeCache(GRAPH)
    cache.prepare(parse_request("q=cpuNum=1"), "VmInstance", "sqlite")
    with pytest.raises(ZQueryError) as hit:
        cache.prepare(parse_request("q=cpuNum=x1"), "VmInstance", "sqlite")
    with pytest.raises(ZQueryError) as cold:
        ShapeCache(GRAPH).prepare(parse_request("q=cpuNum=x1"), "VmInstance", "sqlite")
    assert hit.value.to_dict() == cold.value.to_dict()


# -- the prefix memo of the condition parser ------------------------------------------------

_PIECES = st.sampled_from(["a", "name", "is", "not", "null", "_x9", ".", "=", "!", "?", "~",
                           ">", "<", " ", "\t", ",", "\\", "%", "é", "\x00", "\n", "1"])
_TEXTS = st.lists(_PIECES, max_size=12).map("".join)


def _lark(text: str) -> object:
    try:
        return parse_module._parse_text(text)
    except LarkError as exc:
        return type(exc)


def _memoised(text: str) -> object:
    try:
        return parse_module._parse_prefixed(text)
    except LarkError as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(first=_TEXTS, value=_TEXTS, other=_TEXTS)
def test_prefix_memo_equals_lark(first: str, value: str, other: str) -> None:
    _memoised(first)  # may create a memo entry from a real Lark parse
    match = parse_module._PREFIX.match(first)
    texts = [first, other]
    if match is not None:
        texts.append(first[:match.end()] + value)  # same prefix, another value
    for text in texts:
        assert _memoised(text) == _lark(text), repr(text)


@settings(max_examples=300, deadline=None)
@given(value=st.lists(st.sampled_from(["a", ",", "\\", "\\,", "\\\\", "é", " ", "x1"]),
                      max_size=16).map("".join))
def test_split_list_items_equals_split_list_value(value: str) -> None:
    assert parse_module.split_list_items(value) == parse_module.split_list_value(value)[0]


@pytest.mark.parametrize("op", [op for op in Operator if op.symbol not in ("is null",
                                                                            "not null")])
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_named_predicate_binds_what_bind_value_says(op: Operator, dialect: str) -> None:
    value: Any = ("a%", "b") if op.takes_list else "a!%_"
    column = sa.column("name", sa.String())
    named = predicate(column, op, value, traits_for(dialect), name="zq_7")
    binds = named.compile().binds
    assert binds["zq_7"].value == bind_value(op, value)
    assert binds["zq_7"].expanding is op.takes_list
    # A negative tag test binds through its positive form: both must bind alike.
    assert OPERATORS[op].bind is OPERATORS[op.positive].bind

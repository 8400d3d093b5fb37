"""Property (c): on generated estates and generated requests, zquery's reply equals the
independent evaluator's, on SQLite, PostgreSQL and MariaDB (``any_engine``).

Requests: a root resource, up to three conditions whose paths walk up to three hops
(relations and aliases, to-one and to-many, cycles included) and end on a field, a mapped
field or a tag; every operator the field's type takes, every null form; values drawn from
the estate's own values (so conditions select something) and written in every accepted
form (timestamps four ways, LIKE patterns cut from real strings with escapes and case
changes, ``?=`` lists with escaped commas); sort keys through to-one hops with paging;
count / replyWithCount; an account scope. Each estate is loaded once per database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from estate import ACCOUNTS, Estate, compare, drop_estate_engines, estate_engine, generate
from estate_eval import TAG_NAMES, Evaluator
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from zstack_like import GRAPH

from zquery.compile import compile_plan
from zquery.execute import execute
from zquery.plan import CyclePolicy, Scope
from zquery.request import parse_request
from zquery.resolve import ResolveOptions, resolve
from zquery.schema.graph import Field, FieldType, Resource

#: (seed, size) of the estates; each is loaded once per database.
ESTATES = [(101, 1), (202, 1), (303, 2)]
EXAMPLES = 45
ROOTS = ("VmInstance", "VmInstance", "VmNic", "Host", "L2Network", "L3Network", "Eip", "Vip",
         "Cluster", "Zone")
NULL_FORMS = (" is null", " not null", "=null", "!=null", " is not null")
BINARY = ("=", "!=", ">", "<", ">=", "<=", "?=", "!?=", "~=", "!~=")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@pytest.fixture(scope="session")
def _drop_estates() -> Iterator[None]:
    yield
    drop_estate_engines()


def _operators(field: Field | None) -> tuple[str, ...]:
    """The binary operators a field (None: a tag) takes."""
    if field is None:
        return ("=", "!=", "?=", "!?=", "~=", "!~=")
    if field.type is FieldType.STRING:
        return BINARY
    if field.type is FieldType.BOOLEAN:
        return ("=", "!=", "?=", "!?=")
    return tuple(o for o in BINARY if "~" not in o)


def _values(estate: Estate, res: Resource, field: Field | None, tag: str | None) -> list[Any]:
    """The estate's own non-null values of a field, a mapped field or a tag kind."""
    if tag is not None:
        table = "SystemTagVO" if tag == "system" else "UserTagVO"
        return sorted({t["tag"] for t in estate.rows(table)})
    assert field is not None
    if field.mapped is not None:
        rows, column = estate.rows(field.mapped.table), field.mapped.value_column
    else:
        rows, column = estate.rows(res.table), field.column
    return sorted({r[column] for r in rows if r.get(column) is not None}, key=repr)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _list_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,")


def _timestamp_text(draw: st.DrawFn, value: datetime) -> str:
    value += timedelta(seconds=draw(st.sampled_from((0, 0, -1, 1))))
    form = draw(st.sampled_from(("sdk", "iso", "epoch", "java")))
    if form == "sdk":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if form == "iso":
        return (value + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    if form == "epoch":
        return str(int((value - datetime(1970, 1, 1)).total_seconds() * 1000))
    half = "AM" if value.hour < 12 else "PM"
    return (f"{_MONTHS[value.month - 1]} {value.day}, {value.year} {value.hour % 12 or 12}:"
            f"{value.minute:02d}:{value.second:02d} {half}")


def _scalar_text(draw: st.DrawFn, field: Field | None, value: Any) -> str:
    if field is None or field.type is FieldType.STRING:
        return str(value)
    if field.type is FieldType.BOOLEAN:
        return draw(st.sampled_from(("true", "TRUE", "True"))) if value else "false"
    if field.type is FieldType.TIMESTAMP:
        return _timestamp_text(draw, value)
    if field.type.is_integer:
        return str(int(value) + draw(st.sampled_from((0, 0, -1, 1))))
    return repr(float(value))


def _like_pattern(draw: st.DrawFn, text: str) -> str:
    cut = draw(st.integers(0, len(text)))
    shape = draw(st.sampled_from(("exact", "prefix", "suffix", "inner", "one")))
    if shape == "prefix":
        pattern = _like_escape(text[:cut]) + "%"
    elif shape == "suffix":
        pattern = "%" + _like_escape(text[cut:])
    elif shape == "inner":
        pattern = "%" + _like_escape(text[cut:cut + 2]) + "%"
    elif shape == "one" and text:
        at = min(cut, len(text) - 1)
        pattern = _like_escape(text[:at]) + "_" + _like_escape(text[at + 1:])
    else:
        pattern = _like_escape(text)
    case = draw(st.sampled_from(("same", "upper", "lower")))
    return pattern.upper() if case == "upper" else pattern.lower() if case == "lower" else pattern


@st.composite
def conditions(draw: st.DrawFn, estate: Estate, root: Resource) -> str:
    res, segments = root, []
    for _ in range(draw(st.integers(0, 3))):
        options = [*res.relations, *res.aliases]
        if not options:
            break
        name = draw(st.sampled_from(sorted(options)))
        segments.append(name)
        path = res.aliases[name].path if name in res.aliases else (name,)
        for step in path:
            res = GRAPH.resources[res.relations[step].target]
    tag = draw(st.sampled_from((None,) * 8 + tuple(TAG_NAMES)))
    field = None if tag else res.fields[draw(st.sampled_from(sorted(res.fields)))]
    segments.append(tag or field.name)  # type: ignore[union-attr]
    path = ".".join(segments)
    if draw(st.integers(0, 5)) == 0:
        return path + draw(st.sampled_from(NULL_FORMS))
    op = draw(st.sampled_from(_operators(field)))
    pool = _values(estate, res, field, TAG_NAMES.get(tag) if tag else None)
    if field is not None and field.choices:
        pool = list(field.choices)
    if not pool:
        return path + " not null"
    picked = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    if op.endswith("?="):
        return path + op + ",".join(_list_escape(_scalar_text(draw, field, v)) for v in picked)
    if op.endswith("~="):
        return path + op + _like_pattern(draw, str(picked[0]))
    return path + op + _scalar_text(draw, field, picked[0])


def _sort_keys(root: Resource) -> list[str]:
    keys = [f.name for f in root.fields.values() if f.mapped is None or not f.mapped.many]
    for rel in root.relations.values():
        if not rel.to_many:
            target = GRAPH.resources[rel.target]
            keys += [f"{rel.name}.{f.name}" for f in target.fields.values() if f.mapped is None]
    return sorted(keys)


@st.composite
def requests(draw: st.DrawFn, estate: Estate) -> tuple[str, list[tuple[str, str]], Any]:
    root = GRAPH.resource(draw(st.sampled_from(ROOTS)))
    count = draw(st.sampled_from((0, 1, 1, 1, 2, 2, 3)))
    params = [("q", draw(conditions(estate, root))) for _ in range(count)]
    keys = draw(st.lists(st.sampled_from(_sort_keys(root)), max_size=2, unique=True))
    if keys:
        params.append(("sort", ",".join(draw(st.sampled_from(("", "-", "+"))) + k
                                        for k in keys)))
    if draw(st.booleans()):
        params.append(("limit", str(draw(st.integers(0, 8)))))
    if draw(st.booleans()):
        params.append(("start", str(draw(st.integers(0, 6)))))
    flag = draw(st.sampled_from((None, None, "count", "replyWithCount")))
    if flag:
        params.append((flag, "true"))
    account = draw(st.sampled_from((None, None, *ACCOUNTS)))
    policy = draw(st.sampled_from((CyclePolicy.SIMPLIFY, CyclePolicy.ALLOW)))
    return root.name, params, (account, policy)


@pytest.mark.parametrize(("seed", "size"), ESTATES)
def test_zquery_equals_evaluator(any_engine: sa.Engine, _drop_estates: None, seed: int,
                                 size: int) -> None:
    estate = generate(seed, size)
    engine = estate_engine(any_engine, estate)
    evaluator = Evaluator(estate)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(requests(estate))
    def check(generated: tuple[str, list[tuple[str, str]], Any]) -> None:
        resource, params, (account, policy) = generated
        note(f"{engine.dialect.name} estate({seed}, {size}) {resource} {params} "
             f"account={account} cycles={policy.value}")
        request = parse_request(params)
        options = ResolveOptions(cycle_policy=policy,
                                 scope=Scope(account) if account else None)
        plan = resolve(request, GRAPH, resource, options=options)
        compiled = compile_plan(plan, GRAPH, dialect=engine.dialect.name)
        with engine.connect() as conn:
            got = execute(conn, plan, compiled, GRAPH, iso_dates=True)
        problem = compare(got, evaluator.run(request, resource, account=account))
        assert problem is None, problem

    check()

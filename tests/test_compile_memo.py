"""The compile path's shared pieces and caches never carry a request's value.

The compiler builds the parts of a statement that depend only on the request's shape
(joins, the inner ``SELECT`` of a semi-join and its correlation, tag-type tests) once per
graph, and the request parser caches ``sort``/``fields``/``groupBy`` parses. These tests
compile one shape with two different values, one after the other, so the second compile
takes every shared piece from the first: both must render the same SQL, and each must
bind its own value and never the other's.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql, sqlite
from zstack_like import GRAPH

from zquery.compile import compile_plan
from zquery.errors import BadParameter, TooManyConditions
from zquery.limits import Limits
from zquery.plan import Scope
from zquery.request import parse_request
from zquery.resolve import ResolveOptions, resolve

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect(),
            "mysql": mysql.dialect()}

#: Shapes whose SQL takes shared pieces: to-many and to-one hops, two hops, a guard left by
#: a simplified cycle, positive and negative tags, a LIKE, two conditions on one path, a
#: sorted page and a grouped one (their ORDER BY and grouping are shared).
#: ``{}`` is where the value goes.
SHAPES = [
    "q=vmNics.ip={}",
    "q=vmNics.ip!={}",
    "q=vmNics.l3Network.name={}",
    "q=zone.name={}",
    "q=vmNics.vmInstance.name={}",
    "q=__systemTag__={}",
    "q=__systemTag__!={}",
    "q=vmNics.ip~={}%25",
    "q=vmNics.ip={}&q=vmNics.l3Network.name={}&limit=5&sort=-name",
    "q=name={}&sort=-createDate,name&limit=20&start=40",
    "q=name~={}%25&groupBy=state&sort=-count&limit=3",
]

values = st.text(alphabet="abcdefghij0123456789-", min_size=1, max_size=12)


def bound_values(stmt: Any, dialect: str) -> list[Any]:
    compiled = stmt.compile(dialect=DIALECTS[dialect])
    return [value for value in compiled.params.values() if isinstance(value, str)]


def compiled_sql(query: str, dialect: str, scope: str | None) -> tuple[str, list[Any]]:
    options = ResolveOptions(scope=Scope(scope) if scope else None)
    plan = resolve(parse_request(query), GRAPH, "VmInstance", options=options)
    rows = compile_plan(plan, GRAPH, dialect=dialect).rows
    assert rows is not None
    return str(rows.compile(dialect=DIALECTS[dialect])), bound_values(rows, dialect)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@settings(max_examples=15, deadline=None)
@given(first=values, second=values, scoped=st.booleans())
def test_one_shape_two_values_same_sql_own_values(shape: str, dialect: str, first: str,
                                                  second: str, scoped: bool) -> None:
    first, second = f"x{first}", f"y{second}"  # never equal, never a prefix of each other
    scope = "acct-1" if scoped else None
    sql_a, bound_a = compiled_sql(shape.replace("{}", first), dialect, scope)
    sql_b, bound_b = compiled_sql(shape.replace("{}", second), dialect, scope)
    assert sql_a == sql_b
    assert any(first in str(value) for value in bound_a)
    assert any(second in str(value) for value in bound_b)
    assert not any(first in str(value) for value in bound_b)
    assert not any(second in str(value) for value in bound_a)


def test_cached_sort_and_fields_parse_equals_a_fresh_parse() -> None:
    query = "sort=-name,zone.name&fields=uuid,name&groupBy=state"
    first, again = parse_request(query), parse_request(query)
    assert again.sort == first.sort and again.fields == first.fields
    assert again.group_by == first.group_by
    assert [(k.field.path.dotted, k.descending) for k in again.sort] == [
        ("name", True), ("zone.name", False)]


@pytest.mark.parametrize("query", ["fields=uuid,,name", "sort=-na$me", "groupBy=zone.name"])
def test_a_bad_sort_or_fields_value_fails_every_time(query: str) -> None:
    for _ in range(3):  # the parse cache never stores a failure
        with pytest.raises(BadParameter):
            parse_request(query)


def test_long_sort_values_parse_without_the_cache() -> None:
    names = ",".join(f"f{i}" for i in range(200))  # longer than the cached length
    assert len(parse_request(f"sort={names}").sort) == 200


def test_too_many_conditions_counts_every_condition() -> None:
    query = "&".join(f"q=name=v{i}" for i in range(7))
    with pytest.raises(TooManyConditions) as caught:
        parse_request(query, limits=Limits(max_conditions=3))
    assert caught.value.extra["actual"] == 7
    assert caught.value.param == "q[3]"


@pytest.mark.parametrize("exists_first", [False, True])
def test_the_semi_join_is_the_expression_sqlalchemys_in_builds(exists_first: bool) -> None:
    """``in_select`` skips SQLAlchemy's coercion; it must build ``key.in_(subquery)``."""
    import sqlalchemy as sa

    from zquery.compile_support import in_select
    md = sa.MetaData()
    vm = sa.Table("vm", md, sa.Column("uuid", sa.String(32)))
    nic = sa.Table("nic", md, sa.Column("vm", sa.String(32)), sa.Column("ip", sa.String(32)))
    inner = sa.select(nic.c.vm).set_label_style(sa.LABEL_STYLE_NONE).where(nic.c.ip == "x")
    if exists_first:  # a statement used elsewhere first must not change the result
        inner.exists()
    built, expected = in_select(vm.c.uuid, inner), vm.c.uuid.in_(inner.scalar_subquery())
    for mine, theirs in ((built, expected), (~built, ~expected)):
        for dialect in DIALECTS.values():
            assert str(mine.compile(dialect=dialect)) == str(theirs.compile(dialect=dialect))
    assert built._generate_cache_key() == expected._generate_cache_key()
    page = sa.select(vm).where(built)
    assert page._generate_cache_key() == sa.select(vm).where(expected)._generate_cache_key()

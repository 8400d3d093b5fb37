"""Templates for bound parameters and binary expressions (``zquery/elements.py``).

A template must build exactly what SQLAlchemy's constructor builds: the same
attributes (names derived from ``id()`` aside), SQL, parameters, negation and
compiled-cache key, for every type, key and operator the compiler uses. Where the
installed SQLAlchemy builds something else, the template must fall back to SQLAlchemy's
constructor and say why.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter

from zquery import elements
from zquery.catalogue import load_catalogue
from zquery.compile import compile_plan
from zquery.request import parse_request
from zquery.resolve import resolve

DIALECTS = [sqlite.dialect(), postgresql.dialect(), mysql.dialect()]

TYPES = [
    (sa.String(64), "vm-1"), (sa.Text(), "x"), (sa.Integer(), 7), (sa.BigInteger(), 2**40),
    (sa.Float(), 1.5), (sa.Numeric(10, 2), Decimal("1.25")),
    (sa.DateTime(), datetime(2021, 1, 2, 3, 4, 5)), (sa.Date(), date(2021, 1, 2)),
    (sa.Boolean(), True), (sa.Uuid(), "0" * 32),
]
#: Keys as the compiler passes them, and ones SQLAlchemy must sanitize.
KEYS = [None, "name", "managementIp", "a.b", "x y", "50%", "(odd)$[key]:"]


def _normal(element: Any) -> dict[str, Any]:
    """*element*'s attributes with its id written out of every string, and the string
    class and ``quote`` of each (what distinguishes an anonymous label)."""
    seed = str(id(element))
    return {name: ((type(value), value.replace(seed, "<id>"), getattr(value, "quote", None))
                   if isinstance(value, str) else value)
            for name, value in element.__dict__.items()}


def _same_sql(mine: Any, theirs: Any) -> None:
    for dialect in DIALECTS:
        compiled, wanted = mine.compile(dialect=dialect), theirs.compile(dialect=dialect)
        assert str(compiled) == str(wanted)
        assert compiled.params == wanted.params
    assert mine._generate_cache_key() == theirs._generate_cache_key()


@pytest.mark.parametrize("expanding", [False, True], ids=["scalar", "expanding"])
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(("sql_type", "value"), TYPES, ids=[repr(t[0]) for t in TYPES])
def test_a_bind_template_builds_sqlalchemys_bind(sql_type: Any, value: Any, key: str | None,
                                                 expanding: bool) -> None:
    value = [value, value] if expanding else value
    mine = elements.bind_template(key, sql_type, expanding=expanding).build(value)
    theirs = sa.bindparam(key, value, type_=sql_type, unique=True, expanding=expanding)
    assert type(mine) is BindParameter
    assert _normal(mine) == _normal(theirs)
    assert elements.template_mismatch() is None  # built from the template
    column = sa.column("c", sql_type)
    _same_sql(sa.select(column).where(column == mine),
              sa.select(column).where(column == theirs))


def test_elements_of_one_template_are_distinct_parameters() -> None:
    name = sa.table("t", sa.column("name", sa.String())).c.name
    binds = elements.bind_template("name", name.type)
    test = elements.binary_template(name, operators.eq, operators.ne)
    where = sa.or_(*(test.build(binds.build(f"vm{i}")) for i in range(3)))
    compiled = sa.select(name).where(where).compile()
    assert compiled.params == {"name_1": "vm0", "name_2": "vm1", "name_3": "vm2"}


_NAME = sa.table("t", sa.column("name", sa.String()), sa.column("n", sa.Integer())).c
_LOWER = sa.func.lower(_NAME.name, type_=sa.String())
_OPERATORS = [(operators.eq, operators.ne), (operators.ne, operators.eq),
              (operators.gt, operators.le), (operators.lt, operators.ge),
              (operators.ge, operators.lt), (operators.le, operators.gt)]


def _bind(value: Any, **kw: Any) -> BindParameter[Any]:
    return sa.bindparam("name", value, unique=True, type_=sa.String(), **kw)


def _lower_bind(value: Any) -> Any:
    return sa.func.lower(sa.bindparam(None, value, unique=True, type_=sa.String()),
                         type_=sa.String())


def _subquery(value: Any) -> Any:
    return sa.select(_NAME.name).where(_NAME.n == value).scalar_subquery()


BINARIES = [
    *((f"column {op.__name__}", _NAME.name, op, negate, None, _bind)
      for op, negate in _OPERATORS),
    ("collated >", _NAME.name.collate("C"), operators.gt, operators.le, None, _bind),
    ("lower LIKE", _LOWER, operators.like_op, operators.not_like_op, {"escape": "!"},
     _lower_bind),
    ("lower NOT LIKE", _LOWER, operators.not_like_op, operators.like_op, {"escape": "!"},
     _lower_bind),
    ("IN list", _NAME.name, operators.in_op, operators.not_in_op, None,
     lambda v: _bind([v], expanding=True)),
    ("IN subquery", _NAME.name, operators.in_op, operators.not_in_op, None, _subquery),
]


@pytest.mark.parametrize(("left", "op", "negate", "modifiers", "right"),
                         [case[1:] for case in BINARIES], ids=[case[0] for case in BINARIES])
def test_a_binary_template_builds_sqlalchemys_expression(
        left: Any, op: Any, negate: Any, modifiers: Any, right: Any) -> None:
    template = elements.binary_template(left, op, negate, modifiers, probe=right("probe"))
    for value in ("a", "b"):
        operand = right(value)
        mine = template.build(operand)
        theirs = BinaryExpression(left, operand, op, type_=sa.Boolean(), negate=negate,
                                  modifiers=dict(modifiers) if modifiers else None)
        assert type(mine) is BinaryExpression
        assert _normal(mine).keys() == _normal(theirs).keys()
        assert mine.right is theirs.right and mine.left.compare(theirs.left)
        assert mine.modifiers == theirs.modifiers and mine.modifiers is not template.build(
            operand).modifiers  # each element owns its modifiers, as SQLAlchemy's do
        for built, expected in ((mine, theirs), (~mine, ~theirs)):
            _same_sql(sa.select(_NAME.name).where(built),
                      sa.select(_NAME.name).where(expected))
        assert bool(mine == mine) and not bool(mine == theirs)  # __bool__ reads _orig
    assert elements.template_mismatch() is None


class _Drifted(BindParameter[Any]):
    """A SQLAlchemy whose bind keeps something more of its value."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.value_length = len(str(self.value))


def test_a_template_that_differs_from_sqlalchemy_uses_sqlalchemy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(elements, "BindParameter", _Drifted)
    monkeypatch.setattr(elements._Mismatch, "reason", None)
    template = elements.bind_template("name", sa.String())
    assert elements.template_mismatch() == (
        "_Drifted attribute 'value_length' differs from SQLAlchemy's")
    built = template.build("a longer value")
    assert type(built) is _Drifted and built.value_length == len("a longer value")


def test_every_template_the_compiler_made_agrees() -> None:
    """The compiler's templates build what SQLAlchemy builds: none fell back, so the
    fast path is the one in use (and a drifted release would fail here, loudly)."""
    graph = load_catalogue()
    queries = ["q=name=vm1&q=cpuNum>2&q=state!=Stopped&q=memorySize<=9&q=createDate>2020-01-01",
               "q=name~=%25web%25&q=uuid?=a,b&q=description!~=x%25",
               "q=vmNics.ip=10.0.0.1&q=host.managementIp=10.0.0.2",
               "q=allVolumes.size>=10&q=__systemTag__=ha&q=zone.name!?=a,b"]
    for dialect in ("sqlite", "postgresql", "mysql"):
        for query in queries:
            plan = resolve(parse_request(query), graph, "VmInstance")
            compile_plan(plan, graph, dialect=dialect)
    assert elements.template_mismatch() is None


_ITEMS = sa.table("items", sa.column("name", sa.String()), sa.column("n", sa.Integer()),
                  sa.column("on", sa.Boolean()))
_CRITERIA = {
    "comparison": lambda: _ITEMS.c.name == "a",
    "and": lambda: sa.and_(_ITEMS.c.n > 1, _ITEMS.c.n < 5),
    "exists": lambda: sa.select(_ITEMS.c.n).where(_ITEMS.c.n == 2).exists(),
    "not exists": lambda: ~sa.select(_ITEMS.c.n).exists(),
    "false": sa.false,
    "boolean column": lambda: _ITEMS.c.on,
}


@pytest.mark.parametrize("kind", list(_CRITERIA))
def test_where_appends_what_select_where_appends(kind: str) -> None:
    base = sa.select(_ITEMS.c.name).where(_ITEMS.c.n != 0).limit(10)
    base._generate_cache_key()  # a memoized attribute on the statement must not be copied
    criteria = (_CRITERIA[kind](), _ITEMS.c.name != "b")
    mine, theirs = elements.where(base, criteria), base.where(*criteria)
    assert mine is not base and base._where_criteria == theirs._where_criteria[:1]
    assert len(mine._where_criteria) == len(theirs._where_criteria) == 3
    assert all(a is b for a, b in zip(mine._where_criteria, theirs._where_criteria,
                                      strict=True))
    _same_sql(mine, theirs)
    assert elements.template_mismatch() is None

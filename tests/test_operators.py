"""The operator → SQL table (``zquery/operators.py``) on every dialect.

Checked three ways: the SQL each operator renders per dialect (bound parameters only,
``COLLATE "C"`` for PostgreSQL ordering, ``ESCAPE '!'`` and the Unicode lower function
for LIKE), the LIKE escape translation, and the rows each operator keeps on SQLite,
PostgreSQL and MariaDB compared with an independent Python oracle written from the
contract (NULL fails every comparison, code-point order, LIKE with zquery's escapes and
Unicode case folding, NUL-bearing values that can match no stored text).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from zquery import dialects
from zquery.ast import Condition, Operator, Path, Span
from zquery.compile import compile_plan
from zquery.operators import (
    LIKE_ESCAPE,
    OPERATORS,
    leading_wildcard,
    predicate,
    translate_like,
)
from zquery.plan import QueryPlan, ResolvedCondition
from zquery.schema.graph import Field, FieldType, Resource, SchemaGraph
from zquery.schema.tables import build_metadata, table_of

SQL_DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect(),
                "mysql": mysql.dialect()}

# -- the translation of zquery's LIKE escapes ------------------------------------------

LIKE_CASES = [
    ("plain", "vm%", "vm%"),
    ("escaped percent", r"50\%", "50!%"),
    ("escaped underscore", r"db\_01", "db!_01"),
    ("escaped backslash", "a\\\\b", "a\\b"),
    ("lone backslash is literal", r"a\b", "a\\b"),
    ("trailing backslash", "ab\\", "ab\\"),
    ("escape char doubled", "a!b", "a!!b"),
    ("escaped backslash then percent", "a\\\\%", "a\\%"),
    ("wildcards kept", "_%_", "_%_"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(("name", "pattern", "expected"), LIKE_CASES,
                         ids=[c[0] for c in LIKE_CASES])
def test_translate_like(name: str, pattern: str, expected: str) -> None:
    assert translate_like(pattern) == expected


@pytest.mark.parametrize(("pattern", "expected"), [
    ("%vm", True), ("_vm", True), (r"\%vm", False), ("vm%", False), ("", False)])
def test_leading_wildcard(pattern: str, expected: bool) -> None:
    assert leading_wildcard(pattern) is expected


def test_every_operator_has_one_entry() -> None:
    assert set(OPERATORS) == set(Operator)
    assert all(rule.op is op for op, rule in OPERATORS.items())


# -- rendered SQL per dialect ----------------------------------------------------------

NAME = sa.Table("t", sa.MetaData(), sa.Column("name", sa.String(255)),
                sa.Column("num", sa.Integer), sa.Column("flag", sa.Boolean)).c

SQL_CASES: list[tuple[str, Any, Operator, Any, str, tuple[str, ...], tuple[str, ...]]] = [
    # (dialect, column, op, value, must contain, also must contain, must not contain)
    ("sqlite", NAME.name, Operator.EQ, "SECRET", "t.name = ?", (), ("COLLATE",)),
    ("postgresql", NAME.name, Operator.EQ, "SECRET", "t.name = %(name_1)s", (), ("COLLATE",)),
    ("mysql", NAME.name, Operator.NE, "SECRET", "t.name != %s", (), ()),
    ("postgresql", NAME.name, Operator.GT, "SECRET", '(t.name COLLATE "C") >', (), ()),
    ("mysql", NAME.name, Operator.GT, "SECRET", "t.name > %s", (), ("COLLATE",)),
    ("sqlite", NAME.name, Operator.LE, "SECRET", "t.name <= ?", (), ("COLLATE",)),
    ("postgresql", NAME.num, Operator.GE, 7, "t.num >=", (), ("COLLATE",)),
    ("sqlite", NAME.name, Operator.IN, ("SECRET", "S2"), "t.name IN (__[POSTCOMPILE", (), ()),
    ("mysql", NAME.name, Operator.NOT_IN, ("SECRET",), "t.name NOT IN (__[POSTCOMPILE", (), ()),
    ("sqlite", NAME.name, Operator.LIKE, "SE%", "zq_lower(t.name) LIKE zq_lower(?)",
     ("ESCAPE '!'",), ("lower(t.name) LIKE lower(?) ",)),
    ("postgresql", NAME.name, Operator.LIKE, "SE%", "lower(t.name) LIKE lower(%(param_1)s",
     ("ESCAPE '!'",), ("zq_lower", "ILIKE")),
    ("mysql", NAME.name, Operator.NOT_LIKE, "SE%", "lower(t.name) NOT LIKE lower(%s)",
     ("ESCAPE '!'",), ("zq_lower",)),
    ("postgresql", NAME.name, Operator.IS_NULL, None, "t.name IS NULL", (), ()),
    ("mysql", NAME.name, Operator.NOT_NULL, None, "t.name IS NOT NULL", (), ()),
    ("postgresql", NAME.flag, Operator.EQ, True, "t.flag = %(param_1)s", (), ("true",)),
    # PostgreSQL text cannot hold NUL: rewritten to what the operator means for NUL-free data.
    ("postgresql", NAME.name, Operator.EQ, "a\x00b", "false", (), ("t.name =",)),
    ("postgresql", NAME.name, Operator.NE, "a\x00b", "t.name IS NOT NULL", (), ("!=",)),
    ("postgresql", NAME.name, Operator.GE, "a\x00b", '(t.name COLLATE "C") >', (), (">=",)),
    ("postgresql", NAME.name, Operator.LT, "a\x00b", '(t.name COLLATE "C") <=', (), ()),
    ("postgresql", NAME.name, Operator.NOT_IN, ("a\x00",), "t.name IS NOT NULL", (), ("IN",)),
    ("postgresql", NAME.name, Operator.LIKE, "%\x00", "false", (), ("LIKE",)),
    ("sqlite", NAME.name, Operator.EQ, "a\x00b", "t.name = ?", (), ("0",)),
]


@pytest.mark.parametrize(("dialect", "column", "op", "value", "fragment", "more", "absent"),
                         SQL_CASES, ids=[f"{c[0]}-{c[2].name}-{i}"
                                         for i, c in enumerate(SQL_CASES)])
def test_rendered_sql(dialect: str, column: Any, op: Operator, value: Any, fragment: str,
                      more: tuple[str, ...], absent: tuple[str, ...]) -> None:
    expr = predicate(column, op, value, dialects.traits_for(dialect))
    text = str(expr.compile(dialect=SQL_DIALECTS[dialect]))
    assert fragment in text
    for part in more:
        assert part in text
    for part in absent:
        assert part not in text
    assert "SECRET" not in text and "SE%" not in text


def test_nul_values_keep_the_other_list_elements() -> None:
    expr = predicate(NAME.name, Operator.IN, ("a\x00", "b"), dialects.traits_for("postgresql"))
    compiled = expr.compile(dialect=postgresql.dialect())
    assert list(compiled.params.values()) == [["b"]]


def test_like_escape_is_one_char_and_not_a_backslash() -> None:
    assert len(LIKE_ESCAPE) == 1 and LIKE_ESCAPE != "\\"


# -- rows kept, against an independent oracle ----------------------------------------

ITEM = Resource(
    name="OpItem", table="ZqOperatorItemVO", primary_key="uuid",
    fields={name: Field(name, kind) for name, kind in (
        ("uuid", FieldType.STRING), ("name", FieldType.STRING), ("num", FieldType.INTEGER),
        ("flag", FieldType.BOOLEAN), ("at", FieldType.TIMESTAMP), ("score", FieldType.DOUBLE))})
PADDED = Resource(
    name="OpPadded", table="ZqOperatorPaddedVO", primary_key="uuid",
    fields={"uuid": Field("uuid", FieldType.STRING), "name": Field("name", FieldType.STRING)})
OP_GRAPH = SchemaGraph(resources={"OpItem": ITEM, "OpPadded": PADDED})

NAMES = ["web", "Web", "WEB", "web-01", "db_01", "db%01", "dbx01", "a\\b", "a\\%b", "a%b",
         "50%", "O'Brien", "café", "CAFÉ", "Café", "Ärger", "ärger", "Жук", "ЖУК", "жук",
         "ΔΈΛΤΑ", "δέλτα", "", "x,y", "a!b", "a!!b", " lead", "ñandú", "ÑANDÚ", None]
ITEMS = [
    {"uuid": f"i{index:02d}", "name": name,
     "num": None if index % 7 == 3 else (index * 37) % 23 - 8,
     "flag": None if index % 5 == 4 else index % 2 == 0,
     "at": None if index % 6 == 5 else datetime(2020, 1 + index % 12, 1 + index, 12, 30, index),
     "score": None if index % 8 == 6 else index * 0.75}
    for index, name in enumerate(NAMES)
]
PADDED_ROWS = [{"uuid": "p1", "name": "web"}, {"uuid": "p2", "name": "web "},
               {"uuid": "p3", "name": "web\t"}, {"uuid": "p4", "name": "wea"}]


def _like_oracle(pattern: str, text: str) -> bool:
    """The contract's LIKE by dynamic programming over tokens (no regex, no SQL)."""
    tokens: list[tuple[str, str]] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "%_\\":
            tokens.append(("lit", pattern[index + 1]))
            index += 2
            continue
        tokens.append(("any", "") if char == "%" else ("one", "") if char == "_"
                      else ("lit", char))
        index += 1
    folded = text.lower()
    tokens = [(kind, value.lower()) for kind, value in tokens]
    reach = {0}
    for kind, value in tokens:
        step: set[int] = set()
        for at in reach:
            if kind == "any":
                step.update(range(at, len(folded) + 1))
            elif at < len(folded) and (kind == "one" or folded[at] == value):
                step.add(at + 1)
        reach = step
    return len(folded) in reach


def _oracle(op: Operator, stored: Any, value: Any) -> bool:
    if op is Operator.IS_NULL:
        return stored is None
    if stored is None:
        return False
    if op is Operator.NOT_NULL:
        return True
    checks = {
        Operator.EQ: lambda: stored == value, Operator.NE: lambda: stored != value,
        Operator.GT: lambda: stored > value, Operator.LT: lambda: stored < value,
        Operator.GE: lambda: stored >= value, Operator.LE: lambda: stored <= value,
        Operator.IN: lambda: stored in value, Operator.NOT_IN: lambda: stored not in value,
        Operator.LIKE: lambda: _like_oracle(value, stored),
        Operator.NOT_LIKE: lambda: not _like_oracle(value, stored),
    }
    return bool(checks[op]())


ROW_CASES: list[tuple[str, Operator, Any]] = [
    ("name", Operator.EQ, "web"), ("name", Operator.EQ, "WEB"), ("name", Operator.EQ, "café"),
    ("name", Operator.EQ, ""), ("name", Operator.NE, "web"), ("name", Operator.GT, "Web"),
    ("name", Operator.LT, "a"), ("name", Operator.GE, "café"), ("name", Operator.LE, "db%01"),
    ("name", Operator.GT, "ärger"), ("name", Operator.IN, ("web", "Жук", "missing")),
    ("name", Operator.NOT_IN, ("web", "")), ("name", Operator.IN, ("",)),
    ("name", Operator.LIKE, "we%"), ("name", Operator.LIKE, "WE%"),
    ("name", Operator.LIKE, "%É"), ("name", Operator.LIKE, "café"),
    ("name", Operator.LIKE, "CAF_"), ("name", Operator.LIKE, r"db\_01"),
    ("name", Operator.LIKE, r"db\%01"), ("name", Operator.LIKE, "db_01"),
    ("name", Operator.LIKE, "a\\\\b"), ("name", Operator.LIKE, r"a\b"),
    ("name", Operator.LIKE, r"a\\\%b"), ("name", Operator.LIKE, "a!b"),
    ("name", Operator.LIKE, "a!!b"), ("name", Operator.LIKE, "%!%"),
    ("name", Operator.LIKE, r"%\%%"), ("name", Operator.LIKE, "ЖУК"),
    ("name", Operator.LIKE, "δέλτα"), ("name", Operator.LIKE, "ÄRGER"),
    ("name", Operator.LIKE, "Ñ%"), ("name", Operator.LIKE, "%"), ("name", Operator.LIKE, ""),
    ("name", Operator.LIKE, "_"), ("name", Operator.LIKE, " %"),
    ("name", Operator.NOT_LIKE, "we%"), ("name", Operator.NOT_LIKE, "%"),
    ("name", Operator.NOT_LIKE, "café"), ("name", Operator.IS_NULL, None),
    ("name", Operator.NOT_NULL, None),
    # Values holding NUL match no stored text (PostgreSQL cannot even store it).
    ("name", Operator.EQ, "web\x00"), ("name", Operator.NE, "web\x00"),
    ("name", Operator.IN, ("web\x00", "web")), ("name", Operator.NOT_IN, ("web\x00",)),
    ("name", Operator.LIKE, "we\x00%"), ("name", Operator.NOT_LIKE, "\x00%"),
    ("num", Operator.EQ, 10), ("num", Operator.NE, 10), ("num", Operator.GT, 1),
    ("num", Operator.LE, -2), ("num", Operator.IN, (1, 10, -8)), ("num", Operator.NOT_IN, (1,)),
    ("num", Operator.IS_NULL, None), ("num", Operator.NOT_NULL, None),
    ("flag", Operator.EQ, True), ("flag", Operator.EQ, False), ("flag", Operator.NE, True),
    ("flag", Operator.IN, (False,)), ("flag", Operator.IS_NULL, None),
    ("at", Operator.GT, datetime(2020, 6, 1)), ("at", Operator.LE, datetime(2020, 3, 4, 12, 30, 3)),
    ("at", Operator.EQ, datetime(2020, 3, 3, 12, 30, 2)),
    ("score", Operator.GE, 7.5), ("score", Operator.LT, 3.0), ("score", Operator.NE, 0.75),
]


def _plan(resource: Resource, column: str, op: Operator, value: Any) -> QueryPlan:
    text = f"{column}{op.symbol}{value!r}"
    span = Span(0, len(column))
    condition = Condition(Path((column,), (span,), span), op, None, None, span, None,
                          Span(0, len(text)), "q[0]", text)
    resolved = ResolvedCondition(condition, (), resource, resource.field(column), None, op,
                                 value)
    return QueryPlan(resource, (resolved,), (), (resource.field("uuid"),), (), 1000, 0,
                     False, True, False)


@pytest.fixture(scope="module")
def op_engine(any_engine: sa.Engine) -> Iterator[sa.Engine]:
    """The operator tables (names of their own) in the session's scratch database."""
    dialects.install(any_engine)
    metadata = build_metadata(OP_GRAPH)
    metadata.drop_all(any_engine)
    metadata.create_all(any_engine)
    with any_engine.begin() as conn:
        conn.execute(table_of(OP_GRAPH, ITEM).insert(), ITEMS)
        conn.execute(table_of(OP_GRAPH, PADDED).insert(), PADDED_ROWS)
    yield any_engine
    metadata.drop_all(any_engine)


def _matching(engine: sa.Engine, plan: QueryPlan) -> tuple[set[str], int]:
    compiled = compile_plan(plan, OP_GRAPH, dialect=engine.dialect.name)
    assert compiled.rows is not None and compiled.count is not None
    with engine.connect() as conn:
        dialects.ensure(conn)
        found = set(conn.execute(compiled.rows).scalars())
        total = conn.execute(compiled.count).scalar_one()
    return found, total


@pytest.mark.parametrize(("column", "op", "value"), ROW_CASES,
                         ids=[f"{c[0]}{c[1].symbol}{c[2]!r}" for c in ROW_CASES])
def test_rows_match_the_oracle(op_engine: sa.Engine, column: str, op: Operator,
                               value: Any) -> None:
    expected = {row["uuid"] for row in ITEMS if _oracle(op, row[column], value)}
    found, total = _matching(op_engine, _plan(ITEM, column, op, value))
    assert found == expected
    assert total == len(expected)


PAD_CASES: list[tuple[Operator, Any]] = [
    (Operator.EQ, "web"), (Operator.NE, "web "), (Operator.IN, ("web",)),
    (Operator.GT, "web"), (Operator.LT, "web "), (Operator.GT, "web\x00z"),
    (Operator.LIKE, "web"), (Operator.LIKE, "web_"),
]


@pytest.mark.parametrize(("op", "value"), PAD_CASES,
                         ids=[f"{c[0].symbol}{c[1]!r}" for c in PAD_CASES])
def test_trailing_spaces_are_significant(op_engine: sa.Engine, op: Operator,
                                         value: Any) -> None:
    # On MariaDB this needs the tables' NO PAD collation (utf8mb4_bin finds 'web ' for 'web').
    expected = {row["uuid"] for row in PADDED_ROWS if _oracle(op, row["name"], value)}
    found, _ = _matching(op_engine, _plan(PADDED, "name", op, value))
    assert found == expected


@pytest.mark.parametrize("text", ["ÉCOLE", "Ärger", "ЖУК", "ΔΈΛΤΑ", "ÑANDÚ", "CAFÉ"])
def test_unicode_lower_casing_on_every_database(op_engine: sa.Engine, text: str) -> None:
    function = dialects.traits_for(op_engine.dialect.name).lower_function
    with op_engine.connect() as conn:
        dialects.ensure(conn)
        lowered = conn.execute(sa.select(getattr(sa.func, function)(
            sa.literal(text, sa.String())))).scalar_one()
    assert lowered == text.lower()


# -- the built expressions are SQLAlchemy's own -----------------------------------------

_TYPED_COLUMNS = [
    ("string", sa.String(64), "vm-1"), ("text", sa.Text(), "x"),
    ("integer", sa.Integer(), 7), ("bigint variant",
                                   sa.BigInteger().with_variant(sa.Integer(), "sqlite"), 2**40),
    ("float", sa.Float(), 1.5), ("datetime", sa.DateTime(), datetime(2021, 1, 2, 3, 4, 5)),
    ("boolean", sa.Boolean(), True), ("string, integer value", sa.String(8), 3),
]
_SQLALCHEMY_OPS = {Operator.EQ: "__eq__", Operator.NE: "__ne__", Operator.GT: "__gt__",
                   Operator.LT: "__lt__", Operator.GE: "__ge__", Operator.LE: "__le__"}


@pytest.mark.parametrize("dialect", sorted(SQL_DIALECTS))
@pytest.mark.parametrize("op", list(_SQLALCHEMY_OPS), ids=lambda op: op.name)
@pytest.mark.parametrize(("kind", "sql_type", "value"), _TYPED_COLUMNS,
                         ids=[c[0] for c in _TYPED_COLUMNS])
def test_comparisons_build_what_sqlalchemys_operators_build(
        kind: str, sql_type: Any, value: Any, op: Operator, dialect: str) -> None:
    """The comparison builders skip SQLAlchemy's coercion dispatch; the result must not
    differ from ``column <op> value`` in SQL, parameters, negation or cache key."""
    table = sa.Table("t", sa.MetaData(), sa.Column("c", sql_type))
    traits = dialects.traits_for(dialect)
    built = predicate(table.c.c, op, value, traits)
    left = table.c.c
    if op.is_ordering and traits.exact_collation and isinstance(sql_type, sa.String):
        left = left.collate(traits.exact_collation)
    operand = sa.literal(value, sql_type) if isinstance(value, bool) else value
    expected = getattr(left, _SQLALCHEMY_OPS[op])(operand)
    for mine, theirs in ((built, expected), (~built, ~expected)):
        compiled, wanted = (e.compile(dialect=SQL_DIALECTS[dialect]) for e in (mine, theirs))
        assert str(compiled) == str(wanted)
        assert compiled.params == wanted.params
        assert ([type(b.type) for b in compiled.binds.values()]
                == [type(b.type) for b in wanted.binds.values()])
    assert built._generate_cache_key() == expected._generate_cache_key()


def test_a_custom_column_type_keeps_sqlalchemys_operator() -> None:
    class Upper(sa.types.TypeDecorator[str]):
        impl = sa.String
        cache_ok = True

        def bind_expression(self, bindvalue: Any) -> Any:
            return sa.func.upper(bindvalue)

    column = sa.Table("t", sa.MetaData(), sa.Column("c", Upper())).c.c
    built = predicate(column, Operator.EQ, "x", dialects.traits_for("sqlite"))
    assert str(built.compile(dialect=SQL_DIALECTS["sqlite"])) == "t.c = upper(?)"


@pytest.mark.parametrize("dialect", sorted(SQL_DIALECTS))
@pytest.mark.parametrize(("op", "value"), [
    (Operator.LIKE, "vm-%"), (Operator.NOT_LIKE, r"50\%!"), (Operator.IN, ("a", "b")),
    (Operator.NOT_IN, ("a",)), (Operator.IN, tuple(f"v{i}" for i in range(50)))],
    ids=["like", "not like", "in", "not in", "in 50"])
def test_like_and_lists_build_what_sqlalchemys_operators_build(
        op: Operator, value: Any, dialect: str) -> None:
    column = sa.Table("t", sa.MetaData(), sa.Column("c", sa.String(64))).c.c
    traits = dialects.traits_for(dialect)
    built = predicate(column, op, value, traits)
    if op.is_like:
        lower = getattr(sa.func, traits.lower_function)
        pattern = lower(sa.literal(translate_like(value), sa.String()), type_=sa.String())
        lowered = lower(column, type_=sa.String())
        expected = (lowered.like(pattern, escape=LIKE_ESCAPE) if op is Operator.LIKE
                    else lowered.not_like(pattern, escape=LIKE_ESCAPE))
    else:
        expected = column.in_(list(value)) if op is Operator.IN else column.not_in(list(value))
    for mine, theirs in ((built, expected), (~built, ~expected)):
        compiled, wanted = (e.compile(dialect=SQL_DIALECTS[dialect]) for e in (mine, theirs))
        assert str(compiled) == str(wanted)
        assert compiled.params == wanted.params
    assert built._generate_cache_key() == expected._generate_cache_key()

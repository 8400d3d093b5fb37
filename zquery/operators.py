"""THE operator → SQL table: the one place where a zquery operator becomes SQL.

:data:`OPERATORS` maps every :class:`~zquery.ast.Operator` to an :class:`OperatorSql`
(its SQL spelling, how it builds a predicate on one column, and a selectivity hint for
SQLite's IN-or-EXISTS choice); :func:`predicate` is the only entry point the compiler
uses. The rules (contract sections 2 and 8):

* values are always bound parameters; a ``?=`` list is one expanding parameter, so any
  list length shares one compiled statement;
* NULL fails every comparison, the negative ones included: plain SQL three-valued logic
  (``NULL <> 'x'`` and ``NULL NOT IN (...)`` are not true), so no extra clause is needed;
* ordering operators compare strings by code point: ``COLLATE "C"`` on PostgreSQL (the
  others compare binary already);
* ``~=``/``!~=`` are ``lower(col) LIKE lower(:pattern) ESCAPE '!'`` with Unicode lower
  casing everywhere (``zq_lower`` on SQLite, see :mod:`zquery.dialects`). ``!`` is the
  escape character because a backslash in a MySQL string literal is itself an escape;
* PostgreSQL text cannot hold ``\\x00``: a value containing it can equal no stored value,
  so :func:`predicate` rewrites the comparison to what it means for NUL-free data
  (``=`` → false, ``!=`` → ``IS NOT NULL``, ``> 'a\\x00b'`` → ``> 'a'``, …). SQLite's
  LIKE stops reading a pattern at NUL, so a NUL-bearing LIKE is rewritten there too.

>>> translate_like(r"50\\%_off\\x!")
'50!%_off\\\\x!!'
>>> import sqlalchemy as sa
>>> from zquery.dialects import traits_for
>>> col = sa.column("name", sa.String())
>>> str(predicate(col, Operator.LIKE, "vm%", traits_for("postgresql")))
"lower(name) LIKE lower(:param_1) ESCAPE '!'"
>>> str(predicate(col, Operator.NE, "a\\x00", traits_for("postgresql")))
'name IS NOT NULL'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import operators as sql_operators
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.functions import Function
from sqlalchemy.sql.operators import OperatorType

from zquery.ast import Operator
from zquery.caches import bounded
from zquery.dialects import DialectTraits
from zquery.elements import BinaryTemplate, BindTemplate, binary_template, bind_template

__all__ = [
    "LIKE_ESCAPE",
    "OPERATORS",
    "OperatorSql",
    "bind_value",
    "keeps_shape",
    "leading_wildcard",
    "predicate",
    "translate_like",
]

#: The ESCAPE character of every LIKE zquery emits (not a backslash: see the module doc).
LIKE_ESCAPE = "!"

Column = ColumnElement[Any]
Predicate = ColumnElement[bool]
Builder = Callable[[Column, Any, DialectTraits], Predicate]
Operand = Any  # a raw value, or a named BindParameter already holding the bind value


def translate_like(pattern: str, escape: str = LIKE_ESCAPE) -> str:
    """zquery's LIKE text → a SQL LIKE pattern for ``ESCAPE escape``.

    ``\\%``, ``\\_`` and ``\\\\`` are the literal characters; any other backslash is
    a literal backslash; the escape character itself is doubled.
    """
    out: list[str] = []
    index, size = 0, len(pattern)
    while index < size:
        char = pattern[index]
        if char == "\\" and index + 1 < size and pattern[index + 1] in "%_\\":
            char = pattern[index + 1]
            out.append(escape + char if char in "%_" or char == escape else char)
            index += 2
            continue
        out.append(escape + char if char == escape else char)
        index += 1
    return "".join(out)


def leading_wildcard(pattern: str) -> bool:
    """True when a zquery LIKE text starts with an (unescaped) ``%`` or ``_``.

    >>> leading_wildcard("%vm"), leading_wildcard(r"\\%vm"), leading_wildcard("vm%")
    (True, False, False)
    """
    return pattern[:1] in ("%", "_")


def _bound(value: Any, column: Column) -> Any:
    # ``col == True`` renders the constant ``true``: bind it, so True and False share a key.
    return sa.literal(value, column.type) if isinstance(value, bool) else value


#: Value types a comparison binds as they are: SQLAlchemy's ``column == value`` turns
#: these into ``column = :param`` with nothing else to decide. ``bool`` (bound through
#: ``_bound``), ``None`` and named parameters take SQLAlchemy's own operator path.
_PLAIN_VALUES = frozenset((str, int, float, Decimal, datetime, date))
#: Column types whose comparisons are SQLAlchemy's plain ones (a custom type's comparator
#: may build something else, so it takes the operator path).
_PLAIN_COMPARATORS = frozenset(type(t).comparator_factory for t in (
    sa.String(), sa.Text(), sa.Integer(), sa.BigInteger(), sa.SmallInteger(), sa.Float(),
    sa.Double(), sa.Numeric(), sa.DateTime(), sa.Date(), sa.Boolean(), sa.Uuid()))


def _plain_type(column: Column) -> bool:
    """True when *column*'s type compares as SQLAlchemy's built-in types do."""
    return type(column.type).comparator_factory in _PLAIN_COMPARATORS


def _comparison(sql_op: OperatorType, negate: OperatorType, *,
                ordering: bool) -> Builder:
    """``column <sql_op> :value``, the expression SQLAlchemy's operator builds (same
    parameter name, type, negation and cache key), from templates per column and value
    class (:mod:`zquery.elements`): 3.5 rather than 13 µs through the operator."""
    made: dict[tuple[Column, type], tuple[BindTemplate, BinaryTemplate]] = {}

    def templates(left: Column, value: Any) -> tuple[BindTemplate, BinaryTemplate]:
        return (bind_template(left.key, left.type.coerce_compared_value(sql_op, value)),
                binary_template(left, sql_op, negate))

    def build(column: Column, value: Any, traits: DialectTraits) -> Predicate:
        left = _ordered(column, traits) if ordering else column
        kind = value.__class__  # the bind's type follows the value's class
        found = made.get((left, kind))
        if found is None:
            if kind not in _PLAIN_VALUES or not _plain_type(left):
                return left.operate(sql_op, _bound(value, column))
            found = bounded(made, (left, kind), _PER_COLUMN_LIMIT, templates, left, value)
        bind, test = found
        return test.build(bind.build(value))
    return build


def _ordered(column: Column, traits: DialectTraits) -> Column:
    collation = traits.exact_collation
    if collation and isinstance(column.type, sa.String):
        return bounded(_COLLATED, (column, collation), _PER_COLUMN_LIMIT, column.collate,
                       collation)
    return column


#: ``lower(column)`` and ``column COLLATE "C"`` per column: they hold no value, so each
#: is built once (bounded, since :func:`predicate` accepts any column). One object per
#: column also lets one :func:`~zquery.elements.binary_template` serve every test on it.
_LOWERED: dict[tuple[Column, str], Column] = {}
_COLLATED: dict[tuple[Column, str], Column] = {}
_PER_COLUMN_LIMIT = 4096
_STRING = sa.String()
_ESCAPE = MappingProxyType({"escape": LIKE_ESCAPE})


def _lowered(column: Column, traits: DialectTraits) -> Column:
    name = traits.lower_function
    return bounded(_LOWERED, (column, name), _PER_COLUMN_LIMIT, _lower_of, name, column)


def _lower_of(name: str, column: Column) -> Column:
    return Function(name, column, type_=_STRING)


def _like_builder(sql_op: OperatorType, negate: OperatorType) -> Builder:
    """``lower(column) LIKE lower(:pattern) ESCAPE '!'``, as ``lower(c).like(lower(p),
    escape='!')`` builds it (same SQL, parameters and cache key): 12 rather than 51 µs."""
    made: dict[Column, BinaryTemplate] = {}
    patterns = bind_template(None, _STRING)

    def template(lowered: Column, lower: str) -> BinaryTemplate:
        probe = Function(lower, sa.bindparam(None, "", type_=_STRING), type_=_STRING)
        return binary_template(lowered, sql_op, negate, _ESCAPE, probe=probe)

    def build(column: Column, value: Operand, traits: DialectTraits) -> Predicate:
        pattern = (value if isinstance(value, BindParameter)
                   else patterns.build(_like_pattern(value)))
        lower = traits.lower_function
        lowered = _lowered(column, traits)
        test = bounded(made, lowered, _PER_COLUMN_LIMIT, template, lowered, lower)
        return test.build(Function(lower, pattern, type_=_STRING))
    return build


def _list_builder(sql_op: OperatorType, negate: OperatorType) -> Builder:
    """``column IN (:values)``, one expanding parameter, as ``column.in_(values)`` builds
    it, without SQLAlchemy's per-element check (6 rather than 240 µs for 1,000 values)."""
    made: dict[tuple[Column, type], tuple[BindTemplate, BinaryTemplate]] = {}

    def templates(column: Column, first: Any) -> tuple[BindTemplate, BinaryTemplate]:
        return (bind_template(column.key, column.type.coerce_compared_value(sql_op, first),
                              expanding=True),
                binary_template(column, sql_op, negate))

    def build(column: Column, value: Operand, traits: DialectTraits) -> Predicate:
        if (isinstance(value, BindParameter) or not value
                or not _PLAIN_VALUES.issuperset(map(type, value))
                or not _plain_type(column)):
            return column.operate(sql_op, _listed(value))
        values = list(value)
        bind, test = bounded(made, (column, values[0].__class__), _PER_COLUMN_LIMIT,
                             templates, column, values[0])
        bound = bind.build(values)
        bound.expand_op = sql_op  # type: ignore[assignment]  # as SQLAlchemy's in_() sets it
        return test.build(bound)
    return build


def _like_pattern(value: Any) -> str:
    return translate_like(str(value))


def _as_list(value: Any) -> list[Any]:
    return list(value)


def _same(value: Any) -> Any:
    return value


def _listed(value: Operand) -> Any:
    # A named expanding parameter is already the list; a raw tuple becomes one.
    return value if isinstance(value, BindParameter) else list(value)


@dataclass(frozen=True, slots=True)
class OperatorSql:
    """How one operator becomes SQL.

    ``selective``: the SQLite heuristic when no statistics say otherwise (True: keeps
    few rows, False: keeps many, None: depends on the value, e.g. a LIKE pattern).
    """

    op: Operator
    sql: str
    build: Builder
    selective: bool | None
    #: The coerced value → what is bound for it (the list of an expanding ``IN``, the
    #: translated LIKE pattern): the shape cache binds new values with this.
    bind: Callable[[Any], Any] = _same


OPERATORS: Mapping[Operator, OperatorSql] = MappingProxyType({
    Operator.EQ: OperatorSql(Operator.EQ, "=", _comparison(
        sql_operators.eq, sql_operators.ne, ordering=False), True),
    Operator.NE: OperatorSql(Operator.NE, "<>", _comparison(
        sql_operators.ne, sql_operators.eq, ordering=False), False),
    Operator.GT: OperatorSql(Operator.GT, ">", _comparison(
        sql_operators.gt, sql_operators.le, ordering=True), False),
    Operator.LT: OperatorSql(Operator.LT, "<", _comparison(
        sql_operators.lt, sql_operators.ge, ordering=True), False),
    Operator.GE: OperatorSql(Operator.GE, ">=", _comparison(
        sql_operators.ge, sql_operators.lt, ordering=True), False),
    Operator.LE: OperatorSql(Operator.LE, "<=", _comparison(
        sql_operators.le, sql_operators.gt, ordering=True), False),
    Operator.IN: OperatorSql(Operator.IN, "IN", _list_builder(
        sql_operators.in_op, sql_operators.not_in_op), True, _as_list),
    Operator.NOT_IN: OperatorSql(Operator.NOT_IN, "NOT IN", _list_builder(
        sql_operators.not_in_op, sql_operators.in_op), False, _as_list),
    Operator.LIKE: OperatorSql(Operator.LIKE, "LIKE", _like_builder(
        sql_operators.like_op, sql_operators.not_like_op), None, _like_pattern),
    Operator.NOT_LIKE: OperatorSql(Operator.NOT_LIKE, "NOT LIKE", _like_builder(
        sql_operators.not_like_op, sql_operators.like_op), False, _like_pattern),
    Operator.IS_NULL: OperatorSql(Operator.IS_NULL, "IS NULL", lambda c, v, t: c.is_(None),
                                  False),
    Operator.NOT_NULL: OperatorSql(Operator.NOT_NULL, "IS NOT NULL",
                                   lambda c, v, t: c.is_not(None), False),
})


def predicate(column: Column, op: Operator, value: Any, traits: DialectTraits,
              name: str | None = None) -> Predicate:
    """``column <op> value`` as a SQL predicate for the database *traits* describe.

    With *name*, the value is bound as the parameter *name* (``bind_value`` of it), so the
    statement can be run again with new values (:mod:`zquery.shapes`); a value that
    changes the SQL (NUL, see :func:`keeps_shape`) is never bound by name.

    >>> from zquery.dialects import traits_for
    >>> col = sa.column("n", sa.Integer())
    >>> str(predicate(col, Operator.IN, (1, 2), traits_for("sqlite"), name="zq_0"))
    'n IN (__[POSTCOMPILE_zq_0])'
    """
    # A str without NUL keeps the shape everywhere: the usual value skips the full check.
    if (value.__class__ is not str or "\x00" in value) and not keeps_shape(op, value, traits):
        return _without_nul(column, op, value, traits)
    sql = OPERATORS[op]
    if name is None:
        return sql.build(column, value, traits)
    type_ = sa.String() if op.is_like else column.type
    operand = sa.bindparam(name, sql.bind(value), type_=type_, expanding=op.takes_list)
    return sql.build(column, operand, traits)


def bind_value(op: Operator, value: Any) -> Any:
    """What :func:`predicate` binds for *value* under *op* (the one table's ``bind``).

    >>> bind_value(Operator.LIKE, "a!%"), bind_value(Operator.NOT_IN, ("x",))
    ('a!!%', ['x'])
    """
    return OPERATORS[op].bind(value)


def keeps_shape(op: Operator, value: Any, traits: DialectTraits) -> bool:
    """False when *value* makes :func:`predicate` rewrite the SQL (NUL on PostgreSQL text,
    NUL in a SQLite LIKE pattern): such a value cannot reuse a statement built for another.

    >>> from zquery.dialects import traits_for
    >>> keeps_shape(Operator.EQ, "a\\x00", traits_for("postgresql"))
    False
    """
    nul_unsafe = not traits.text_holds_nul or (op.is_like and not traits.like_holds_nul)
    return not (nul_unsafe and _holds_nul(value))


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, tuple) and any(isinstance(v, str) and "\x00" in v for v in value)


def _without_nul(column: Column, op: Operator, value: Any, traits: DialectTraits) -> Predicate:
    """What *op* means against data that cannot hold NUL (PostgreSQL text).

    A stored value never equals or LIKE-matches a NUL-bearing value, so a positive test
    is false and a negative one keeps every non-NULL row. In code-point order a stored
    ``s`` is above ``p + "\\x00" + rest`` exactly when it is above ``p``.
    """
    build = OPERATORS[op].build
    if op.takes_list:
        kept = tuple(v for v in value if not (isinstance(v, str) and "\x00" in v))
        if kept:
            return build(column, kept, traits)
    elif op.is_ordering:
        prefix = str(value).split("\x00", 1)[0]
        above = op in (Operator.GT, Operator.GE)
        return OPERATORS[Operator.GT if above else Operator.LE].build(column, prefix, traits)
    return column.is_not(None) if op.negative else sa.false()

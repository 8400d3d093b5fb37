"""The shape cache: a request shape seen before reuses its compiled statements.

An API server sees the same query *shape* with new values again and again. The shape of a
parsed request is everything that decides its SQL: the resource asked for, the dialect,
whether an account scopes it, per condition its path, operator (list-ness follows from it)
and, for ``~=``/``!~=``, whether the pattern starts with a wildcard (SQLite picks ``IN`` or
``EXISTS`` by it), then ``sort``, ``fields``, ``groupBy``, ``count``, ``replyWithCount``,
whether ``limit``/``start`` are given and whether ``start`` is non-zero (``OFFSET`` or not).

A miss resolves and compiles with *named* bind parameters (``compile_plan(named=True)``:
``zq_<i>`` for condition *i*, ``zq_account``, ``zq_limit``, ``zq_offset``) and keeps the
statements with, per condition, the value rule the resolver used. A hit skips resolve and
compile: each condition's text is coerced by that rule (:func:`~zquery.resolve.typed_value`,
so a bad value fails exactly as uncached), turned into its bind value by the one operator
table (:func:`~zquery.operators.bind_value`), and the statements run with the new params
dict, so SQLAlchemy's compiled cache answers for the statement too. Path, operator, sort,
fields and groupBy errors depend only on the shape, and only requests that resolved and
compiled without error are stored, so a hit can fail only where the uncached path fails on
values. A value that changes the SQL (NUL on PostgreSQL text, NUL in a SQLite LIKE pattern,
:func:`~zquery.operators.keeps_shape`) is never stored and never bound from the cache: such a
request takes the uncached path. The cache is bounded (oldest entries dropped first).

The per-condition parse before the lookup is fast too: :mod:`zquery.parse` memoises Lark's
result per path+operator prefix (see ``_parse_prefixed`` there).

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> from zquery.request import parse_request
>>> cache = ShapeCache(GRAPH)
>>> first = cache.prepare(parse_request("q=name~=vm%&limit=5"), "VmInstance", "sqlite")
>>> again = cache.prepare(parse_request("q=name~=db%&limit=7"), "VmInstance", "sqlite")
>>> again.compiled.rows is first.compiled.rows, again.compiled.params
(True, {'zq_0': 'db%', 'zq_limit': 7})
>>> len(cache)
1
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Any

from zquery.ast import Operator, QueryRequest
from zquery.coerce import FieldRule
from zquery.compile import LIMIT_PARAM, OFFSET_PARAM, CompiledQuery, compile_plan, condition_param
from zquery.compile_support import ACCOUNT_PARAM
from zquery.dialects import DialectTraits, SelectivityStats, traits_for
from zquery.operators import bind_value, keeps_shape, leading_wildcard
from zquery.plan import QueryPlan, Scope
from zquery.resolve import DEFAULT_OPTIONS, ResolveOptions, resolve_with_rules, typed_value
from zquery.schema.graph import SchemaGraph

__all__ = ["Prepared", "ShapeCache", "shape_key"]

_LIKES = (Operator.LIKE, Operator.NOT_LIKE)
_NULL_TESTS = (Operator.IS_NULL, Operator.NOT_NULL)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request ready to execute: its plan and statements (``compiled.params`` set)."""

    plan: QueryPlan
    compiled: CompiledQuery


@dataclass(frozen=True, slots=True)
class _Shape:
    plan: QueryPlan
    compiled: CompiledQuery
    rules: tuple[FieldRule, ...]
    traits: DialectTraits


def _with_params(compiled: CompiledQuery, params: dict[str, Any]) -> CompiledQuery:
    # The constructor, not dataclasses.replace: this runs on every hit.
    return CompiledQuery(compiled.rows, compiled.count, compiled.columns, compiled.shapes,
                         compiled.hidden, params)


def shape_key(request: QueryRequest, resource: str, dialect: str,
              scoped: bool) -> tuple[Hashable, ...]:
    """Everything of a request that decides its SQL, values left out (see the module doc).

    >>> from zquery.request import parse_request
    >>> a = shape_key(parse_request("q=name=a&start=3"), "VmInstance", "sqlite", False)
    >>> a == shape_key(parse_request("q=name=b&start=9"), "VmInstance", "sqlite", False)
    True
    """
    conditions = tuple(
        (c.path.segments, c.op,
         c.op in _LIKES and leading_wildcard(c.value or ""))
        for c in request.conditions)
    return (resource, dialect, scoped, conditions,
            tuple((k.field.path.segments, k.descending) for k in request.sort),
            tuple(f.path.segments for f in request.fields),
            tuple(f.path.segments for f in request.group_by),
            request.count, request.reply_with_count, request.limit_given,
            request.start_given, request.start > 0)


class ShapeCache:
    """Compiled statements per request shape, for one graph and one set of resolve options."""

    def __init__(self, graph: SchemaGraph, options: ResolveOptions = DEFAULT_OPTIONS, *,
                 max_entries: int = 1024) -> None:
        self.graph = graph
        self.options = options
        self.max_entries = max_entries
        self._shapes: OrderedDict[tuple[Hashable, ...], _Shape] = OrderedDict()

    def __len__(self) -> int:
        return len(self._shapes)

    def prepare(self, request: QueryRequest, resource: str, dialect: str, *,
                account: str | None = None,
                stats: SelectivityStats | None = None) -> Prepared:
        """The plan and statements for *request*, from the cache when its shape is known.

        *stats* (SQLite's ``sqlite_stat1``, see :func:`zquery.dialects.stats_for`) steer
        the IN/EXISTS choice; statements compiled under other statistics are not reused.
        """
        key = (*shape_key(request, resource, dialect, account is not None), id(stats))
        shape = self._shapes.get(key)
        if shape is not None:
            params = self._params(shape, request, account)
            if params is not None:
                plan = shape.plan
                if account is not None:
                    plan = replace(plan, scope=Scope(account))
                return Prepared(plan, _with_params(shape.compiled, params))
            return self._uncached(request, resource, dialect, account, stats)
        options = self._options(account)
        plan, rules = resolve_with_rules(request, self.graph, resource, options=options)
        traits = traits_for(dialect)
        if not all(c.op in _NULL_TESTS or keeps_shape(c.op, c.value, traits)
                   for c in plan.conditions):
            return Prepared(plan, compile_plan(plan, self.graph, dialect=dialect, stats=stats))
        compiled = compile_plan(plan, self.graph, dialect=dialect, stats=stats, named=True)
        shape = _Shape(plan, compiled, rules, traits)
        self._shapes[key] = shape
        if len(self._shapes) > self.max_entries:
            self._shapes.popitem(last=False)
        # Pass the same parameter names as every hit will: SQLAlchemy's compiled cache keys
        # on them, so the first run already makes the entry later runs find.
        params = self._params(shape, request, account)
        assert params is not None  # every value kept the shape: checked just above
        return Prepared(plan, _with_params(compiled, params))

    def _options(self, account: str | None) -> ResolveOptions:
        if account is None:
            return self.options
        return replace(self.options, scope=Scope(account))

    def _uncached(self, request: QueryRequest, resource: str, dialect: str,
                  account: str | None, stats: SelectivityStats | None) -> Prepared:
        plan = resolve_with_rules(request, self.graph, resource,
                                  options=self._options(account))[0]
        return Prepared(plan, compile_plan(plan, self.graph, dialect=dialect, stats=stats))

    def _params(self, shape: _Shape, request: QueryRequest,
                account: str | None) -> dict[str, Any] | None:
        """New values for the named parameters; None when a value would change the SQL."""
        params: dict[str, Any] = {}
        max_items = self.options.limits.max_list_elements
        for index, (cond, rule) in enumerate(zip(request.conditions, shape.rules, strict=True)):
            op = cond.op
            if op in _NULL_TESTS:
                continue
            value = typed_value(cond, rule, max_items)
            if not keeps_shape(op, value, shape.traits):
                return None
            params[condition_param(index)] = bind_value(op, value)
        if account is not None:
            params[ACCOUNT_PARAM] = account
        if shape.compiled.rows is not None:  # every page has a LIMIT
            params[LIMIT_PARAM] = request.limit
        if request.start > 0:
            params[OFFSET_PARAM] = request.start
        return params

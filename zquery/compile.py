"""Compile a :class:`~zquery.plan.QueryPlan` into SQLAlchemy ``Select`` statements.

:func:`compile_plan` builds the page (``rows``) and the total (``count``) with
SQLAlchemy's generative API, values as bound parameters only, so a plan that differs
from another only in its values compiles to a statement with the same cache key.
Conditions become semi-joins (:mod:`zquery.compile_conditions`); the operators come from
the one table in :mod:`zquery.operators`; per-database details from
:mod:`zquery.dialects`.

* Sorting walks to-one hops only, as aliased LEFT OUTER JOINs; NULLs come first in
  ascending and last in descending order on every database (``NULLS FIRST``/``LAST`` on
  PostgreSQL only, the others do it by default); strings sort by code point
  (``COLLATE "C"`` on PostgreSQL). With ``limit``/``start`` given, the primary key (the
  group fields for ``groupBy``) is appended as a tie-breaker.
* ``fields`` selects only those columns. Mapped fields are not columns: the executor
  loads them by their owner key, which is selected too when ``fields`` leaves it out and
  listed in :attr:`CompiledQuery.hidden` (select it, do not show it).
* ``groupBy`` selects the group fields and ``count(*) AS count``; the count statement
  then counts the groups.
* The count is ``SELECT count(*) FROM root WHERE <the same predicates>``: no ORDER BY,
  no sort joins, no ``count(DISTINCT)``, no window function.

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> from zquery.plan import QueryPlan
>>> vm = GRAPH.resource("VmInstance")
>>> plan = QueryPlan(resource=vm, conditions=(), sort=(), fields=(vm.field("uuid"),),
...                  group_by=(), limit=10, start=0, count=False, reply_with_count=True,
...                  paged=True)
>>> compiled = compile_plan(plan, GRAPH, dialect="postgresql")
>>> from sqlalchemy.dialects import postgresql
>>> sql = " ".join(str(compiled.rows.compile(dialect=postgresql.dialect())).split())
>>> sql.split(" ORDER BY ")[1]
'"VmInstanceVO".uuid COLLATE "C" ASC LIMIT %(param_1)s::INTEGER'
>>> " ".join(str(compiled.count).split())
'SELECT count(*) AS count_1 FROM "VmInstanceVO"'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.selectable import FromClause, Select

from zquery.caches import bounded
from zquery.compile_conditions import compile_conditions
from zquery.compile_support import Context, graph_tables
from zquery.dialects import DialectTraits, SelectivityStats, traits_for
from zquery.elements import where as add_where
from zquery.errors import ToManyNotAllowed
from zquery.frozen import quick_init
from zquery.plan import QueryPlan, ResolvedSort
from zquery.schema.graph import Field, Relation, SchemaGraph

__all__ = ["LIMIT_PARAM", "OFFSET_PARAM", "CompiledQuery", "compile_plan", "condition_param"]

#: Bind parameter names of LIMIT and OFFSET in a *named* compile.
LIMIT_PARAM = "zq_limit"
OFFSET_PARAM = "zq_offset"

Predicate = ColumnElement[bool]


@quick_init
@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """The statements of one plan.

    ``rows``: the page (None when ``plan.count``): the ``columns`` in order, each labelled
    with its field name, then ``count`` when ``plan.group_by``. ``count``: the total
    (when ``count`` or ``replyWithCount``), one integer. ``hidden``: names of columns that
    are selected only so the executor can load mapped fields (keys, not to be shown).
    ``shapes``: per condition, the SQL shape chosen and why (for ``explain``).
    """

    rows: Select[Any] | None
    count: Select[Any] | None
    columns: tuple[Field, ...]
    shapes: Sequence[str]
    hidden: tuple[str, ...] = ()
    #: Values for the named parameters (a shape-cache hit); the executor passes them.
    params: Mapping[str, Any] | None = None


def compile_plan(plan: QueryPlan, graph: SchemaGraph, *, dialect: str = "sqlite",
                 stats: SelectivityStats | None = None, named: bool = False) -> CompiledQuery:
    """Compile *plan* for *dialect* (``sqlite``, ``postgresql``, ``mysql``/``mariadb``).

    *stats* (SQLite only, see :func:`~zquery.dialects.stats_for`) refine the choice
    between ``IN`` and ``EXISTS``; without them an operator heuristic decides. *named*
    binds every value under a stable name (:func:`condition_param` for condition *i*,
    ``zq_account``, ``zq_limit``, ``zq_offset``) so :mod:`zquery.shapes` can rerun the
    statements with new values.
    """
    traits = traits_for(dialect)
    names = ({id(cond.condition): condition_param(index)
              for index, cond in enumerate(plan.conditions)} if named else None)
    ctx = Context(graph_tables(graph), traits, stats, plan.scope, names)
    root = ctx.tables.table(plan.resource.table)
    conditions = compile_conditions(ctx, plan, root)
    source = conditions.source  # the root, or (SQLite) the root JOIN selective to-one paths
    own = ctx.filters(plan.resource, root)
    rows_where = (*own, *conditions.rows) if own else conditions.rows
    columns: tuple[Field, ...] = plan.group_by
    hidden: tuple[str, ...] = ()
    rows = count = None
    if plan.group_by:
        if not plan.count:
            rows = _grouped_page(ctx, plan, root, rows_where, source)
    else:
        columns, hidden, selection = _selection(ctx, plan, root)
        if not plan.count:
            rows = _page(ctx, plan, root, rows_where, selection, source)
    if plan.count or plan.reply_with_count:
        count_where = (*own, *conditions.counted)
        count = (_group_count(plan, root, count_where, source) if plan.group_by
                 else add_where(_count_base(ctx, source), count_where))
    return CompiledQuery(rows, count, columns, conditions.shapes, hidden)


def _columns(plan: QueryPlan) -> tuple[tuple[Field, ...], tuple[str, ...]]:
    """The native fields the page selects, plus owner keys of requested mapped fields."""
    wanted = plan.fields or tuple(plan.resource.fields.values())
    columns = [f for f in wanted if f.mapped is None]
    selected = {f.column for f in columns}
    hidden: list[str] = []
    for f in wanted:
        if f.mapped is None or f.mapped.owner_key in selected:
            continue
        key = next(k for k in plan.resource.fields.values()
                   if k.mapped is None and k.column == f.mapped.owner_key)
        columns.append(key)
        hidden.append(key.name)
        selected.add(key.column)
    return tuple(columns), tuple(hidden)


def _labelled(table: FromClause, f: Field) -> ColumnElement[Any]:
    column = table.c[f.column]
    return column if f.column == f.name else column.label(f.name)


def _selection(ctx: Context, plan: QueryPlan,
               root: FromClause) -> tuple[tuple[Field, ...], tuple[str, ...], Select[Any]]:
    """Columns, hidden keys and the bare ``SELECT cols FROM root``: built once per field list.

    Coercing a wide column list is the costliest part of a small compile, and the result
    is immutable, so every later compile starts from the same object.
    """
    def build() -> tuple[tuple[Field, ...], tuple[str, ...], Select[Any]]:
        columns, hidden = _columns(plan)
        return columns, hidden, sa.select(*(_labelled(root, f) for f in columns))

    key = ("page", plan.resource.name,
           tuple([f.name for f in plan.fields]) if plan.fields else ())
    return ctx.tables.memo(key, build)


def _page(ctx: Context, plan: QueryPlan, root: FromClause, where: tuple[Predicate, ...],
          base: Select[Any], source: FromClause) -> Select[Any]:
    named = ctx.bind_names is not None
    order_key = _root_order_key(ctx, plan)
    if order_key is not None:
        # FROM (the root or a memoized JOIN), ORDER BY and LIMIT hold no condition value:
        # that skeleton is built once per shape and limit, and a compile adds its WHERE
        # (and OFFSET: one entry per start a client pages through would crowd the memo).
        def skeleton() -> Select[Any]:
            stmt = base if source is root else base.select_from(source)
            order = _root_order(ctx, plan, root, order_key)
            return _limit(stmt.order_by(*order) if order else stmt, plan.limit, named)

        stmt = add_where(ctx.tables.memo(("paged", base, source, order_key, plan.limit,
                                          named), skeleton), where)
        return _offset(stmt, plan.start, named) if plan.start else stmt
    joined, order = _sort(ctx, plan, root, source)
    if _needs_key_order(plan):
        order.append(_key_order(ctx, plan, root))
    stmt = base if joined is root else base.select_from(joined)
    stmt = add_where(stmt, where)
    return _paginate(stmt.order_by(*order) if order else stmt, plan, named)


def _root_order_key(ctx: Context, plan: QueryPlan) -> tuple[Any, ...] | None:
    """The memo key of a sort on the root's own columns (None: a key walks a relation or
    is mapped, and :func:`_sort` joins tables for it)."""
    if not plan.sort:
        return ("order", plan.resource.name, (), plan.paged, ctx.traits.name)
    keys: list[tuple[str, bool]] = []
    for key in plan.sort:
        if key.hops or key.field is None or key.field.mapped is not None:
            return None
        keys.append((key.field.column, key.descending))
    return ("order", plan.resource.name, tuple(keys), plan.paged, ctx.traits.name)


def _root_order(ctx: Context, plan: QueryPlan, root: FromClause,
                key: tuple[Any, ...]) -> tuple[ColumnElement[Any], ...]:
    """The ORDER BY of a sort on the root's own columns, the key appended when paged: it
    holds no value, so it is built once per sort."""
    def build() -> tuple[ColumnElement[Any], ...]:
        order = [_order(root.c[column], descending, ctx.traits)
                 for column, descending in key[2]]
        if _needs_key_order(plan):
            order.append(_key_order(ctx, plan, root))
        return tuple(order)

    return ctx.tables.memo(key, build)


def _needs_key_order(plan: QueryPlan) -> bool:
    """A paged request ends its ORDER BY with the primary key unless a sort key is it."""
    pk = plan.resource.primary_key
    return plan.paged and not any(not s.hops and s.field is not None and s.field.column == pk
                                  for s in plan.sort)


def _key_order(ctx: Context, plan: QueryPlan, root: FromClause) -> ColumnElement[Any]:
    """The tie-breaker the contract appends to a paged sort: the primary key, ascending."""
    return _order(root.c[plan.resource.primary_key], False, ctx.traits, nullable=False)


def _paginate(stmt: Select[Any], plan: QueryPlan, named: bool) -> Select[Any]:
    stmt = _limit(stmt, plan.limit, named)
    return _offset(stmt, plan.start, named) if plan.start else stmt


def _limit(stmt: Select[Any], limit: int, named: bool) -> Select[Any]:
    # Typed Integer: PostgreSQL must not see LIMIT of an unknown-typed parameter.
    return stmt.limit(sa.bindparam(LIMIT_PARAM, limit, type_=sa.Integer()) if named
                      else _count_param(limit))


def _offset(stmt: Select[Any], start: int, named: bool) -> Select[Any]:
    return stmt.offset(sa.bindparam(OFFSET_PARAM, start, type_=sa.Integer()) if named
                       else _count_param(start))


#: LIMIT/OFFSET parameters by value. A bound integer is immutable, so one object serves
#: every statement with that value; SQLAlchemy coerces a bare ``int`` anew each time (7 of
#: a one-condition compile's ~30 µs). Bounded: a client chooses the numbers.
_COUNT_PARAMS: dict[int, BindParameter[int]] = {}
_COUNT_PARAMS_LIMIT = 1024


def _count_param(value: int) -> BindParameter[int]:
    return bounded(_COUNT_PARAMS, value, _COUNT_PARAMS_LIMIT, _integer_param, value)


def _integer_param(value: int) -> BindParameter[int]:
    return sa.bindparam(None, value, type_=sa.Integer(), unique=True)


def condition_param(index: int) -> str:
    """The bind parameter name of condition *index*'s value in a *named* compile."""
    return f"zq_{index}"


def _order(expr: ColumnElement[Any], descending: bool, traits: DialectTraits, *,
           nullable: bool = True) -> ColumnElement[Any]:
    if traits.exact_collation and isinstance(expr.type, sa.String):
        expr = expr.collate(traits.exact_collation)
    ordered = expr.desc() if descending else expr.asc()
    if traits.explicit_nulls_order and nullable:
        ordered = ordered.nulls_last() if descending else ordered.nulls_first()
    return ordered


def _sort(ctx: Context, plan: QueryPlan, root: FromClause,
          source: FromClause) -> tuple[FromClause, list[ColumnElement[Any]]]:
    """The outer FROM (*source* plus one LEFT OUTER JOIN per to-one sort path) and ORDER BY."""
    joined: FromClause = source
    ends: dict[tuple[Relation, ...], FromClause] = {(): root}
    order: list[ColumnElement[Any]] = []
    for key in plan.sort:
        assert key.field is not None
        path: tuple[Relation, ...] = ()
        end = root
        for hop in key.hops:
            path = (*path, hop.relation)
            if path not in ends:
                joined, ends[path] = _outer_hop(ctx, joined, end, hop.relation)
            end = ends[path]
        mapped = key.field.mapped
        if mapped is None:
            column = end.c[key.field.column]
        else:
            _refuse_list_sort(key)
            table = ctx.fresh(mapped.table)
            joined = joined.outerjoin(
                table, table.c[mapped.join_column] == end.c[mapped.owner_key])
            column = table.c[mapped.value_column]
        order.append(_order(column, key.descending, ctx.traits))
    return joined, order


def _outer_hop(ctx: Context, joined: FromClause, end: FromClause,
               relation: Relation) -> tuple[FromClause, FromClause]:
    target = ctx.graph.resources[relation.target]
    alias = ctx.fresh(target.table)
    if relation.through is not None:
        link = ctx.fresh(relation.through.table)
        joined = joined.outerjoin(
            link, link.c[relation.through.source_column] == end.c[relation.local_key])
        on = [alias.c[relation.remote_key] == link.c[relation.through.target_column]]
    else:
        on = [alias.c[relation.remote_key] == end.c[relation.local_key]]
    # An invisible or other-typed target sorts as if absent (NULL), never leaks its value.
    on.extend(ctx.filters(target, alias))
    return joined.outerjoin(alias, sa.and_(*on)), alias


def _refuse_list_sort(key: ResolvedSort) -> None:
    assert key.field is not None and key.field.mapped is not None
    if key.field.mapped.many:
        span = key.hops[-1].span if key.hops else None
        raise ToManyNotAllowed(
            f"cannot sort by '{key.field.name}': it holds a list of values",
            param="sort", value=key.field.name, start=span.start if span else None,
            end=span.end if span else None, hint="sort by a single-valued field")


def _grouped_page(ctx: Context, plan: QueryPlan, root: FromClause,
                  where: tuple[Predicate, ...], source: FromClause) -> Select[Any]:
    def build() -> tuple[Select[Any], tuple[ColumnElement[Any], ...]]:
        # SELECT groups, count GROUP BY groups and the ORDER BY hold no value: built once.
        groups = [root.c[f.column] for f in plan.group_by]
        count = sa.func.count().label("count")
        grouped = sa.select(*(_labelled(root, f) for f in plan.group_by), count).group_by(
            *groups)
        order: list[ColumnElement[Any]] = []
        sorted_columns: set[str] = set()
        for key in plan.sort:
            if key.field is None:
                order.append(count.desc() if key.descending else count.asc())
            else:
                order.append(_order(root.c[key.field.column], key.descending, ctx.traits))
                sorted_columns.add(key.field.column)
        if plan.paged:
            order.extend(_order(root.c[f.column], False, ctx.traits) for f in plan.group_by
                         if f.column not in sorted_columns)
        return grouped, tuple(order)

    sort = tuple((key.field.name if key.field else None, key.descending) for key in plan.sort)
    grouped, order = ctx.tables.memo(
        ("grouped", plan.resource.name, tuple(f.name for f in plan.group_by), sort,
         plan.paged, ctx.traits.name), build)
    stmt = grouped if source is root else grouped.select_from(source)
    stmt = add_where(stmt, where)
    return _paginate(stmt.order_by(*order) if order else stmt, plan,
                     ctx.bind_names is not None)


def _count_base(ctx: Context, source: FromClause) -> Select[Any]:
    """``SELECT count(*) FROM source`` (the root or a memoized JOIN: built once each)."""
    return ctx.tables.memo(("count", source),
                           lambda: sa.select(sa.func.count()).select_from(source))


def _group_count(plan: QueryPlan, root: FromClause, where: tuple[Predicate, ...],
                 source: FromClause) -> Select[Any]:
    groups = [root.c[f.column] for f in plan.group_by]
    grouped = sa.select(*groups)
    if source is not root:
        grouped = grouped.select_from(source)
    inner = grouped.where(*where).group_by(*groups).subquery("zq_groups")
    return sa.select(sa.func.count()).select_from(inner)

"""One condition → one SQL predicate on the root row, and the shape chosen for it.

Each condition is its own existential test (contract section 3):

* no hops, a plain field: the operator on the root's column;
* hops: ONE flattened semi-join, ``root.key IN (SELECT first.key FROM first JOIN …
  WHERE …)``, many-to-many link tables joined inside; conditions over the same to-one
  path (and no guard) share one subquery, which is exact since each row has at most one
  target there (on SQLite a selective one is an inner JOIN instead, see below);
* mapped fields join their mapping table into that subquery (or form one of their own);
  ``is null`` on a mapped field means "no non-null mapped value" (``NOT EXISTS``);
* tags: a positive operator joins the tag table (``resourceUuid`` = the resource's key,
  ``resourceType`` = its type); ``!=``, ``!?=``, ``!~=`` and ``is null`` become
  ``NOT EXISTS`` ("has no tag matching the positive form", "has no tag");
* guards (``vmNics.vmInstance.name=x`` → ``name=x`` + "has a NIC") join the guard's
  relation at their depth, or form a semi-join of their own at depth 0.

SQLite has no safe shape (``/work/shared/research/sql-shapes.md``): ``IN`` materializes
the subquery, correlated ``EXISTS`` scans the root. There a to-many semi-join is an
``EXISTS`` when the condition is unselective (statistics, or the operator heuristic of
:data:`~zquery.operators.OPERATORS`) and an ``IN`` otherwise; counts take ``EXISTS``
unless the condition is known to be selective or the root table is small
(:data:`COUNT_EXISTS_MIN_ROWS`). A selective to-one path (hops onto primary keys, plain
columns tested; :data:`TO_ONE_JOIN_FRACTION`) is an inner JOIN of the root: SQLite
guesses 25 rows for any ``IN (SELECT …)`` and on a small table scans the root instead
of probing the foreign-key index (2× the JOIN at 1,000 VMs). From
:data:`TO_ONE_JOIN_MIN_ROWS` root rows every such path is a JOIN, selective or not: the
``IN`` builds the whole target list first and then cannot use the root's order, up to 87×
the JOIN at 100,000 VMs. Other databases keep ``IN``, which their planners turn into the
same join.

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> from zquery.ast import Condition, Operator, Path, Span
>>> from zquery.compile_support import Context, graph_tables
>>> from zquery.dialects import traits_for
>>> from zquery.plan import Hop
>>> vm, nic = GRAPH.resource("VmInstance"), GRAPH.resource("VmNic")
>>> text = Condition(Path(("vmNics", "ip"), (Span(0, 6), Span(7, 9)), Span(0, 9)), Operator.NE,
...                  "x", None, Span(9, 11), Span(11, 12), Span(0, 12), "q[0]", "vmNics.ip!=x")
>>> cond = ResolvedCondition(text, (Hop(vm.relations["vmNics"], Span(0, 6)),), nic,
...                          nic.field("ip"), None, Operator.NE, "x")
>>> plan = QueryPlan(vm, (cond,), (), (), (), 10, 0, False, False, False)
>>> ctx = Context(graph_tables(GRAPH), traits_for("sqlite"), None, None)
>>> compile_conditions(ctx, plan, ctx.tables.table("VmInstanceVO")).shapes[0]
"q[0]: EXISTS semi-join over VmInstance→VmNic (SQLite, unselective: operator '!=')"
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, NamedFromClause

from zquery.ast import Operator
from zquery.compile_notes import Built, Note, ShapeNotes
from zquery.compile_support import Chain, Context, Route
from zquery.dialects import Selectivity
from zquery.operators import OPERATORS, leading_wildcard, predicate
from zquery.plan import Guard, Hop, QueryPlan, ResolvedCondition, TagKind
from zquery.schema.graph import Relation, Resource

__all__ = ["COUNT_EXISTS_MIN_ROWS", "PAGE_EXISTS_MIN_ROWS", "SELECTIVE_FRACTION",
           "TO_ONE_JOIN_FRACTION", "TO_ONE_JOIN_MIN_ROWS", "ConditionsSql",
           "compile_conditions"]

Predicate = ColumnElement[bool]

#: On SQLite, a condition expected to keep at most this fraction of the root's rows is
#: selective (IN); above it, EXISTS (measured crossover for a 1000-row page at 1M rows).
SELECTIVE_FRACTION = 0.02
#: On SQLite, a to-one path expected to keep at most this fraction of the root's rows is
#: an inner JOIN, above it ``IN`` (measured: the JOIN wins up to ~27% of the rows, ties
#: near 50% and loses up to 1.3× at 60–70%, where ``IN`` scans the root in order).
TO_ONE_JOIN_FRACTION = 0.25
#: On SQLite, from this many root rows (``sqlite_stat1``) a to-one path is an inner JOIN
#: whatever its selectivity. Measured with the demo estate, JOIN/IN: 0.01–0.16× on pages
#: in key or name order (``IN`` lists the targets, then sorts every matching root row),
#: 0.43–1.02× on the rest (date-sorted pages, counts), at 10,000 to 1,000,000 VMs; but up
#: to 2× at 1,000 VMs.
TO_ONE_JOIN_MIN_ROWS = 10_000
#: On SQLite, a count over fewer root rows than this (``sqlite_stat1``) stays ``IN``:
#: a correlated EXISTS runs its joins once per root row (EXISTS/IN measured 3.3× at 1,000
#: VMs, 1.1–1.25× at 20,000, 0.57× at 1M in the SQL-shape research: crossover ~45,000).
COUNT_EXISTS_MIN_ROWS = 50_000
#: On SQLite, an unselective page over fewer root rows than this stays ``IN`` too: EXISTS
#: pays by stopping once a page is full, which saves little under ten default pages
#: (EXISTS/IN measured 1.3–1.9× at 1,000 VMs, 1.05–3.3× at 5,000, 0.38× at 20,000). A
#: table size, not the request's limit, so a cached shape fits every limit.
PAGE_EXISTS_MIN_ROWS = 10_000


class ConditionsSql(NamedTuple):
    """The predicates for the page and for the count, one shape line per test, and the
    FROM both select from: the root, or the root inner-joined to to-one targets. (A
    compile-internal record, one per compile: a named tuple costs a third of a frozen
    dataclass to build.)"""

    rows: tuple[Predicate, ...]
    counted: tuple[Predicate, ...]
    shapes: ShapeNotes
    source: FromClause


def compile_conditions(ctx: Context, plan: QueryPlan, root: NamedFromClause) -> ConditionsSql:
    """Every condition (and guard) of *plan* as predicates on *root*."""
    rows: list[Predicate] = []
    count: list[Predicate] = []
    notes: list[Note] = []
    shared: dict[tuple[str, ...], tuple[Route, list[tuple[int, ResolvedCondition]]]] = {}
    for index, cond in enumerate(plan.conditions):
        param = cond.condition.param
        field = cond.field
        if not cond.hops and field is not None and field.mapped is None and not cond.guards:
            # The common case, kept lean: the operator on one of the root's own columns.
            test = predicate(ctx.tables.column(root, field.column), cond.op, cond.value, ctx.traits,
                             ctx.bind_name(cond.condition))
            rows.append(test)
            count.append(test)
            notes.append((index, param, None, ""))
            continue
        route = ctx.tables.route(cond.hops) if cond.hops else None
        if route is not None and _shares_to_one_path(route, cond):
            # Relation names from the root name one path (names are unique per resource).
            shared.setdefault(route.names, (route, []))[1].append((index, cond))
            continue
        page_exists, count_exists, why, count_why = _choose(ctx, plan.resource, cond)
        page = _condition(ctx, root, cond, route, exists=page_exists)
        rows.append(page.predicate)
        notes.append((index, param, page, why))
        if count_exists == page_exists:
            count.append(page.predicate)
        else:
            counted = _condition(ctx, root, cond, route, exists=count_exists)
            count.append(counted.predicate)
            notes.append((index, f"{param} (count)", counted, count_why))
        for guard in cond.guards:
            if guard.depth == 0:
                built = _guard(ctx, root, guard)
                rows.append(built.predicate)
                count.append(built.predicate)
                notes.append((index, f"{param} guard", built, "has at least one"))
    source: FromClause = root
    for route, group in shared.values():
        conds = [cond for _, cond in group]
        join, why = _to_one_join(ctx, plan.resource, route, conds)
        if join:
            source, built = _joined(ctx, source, root, route, conds)
        else:
            built = _shared(ctx, root, route, conds)
        rows.append(built.predicate)
        count.append(built.predicate)
        params = tuple([cond.condition.param for cond in conds])
        notes.extend((index, cond.condition.param, built, (params, why))
                     for index, cond in group)
    return ConditionsSql(tuple(rows), tuple(count), ShapeNotes(plan.resource.name, notes),
                         source)


def _shares_to_one_path(route: Route, cond: ResolvedCondition) -> bool:
    # A positive tag joins the (to-many) tag table: two of them must not share it.
    if route.to_many or cond.guards:
        return False
    if cond.tag is None:
        mapped = cond.field.mapped if cond.field is not None else None
        return mapped is None or not mapped.many
    return cond.op.negative or cond.op is Operator.IS_NULL


def _condition(ctx: Context, root: NamedFromClause, cond: ResolvedCondition,
               route: Route | None, *, exists: bool) -> Built:
    chain = Chain(ctx)
    ends = _walk(chain, root, cond.hops)
    for guard in cond.guards:
        if guard.depth > 0:
            chain.hop(ends[guard.depth], guard.relation)
    at_end, tables = _terminal(ctx, chain, ends[-1], cond)
    path = route.targets if route is not None else ()
    guards = tuple(g.relation.name for g in cond.guards if g.depth > 0)
    if chain.empty:
        kind = "NOT EXISTS" if tables else "column"
        only = at_end[0] if len(at_end) == 1 else sa.and_(*at_end)
        return Built(only, kind, path, tables)
    chain.where.extend(at_end)
    kind = "EXISTS" if exists else "IN"
    return Built(chain.semi_join(root, exists=exists), kind, path, tables, guards)


def _walk(chain: Chain, root: NamedFromClause, hops: tuple[Hop, ...]) -> list[NamedFromClause]:
    """The alias reached after each hop; index 0 is the root."""
    ends = [root]
    for hop in hops:
        ends.append(chain.hop(ends[-1], hop.relation))
    return ends


def _terminal(ctx: Context, chain: Chain, end: NamedFromClause,
              cond: ResolvedCondition) -> tuple[list[Predicate], tuple[str, ...]]:
    """The field or tag test at the end of the path: predicates on *end* (or on tables
    this adds to *chain*), and the names of the extra tables involved."""
    op, value, traits = cond.op, cond.value, ctx.traits
    bind_name = ctx.bind_name(cond.condition)
    if cond.tag is not None:
        assert ctx.graph.tags is not None
        tags = ctx.graph.tags
        name = tags.system_table if cond.tag.kind is TagKind.SYSTEM else tags.user_table
        tag = ctx.fresh(name)
        key = ctx.tables.column(end, cond.resource.primary_key)
        kind = cond.tag.resource_type
        # The type test names a schema constant, not a request value: built once per alias.
        test: list[Predicate] = [ctx.tables.memo(
            ("tag type", tag.name, kind), lambda: tag.c[tags.resource_type] == kind)]
        if op.negative or op is Operator.IS_NULL:
            if op.negative:
                test.append(predicate(tag.c[tags.tag], op.positive, value, traits, bind_name))
            found = sa.select(sa.literal_column("1")).select_from(tag).where(
                tag.c[tags.resource_uuid] == key, *test).exists()
            return [~found], (name,)
        chain.link(end, cond.resource.primary_key, tag, tags.resource_uuid)
        if op is not Operator.NOT_NULL:
            test.append(predicate(tag.c[tags.tag], op, value, traits, bind_name))
        return test, (name,)
    assert cond.field is not None
    mapped = cond.field.mapped
    if mapped is None:
        column = ctx.tables.column(end, cond.field.column)
        return [predicate(column, op, value, traits, bind_name)], ()
    table = ctx.fresh(mapped.table)
    if op is Operator.IS_NULL:
        found = sa.select(sa.literal_column("1")).select_from(table).where(
            table.c[mapped.join_column] == end.c[mapped.owner_key],
            table.c[mapped.value_column].is_not(None)).exists()
        return [~found], (mapped.table,)
    chain.link(end, mapped.owner_key, table, mapped.join_column)
    return ([predicate(table.c[mapped.value_column], op, value, traits, bind_name)],
            (mapped.table,))


def _guard(ctx: Context, root: NamedFromClause, guard: Guard) -> Built:
    chain = Chain(ctx)
    chain.hop(root, guard.relation)
    exists = ctx.traits.choose_by_selectivity and guard.relation.to_many
    kind = "EXISTS" if exists else "IN"
    return Built(chain.semi_join(root, exists=exists), kind, (guard.relation.target,))


def _shared(ctx: Context, root: NamedFromClause, route: Route,
            group: list[ResolvedCondition]) -> Built:
    chain = Chain(ctx)
    ends = _walk(chain, root, route.hops)
    tables: tuple[str, ...] = ()
    for cond in group:
        at_end, extra = _terminal(ctx, chain, ends[-1], cond)
        chain.where.extend(at_end)
        tables += tuple(t for t in extra if t not in tables)
    return Built(chain.semi_join(root, exists=False), "IN", route.targets, tables)


def _joined(ctx: Context, source: FromClause, root: NamedFromClause, route: Route,
            group: list[ResolvedCondition]) -> tuple[FromClause, Built]:
    """*source* inner-joined along the group's to-one path, and the group's tests on the
    target (its filters included) as one predicate for the WHERE."""
    end = root
    tests: list[Predicate] = []
    for hop, target in zip(route.hops, route.resources, strict=True):
        relation = hop.relation
        alias = ctx.fresh(target.table)
        # Holds no value: one JOIN object per shape, so the statement built on it is too.
        source = ctx.tables.memo(("inner join", source, alias.name, end.name, relation.name),
                                 _inner_join, ctx, source, alias, end, relation)
        tests.extend(ctx.filters(target, alias))
        end = alias
    for cond in group:
        assert cond.field is not None
        tests.append(predicate(ctx.tables.column(end, cond.field.column), cond.op,
                               cond.value, ctx.traits, ctx.bind_name(cond.condition)))
    test = tests[0] if len(tests) == 1 else sa.and_(*tests)
    return source, Built(test, "JOIN", route.targets)


def _inner_join(ctx: Context, source: FromClause, alias: NamedFromClause,
                end: NamedFromClause, relation: Relation) -> FromClause:
    return source.join(alias, ctx.tables.equal(alias, relation.remote_key, end,
                                               relation.local_key))


# -- SQLite: IN, EXISTS or JOIN -------------------------------------------------------------

def _to_one_join(ctx: Context, root: Resource, route: Route,
                 group: list[ResolvedCondition]) -> tuple[bool, str]:
    """(inner JOIN rather than IN?, why) for conditions sharing one to-one path."""
    if not ctx.traits.choose_by_selectivity or not route.exact_join:
        return False, ""  # a JOIN is exact only onto at most one target row
    for cond in group:
        if cond.tag is not None or cond.field is None or cond.field.mapped is not None:
            return False, ""  # tags and mapped fields bring tables of their own
    reasons = []
    for cond in group:  # ANDed: one selective condition makes the group selective
        selectivity, reason = _selectivity(ctx, root, cond, TO_ONE_JOIN_FRACTION)
        if selectivity is Selectivity.SELECTIVE:
            return True, _SELECTIVE_JOIN.get(reason) or f"SQLite, selective: {reason}"
        reasons.append(f"{selectivity.value}: {reason}")
    why = "SQLite, " + "; ".join(reasons)
    rows = ctx.stats.rows(root.table) if ctx.stats is not None else None
    if rows is not None and rows >= TO_ONE_JOIN_MIN_ROWS:
        return True, f"{why}; root of {rows} ≥ {TO_ONE_JOIN_MIN_ROWS} rows"
    return False, why


def _choose(ctx: Context, root: Resource,
            cond: ResolvedCondition) -> tuple[bool, bool, str, str]:
    """(EXISTS for the page?, EXISTS for the count?, why, why for the count)."""
    if not ctx.traits.choose_by_selectivity or not _to_many_semi_join(cond):
        return False, False, "", ""
    selectivity, reason = _selectivity(ctx, root, cond, SELECTIVE_FRACTION)
    page = selectivity is Selectivity.UNSELECTIVE
    why = f"SQLite, {selectivity.value}: {reason}"
    if selectivity is Selectivity.SELECTIVE:
        return page, False, why, why
    rows = ctx.stats.rows(root.table) if ctx.stats is not None else None
    if page and rows is not None and rows < PAGE_EXISTS_MIN_ROWS:
        page, why = False, f"{why}; page over {rows} < {PAGE_EXISTS_MIN_ROWS} rows"
    if rows is not None and rows < COUNT_EXISTS_MIN_ROWS:
        return page, False, why, f"{why}; count over {rows} < {COUNT_EXISTS_MIN_ROWS} rows"
    return page, True, why, why


def _to_many_semi_join(cond: ResolvedCondition) -> bool:
    """True when the condition becomes a semi-join that may keep many rows per root row
    (a to-many hop, a list-valued mapped field or a positive tag test)."""
    if cond.tag is not None:
        return bool(cond.hops) or not (cond.op.negative or cond.op is Operator.IS_NULL)
    return cond.to_many and (bool(cond.hops) or cond.op is not Operator.IS_NULL)


#: The reason "by its operator", per operator (written once, not per compile).
_BY_OPERATOR = {op: f"operator '{op.symbol}'" for op in Operator}
#: The JOIN's reason for each of those, written once too (the common case: no statistics).
_SELECTIVE_JOIN = {why: f"SQLite, selective: {why}" for why in _BY_OPERATOR.values()}


def _selectivity(ctx: Context, root: Resource, cond: ResolvedCondition,
                 fraction: float) -> tuple[Selectivity, str]:
    """Selective when expected to keep at most *fraction* of the root's rows."""
    op = cond.op
    hint = OPERATORS[op].selective
    if cond.tag is not None and (op.negative or op is Operator.IS_NULL):
        hint = False
    if hint is None:
        if leading_wildcard(str(cond.value)):
            return Selectivity.UNSELECTIVE, f"'{op.symbol}' with a leading wildcard"
        return Selectivity.UNKNOWN, f"'{op.symbol}' without a leading wildcard"
    if not hint:
        return Selectivity.UNSELECTIVE, _BY_OPERATOR[op]
    if ctx.stats is None:  # no statistics: the operator's hint decides
        return Selectivity.SELECTIVE, _BY_OPERATOR[op]
    estimate = _estimate_rows(ctx, cond)
    root_rows = ctx.stats.rows(root.table)
    if estimate is None or not root_rows:
        return Selectivity.SELECTIVE, _BY_OPERATOR[op]
    share = f"~{estimate:.0f} of {root_rows} rows"
    if estimate <= fraction * root_rows:
        return Selectivity.SELECTIVE, share
    return Selectivity.UNSELECTIVE, share


def _estimate_rows(ctx: Context, cond: ResolvedCondition) -> float | None:
    """Root rows an ``=``/``?=`` condition keeps, from ``sqlite_stat1`` (None: unknown).

    Rows matching at the end of the path, multiplied back along each hop by the rows
    per key of the column the hop leaves from (1 when that column is the primary key).
    """
    stats = ctx.stats
    if stats is None:
        return None
    values = len(cond.value) if isinstance(cond.value, tuple) else 1
    if cond.tag is not None:
        assert ctx.graph.tags is not None
        kind = ctx.graph.tags
        table = kind.system_table if cond.tag.kind is TagKind.SYSTEM else kind.user_table
        per_key = stats.per_key(table, kind.tag)
        owners: float | None = 1.0
    else:
        assert cond.field is not None
        mapped = cond.field.mapped
        if mapped is None:
            per_key, owners = stats.per_key(cond.resource.table, cond.field.column), 1.0
        else:
            per_key = stats.per_key(mapped.table, mapped.value_column)
            owners = _fan_in(ctx, cond.resource, mapped.owner_key)
    if per_key is None or owners is None:
        return None
    rows = per_key * values * owners
    for hop in reversed(cond.hops):
        fan = _hop_fan_in(ctx, hop.relation)
        if fan is None:
            return None
        rows *= fan
    return rows


def _hop_fan_in(ctx: Context, relation: Relation) -> float | None:
    """Source rows that reach one target row over *relation* (an average)."""
    source = ctx.graph.resources[relation.source]
    fan = _fan_in(ctx, source, relation.local_key)
    if fan is None or relation.through is None:
        return fan
    assert ctx.stats is not None
    links = ctx.stats.per_key(relation.through.table, relation.through.target_column)
    return None if links is None else fan * links


def _fan_in(ctx: Context, resource: Resource, column: str) -> float | None:
    if column == resource.primary_key:
        return 1.0
    assert ctx.stats is not None
    return ctx.stats.per_key(resource.table, column)

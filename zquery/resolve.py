"""The resolver: a parsed request checked against the schema graph, values typed.

:func:`resolve` turns a :class:`~zquery.ast.QueryRequest` into a
:class:`~zquery.plan.QueryPlan` for one root resource (contract sections 2, 3, 5, 7, 8):
paths become hops (:mod:`zquery.walk`), values become the field's Python type
(:mod:`zquery.coerce`), operators are checked against the type, and ``sort``, ``fields``
and ``groupBy`` are checked against the result rules. Errors come from the
:class:`~zquery.errors.ResolveError` and :class:`~zquery.errors.LimitError` families,
each with its parameter, its value and the span of the bad part.

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> from zquery.ast import Condition, Operator, Path, QueryRequest, Span
>>> text = "zone.uuid=Z1"
>>> cond = Condition(Path(("zone", "uuid"), (Span(0, 4), Span(5, 9)), Span(0, 9)),
...                  Operator.EQ, "Z1", None, Span(9, 10), Span(10, 12), Span(0, 12), "q[0]", text)
>>> plan = resolve(QueryRequest(conditions=(cond,)), GRAPH, "vm-instances")
>>> resolved = plan.conditions[0]
>>> resolved.hops, resolved.field.name, resolved.value
((), 'zoneUuid', 'Z1')
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from zquery.ast import Condition, FieldRef, Operator, QueryRequest, SortKey
from zquery.coerce import Coercer, FieldRule, list_element_spans
from zquery.errors import (
    BadOperator,
    BadValue,
    NotAllowedHere,
    ToManyNotAllowed,
    TooManyListElements,
    UnknownField,
    did_you_mean,
)
from zquery.limits import Limits
from zquery.parse import split_list_value
from zquery.plan import (
    CycleNote,
    CyclePolicy,
    QueryPlan,
    ResolvedCondition,
    ResolvedSort,
    Scalar,
    Scope,
    TagTarget,
    Value,
)
from zquery.schema.graph import Field, Resource, SchemaGraph
from zquery.walk import (
    PathWalker,
    ResourceTable,
    WalkedPath,
    shorten,
    table_for,
    walker_for,
)

__all__ = ["DEFAULT_OPTIONS", "ResolveOptions", "resolve", "resolve_with_rules", "typed_value"]

# Operator classes as tuples: an Enum property costs far more than a tuple membership test.
_NULL_TESTS = (Operator.IS_NULL, Operator.NOT_NULL)
_LISTS = (Operator.IN, Operator.NOT_IN)
_LIKES = (Operator.LIKE, Operator.NOT_LIKE)
#: With ``groupBy``, the sort key naming the group size.
COUNT_KEY = "count"


@dataclass(frozen=True, slots=True)
class ResolveOptions:
    """How to resolve: the cycle policy, the limits and an optional account scope."""

    cycle_policy: CyclePolicy = CyclePolicy.SIMPLIFY
    limits: Limits = dataclass_field(default_factory=Limits)
    scope: Scope | None = None


#: The options :func:`resolve` uses when given none (admin, default limits, ``simplify``).
DEFAULT_OPTIONS = ResolveOptions()


def resolve(
    request: QueryRequest,
    graph: SchemaGraph,
    resource: str | Resource,
    *,
    options: ResolveOptions = DEFAULT_OPTIONS,
) -> QueryPlan:
    """Resolve *request* against *resource* (a name, Query API name, REST path or resource)."""
    return resolve_with_rules(request, graph, resource, options=options)[0]


def resolve_with_rules(
    request: QueryRequest,
    graph: SchemaGraph,
    resource: str | Resource,
    *,
    options: ResolveOptions = DEFAULT_OPTIONS,
) -> tuple[QueryPlan, tuple[FieldRule, ...]]:
    """:func:`resolve`, plus each condition's value rule (for :mod:`zquery.shapes`)."""
    root = resource if isinstance(resource, Resource) else graph.resource(resource)
    table = table_for(graph, root)
    cycles: list[CycleNote] = []
    warnings: list[str] = []
    conditions: tuple[ResolvedCondition, ...] = ()
    rules: list[FieldRule] = []
    if request.conditions:
        walker = walker_for(table, options.cycle_policy, options.limits.max_depth)
        max_items = options.limits.max_list_elements
        conditions = tuple([_condition(cond, walker, max_items, cycles, warnings, rules)
                            for cond in request.conditions])
    group_by = _native_fields(request.group_by, table, group=True) if request.group_by else ()
    if request.fields and request.group_by:
        ref = request.fields[0]
        raise NotAllowedHere("fields cannot be combined with groupBy", param=ref.param,
                             value=ref.text, start=ref.path.span.start, end=ref.path.span.end,
                             hint="a groupBy reply carries the group fields and count only")
    fields = _native_fields(request.fields, table, group=False) if request.fields else ()
    sort = (tuple([_sort_key(key, table, group_by, options, cycles) for key in request.sort])
            if request.sort else ())
    return QueryPlan(
        root, conditions, sort, fields, group_by, request.limit, request.start, request.count,
        request.reply_with_count, request.paged, tuple(cycles) if cycles else (),
        tuple(warnings) if warnings else (), options.scope), tuple(rules)


def _condition(cond: Condition, walker: PathWalker, max_items: int, cycles: list[CycleNote],
               warnings: list[str], rules: list[FieldRule]) -> ResolvedCondition:
    walked = walker.walk(cond.path, cond.param, cond.text)
    rules.append(walked.rule)
    if walked.cycles:
        cycles.extend(walked.cycles)
        if walked.rewrite is not None:
            warnings.append(f"{cond.param}: {walked.rewrite}")
    tag = None
    if walked.tag is not None:
        # A tag name only resolves on a resource with a tag type (see zquery.walk).
        tag = TagTarget(walked.tag, walked.resource.tag_type or "")
    op = cond.op
    value: Value = None
    if op not in _NULL_TESTS:
        if op not in walked.rule.allowed:
            raise _bad_operator(cond, walked)
        value = typed_value(cond, walked.rule, max_items)
    return ResolvedCondition(cond, walked.hops, walked.resource, walked.field, tag, op, value,
                             walked.guards)


def typed_value(cond: Condition, rule: FieldRule, max_items: int) -> Value:
    """The condition's value as the field's type (the resolver's own coercion, errors too)."""
    op = cond.op
    if op in _NULL_TESTS:
        return None
    text = cond.value if cond.value is not None else ""
    coerce = rule.coerce
    if op not in _LISTS:
        if coerce is None or op in _LIKES:
            return text
        start = cond.value_span.start if cond.value_span is not None else cond.op_span.end
        return _coerced(coerce, text, cond, start, start + len(text))
    start = cond.value_span.start if cond.value_span is not None else cond.op_span.end
    items = cond.items if cond.items is not None else split_list_value(text)[0]
    if len(items) > max_items:
        spans = _element_spans(text, start, len(items))
        raise TooManyListElements(
            f"the list has {len(items)} elements, more than max_list_elements={max_items}",
            param=cond.param, value=cond.text, start=spans[max_items][0],
            end=start + len(text),
            hint=f"split the condition or raise Limits.max_list_elements (now {max_items})",
            extra={"limit": "max_list_elements", "max": max_items, "actual": len(items)})
    if coerce is None:
        return items
    typed: list[Scalar] = []
    for item in items:
        try:
            typed.append(coerce(item))
        except BadValue as err:
            # Element spans are only worked out for the error: lists can be long.
            item_start, item_end = _element_spans(text, start, len(items))[len(typed)]
            err.param, err.value, err.start, err.end = cond.param, cond.text, item_start, item_end
            raise
    return tuple(typed)


def _element_spans(text: str, start: int, count: int) -> list[tuple[int, int]]:
    """Each list element's span, or the whole value's for each when they do not line up."""
    spans = list_element_spans(text, start)
    return spans if len(spans) == count else [(start, start + len(text))] * count


def _coerced(coerce: Coercer, text: str, cond: Condition, start: int, end: int) -> Scalar:
    try:
        return coerce(text)
    except BadValue as err:
        err.param, err.value, err.start, err.end = cond.param, cond.text, start, end
        raise


def _bad_operator(cond: Condition, walked: WalkedPath) -> BadOperator:
    op, rule, field = cond.op, walked.rule, walked.field
    if field is None:
        message = f"tags cannot be compared with '{op.symbol}'"
    elif op in _LIKES:
        article = "an" if rule.type_name[0] in "AEIOU" else "a"
        message = (f"'{op.symbol}' matches text patterns, but '{field.name}' is {article} "
                   f"{rule.type_name}")
    else:
        message = f"'{field.name}' is a {rule.type_name}, which has no order for '{op.symbol}'"
    allowed = tuple(o.symbol for o in rule.allowed)
    return BadOperator(message, param=cond.param, value=cond.text, start=cond.op_span.start,
                       end=cond.op_span.end, expected=allowed,
                       hint="use one of " + " ".join(allowed))


def _native_fields(refs: tuple[FieldRef, ...], table: ResourceTable,
                   *, group: bool) -> tuple[Field, ...]:
    """``fields`` / ``groupBy``: native fields of the root (``groupBy``: no mapped ones)."""
    chosen: dict[str, Field] = {}
    resource = table.resource
    what = "groupBy" if group else "fields"
    for ref in refs:
        path = ref.path
        first, span = path.segments[0], path.segment_spans[0]
        field = resource.fields.get(first)
        if len(path.segments) > 1:
            raise NotAllowedHere(
                f"{what} takes native fields, not paths ('{shorten(path.dotted)}')",
                param=ref.param, value=ref.text, start=path.span.start, end=path.span.end,
                hint=f"name '{first}' alone" if field is not None
                else f"conditions and sort can follow relations; {what} cannot")
        if field is None:
            if first in table.segments:
                raise NotAllowedHere(
                    f"{what} takes native fields of {resource.name}; '{first}' is not one",
                    param=ref.param, value=ref.text, start=span.start, end=span.end,
                    hint="relations and tags cannot be selected or grouped")
            raise UnknownField(f"no field '{first}' on {resource.name}", param=ref.param,
                               value=ref.text, start=span.start, end=span.end,
                               hint=did_you_mean(first, resource.fields))
        if group and field.mapped is not None:
            raise NotAllowedHere(
                f"'{first}' is stored in another table and cannot be grouped by",
                param=ref.param, value=ref.text, start=span.start, end=span.end,
                hint=f"group by a native column of {resource.name}")
        chosen.setdefault(field.name, field)
    return tuple(chosen.values())


def _sort_key(key: SortKey, table: ResourceTable, group_by: tuple[Field, ...],
              options: ResolveOptions, cycles: list[CycleNote]) -> ResolvedSort:
    ref = key.field
    path = ref.path
    if group_by:
        name = path.dotted
        for group_field in group_by:
            if group_field.name == name:
                return ResolvedSort((), group_field, key.descending)
        if name == COUNT_KEY:
            return ResolvedSort((), None, key.descending)
        groups = ", ".join(f.name for f in group_by)
        raise NotAllowedHere(
            f"with groupBy, sort takes a group field or count, not '{shorten(name)}'",
            param=ref.param, value=ref.text, start=path.span.start, end=path.span.end,
            expected=(*(f.name for f in group_by), COUNT_KEY),
            hint=did_you_mean(name, (*(f.name for f in group_by), COUNT_KEY))
            or f"sort by one of {groups} or count")
    walker = walker_for(table, options.cycle_policy, options.limits.max_depth,
                        to_one_only=True, simplify=False)
    walked = walker.walk(path, ref.param, ref.text)
    last = path.segment_spans[-1]
    if walked.tag is not None:
        raise NotAllowedHere(f"cannot sort by the tag pseudo-field '{path.segments[-1]}'",
                             param=ref.param, value=ref.text, start=last.start, end=last.end,
                             hint="sort by a field")
    field = walked.field
    if field is None or (field.mapped is not None and field.mapped.many):
        raise ToManyNotAllowed(f"'{shorten(path.dotted)}' holds many values per row; it cannot be "
                               "sorted by", param=ref.param, value=ref.text, start=last.start,
                               end=last.end, hint="sort by a single-valued field")
    cycles.extend(walked.cycles)
    return ResolvedSort(walked.hops, field, key.descending)

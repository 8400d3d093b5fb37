"""Path walking for the resolver: segments → hops, cycles, key collapse, depth.

A :class:`PathWalker` turns a parsed :class:`~zquery.ast.Path` into hops over the schema
graph and the field (or tag) at its end (contract section 3): aliases are expanded in
place, every cycle is detected and named, a hop straight back onto the same row is
simplified away under the default policy (leaving a :class:`~zquery.plan.Guard`), a last
to-one hop onto its own key collapses to the local foreign key, and the depth limit is
checked. Lookup tables are built once per resource and cached per graph.

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> from zquery.ast import Path, Span
>>> path = Path(("vmNics", "vmInstance", "name"), (Span(0, 6), Span(7, 17), Span(18, 22)),
...             Span(0, 22))
>>> walker = walker_for(table_for(GRAPH, "VmInstance"), CyclePolicy.SIMPLIFY, max_depth=8)
>>> walked = walker.walk(path, "q[0]", "vmNics.vmInstance.name=vm1")
>>> walked.hops, walked.field.name, [g.relation.name for g in walked.guards]
((), 'name', ['vmNics'])
>>> walked.cycles[0].text
'VmInstance → VmNic → VmInstance'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from zquery.ast import Path, Span
from zquery.caches import PerGraph
from zquery.coerce import TAG_RULE, FieldRule, field_rule
from zquery.errors import (
    CycleRejected,
    FieldInPath,
    PathEndsOnRelation,
    SchemaError,
    ToManyNotAllowed,
    TooDeep,
    UnknownField,
    did_you_mean,
)
from zquery.plan import CycleNote, CyclePolicy, Guard, Hop, TagKind
from zquery.schema.graph import Alias, Cardinality, Field, Relation, Resource, SchemaGraph

__all__ = ["TAG_NAMES", "PathWalker", "ResourceTable", "WalkedPath", "shorten", "table_for",
           "walker_for"]

#: The tag pseudo-fields and the manual's spellings of them.
TAG_NAMES = {"__systemTag__": TagKind.SYSTEM, "__userTag__": TagKind.USER,
             "systemTag": TagKind.SYSTEM, "userTag": TagKind.USER}


@dataclass(frozen=True, slots=True)
class _AliasHops:
    """An alias expanded to its relations, or the schema problem that stops it."""

    alias: Alias
    relations: tuple[Relation, ...]
    problem: str | None


_Entry = Field | Relation | _AliasHops | TagKind


@dataclass(frozen=True, slots=True)
class ResourceTable:
    """What a path segment can be on one resource, precomputed for the hot path.

    ``walkers`` holds one :class:`PathWalker` per set of walk options.
    """

    resource: Resource
    graph: SchemaGraph
    segments: dict[str, _Entry]
    candidates: tuple[str, ...]
    plain_by_column: dict[str, Field]
    examples: tuple[str, ...]
    rules: dict[str, FieldRule]
    walkers: dict[tuple[CyclePolicy, int, bool, bool], PathWalker]


@dataclass(frozen=True, slots=True)
class WalkedPath:
    """A walked path: hops, then a field or a tag on ``resource``; ``rule`` types its values."""

    hops: tuple[Hop, ...]
    resource: Resource
    field: Field | None
    tag: TagKind | None
    guards: tuple[Guard, ...]
    cycles: tuple[CycleNote, ...]
    rule: FieldRule
    #: What a ``simplify`` rewrite did, for the plan's warning (None: nothing simplified).
    rewrite: str | None = None


#: Per graph: resource name → its lookup table.
_TABLES: PerGraph[dict[str, ResourceTable]] = PerGraph(lambda graph: {})


def table_for(graph: SchemaGraph, resource: Resource | str) -> ResourceTable:
    """The cached lookup table of *resource* (a resource of *graph*, or its name)."""
    tables = _TABLES.get(graph)
    name = resource if isinstance(resource, str) else resource.name
    table = tables.get(name)
    if table is not None and (isinstance(resource, str) or table.resource is resource):
        return table
    target = graph.resources[name] if isinstance(resource, str) else resource
    table = _build_table(graph, target)
    if graph.resources.get(name) is target:
        tables[name] = table
    return table


def _build_table(graph: SchemaGraph, res: Resource) -> ResourceTable:
    segments: dict[str, _Entry] = {}
    for alias in res.aliases.values():
        segments[alias.name] = _expand_alias(graph, res, alias, frozenset())
    segments.update(res.relations)
    segments.update(res.fields)  # field, then relation, then alias: later updates win
    if res.tag_type is not None:
        for name, kind in TAG_NAMES.items():
            segments.setdefault(name, kind)
    plain = {f.column: f for f in res.fields.values() if f.mapped is None}
    rules = {name: field_rule(f) for name, f in res.fields.items()}
    return ResourceTable(res, graph, segments, tuple(segments), plain, _examples(res), rules, {})


def _examples(res: Resource) -> tuple[str, ...]:
    """Up to three telling field names: ``name`` first, keys and dates last."""

    def rank(f: Field) -> int:
        if f.name == "name":
            return 0
        if f.name.lower().endswith("uuid") or f.name in ("createDate", "lastOpDate"):
            return 2
        return 1

    return tuple(f.name for f in sorted(res.fields.values(), key=rank)[:3])


def _expand_alias(graph: SchemaGraph, res: Resource, alias: Alias,
                  seen: frozenset[tuple[str, str]]) -> _AliasHops:
    key = (res.name, alias.name)
    if key in seen:
        return _AliasHops(alias, (), f"alias loop through {res.name}.{alias.name}")
    relations: list[Relation] = []
    current = res
    for segment in alias.path:
        relation = current.relations.get(segment)
        if relation is not None:
            relations.append(relation)
            current = graph.resources[relation.target]
            continue
        inner = current.aliases.get(segment)
        if inner is None:
            return _AliasHops(alias, (), f"alias {res.name}.{alias.name}: '{segment}' "
                                         f"is not a relation or alias of {current.name}")
        expanded = _expand_alias(graph, current, inner, seen | {key})
        if expanded.problem is not None:
            return _AliasHops(alias, (), expanded.problem)
        relations.extend(expanded.relations)
        current = graph.resources[expanded.relations[-1].target]
    return _AliasHops(alias, tuple(relations), None)


def shorten(text: str, limit: int = 80) -> str:
    """*text* cut to *limit* characters for a message (paths can be kilobytes long).

    >>> shorten("a.b.c", 4)
    'a...'
    """
    return text if len(text) <= limit else text[:limit - 3] + "..."


def walker_for(root: ResourceTable, policy: CyclePolicy, max_depth: int, *,
               to_one_only: bool = False, simplify: bool = True) -> PathWalker:
    """The cached :class:`PathWalker` of *root* for these options.

    ``to_one_only`` refuses to-many hops (sort keys); ``simplify=False`` keeps hops that
    go straight back (for callers that cannot carry guards).
    """
    key = (policy, max_depth, to_one_only, simplify)
    walker = root.walkers.get(key)
    if walker is None:
        walker = root.walkers.setdefault(key, PathWalker(root, *key))
    return walker


class PathWalker:
    """Walks paths from one root under fixed options, remembering successful walks.

    Conditions repeat a lot, so a walk is cached by its segments (and reused when the
    segment spans match); failures are never cached. The cache is bounded.
    """

    __slots__ = ("_done", "max_depth", "policy", "root", "simplify", "to_one_only")
    CACHE_SIZE = 2048

    def __init__(self, root: ResourceTable, policy: CyclePolicy, max_depth: int,
                 to_one_only: bool, simplify: bool) -> None:
        self.root = root
        self.policy = policy
        self.max_depth = max_depth
        self.to_one_only = to_one_only
        self.simplify = simplify
        self._done: dict[tuple[str, ...], tuple[tuple[Span, ...], WalkedPath]] = {}

    def walk(self, path: Path, param: str, text: str) -> WalkedPath:
        done = self._done.get(path.segments)
        if done is not None and (done[0] is path.segment_spans or done[0] == path.segment_spans):
            walked = done[1]
            if walked.cycles and walked.cycles[0].param != param:
                notes = tuple(CycleNote(param, n.resources, n.action) for n in walked.cycles)
                walked = WalkedPath(walked.hops, walked.resource, walked.field, walked.tag,
                                    walked.guards, notes, walked.rule, walked.rewrite)
            return walked
        walked = self._walk(path, param, text)
        if len(self._done) >= self.CACHE_SIZE:
            self._done.clear()
        self._done[path.segments] = (path.segment_spans, walked)
        return walked

    def _walk(self, path: Path, param: str, text: str) -> WalkedPath:
        root, policy, max_depth = self.root, self.policy, self.max_depth
        hops, end, field, tag = _segments_to_hops(path, root, param, text, self.to_one_only)
        if policy is CyclePolicy.REJECT and hops:
            _reject_cycles(path, [root.resource.name, *(h.relation.target for h in hops)],
                           hops, param, text)
        guards: list[Guard] = []
        notes: list[CycleNote] = []
        if policy is CyclePolicy.SIMPLIFY and self.simplify and len(hops) > 1:
            hops = _simplify(hops, root, guards, notes, param)
        if field is not None and hops and not any(g.depth == len(hops) for g in guards):
            hops, end, field = _collapse(hops, end, field)
        if guards:
            guards = _drop_implied(guards, hops)
        if len(hops) > max_depth:
            raise TooDeep(f"'{shorten(path.dotted)}' walks {len(hops)} relations, more than "
                          f"max_depth={max_depth}", param=param, value=text,
                          start=path.span.start, end=path.span.end,
                          hint=f"use a shorter path or raise Limits.max_depth (now {max_depth})",
                          extra={"limit": "max_depth", "max": max_depth, "actual": len(hops)})
        if policy is not CyclePolicy.REJECT and len(hops) > 1:
            action = "allowed" if policy is CyclePolicy.ALLOW else "kept"
            names = [root.resource.name, *(h.relation.target for h in hops)]
            notes.extend(CycleNote(param, tuple(names[first:again + 1]), action)
                         for first, again in _revisits(names))
        rule = end.rules[field.name] if field is not None else TAG_RULE
        rewrite = None
        if any(note.action == "simplified" for note in notes):
            last = field.name if field is not None else path.segments[-1]
            rewrite = _rewrite_text(path, [*(h.relation.name for h in hops), last],
                                    end.resource, guards, notes)
        return WalkedPath(tuple(hops), end.resource, field, tag, tuple(guards), tuple(notes),
                          rule, rewrite)


def _rewrite_text(path: Path, names: list[str], end: Resource, guards: list[Guard],
                  notes: list[CycleNote]) -> str:
    cycles = "; ".join(note.text for note in notes if note.action == "simplified")
    having = ", ".join(f"'{g.relation.name}'" for g in guards)
    having = f" with at least one {having}" if having else ""
    return (f"'{shorten(path.dotted)}' goes straight back onto the same row ({cycles}); it was "
            f"tested as '{'.'.join(names)}' on {end.name}{having}")


def _segments_to_hops(
    path: Path, root: ResourceTable, param: str, text: str, to_one_only: bool
) -> tuple[list[Hop], ResourceTable, Field | None, TagKind | None]:
    hops: list[Hop] = []
    table = root
    last = len(path.segments) - 1
    for index, segment in enumerate(path.segments):
        span = path.segment_spans[index]
        entry = table.segments.get(segment)
        if entry is None:
            raise _unknown(segment, table, span, param, text)
        if isinstance(entry, (Field, TagKind)):
            if index != last:
                what = "a field" if isinstance(entry, Field) else "a tag pseudo-field"
                raise FieldInPath(
                    f"'{segment}' is {what} of {table.resource.name}: nothing can follow it",
                    param=param, value=text, start=span.start, end=path.span.end,
                    hint=f"end the path at '{segment}'; only relations are followed by '.'")
            if isinstance(entry, Field):
                return hops, table, entry, None
            return hops, table, None, entry
        if isinstance(entry, _AliasHops):
            if entry.problem is not None:
                raise SchemaError(entry.problem, param=param, value=text, start=span.start,
                                  end=span.end)
            relations: tuple[Relation, ...] = entry.relations
        else:
            relations = (entry,)
        for relation in relations:
            if to_one_only and relation.cardinality is Cardinality.MANY:
                raise ToManyNotAllowed(
                    f"'{segment}' reaches many {relation.target} rows per "
                    f"{relation.source}; a sort key can only follow to-one relations",
                    param=param, value=text, start=span.start, end=span.end,
                    hint="sort by a field of the resource or through to-one relations "
                         "such as zone.name")
            hops.append(Hop(relation, span))
            table = table_for(root.graph, relation.target)
        if index == last:
            prefix = text[path.span.start:span.end]
            examples = ", ".join(f"{prefix}.{name}" for name in table.examples)
            raise PathEndsOnRelation(
                f"'{segment}' is a relation to {table.resource.name}, not a field",
                param=param, value=text, start=span.start, end=span.end,
                hint=f"name one of its fields, e.g. {examples}")
    raise SchemaError(f"empty path in {param}", param=param, value=text)


def _unknown(segment: str, table: ResourceTable, span: Span, param: str,
             text: str) -> UnknownField:
    name = table.resource.name
    if segment in TAG_NAMES:
        return UnknownField(f"{name} carries no tags, so '{segment}' cannot be tested",
                            param=param, value=text, start=span.start, end=span.end)
    return UnknownField(f"no field, relation or alias '{segment}' on {name}", param=param,
                        value=text, start=span.start, end=span.end,
                        hint=did_you_mean(segment, table.candidates))


def _revisits(names: list[str]) -> Iterator[tuple[int, int]]:
    """``(first, again)`` positions of each landing on a resource seen before (last seen)."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            yield seen[name], position
        seen[name] = position


def _reject_cycles(path: Path, names: list[str], hops: list[Hop], param: str,
                   text: str) -> None:
    for first, again in _revisits(names):
        span = hops[again - 1].span
        raise CycleRejected(
            f"'{shorten(path.dotted)}' visits {names[again]} twice: "
            f"{' → '.join(names[first:again + 1])}", param=param, value=text,
            start=span.start, end=span.end,
            hint="the cycle policy is 'reject': write the condition without the detour")


def _returns_to_same_row(out: Relation, back: Relation, graph: SchemaGraph) -> bool:
    """True when *back* undoes *out* exactly: inverse keys, landing on one row."""
    if back.target != out.source or back.source != out.target:
        return False
    if back.local_key != out.remote_key or back.remote_key != out.local_key:
        return False
    if (out.through is None) != (back.through is None):
        return False
    if out.through is not None and back.through is not None and (
            back.through.table != out.through.table
            or back.through.source_column != out.through.target_column
            or back.through.target_column != out.through.source_column):
        return False
    if back.cardinality is not Cardinality.ONE:
        return False
    return (back.remote_key == graph.resources[out.source].primary_key
            or out.cardinality is Cardinality.ONE)


def _simplify(hops: list[Hop], root: ResourceTable, guards: list[Guard],
              notes: list[CycleNote], param: str) -> list[Hop]:
    """Cancel each hop straight back onto the row it came from (bracket matching)."""
    stack: list[Hop] = []
    graph = root.graph
    guarded: dict[int, list[Relation]] = {}  # depth → guard relations, for O(1) checks
    for hop in hops:
        if stack:
            out = stack[-1].relation
            # A guard on the row being dropped would lose its anchor: keep that detour.
            if len(stack) not in guarded and _returns_to_same_row(out, hop.relation, graph):
                stack.pop()
                at_depth = guarded.setdefault(len(stack), [])
                if not any(relation is out for relation in at_depth):
                    at_depth.append(out)
                    guards.append(Guard(len(stack), out))
                names = (graph.resources[out.source].name, graph.resources[out.target].name,
                         graph.resources[out.source].name)
                notes.append(CycleNote(param, names, "simplified"))
                continue
        stack.append(hop)
    return stack


def _collapse(hops: list[Hop], end: ResourceTable,
              field: Field) -> tuple[list[Hop], ResourceTable, Field]:
    """``zone.uuid`` → ``zoneUuid``: a last to-one hop onto its own key is the local key."""
    while hops:
        relation = hops[-1].relation
        if (relation.cardinality is not Cardinality.ONE or relation.through is not None
                or field.mapped is not None or field.column != relation.remote_key):
            break
        source = table_for(end.graph, relation.source)
        local = source.plain_by_column.get(relation.local_key)
        if local is None:
            break
        hops, end, field = hops[:-1], source, local
    return hops, end, field


def _drop_implied(guards: list[Guard], hops: list[Hop]) -> list[Guard]:
    """A guard is implied when the path itself leaves that row over that relation."""
    return [g for g in guards
            if not (g.depth < len(hops) and hops[g.depth].relation is g.relation)]

"""An independent evaluator of zquery requests over an :class:`estate.Estate`.

It answers a parsed request (:class:`zquery.ast.QueryRequest`) by walking the estate's
Python rows straight from the contract (``/work/shared/spec/query-semantics.md``), with
none of zquery's resolver, coercion or compiler: its own path walk over the graph's
relation declarations (aliases, links, key collapse), its own value typing, its own LIKE
matcher (a regex, Unicode ``str.lower`` on both sides), its own NULL logic (a NULL fails
every comparison; only the null tests see it), existential semantics per condition (a row
with nothing at the end of a path fails every condition on it), tags with the resource
type and the negative forms, account scope on every owned resource walked, sorting with
NULLs first ascending / last descending and the primary key as tie-breaker when paged,
start/limit, count, groupBy. Cycles are walked as written: every policy that accepts a
cycle gives the same rows, so none needs simplifying here.

It also builds the expected reply (ISO dates, nulls omitted, mapped fields, nested
collections) as an :class:`estate.Expected`, so tests can compare whole replies with
:func:`estate.compare`.

>>> from estate import generate
>>> from zquery.request import parse_request
>>> ev = Evaluator(generate(1))
>>> exp = ev.run(parse_request("q=cpuNum>=4&count=true"), "VmInstance")
>>> exp.reply["total"] == sum(1 for v in ev.estate.rows("VmInstanceVO")
...                           if v["cpuNum"] is not None and v["cpuNum"] >= 4)
True
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from estate import ADMIN, Estate, Expected, Row, runs
from zstack_like import GRAPH

from zquery.ast import Condition, Operator, QueryRequest
from zquery.schema.graph import Field, FieldType, Relation, Resource, SchemaGraph

__all__ = ["TAG_NAMES", "Evaluator", "like_matches"]

TAG_NAMES = {"__systemTag__": "system", "systemTag": "system",
             "__userTag__": "user", "userTag": "user"}
#: How deep nested collections go inside an inventory (root = 0).
NESTED_DEPTH = 2


def like_matches(pattern: str, text: str) -> bool:
    """The contract's LIKE: ``%``/``_`` wildcards, ``\\%``/``\\_``/``\\\\`` literals, any case.

    >>> like_matches("CAF_", "café"), like_matches("a\\\\%b", "a%b")
    (True, True)
    >>> like_matches("a\\\\b", "a\\\\b")
    True
    >>> like_matches("50\\\\%", "500")
    False
    """
    return _like_regex(pattern).fullmatch(text.lower()) is not None


@functools.lru_cache(maxsize=1024)
def _like_regex(pattern: str) -> re.Pattern[str]:
    # Cached: the same pattern is matched against every row (long patterns cost seconds).
    out = []
    i = 0
    folded = pattern.lower()  # lower-casing leaves %, _ and \\ alone
    while i < len(folded):
        ch = folded[i]
        if ch == "\\" and i + 1 < len(folded) and folded[i + 1] in "%_\\":
            out.append(re.escape(folded[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _timestamp(text: str) -> datetime:
    """The timestamp forms the contract lists, as naive UTC."""
    if text.isdigit():
        return datetime(1970, 1, 1) + timedelta(milliseconds=int(text))
    java = re.fullmatch(r"([A-Za-z]{3})[a-z]* (\d{1,2}), (\d{4}) (\d{1,2}):(\d\d):(\d\d) ([AP]M)",
                        text)
    if java:
        mon, day, year, hour, minute, sec, half = java.groups()
        hour24 = int(hour) % 12 + (12 if half == "PM" else 0)
        return datetime(int(year), _MONTHS.index(mon.lower()) + 1, int(day), hour24,
                        int(minute), int(sec))
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _typed(field: Field, text: str) -> Any:
    kind = field.type
    if kind.is_integer:
        return int(text)
    if kind.is_number:
        return float(text)
    if kind is FieldType.BOOLEAN:
        return text.lower() == "true"
    if kind is FieldType.TIMESTAMP:
        return _timestamp(text)
    return text


def _compare(op: Operator, value: Any, wanted: Any) -> bool:
    """One positive or negative comparison with SQL's NULL rule: NULL fails them all."""
    if op is Operator.IS_NULL:
        return value is None
    if op is Operator.NOT_NULL:
        return value is not None
    if value is None:
        return False
    if op.is_like:
        return like_matches(wanted, value) != (op is Operator.NOT_LIKE)
    if op.takes_list:
        return (value in wanted) != (op is Operator.NOT_IN)
    checks: dict[Operator, Callable[[Any, Any], bool]] = {
        Operator.EQ: lambda a, b: a == b, Operator.NE: lambda a, b: a != b,
        Operator.GT: lambda a, b: a > b, Operator.LT: lambda a, b: a < b,
        Operator.GE: lambda a, b: a >= b, Operator.LE: lambda a, b: a <= b}
    return checks[op](value, wanted)


@dataclass(frozen=True)
class _Target:
    """Where a path ends: hops, then a field, a tag kind, or (for sorting) nothing."""

    hops: tuple[Relation, ...]
    resource: Resource
    field: Field | None
    tag: str | None


class Evaluator:
    """Answers requests over one estate from the contract alone."""

    def __init__(self, estate: Estate, graph: SchemaGraph = GRAPH) -> None:
        self.estate = estate
        self.graph = graph
        self._index: dict[tuple[str, str], dict[Any, list[Row]]] = {}

    # -- data access ---------------------------------------------------------------------

    def _by(self, table: str, column: str, value: Any) -> list[Row]:
        """Rows of *table* whose *column* equals *value*; NULL never equals anything."""
        if value is None:
            return []
        key = (table, column)
        if key not in self._index:
            index: dict[Any, list[Row]] = {}
            for row in self.estate.rows(table):
                index.setdefault(row.get(column), []).append(row)
            self._index[key] = index
        return self._index[key].get(value, [])

    def _rows_of(self, res: Resource) -> list[Row]:
        rows = self.estate.rows(res.table)
        for column, allowed in res.row_filter:
            rows = [r for r in rows if r.get(column) in allowed]
        return rows

    def visible(self, res: Resource, row: Row, account: str | None) -> bool:
        """Owned rows are visible to their owner, receivers of a share, and everyone if public."""
        if account is None or account == ADMIN or not res.owned:
            return True
        uuid = row[res.primary_key]
        if any(r["accountUuid"] == account for r in self._by("AccountResourceRefVO",
                                                             "resourceUuid", uuid)):
            return True
        return any(s["toPublic"] or s["receiverAccountUuid"] == account
                   for s in self._by("SharedResourceVO", "resourceUuid", uuid))

    def _hop(self, row: Row, rel: Relation, account: str | None) -> list[Row]:
        target = self.graph.resources[rel.target]
        if rel.through is None:
            found = self._by(target.table, rel.remote_key, row.get(rel.local_key))
        else:
            found = [t for link in self._by(rel.through.table, rel.through.source_column,
                                            row.get(rel.local_key))
                     for t in self._by(target.table, rel.remote_key,
                                       link[rel.through.target_column])]
        allowed = dict(target.row_filter)
        return [t for t in found if all(t.get(c) in v for c, v in allowed.items())
                and self.visible(target, t, account)]

    def _walk(self, row: Row, hops: Iterable[Relation], account: str | None) -> list[Row]:
        rows = [row]
        for rel in hops:
            rows = [t for r in rows for t in self._hop(r, rel, account)]
        return rows

    def _values(self, res: Resource, row: Row, field: Field) -> list[Any]:
        """A field's values on one row: one for a column, any number for a mapped field."""
        if field.mapped is None:
            return [row.get(field.column)]
        m = field.mapped
        return [link[m.value_column]
                for link in self._by(m.table, m.join_column, row.get(m.owner_key))]

    # -- paths ---------------------------------------------------------------------------

    def target(self, root: Resource, segments: tuple[str, ...], *,
               collapse: bool = True) -> _Target:
        """Walk a dotted path: fields, relations, aliases; tags at the end; key collapse
        (conditions only: a sort key walks its hops as written)."""
        queue = list(segments)
        res, hops = root, []
        while queue:
            seg = queue.pop(0)
            if seg in res.aliases:
                queue[:0] = res.aliases[seg].path
                continue
            if seg in res.relations:
                rel = res.relations[seg]
                hops.append(rel)
                res = self.graph.resources[rel.target]
                continue
            if queue:
                raise ValueError(f"{seg} is not a relation of {res.name}")
            if seg in TAG_NAMES:
                return _Target(tuple(hops), res, None, TAG_NAMES[seg])
            field = res.fields[seg]
            last = hops[-1] if hops else None
            # Key collapse: x.<key the last to-one hop joins on> is the local foreign key.
            if collapse and last is not None and not last.to_many and last.through is None \
                    and field.column == last.remote_key and field.mapped is None:
                source = self.graph.resources[last.source]
                local = [f for f in source.fields.values() if f.column == last.local_key]
                if local:
                    return _Target(tuple(hops[:-1]), source, local[0], None)
            return _Target(tuple(hops), res, field, None)
        return _Target(tuple(hops), res, None, None)

    # -- conditions ----------------------------------------------------------------------

    def _wanted(self, cond: Condition, field: Field | None) -> Any:
        if cond.op.is_null_test:
            return None
        if cond.op.takes_list:
            items = cond.items or ()
            return {_typed(field, i) for i in items} if field else set(items)
        assert cond.value is not None
        if cond.op.is_like or field is None:
            return cond.value
        return _typed(field, cond.value)

    def _tag_test(self, res: Resource, row: Row, kind: str, op: Operator, wanted: Any) -> bool:
        table = "SystemTagVO" if kind == "system" else "UserTagVO"
        tags = [t["tag"] for t in self._by(table, "resourceUuid", row[res.primary_key])
                if t["resourceType"] == res.tag_type]
        if op.is_null_test:
            return (not tags) == (op is Operator.IS_NULL)
        if op.negative:
            return not any(_compare(op.positive, t, wanted) for t in tags)
        return any(_compare(op, t, wanted) for t in tags)

    def matches(self, root: Resource, row: Row, cond: Condition, account: str | None) -> bool:
        """One condition as its own existential test over the rows its path reaches."""
        tgt = self.target(root, cond.path.segments)
        wanted = self._wanted(cond, tgt.field)
        ends = self._walk(row, tgt.hops, account)
        if tgt.tag is not None:
            return any(self._tag_test(tgt.resource, end, tgt.tag, cond.op, wanted)
                       for end in ends)
        assert tgt.field is not None
        return any(_compare(cond.op, value, wanted)
                   for end in ends for value in self._values(tgt.resource, end, tgt.field))

    # -- the whole request ---------------------------------------------------------------

    def select(self, request: QueryRequest, resource: str,
               account: str | None = None) -> list[Row]:
        """Every root row the conditions and the scope let through, in table order."""
        root = self.graph.resource(resource)
        return [row for row in self._rows_of(root)
                if self.visible(root, row, account)
                and all(self.matches(root, row, c, account) for c in request.conditions)]

    def _sort_value(self, root: Resource, row: Row, segments: tuple[str, ...],
                    account: str | None) -> Any:
        tgt = self.target(root, segments, collapse=False)
        assert tgt.field is not None
        ends = self._walk(row, tgt.hops, account)
        return self._values(tgt.resource, ends[0], tgt.field)[0] if ends else None

    def run(self, request: QueryRequest, resource: str, *, account: str | None = None,
            iso_dates: bool = True) -> Expected:
        """The expected reply; dates in ISO form (compare with ``iso_dates=True``)."""
        root = self.graph.resource(resource)
        matched = self.select(request, resource, account)
        if request.group_by:
            return self._groups(request, root, matched)
        if request.count:
            return Expected({"total": len(matched)}, ())
        keyed: list[tuple[tuple[Any, ...], Row]] = [
            (tuple(self._sort_value(root, row, k.field.path.segments, account)
                   for k in request.sort), row) for row in matched]
        directions = [k.descending for k in request.sort]
        if request.paged:
            keyed = [((*key, row[root.primary_key]), row) for key, row in keyed]
            directions.append(False)
        ordered = _sorted(keyed, directions)
        page = ordered[request.start:request.start + request.limit]
        fields = self._projection(root, request)
        inventories = [self.inventory(root, row, account, fields=fields) for _, row in page]
        reply: dict[str, Any] = {"inventories": inventories}
        if request.reply_with_count:
            reply["total"] = len(matched)
        return Expected(reply, runs([key for key, _ in page], bool(directions)))

    def _projection(self, root: Resource, request: QueryRequest) -> tuple[Field, ...] | None:
        if not request.fields:
            return None
        names = {f.path.segments[-1] for f in request.fields}
        return tuple(f for f in root.fields.values() if f.name in names)

    def _groups(self, request: QueryRequest, root: Resource, matched: list[Row]) -> Expected:
        fields = [root.fields[g.path.segments[-1]] for g in request.group_by]
        counts = Counter(tuple(row.get(f.column) for f in fields) for row in matched)
        if request.count:
            return Expected({"total": len(counts)}, ())
        names = [f.name for f in fields]

        def key_of(values: tuple[Any, ...], n: int, segs: tuple[str, ...]) -> Any:
            return n if segs == ("count",) else values[names.index(segs[-1])]

        keyed = [(tuple(key_of(vals, n, k.field.path.segments) for k in request.sort),
                  (vals, n)) for vals, n in counts.items()]
        directions = [k.descending for k in request.sort]
        if request.paged:
            keyed = [((*key, *vals), (vals, n)) for key, (vals, n) in keyed]
            directions.extend(False for _ in fields)
        page = _sorted(keyed, directions)[request.start:request.start + request.limit]
        groups = []
        for _, (vals, n) in page:
            group = {f.name: _json(f, v) for f, v in zip(fields, vals, strict=True)
                     if v is not None}
            groups.append({**group, "count": n})
        reply: dict[str, Any] = {"inventories": groups}
        if request.reply_with_count:
            reply["total"] = len(counts)
        return Expected(reply, runs([key for key, _ in page], bool(directions)))

    def inventory(self, res: Resource, row: Row, account: str | None, *,
                  fields: tuple[Field, ...] | None = None, depth: int = 0) -> dict[str, Any]:
        """A row as the reply shows it: field names, no nulls, mapped values, nested lists."""
        out: dict[str, Any] = {}
        for field in fields if fields is not None else res.fields.values():
            values = self._values(res, row, field)
            if field.mapped is not None and field.mapped.many:
                out[field.name] = sorted(_json(field, v) for v in values if v is not None)
            elif values and values[0] is not None:
                out[field.name] = _json(field, values[0])
        if fields is None and depth < NESTED_DEPTH:
            for rel in res.relations.values():
                if rel.nested:
                    target = self.graph.resources[rel.target]
                    children = sorted(self._hop(row, rel, account),
                                      key=lambda r: r[target.primary_key])
                    out[rel.name] = [self.inventory(target, c, account, depth=depth + 1)
                                     for c in children]
        return out


def _json(field: Field, value: Any) -> Any:
    if field.type is FieldType.TIMESTAMP:
        return value.replace(microsecond=0).isoformat() + "Z"
    if field.type.is_integer:
        return int(value)
    if field.type.is_number:
        return float(value)
    return value


def _sorted(keyed: list[tuple[tuple[Any, ...], Any]],
            directions: list[bool]) -> list[tuple[tuple[Any, ...], Any]]:
    """Stable sort, last key first; NULL sorts first ascending and last descending."""
    out = list(keyed)
    for position in reversed(range(len(directions))):
        desc = directions[position]
        # NULL is the smallest value in both directions, which puts it last when descending.
        out.sort(key=lambda kr, p=position: (kr[0][p] is not None, kr[0][p]
                                             if kr[0][p] is not None else 0),
                 reverse=desc)
    return out

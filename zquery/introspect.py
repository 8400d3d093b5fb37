"""What can be queried: fields, relations, tab completion and the acyclic condition paths.

Like the ZStack CLI's completion (manual 2.9): ``complete(graph, "QueryVmInstance", "vmNics.")``
lists the relations of a VM NIC as ``vmNics.eip.`` … and its fields as ``vmNics.ip=`` …,
plus ``vmNics.__systemTag__=`` / ``vmNics.__userTag__=``. Aliases are followed and offered
like relations; hidden relations are not offered (they still work in a query).

:func:`paths` enumerates the distinct conditions (acyclic relation path + field) of a resource
up to a number of hops; :func:`count_paths` counts them without enumerating, memoising the
count of each (resource, hops left, visited resources it could still reach) state.

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> complete(GRAPH, "QueryVmInstance", "vmNics.e")
['vmNics.eip.']
>>> complete(GRAPH, "vm-instances", "host.managementI")
['host.managementIp=']
>>> [link.name for link in relations_of(GRAPH, "Eip")]
['vip', 'vmNic']
>>> sorted(paths(GRAPH, "Vip", 1))[:3]
['createDate', 'eip.createDate', 'eip.guestIp']
>>> count_paths(GRAPH, "Vip", 1) == len(list(paths(GRAPH, "Vip", 1)))
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from zquery.errors import UnknownField, did_you_mean
from zquery.schema.graph import Field, Resource, SchemaGraph

__all__ = [
    "TAG_FIELDS",
    "Link",
    "complete",
    "count_paths",
    "fields_of",
    "paths",
    "relations_of",
    "resource_at",
]

#: The tag pseudo-fields every resource with a tag type offers.
TAG_FIELDS = ("__systemTag__", "__userTag__")


@dataclass(frozen=True)
class Link:
    """One step a path may take: a relation, or an alias standing for several relations."""

    name: str
    target: str
    to_many: bool
    hidden: bool = False
    alias_of: tuple[str, ...] = ()
    origin: str = ""


def _resource(graph: SchemaGraph, resource: Resource | str) -> Resource:
    return resource if isinstance(resource, Resource) else graph.resource(resource)


def _segments(prefix: str) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    start = 0
    for part in prefix.split("."):
        out.append((part, start, start + len(part)))
        start += len(part) + 1
    return out


def _step(graph: SchemaGraph, res: Resource, name: str, prefix: str, start: int,
          end: int) -> Resource:
    rel = res.relations.get(name)
    if rel is not None:
        return graph.resources[rel.target]
    alias = res.aliases.get(name)
    if alias is not None:
        current = res
        for hop in alias.path:
            current = graph.resources[current.relations[hop].target]
        return current
    if name in res.fields:
        message = f"'{name}' is a field of {res.name}, not a relation: nothing follows it"
        hint = None
    else:
        message = f"no relation '{name}' on {res.name}"
        hint = did_you_mean(name, [*res.relations, *res.aliases])
    raise UnknownField(message, param="prefix", value=prefix, start=start, end=end, hint=hint)


def resource_at(graph: SchemaGraph, resource: Resource | str, path: str = "") -> Resource:
    """The resource at the end of a dotted relation path (``vmNics.l3Network``)."""
    return _walk(graph, _resource(graph, resource), path.rstrip("."), path)


def _walk(graph: SchemaGraph, res: Resource, path: str, shown: str) -> Resource:
    """Follow *path*; an error shows *shown* (the text the caller gave) with a span in it."""
    if not path:
        return res
    for name, start, end in _segments(path):
        res = _step(graph, res, name, shown, start, end)
    return res


def fields_of(graph: SchemaGraph, resource: Resource | str, path: str = "") -> list[Field]:
    """The queryable fields of the resource at *path*, by name."""
    res = resource_at(graph, resource, path)
    return [res.fields[name] for name in sorted(res.fields)]


def relations_of(graph: SchemaGraph, resource: Resource | str, path: str = "", *,
                 hidden: bool = False) -> list[Link]:
    """Relations and aliases of the resource at *path*, by name; hidden ones on request."""
    res = resource_at(graph, resource, path)
    links = [Link(rel.name, rel.target, rel.to_many, rel.hidden, (), rel.origin)
             for rel in res.relations.values() if hidden or not rel.hidden]
    for alias in res.aliases.values():
        current, to_many = res, False
        for hop in alias.path:
            rel = current.relations[hop]
            to_many = to_many or rel.to_many
            current = graph.resources[rel.target]
        links.append(Link(alias.name, current.name, to_many, False, alias.path, "alias"))
    return sorted(links, key=lambda link: link.name)


def complete(graph: SchemaGraph, resource: Resource | str, prefix: str = "") -> list[str]:
    """Completion candidates for *prefix*: ``name.`` for relations, ``name=`` for fields.

    The part after the last dot filters the candidates by their beginning.
    """
    walked, _, partial = prefix.rpartition(".")
    head = f"{walked}." if walked else ""
    res = _walk(graph, _resource(graph, resource), walked, prefix)
    links = [f"{head}{link.name}." for link in relations_of(graph, res)]
    tags = [f"{head}{tag}=" for tag in TAG_FIELDS] if res.tag_type and graph.tags else []
    fields = [f"{head}{name}=" for name in sorted(res.fields)]
    return [item for item in (*links, *tags, *fields)
            if item[len(head):].startswith(partial)]


def _end_names(graph: SchemaGraph, res: Resource, tags: bool) -> list[str]:
    names = sorted(res.fields)
    if tags and res.tag_type and graph.tags:
        names += list(TAG_FIELDS)
    return names


def paths(graph: SchemaGraph, resource: Resource | str, depth: int, *,
          tags: bool = False) -> Iterator[str]:
    """Every condition path of at most *depth* hops that visits no resource twice.

    Relations (hidden ones too) are walked; aliases are not, since each only renames a
    path that is already counted. ``tags`` adds the tag pseudo-fields at each end.
    """
    root = _resource(graph, resource)

    def walk(res: Resource, head: str, left: int, seen: frozenset[str]) -> Iterator[str]:
        for name in _end_names(graph, res, tags):
            yield f"{head}{name}"
        if left == 0:
            return
        for rel in sorted(res.relations.values(), key=lambda r: r.name):
            if rel.target not in seen:
                target = graph.resources[rel.target]
                yield from walk(target, f"{head}{rel.name}.", left - 1, seen | {rel.target})

    yield from walk(root, "", depth, frozenset({root.name}))


class _Counter:
    """Counts acyclic condition paths with a memo over (resource, hops left, visited)."""

    def __init__(self, graph: SchemaGraph, tags: bool) -> None:
        self.targets = {res.name: [rel.target for rel in res.relations.values()]
                        for res in graph}
        self.ends = {res.name: len(_end_names(graph, res, tags)) for res in graph}
        self.reach_memo: dict[tuple[str, int], frozenset[str]] = {}
        self.memo: dict[tuple[str, int, frozenset[str]], int] = {}

    def reach(self, name: str, left: int) -> frozenset[str]:
        """Resources reachable from *name* in 1..left hops: only they can be revisited."""
        key = (name, left)
        found = self.reach_memo.get(key)
        if found is None:
            out: set[str] = set()
            if left:
                for target in self.targets[name]:
                    out.add(target)
                    out |= self.reach(target, left - 1)
            found = self.reach_memo[key] = frozenset(out)
        return found

    def count(self, name: str, left: int, seen: frozenset[str]) -> int:
        # a visited resource out of reach cannot be revisited: leave it out of the key
        key = (name, left, seen & self.reach(name, left))
        total = self.memo.get(key)
        if total is None:
            total = self.ends[name]
            if left:
                inside = seen | {name}
                total += sum(self.count(target, left - 1, inside)
                             for target in self.targets[name] if target not in inside)
            self.memo[key] = total
        return total


def count_paths(graph: SchemaGraph, resource: Resource | str | Iterable[Resource | str] | None,
                depth: int, *, tags: bool = False) -> int:
    """How many paths :func:`paths` yields, for one resource, several, or all (``None``).

    >>> import sys; sys.path.insert(0, "tests")
    >>> from zstack_like import GRAPH
    >>> count_paths(GRAPH, None, 2) == sum(len(list(paths(GRAPH, r, 2))) for r in GRAPH)
    True
    """
    counter = _Counter(graph, tags)
    if resource is None:
        roots: list[Resource] = list(graph)
    elif isinstance(resource, (str, Resource)):
        roots = [_resource(graph, resource)]
    else:
        roots = [_resource(graph, item) for item in resource]
    return sum(counter.count(root.name, depth, frozenset()) for root in roots)

"""Map a REST path to a resource: the Query APIs' paths, their ``{placeholders}`` and ``/{uuid}``.

A path matches, in this order: a resource's REST path exactly (``vm-instances/nics``), a
REST path with placeholders (``vm-instances/{vmInstanceUuid}/pci-device-specs``, each
placeholder becoming the condition ``vmInstanceUuid=<segment>``), or one of those followed
by one more segment, the primary key (``vm-instances/<uuid>`` → ``uuid=<uuid>``, as the
contract says). The extra conditions are added after the client's own ``q`` parameters,
so the client's ``q[0]`` … keep their numbers in error messages.

A request line as the manual prints it (``GET zstack/v1/vm-instances?q=name=vm1``, with or
without ``http://host:port/``) is split by :func:`split_request_line`.

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> router = Router(GRAPH)
>>> match = router.match("/vm-instances/1234")
>>> match.resource.name, match.conditions
('VmInstance', (('uuid', '1234'),))
>>> split_request_line("GET http://localhost:8080/zstack/v1/vm-instances?q=name=vm1")
('/vm-instances', 'q=name=vm1')
>>> with_conditions("limit=1", (("uuid", "a&b"),))
'limit=1&q=uuid%3Da%26b'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from zquery.errors import UnknownResource, did_you_mean
from zquery.schema.graph import Resource, SchemaGraph

__all__ = ["DEFAULT_PREFIX", "Match", "Route", "Router", "split_request_line",
           "with_conditions"]

#: Where the manual's API lives.
DEFAULT_PREFIX = "/zstack/v1"
_PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_SCHEME_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]*")


@dataclass(frozen=True)
class Route:
    """One REST path of a resource, split into segments (None = a placeholder)."""

    resource: Resource
    rest_path: str
    segments: tuple[str | None, ...]
    placeholders: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """The resource a path names and the conditions the path itself carries."""

    route: Route
    conditions: tuple[tuple[str, str], ...]
    by_key: bool

    @property
    def resource(self) -> Resource:
        return self.route.resource


class Router:
    """Every REST path of every resource in *graph*, ready for :meth:`match`."""

    def __init__(self, graph: SchemaGraph) -> None:
        self.graph = graph
        self.routes: list[Route] = []
        self._static: dict[str, Route] = {}
        self._templates: dict[int, list[Route]] = {}
        for res in graph:
            for rest in res.rest_paths:
                segments = tuple(rest.strip("/").split("/"))
                names = [_placeholder(s) for s in segments]
                route = Route(res, "/" + "/".join(segments),
                              tuple(None if n else s for s, n in zip(segments, names, strict=True)),
                              tuple(n for n in names if n))
                self.routes.append(route)
                if route.placeholders:
                    self._templates.setdefault(len(segments), []).append(route)
                else:
                    self._static.setdefault(route.rest_path, route)

    def match(self, path: str) -> Match | None:
        """The route for a path relative to the API prefix (``/vm-instances/…``), or None."""
        segments = tuple(part for part in path.strip("/").split("/"))
        if segments == ("",):
            return None
        found = self._exact(segments)
        if found is not None:
            return found
        if len(segments) > 1 and segments[-1]:
            parent = self._exact(segments[:-1])
            if parent is not None:
                key = parent.resource.primary_key
                return Match(parent.route, (*parent.conditions, (key, segments[-1])), True)
        return None

    def resolve(self, path: str) -> Match:
        """Like :meth:`match`, but an unknown path raises :class:`UnknownResource` (404)."""
        found = self.match(path)
        if found is None:
            shown = "/" + path.strip("/")
            raise UnknownResource(
                f"no query API at {shown}", param="path", value=shown, start=0, end=len(shown),
                hint=did_you_mean(shown, [r.rest_path for r in self.routes], cutoff=0.6)
                or "GET /openapi.json lists every path")
        return found

    def _exact(self, segments: Sequence[str]) -> Match | None:
        route = self._static.get("/" + "/".join(segments))
        if route is not None:
            return Match(route, (), False)
        for route in self._templates.get(len(segments), ()):
            values = []
            for fixed, given in zip(route.segments, segments, strict=True):
                if fixed is None:
                    if not given:
                        break
                    values.append(given)
                elif fixed != given:
                    break
            else:
                return Match(route, tuple(zip(route.placeholders, values, strict=True)), False)
        return None


def _placeholder(segment: str) -> str | None:
    found = _PLACEHOLDER.match(segment)
    return found.group(1) if found else None


def split_request_line(line: str, prefix: str = DEFAULT_PREFIX) -> tuple[str, str]:
    """``[GET ][scheme://host[:port]][/]zstack/v1/<rest>[?query]`` → (``/<rest>``, query).

    The prefix is optional too (``vm-instances?q=...`` works).
    """
    text = line.strip()
    if text[:4].upper() == "GET ":
        text = text[4:].lstrip()
    text = _SCHEME_HOST.sub("", text, count=1)
    path, _, query = text.partition("?")
    path = "/" + path.lstrip("/")
    bare = prefix.strip("/")
    if path == "/" + bare or path.startswith("/" + bare + "/"):
        path = path[len(bare) + 1:] or "/"
    return path, query


def with_conditions(query: str, conditions: Sequence[tuple[str, str]]) -> str:
    """*query* with ``q=<name>=<value>`` appended for each condition (URL-encoded)."""
    extra = "&".join(f"q={quote(f'{name}={value}', safe='')}" for name, value in conditions)
    if not extra:
        return query
    return f"{query}&{extra}" if query else extra

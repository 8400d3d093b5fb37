"""The Python peers, pyrsql (RSQL) and odata-query (OData), on the same tables as zquery.

Both need ORM classes for relationship paths, so :func:`peer_models` maps one class per
resource onto the tables of ``build_metadata(graph)``, one view-only ``relationship`` per
graph relation (link tables as ``secondary``) plus ``systemTags`` (the tag rows of the
resource's type) so that both peers can say the tag filter too. :class:`Peers` turns a
peer's filter text into ``select(VmInstance).where(...)`` with the default page limit, the
statement zquery builds for the same request.

>>> from benchmarks.schema import test_graph
>>> peers = Peers(test_graph(), "VmInstance")
>>> " ".join(str(peers.pyrsql('name=="vm-1"')).split())[-50:]
'WHERE "VmInstanceVO".name = :name_1 LIMIT :param_1'
>>> "EXISTS" in str(peers.odata("vmNics/any(n: n/ip eq '10.0.0.1')"))
True
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from odata_query.sqlalchemy.shorthand import apply_odata_query
from pyrsql import QueryOptions
from pyrsql import compile as rsql_compile
from pyrsql.orms.sqlalchemy import SQLAlchemyORM
from pyrsql.parsing.limits import ParseLimits
from sqlalchemy import orm
from sqlalchemy.sql import Select

from benchmarks.handwritten import DEFAULT_LIMIT
from zquery.schema.graph import Relation, Resource, SchemaGraph
from zquery.schema.tables import build_metadata

__all__ = ["PEER_NAMES", "Peers", "peer_models", "peers_for"]

#: The peers, in the order the reports show them.
PEER_NAMES = ("pyrsql", "odata")
#: The ORM relationship each resource gets for its system tags.
TAGS_RELATIONSHIP = "systemTags"
# pyrsql's defaults refuse a 1,000-element list and long texts; the corpus needs both.
_RSQL_LIMITS = ParseLimits(max_query_length=1 << 20, max_argument_length=1 << 16,
                           max_arguments_per_list=100_000, max_node_count=100_000)


def peer_models(graph: SchemaGraph) -> dict[str, type[Any]]:
    """One mapped class per resource (named after it), relationships as in the graph."""
    tables = build_metadata(graph).tables
    registry = orm.registry()
    classes: dict[str, type[Any]] = {name: type(name, (), {}) for name in graph.resources}
    tag_class: type[Any] | None = None
    if graph.tags is not None and graph.tags.system_table in tables:
        tag_class = type("BenchSystemTagRow", (), {})  # the catalogue has its own SystemTag
        registry.map_imperatively(tag_class, tables[graph.tags.system_table])
    for name, resource in graph.resources.items():
        table = tables[resource.table]
        properties: dict[str, Any] = {
            rel_name: _relationship(graph, tables, table, rel, classes[rel.target])
            for rel_name, rel in resource.relations.items()}
        for alias in resource.aliases.values():
            through = _alias_relationship(graph, tables, table, resource, alias.path, classes)
            if through is not None and alias.name not in properties:
                properties[alias.name] = through
        if (tag_class is not None and resource.tag_type and graph.tags is not None
                and resource.table != graph.tags.system_table):
            properties[TAGS_RELATIONSHIP] = _tags(graph, tables, table, resource, tag_class)
        registry.map_imperatively(classes[name], table, properties=properties)
    registry.configure()
    return classes


def _relationship(graph: SchemaGraph, tables: Any, table: sa.Table, rel: Relation,
                  target: type[Any]) -> Any:
    target_resource = graph.resources[rel.target]
    other = tables[target_resource.table]
    if rel.through is not None:
        link = tables[rel.through.table]
        return orm.relationship(
            target, secondary=link, viewonly=True, uselist=True,
            primaryjoin=table.c[rel.local_key] == orm.foreign(link.c[rel.through.source_column]),
            secondaryjoin=orm.foreign(link.c[rel.through.target_column])
            == other.c[rel.remote_key])
    if rel.remote_key == target_resource.primary_key:
        join = orm.foreign(table.c[rel.local_key]) == orm.remote(other.c[rel.remote_key])
    else:
        join = table.c[rel.local_key] == orm.foreign(orm.remote(other.c[rel.remote_key]))
    return orm.relationship(target, primaryjoin=join, viewonly=True, uselist=rel.to_many)


def _alias_relationship(graph: SchemaGraph, tables: Any, table: sa.Table, resource: Resource,
                        path: tuple[str, ...], classes: dict[str, type[Any]]) -> Any:
    """A zquery alias over two plain hops (``cluster`` = ``clusterRef.cluster``) as one
    relationship with the middle table as ``secondary``; None for any other alias."""
    if len(path) != 2 or path[0] not in resource.relations:
        return None
    first = resource.relations[path[0]]
    middle = graph.resources[first.target]
    second = middle.relations.get(path[1])
    if second is None or first.through is not None or second.through is not None:
        return None
    link, target = tables[middle.table], tables[graph.resources[second.target].table]
    return orm.relationship(
        classes[second.target], secondary=link, viewonly=True,
        uselist=first.to_many or second.to_many,
        primaryjoin=table.c[first.local_key] == orm.foreign(link.c[first.remote_key]),
        secondaryjoin=orm.foreign(link.c[second.local_key]) == target.c[second.remote_key])


def _tags(graph: SchemaGraph, tables: Any, table: sa.Table, resource: Resource,
          tag_class: type[Any]) -> Any:
    assert graph.tags is not None
    tags = graph.tags
    tag_table = tables[tags.system_table]
    join = sa.and_(
        table.c[resource.primary_key] == orm.foreign(tag_table.c[tags.resource_uuid]),
        tag_table.c[tags.resource_type] == resource.tag_type)
    return orm.relationship(tag_class, primaryjoin=join, viewonly=True, uselist=True)


_PEERS: dict[tuple[int, str], tuple[SchemaGraph, Peers]] = {}


def peers_for(graph: SchemaGraph, resource: str) -> Peers:
    """The (cached) :class:`Peers` of *graph*: mapping a large catalogue takes seconds."""
    found = _PEERS.get((id(graph), resource))
    if found is None or found[0] is not graph:
        found = (graph, Peers(graph, resource))
        _PEERS[(id(graph), resource)] = found
    return found[1]


class Peers:
    """The two peers' text → ``Select`` on one root resource's model."""

    def __init__(self, graph: SchemaGraph, resource: str) -> None:
        self.models = peer_models(graph)
        self.model = self.models[graph.resource(resource).name]
        self._orm = SQLAlchemyORM()
        self._options = QueryOptions(parse_limits=_RSQL_LIMITS)

    def pyrsql(self, text: str) -> Select[Any]:
        compiled = rsql_compile(text, orm=self._orm, options=self._options)
        stmt: Select[Any] = compiled.apply(sa.select(self.model), self.model)
        return stmt.limit(DEFAULT_LIMIT)

    def odata(self, text: str) -> Select[Any]:
        stmt = cast(Select[Any], apply_odata_query(sa.select(self.model), text))
        return stmt.limit(DEFAULT_LIMIT)

    def build(self, peer: str, text: str) -> Select[Any]:
        """``pyrsql`` or ``odata`` (see :data:`PEER_NAMES`)."""
        return self.pyrsql(text) if peer == "pyrsql" else self.odata(text)

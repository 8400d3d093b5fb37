"""One door into the schema graph: :func:`build_schema`, like SQLAlchemy's ``inspect``.

It takes a :class:`SchemaGraph` (returned as is), the dict format of
:mod:`zquery.schema.serialize` (a dict, JSON text, or the path of a JSON file), a
SQLAlchemy ``MetaData`` or list of ``Table`` objects, or ORM models (a declarative base,
a ``registry``, or an iterable of mapped classes); see :mod:`zquery.schema.from_sqlalchemy`.
The result is always checked (:meth:`SchemaGraph.check`).

>>> graph = build_schema('{"resources": {"Zone": {"table": "ZoneVO", "primary_key": "uuid",'
...                      ' "fields": {"uuid": "String", "name": "String"}}}}')
>>> build_schema(graph) is graph
True
>>> import sqlalchemy as sa
>>> md = sa.MetaData()
>>> _ = sa.Table("ZoneVO", md, sa.Column("uuid", sa.String(32), primary_key=True))
>>> _ = sa.Table("ClusterVO", md, sa.Column("uuid", sa.String(32), primary_key=True),
...              sa.Column("zoneUuid", sa.ForeignKey("ZoneVO.uuid")))
>>> graph = build_schema(md)
>>> graph.resource("Cluster").relations["zone"].target, sorted(graph.resource("Zone").relations)
('Zone', ['cluster'])
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Union

import sqlalchemy as sa
from sqlalchemy import orm

from zquery.errors import SchemaError
from zquery.schema.from_sqlalchemy import DoorOptions, graph_from_metadata, graph_from_models
from zquery.schema.graph import OwnershipConfig, SchemaGraph, TagConfig
from zquery.schema.serialize import graph_from_dict, graph_to_dict

__all__ = ["SchemaSource", "build_schema", "graph_from_dict", "graph_to_dict", "load_json"]

#: Everything :func:`build_schema` accepts.
SchemaSource = Union[SchemaGraph, Mapping[str, Any], str, bytes, "os.PathLike[str]",
                     sa.MetaData, sa.Table, orm.registry, Iterable[Any], type]


def build_schema(
    source: SchemaSource,
    *,
    name: Callable[[str], str] | None = None,
    tags: TagConfig | None = None,
    ownership: OwnershipConfig | None = None,
    link_tables_as_resources: bool = False,
    exclude: Iterable[str] = (),
) -> SchemaGraph:
    """Build a checked :class:`SchemaGraph` from any supported source.

    The keyword arguments shape the SQLAlchemy doors only: ``name`` turns a table name
    (``MetaData``) or class name (ORM) into a resource name (default: drop a trailing
    ``VO``); ``tags``/``ownership`` say where tags and ownership live (those tables are
    then not resources); ``exclude`` lists table names to leave out.
    """
    options = DoorOptions(name=name, tags=tags, ownership=ownership,
                          link_tables_as_resources=link_tables_as_resources,
                          exclude=frozenset(exclude))
    if isinstance(source, SchemaGraph):
        _no_door_options(options, "a SchemaGraph")
        return source
    if isinstance(source, Mapping):
        _no_door_options(options, "a schema dict")
        return graph_from_dict(source)
    if isinstance(source, (str, bytes, os.PathLike)):
        _no_door_options(options, "JSON")
        return graph_from_dict(load_json(source))
    if isinstance(source, sa.MetaData):
        return graph_from_metadata(source.tables.values(), options)
    if isinstance(source, sa.Table):
        return graph_from_metadata([source], options)
    if isinstance(source, orm.registry):
        return graph_from_models([m.class_ for m in source.mappers], options)
    registry = getattr(source, "registry", None) if isinstance(source, type) else None
    if isinstance(registry, orm.registry):
        return graph_from_models([m.class_ for m in registry.mappers], options)
    if isinstance(source, Iterable):
        items = list(source)
        if items and all(isinstance(item, sa.Table) for item in items):
            return graph_from_metadata(items, options)
        if items and all(isinstance(item, type) for item in items):
            return graph_from_models(items, options)
        kinds = sorted({type(item).__name__ for item in items}) or ["nothing"]
        raise SchemaError(
            f"cannot build a schema from a list of {', '.join(kinds)}",
            param="source", value=repr(items)[:200],
            hint="pass a list of Table objects or a list of mapped classes")
    raise SchemaError(
        f"cannot build a schema from {type(source).__name__}", param="source",
        value=repr(source)[:200],
        hint="pass a SchemaGraph, a dict, JSON text or path, a MetaData, a declarative base "
             "or mapped classes")


def load_json(source: str | bytes | os.PathLike[str]) -> Any:
    """Parse JSON text (a string starting with ``{``) or read and parse a JSON file."""
    where = "json"
    if isinstance(source, bytes):
        text = source.decode("utf-8")
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        text = source
    else:
        path = Path(source)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SchemaError(f"cannot read schema file {path}: {exc.strerror}", param="path",
                              value=str(path), hint="give JSON text or an existing file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        line = text.splitlines()[exc.lineno - 1] if text.splitlines() else ""
        raise SchemaError(f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                          f"{exc.msg}", param=where, value=line, start=exc.colno - 1,
                          end=exc.colno) from None


def _no_door_options(options: DoorOptions, what: str) -> None:
    if options != DoorOptions():
        raise SchemaError(
            f"name/tags/ownership/link_tables_as_resources/exclude do not apply to {what}",
            param="build_schema", value=what,
            hint="put tags and ownership into the schema itself; the keywords shape the "
                 "SQLAlchemy doors only")

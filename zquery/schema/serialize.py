"""The schema dict/JSON format: :func:`graph_from_dict` and its inverse :func:`graph_to_dict`.

The shipped catalogue and hand-written schemas use this format (see ``docs/schema.md``).
Only ``table``, ``primary_key`` and ``fields`` are required for a resource; a field may
be its bare type name. Unknown keys are errors (a typo must not silently drop data).

>>> graph = graph_from_dict({"resources": {"Zone": {
...     "table": "ZoneVO", "primary_key": "uuid",
...     "fields": {"uuid": "String", "state": {"type": "String", "choices": ["Enabled"]}}}}})
>>> graph.resource("Zone").field("state").choices
('Enabled',)
>>> graph_to_dict(graph)["resources"]["Zone"]["fields"]["uuid"]
'String'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from zquery.errors import SchemaError, did_you_mean
from zquery.schema.graph import (
    Alias,
    Cardinality,
    Field,
    FieldType,
    LinkTable,
    MappedValue,
    OwnershipConfig,
    Relation,
    Resource,
    SchemaGraph,
    TagConfig,
    Through,
)

__all__ = ["graph_from_dict", "graph_to_dict"]

_TOP_KEYS = ("resources", "link_tables", "tags", "ownership", "meta")
_RESOURCE_KEYS = ("table", "primary_key", "fields", "relations", "aliases", "tag_type", "owned",
                  "row_filter", "api_name", "rest_paths", "inventory", "title", "section")
_FIELD_KEYS = ("type", "column", "choices", "description", "since", "nullable", "mapped")
_MAPPED_KEYS = ("table", "owner_key", "join_column", "value_column", "many")
_RELATION_KEYS = ("target", "cardinality", "local_key", "remote_key", "through", "nested",
                  "hidden", "origin")
_THROUGH_KEYS = ("table", "source_column", "target_column")
_LINK_KEYS = ("columns", "primary_key")
_TYPE_NAMES = [t.value for t in FieldType]

_T = TypeVar("_T")


# -- reading -----------------------------------------------------------------------------


def graph_from_dict(data: Mapping[str, Any]) -> SchemaGraph:
    """Build (and check) a :class:`SchemaGraph` from the dict format.

    Errors name the offending location as ``param`` (``resources.Vm.fields.state``).
    """
    top = _mapping(data, "schema")
    _known_keys(top, _TOP_KEYS, "schema", required=("resources",))
    resources = {
        str(name): _resource(str(name), spec, f"resources.{name}")
        for name, spec in _mapping(top["resources"], "resources").items()
    }
    links = {
        str(name): _link_table(str(name), spec, f"link_tables.{name}")
        for name, spec in _mapping(top.get("link_tables") or {}, "link_tables").items()
    }
    tags = _config(TagConfig, top.get("tags"), "tags")
    ownership = _config(OwnershipConfig, top.get("ownership"), "ownership")
    return SchemaGraph(resources=resources, link_tables=links, tags=tags, ownership=ownership)


def _resource(name: str, spec: Any, where: str) -> Resource:
    body = _mapping(spec, where)
    _known_keys(body, _RESOURCE_KEYS, where, required=("table", "primary_key", "fields"))
    fields = {
        str(fname): _field(str(fname), fspec, f"{where}.fields.{fname}")
        for fname, fspec in _mapping(body["fields"], f"{where}.fields").items()
    }
    relations = {
        str(rname): _relation(name, str(rname), rspec, f"{where}.relations.{rname}")
        for rname, rspec in _mapping(body.get("relations") or {}, f"{where}.relations").items()
    }
    aliases = {}
    for aname, path in _mapping(body.get("aliases") or {}, f"{where}.aliases").items():
        text = _typed(path, str, f"{where}.aliases.{aname}")
        aliases[str(aname)] = Alias(str(aname), tuple(text.split(".")) if text else ())
    row_filter = tuple(
        (str(column), _strings(values, f"{where}.row_filter.{column}"))
        for column, values in _mapping(body.get("row_filter") or {}, f"{where}.row_filter").items()
    )
    return Resource(
        name=name,
        table=_typed(body["table"], str, f"{where}.table"),
        primary_key=_typed(body["primary_key"], str, f"{where}.primary_key"),
        fields=fields,
        relations=relations,
        aliases=aliases,
        tag_type=_optional(body.get("tag_type"), str, f"{where}.tag_type"),
        owned=_typed(body.get("owned", False), bool, f"{where}.owned"),
        row_filter=row_filter,
        api_name=_optional(body.get("api_name"), str, f"{where}.api_name"),
        rest_paths=_strings(body.get("rest_paths", []), f"{where}.rest_paths"),
        inventory=_optional(body.get("inventory"), str, f"{where}.inventory"),
        title=_typed(body.get("title", ""), str, f"{where}.title"),
        section=_typed(body.get("section", ""), str, f"{where}.section"),
    )


def _field(name: str, spec: Any, where: str) -> Field:
    if isinstance(spec, str):
        return Field(name, _field_type(spec, where))
    body = _mapping(spec, where)
    _known_keys(body, _FIELD_KEYS, where, required=("type",))
    mapped = None
    if body.get("mapped") is not None:
        mwhere = f"{where}.mapped"
        mbody = _mapping(body["mapped"], mwhere)
        _known_keys(mbody, _MAPPED_KEYS, mwhere, required=_MAPPED_KEYS[:4])
        table, owner_key, join_column, value_column = (
            _typed(mbody[key], str, f"{mwhere}.{key}") for key in _MAPPED_KEYS[:4])
        mapped = MappedValue(table, owner_key, join_column, value_column,
                             many=_typed(mbody.get("many", True), bool, f"{mwhere}.many"))
    return Field(
        name,
        _field_type(body["type"], f"{where}.type"),
        column=_typed(body.get("column", ""), str, f"{where}.column"),
        choices=_strings(body.get("choices", []), f"{where}.choices"),
        description=_typed(body.get("description", ""), str, f"{where}.description"),
        since=_typed(body.get("since", ""), str, f"{where}.since"),
        nullable=_typed(body.get("nullable", True), bool, f"{where}.nullable"),
        mapped=mapped,
    )


def _relation(source: str, name: str, spec: Any, where: str) -> Relation:
    body = _mapping(spec, where)
    _known_keys(body, _RELATION_KEYS, where, required=_RELATION_KEYS[:4])
    card_text = _typed(body["cardinality"], str, f"{where}.cardinality")
    try:
        cardinality = Cardinality(card_text)
    except ValueError:
        raise SchemaError(f"{where}: cardinality must be 'one' or 'many', not {card_text!r}",
                          param=f"{where}.cardinality", value=card_text,
                          hint=did_you_mean(card_text, ["one", "many"])) from None
    through = None
    if body.get("through") is not None:
        twhere = f"{where}.through"
        tbody = _mapping(body["through"], twhere)
        _known_keys(tbody, _THROUGH_KEYS, twhere, required=_THROUGH_KEYS)
        through = Through(*(_typed(tbody[key], str, f"{twhere}.{key}") for key in _THROUGH_KEYS))
    return Relation(
        name=name,
        source=source,
        target=_typed(body["target"], str, f"{where}.target"),
        cardinality=cardinality,
        local_key=_typed(body["local_key"], str, f"{where}.local_key"),
        remote_key=_typed(body["remote_key"], str, f"{where}.remote_key"),
        through=through,
        nested=_typed(body.get("nested", False), bool, f"{where}.nested"),
        hidden=_typed(body.get("hidden", False), bool, f"{where}.hidden"),
        origin=_typed(body.get("origin", "dict"), str, f"{where}.origin"),
    )


def _link_table(name: str, spec: Any, where: str) -> LinkTable:
    body = _mapping(spec, where)
    _known_keys(body, _LINK_KEYS, where, required=("columns",))
    columns = tuple(
        (str(col), _field_type(ctype, f"{where}.columns.{col}"))
        for col, ctype in _mapping(body["columns"], f"{where}.columns").items()
    )
    return LinkTable(name, columns, _strings(body.get("primary_key", []), f"{where}.primary_key"))


def _config(kind: type[_T], spec: Any, where: str) -> _T | None:
    """``None``/absent → no config; ``{}`` → the defaults; keys override single columns."""
    if spec is None:
        return None
    body = _mapping(spec, where)
    names = [f.name for f in dataclasses.fields(kind)]  # type: ignore[arg-type]
    _known_keys(body, names, where)
    return kind(**{key: _typed(value, str, f"{where}.{key}") for key, value in body.items()})


# -- small validators --------------------------------------------------------------------


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SchemaError(f"{where}: expected an object, got {type(value).__name__}",
                          param=where, value=repr(value))
    return value


def _known_keys(body: Mapping[str, Any], allowed: tuple[str, ...] | list[str], where: str,
                required: tuple[str, ...] = ()) -> None:
    for key in body:
        if key not in allowed:
            raise SchemaError(f"{where}: unknown key '{key}'", param=f"{where}.{key}",
                              value=str(key), expected=allowed,
                              hint=did_you_mean(str(key), allowed, cutoff=0.6))
    for key in required:
        if key not in body:
            raise SchemaError(f"{where}: missing required key '{key}'", param=f"{where}.{key}",
                              expected=required)


def _typed(value: Any, kind: type[_T], where: str) -> _T:
    # bool is an int subclass: keep the check exact so `"owned": 1` is refused.
    if type(value) is not kind:
        raise SchemaError(f"{where}: expected {kind.__name__}, got {type(value).__name__}",
                          param=where, value=repr(value))
    return value  # type: ignore[no-any-return]


def _optional(value: Any, kind: type[_T], where: str) -> _T | None:
    return None if value is None else _typed(value, kind, where)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise SchemaError(f"{where}: expected a list of strings, got {type(value).__name__}",
                          param=where, value=repr(value))
    return tuple(_typed(item, str, f"{where}[{i}]") for i, item in enumerate(value))


def _field_type(value: Any, where: str) -> FieldType:
    text = _typed(value, str, where)
    try:
        return FieldType(text)
    except ValueError:
        raise SchemaError(f"{where}: unknown type '{text}'", param=where, value=text,
                          expected=_TYPE_NAMES, hint=did_you_mean(text, _TYPE_NAMES)) from None


# -- writing -----------------------------------------------------------------------------


def graph_to_dict(graph: SchemaGraph) -> dict[str, Any]:
    """The dict form of *graph*, keeping only values that differ from the defaults."""
    out: dict[str, Any] = {"resources": {res.name: _resource_dict(res) for res in graph}}
    if graph.link_tables:
        out["link_tables"] = {
            link.name: {"columns": {col: ftype.value for col, ftype in link.columns},
                        **({"primary_key": list(link.primary_key)} if link.primary_key else {})}
            for link in graph.link_tables.values()
        }
    if graph.tags is not None:
        out["tags"] = _non_default(graph.tags, TagConfig())
    if graph.ownership is not None:
        out["ownership"] = _non_default(graph.ownership, OwnershipConfig())
    return out


def _resource_dict(res: Resource) -> dict[str, Any]:
    out: dict[str, Any] = {"table": res.table, "primary_key": res.primary_key,
                           "fields": {f.name: _field_dict(f) for f in res.fields.values()}}
    if res.relations:
        out["relations"] = {r.name: _relation_dict(r) for r in res.relations.values()}
    if res.aliases:
        out["aliases"] = {a.name: ".".join(a.path) for a in res.aliases.values()}
    if res.tag_type is not None:
        out["tag_type"] = res.tag_type
    if res.owned:
        out["owned"] = True
    if res.row_filter:
        out["row_filter"] = {column: list(values) for column, values in res.row_filter}
    optional = {"api_name": res.api_name, "rest_paths": list(res.rest_paths),
                "inventory": res.inventory, "title": res.title, "section": res.section}
    out.update({key: value for key, value in optional.items() if value})
    return out


def _field_dict(field: Field) -> str | dict[str, Any]:
    out: dict[str, Any] = {"type": field.type.value}
    if field.column != field.name:
        out["column"] = field.column
    if field.choices:
        out["choices"] = list(field.choices)
    if field.description:
        out["description"] = field.description
    if field.since:
        out["since"] = field.since
    if not field.nullable:
        out["nullable"] = False
    if field.mapped is not None:
        out["mapped"] = dataclasses.asdict(field.mapped)
    return out if len(out) > 1 else field.type.value


def _relation_dict(rel: Relation) -> dict[str, Any]:
    out: dict[str, Any] = {"target": rel.target, "cardinality": rel.cardinality.value,
                           "local_key": rel.local_key, "remote_key": rel.remote_key}
    if rel.through is not None:
        out["through"] = dataclasses.asdict(rel.through)
    if rel.nested:
        out["nested"] = True
    if rel.hidden:
        out["hidden"] = True
    if rel.origin != "dict":
        out["origin"] = rel.origin
    return out


def _non_default(config: TagConfig | OwnershipConfig, default: object) -> dict[str, str]:
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
            if getattr(config, f.name) != getattr(default, f.name)}

"""The OpenAPI 3.1 document of a query server: every REST path, every parameter, every reply.

Each resource's REST path gets a ``GET`` operation (``operationId`` = the Query API name)
and a ``/{uuid}`` twin; the shared query parameters (``q``, ``limit``, ``sort`` …) are
components; each resource's inventory is a schema (nested collections included) and every
error reply uses the manual's error shape.

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> from zquery.server_routes import Router
>>> doc = openapi_document(GRAPH, Router(GRAPH))
>>> doc["openapi"], "/zstack/v1/vm-instances" in doc["paths"]
('3.1.0', True)
>>> doc["paths"]["/zstack/v1/vm-instances/{uuid}"]["get"]["parameters"][0]["name"]
'uuid'
"""

from __future__ import annotations

from typing import Any

from zquery.request import TOLERATED_PARAMETERS
from zquery.schema.graph import Field, FieldType, Resource, SchemaGraph
from zquery.server_routes import DEFAULT_PREFIX, Route, Router

__all__ = ["QUERY_PARAMETERS", "openapi_document"]

_TYPES: dict[FieldType, dict[str, str]] = {
    FieldType.STRING: {"type": "string"},
    FieldType.INTEGER: {"type": "integer", "format": "int32"},
    FieldType.SHORT: {"type": "integer", "format": "int32"},
    FieldType.LONG: {"type": "integer", "format": "int64"},
    FieldType.FLOAT: {"type": "number", "format": "double"},
    FieldType.DOUBLE: {"type": "number", "format": "double"},
    FieldType.BOOLEAN: {"type": "boolean"},
    FieldType.TIMESTAMP: {"type": "string", "description": "e.g. 'May 11, 2017 1:23:02 PM'"},
}


def _param(name: str, description: str, schema: dict[str, Any], *,
           repeated: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": "query", "required": False,
                           "description": description}
    if repeated:
        out.update(schema={"type": "array", "items": schema}, style="form", explode=True)
    else:
        out["schema"] = schema
    return out


_TEXT = {"type": "string"}
_BOOL = {"type": "string", "enum": ["true", "false"]}
_COUNT = {"type": "integer", "minimum": 0}
#: The query parameters every Query API takes (contract section 1), by component name.
QUERY_PARAMETERS: dict[str, dict[str, Any]] = {
    "q": _param("q", "A condition <path><op><value>, e.g. vmNics.ip=10.0.0.1; repeat it, the "
                "conditions are ANDed. Operators: = != > < >= <= ?= !?= ~= !~= and "
                "'is null' / 'not null'.", _TEXT, repeated=True),
    "condition": _param("condition", "A synonym of q.", _TEXT, repeated=True),
    "limit": _param("limit", "Page size (default 1000).", _COUNT),
    "start": _param("start", "Offset of the first row (default 0).", _COUNT),
    "count": _param("count", "true: reply with {\"total\": N} only.", _BOOL),
    "replyWithCount": _param("replyWithCount", "true: add the total number of matches.",
                             _BOOL),
    "sort": _param("sort", "+field, -field or field; several comma-separated; to-one paths "
                   "allowed (zone.name).", _TEXT),
    "sortBy": _param("sortBy", "The CLI form of sort (with sortDirection).", _TEXT),
    "sortDirection": _param("sortDirection", "asc or desc (with sortBy).",
                            {"type": "string", "enum": ["asc", "desc"]}),
    "fields": _param("fields", "Native fields to return; repeated or comma-separated.", _TEXT,
                     repeated=True),
    "groupBy": _param("groupBy", "Native fields to group by (one object per group, with "
                      "count).", _TEXT),
    **{name: _param(name, "Accepted and ignored (compatibility).", _TEXT)
       for name in TOLERATED_PARAMETERS},
}

_ERROR = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "description", "details"],
        "properties": {
            "code": {"type": "string", "examples": ["SYS.1007"]},
            "description": {"type": "string"},
            "details": {"type": "string"},
            "opaque": {"type": "object", "properties": {"zquery": {
                "type": "object", "properties": {
                    "code": {"type": "string"}, "param": {"type": "string"},
                    "start": {"type": "integer"}, "end": {"type": "integer"},
                    "hint": {"type": "string"},
                    "expected": {"type": "array", "items": {"type": "string"}}}}}}}}},
}
_ERRORS = {
    "400": "Invalid request (the manual's SYS.1007 error shape).",
    "401": "Unknown or malformed session (ID.1001).",
    "404": "Unknown path.",
    "405": "A method other than GET.",
    "503": "The database failed or timed out.",
}


def _field_schema(field: Field) -> dict[str, Any]:
    schema: dict[str, Any] = dict(_TYPES[field.type])
    if field.choices:
        schema["enum"] = list(field.choices)
    if field.description:
        schema["description"] = field.description
    if field.mapped is not None and field.mapped.many:
        schema = {"type": "array", "items": schema}
    return schema


def _inventory(graph: SchemaGraph, res: Resource) -> dict[str, Any]:
    properties = {name: _field_schema(f) for name, f in res.fields.items()}
    for rel in res.relations.values():
        if rel.nested:
            item = {"$ref": f"#/components/schemas/{rel.target}"}
            properties[rel.name] = {"type": "array", "items": item} if rel.to_many else item
    return {"type": "object", "title": res.inventory or res.name, "properties": properties}


def _reply(res: Resource) -> dict[str, Any]:
    return {"type": "object", "properties": {
        "inventories": {"type": "array", "items": {"$ref": f"#/components/schemas/{res.name}"}},
        "total": {"type": "integer", "minimum": 0}}}


def _operation(route: Route, by_key: bool, nth: int) -> dict[str, Any]:
    """The GET operation of *route*; *nth* > 1 for a resource's second, third … REST path
    (``operationId`` must be unique)."""
    res = route.resource
    api = (res.api_name or f"Query{res.name}") + (f"_{nth}" if nth > 1 else "")
    path_params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"},
                    "description": f"Adds the condition {name}=<value>."}
                   for name in route.placeholders]
    if by_key:
        path_params.append({"name": res.primary_key, "in": "path", "required": True,
                            "schema": {"type": "string"},
                            "description": f"Adds the condition {res.primary_key}=<value>."})
    names = ", ".join(sorted(res.names()))
    responses: dict[str, Any] = {"200": {"description": "The matching inventories.", "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{res.name}Reply"}}}}}
    for status, text in _ERRORS.items():
        responses[status] = {"description": text, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "operationId": f"{api}ByKey" if by_key else api,
        "summary": res.title or api,
        "description": f"{api}: fields, relations and aliases usable in q: {names}.",
        "tags": [res.section or "other"],
        "parameters": [*path_params, *({"$ref": f"#/components/parameters/{name}"}
                                       for name in QUERY_PARAMETERS)],
        "responses": responses,
    }


def openapi_document(graph: SchemaGraph, router: Router, *, prefix: str = DEFAULT_PREFIX,
                     title: str = "zquery: ZStack Cloud query API") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of *router* under *prefix*."""
    from zquery import __version__

    base = "/" + prefix.strip("/")
    paths: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for route in router.routes:  # in the graph's order: a resource's first path is its main one
        nth = seen[route.resource.name] = seen.get(route.resource.name, 0) + 1
        paths.setdefault(base + route.rest_path, {"get": _operation(route, False, nth)})
        key = "{" + route.resource.primary_key + "}"
        paths.setdefault(f"{base}{route.rest_path}/{key}", {"get": _operation(route, True, nth)})
    paths = dict(sorted(paths.items()))
    paths["/health"] = {"get": {"operationId": "health", "summary": "Database health",
                                "responses": {"200": {"description": "The database answers."},
                                              "503": {"description": "It does not."}}}}
    schemas: dict[str, Any] = {"Error": _ERROR}
    for res in sorted(graph, key=lambda r: r.name):
        schemas[res.name] = _inventory(graph, res)
        schemas[f"{res.name}Reply"] = _reply(res)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": __version__,
                 "description": "GET-only query endpoints compatible with ZStack Cloud 4.1.3 "
                                "(manual chapter 2.9)."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": QUERY_PARAMETERS,
            "securitySchemes": {"session": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": "OAuth <session uuid>"}},
        },
        "security": [{}, {"session": []}],
    }

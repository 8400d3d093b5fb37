"""The OpenAPI document, checked structurally: OpenAPI 3.x keys, every catalogue path (and its
``/{key}`` twin) with a GET operation, every query parameter listed, path parameters for every
template variable, error replies in the manual's shape, and every ``$ref`` resolvable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from zquery.api import ZQuery
from zquery.catalogue import load_catalogue
from zquery.request import KNOWN_PARAMETERS
from zquery.server import QueryService
from zquery.server_openapi import QUERY_PARAMETERS

API = "/zstack/v1"
_TEMPLATE = re.compile(r"\{([^}]+)\}")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    service = QueryService(ZQuery(), sa.create_engine("sqlite://"))
    reply = service.handle("GET", "/openapi.json", "", [])
    assert reply.status == 200
    doc: dict[str, Any] = reply.json()
    return doc


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _follow(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_the_top_level_is_openapi_3(document: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.\d+\.\d+", document["openapi"])
    assert document["info"]["title"] and document["info"]["version"]
    assert set(document) >= {"openapi", "info", "paths", "components"}
    scheme = document["components"]["securitySchemes"]["session"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header",
                                                              "Authorization")


REST_PATHS = sorted({(res.name, rest) for res in load_catalogue() for rest in res.rest_paths})


@pytest.mark.parametrize(("resource", "rest"), REST_PATHS)
def test_every_catalogue_path_and_its_key_twin_are_listed(document: dict[str, Any],
                                                          resource: str, rest: str) -> None:
    key = load_catalogue().resources[resource].primary_key
    for path in (API + rest, f"{API}{rest}/{{{key}}}"):
        assert path in document["paths"], path
        operation = document["paths"][path]["get"]
        assert operation["operationId"]
        assert set(operation["responses"]) >= {"200", "400", "401", "404", "405", "503"}


def test_every_query_api_has_its_operation(document: dict[str, Any]) -> None:
    ids = [op["get"]["operationId"] for op in document["paths"].values()]
    assert len(ids) == len(set(ids))
    apis = {res.api_name for res in load_catalogue() if res.api_name}
    assert apis <= set(ids)
    assert len(apis) == 186


def test_every_operation_lists_every_parameter_and_its_path_variables(
        document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        operation = item["get"]
        if path == "/health":
            continue
        params = [_follow(document, p["$ref"]) if "$ref" in p else p
                  for p in operation["parameters"]]
        query = {p["name"] for p in params if p["in"] == "query"}
        assert query == set(KNOWN_PARAMETERS), path
        in_path = {p["name"] for p in params if p["in"] == "path"}
        assert in_path == set(_TEMPLATE.findall(path)), path
        assert all(p["required"] for p in params if p["in"] == "path")
        for param in params:
            assert param["schema"] and param["description"]


def test_the_parameter_components_are_well_formed(document: dict[str, Any]) -> None:
    components = document["components"]["parameters"]
    assert components == QUERY_PARAMETERS
    for name, param in components.items():
        assert param["name"] == name and param["in"] == "query"
        if param["schema"].get("type") == "array":
            assert (param["style"], param["explode"]) == ("form", True)


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = set(_refs(document))
    assert "#/components/schemas/Error" in refs
    for ref in refs:
        assert _follow(document, ref) is not None


def test_inventories_describe_fields_and_nested_collections(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    vm = schemas["VmInstance"]["properties"]
    assert vm["cpuNum"]["type"] == "integer"
    assert "Running" in vm["state"]["enum"]
    assert vm["vmNics"] == {"type": "array", "items": {"$ref": "#/components/schemas/VmNic"}}
    reply = schemas["VmInstanceReply"]["properties"]
    assert set(reply) == {"inventories", "total"}
    error = schemas["Error"]["properties"]["error"]
    assert error["required"] == ["code", "description", "details"]

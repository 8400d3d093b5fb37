"""Every relation the open-source ZStack server declares for a resource in the catalogue is
there with the same key pair (read from ``../shared/reference/`` when present, never copied),
except its broken declarations, which are left out or corrected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from zquery.catalogue import load_catalogue
from zquery.schema.graph import Resource, SchemaGraph

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
pytestmark = pytest.mark.skipif(not (REFERENCE / "zstack-relations.json").exists(),
                                reason="the reference facts are not at ../shared/reference")

# the broken declarations the catalogue corrects: (inventory, name) → (local, remote, target)
CORRECTED = {
    ("ApplianceVmInventory", "virtualRouterOffering"):
        ("instanceOfferingUuid", "uuid", "VirtualRouterOffering"),
    ("VolumeSnapshotGroupRefInventory", "volumeSnapshotGroup"):
        ("volumeSnapshotGroupUuid", "uuid", "VolumeSnapshotGroup"),
    ("VipInventory", "usedIp"): ("usedIpUuid", "uuid", "UsedIp"),
}


def _records() -> list[dict[str, Any]]:
    if not (REFERENCE / "zstack-relations.json").exists():
        return []
    data: list[dict[str, Any]] = json.loads(
        (REFERENCE / "zstack-relations.json").read_text(encoding="utf-8"))
    return [r for r in data if not r["kind"].startswith("legacy")]


def _by_inventory(graph: SchemaGraph) -> dict[str, Resource]:
    return {res.inventory: res for res in graph if res.inventory}


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(resource inventory, relation name, record) for each holder: declarer and heirs."""
    cases = []
    for record in _records():
        name = record.get("alias") or record["expandedField"]
        for holder in [record["inventory"], *record.get("inherited_by", [])]:
            cases.append((holder, name, record))
    return cases


def _id(case: tuple[str, str, dict[str, Any]]) -> str:
    return f"{case[0]}.{case[1]}"


CASES = _cases()


@pytest.fixture(scope="module")
def inventories() -> dict[str, Resource]:
    return _by_inventory(load_catalogue())


def _own_declaration(holder: str, name: str, record: dict[str, Any]) -> bool:
    """A child's own relation of the same name wins over the inherited one."""
    if holder == record["inventory"]:
        return False
    return any((r.get("alias") or r["expandedField"]) == name and r["inventory"] == holder
               for r in _records())


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_reference_relation_is_in_the_catalogue(inventories: dict[str, Resource],
                                                case: tuple[str, str, dict[str, Any]]) -> None:
    holder, name, record = case
    res = inventories.get(holder)
    if res is None or _own_declaration(holder, name, record):
        pytest.skip(f"{holder} is not in the catalogue or declares its own {name}")
    graph = load_catalogue()
    key = (record["inventory"], name)
    if record.get("consistency_notes") and key not in CORRECTED:
        assert name not in res.relations or res.relations[name].origin != "reference"
        return
    if record["kind"] == "alias":
        assert ".".join(res.aliases[name].path) == record["expandedField"]
        return
    if record["kind"] == "queryable_mapped_field":
        field = res.fields[name]
        assert field.mapped is not None
        target = inventories.get(record["targetInventory"])
        assert (field.mapped.owner_key, field.mapped.join_column, field.mapped.value_column) == (
            record["foreignKey"], record["expandedInventoryKey"],
            record["referencedColumnName"])
        if target is not None:
            assert field.mapped.table == target.table
        return
    rel = res.relations[name]
    if key in CORRECTED:
        assert (rel.local_key, rel.remote_key, rel.target) == CORRECTED[key]
        return
    assert (rel.local_key, rel.remote_key) == (record["foreignKey"],
                                               record["expandedInventoryKey"])
    assert graph.resources[rel.target].inventory == record["targetInventory"]
    assert rel.hidden is bool(record["hidden"])
    assert rel.origin == "reference"


def test_every_covered_inventory_has_its_relations(inventories: dict[str, Resource]) -> None:
    # the cases above skip inventories outside the catalogue: make sure those are few and
    # only ones without a 4.1.3 Query API (never a covered API's inventory)
    queries = json.loads((REFERENCE / "zstack-query-apis.json").read_text(encoding="utf-8"))
    apis = {res.api_name for res in load_catalogue() if res.api_name}
    for query in queries:
        if query["api_name"] in apis:
            assert query["inventory"] in inventories, query["api_name"]


def test_the_reference_rest_paths_match(inventories: dict[str, Resource]) -> None:
    queries = json.loads((REFERENCE / "zstack-query-apis.json").read_text(encoding="utf-8"))
    graph = load_catalogue()
    checked = 0
    for query in queries:
        if query["api_name"] in {res.api_name for res in graph}:
            assert graph.resource(query["rest_path"]).api_name == query["api_name"]
            checked += 1
    assert checked == 63


def test_real_columns_are_columns_and_the_rest_are_mapped(
        inventories: dict[str, Resource]) -> None:
    data = json.loads((REFERENCE / "zstack-inventories.json").read_text(encoding="utf-8"))
    for inv in data:
        res = inventories.get(inv["inventory"])
        if res is None:
            continue
        for item in inv["fields"]:
            field = res.fields.get(item["name"])
            if field is None:
                continue
            if item.get("queryable"):
                assert field.mapped is not None, f"{res.name}.{field.name}"
            elif item["on_vo"]:
                assert field.mapped is None, f"{res.name}.{field.name}"

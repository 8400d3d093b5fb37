"""The open-source ZStack server's declarations (``../shared/reference/``), read into records.

Only what the catalogue needs is kept: each inventory's table, key, fields, typed children,
and each relation (expanded query, collection, alias, mapped value). The reference's known
defects are marked here, so the builder can leave them out or correct them:

* ``consistency_notes`` flags declarations whose keys exist on neither side, a relation that
  joins the wrong way and one that targets itself (see :data:`CORRECTIONS`);
* ``legacy_*`` records duplicate the annotation records and are skipped.

>>> ref = Reference.empty()
>>> ref.inventories, ref.relations
({}, [])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CORRECTIONS", "RefField", "RefInventory", "RefRelation", "Reference", "short"]

#: Broken declarations that can be set right: (inventory, field) → (foreign key, target key,
#: target inventory, why). The others flagged by ``consistency_notes`` are left out.
CORRECTIONS: dict[tuple[str, str], tuple[str, str, str, str]] = {
    ("ApplianceVmInventory", "virtualRouterOffering"): (
        "instanceOfferingUuid", "uuid", "VirtualRouterOfferingInventory",
        "joins the wrong way (offering.instanceOfferingUuid does not exist); the legacy "
        "extension point declares the right direction: vm.instanceOfferingUuid = offering.uuid"),
    ("VolumeSnapshotGroupRefInventory", "volumeSnapshotGroup"): (
        "volumeSnapshotGroupUuid", "uuid", "VolumeSnapshotGroupInventory",
        "targets its own inventory; the key volumeSnapshotGroupUuid names the group"),
    ("VipInventory", "usedIp"): (
        "usedIpUuid", "uuid", "UsedIpInventory",
        "the key usedIpUuid is a column of VipVO but not an inventory field; the catalogue "
        "adds it as a field so the relation has its key"),
}


def short(inventory: str) -> str:
    """``VmInstanceInventory`` → ``VmInstance``."""
    return inventory[:-len("Inventory")] if inventory.endswith("Inventory") else inventory


@dataclass
class RefField:
    name: str
    java_type: str
    on_vo: bool
    queryable: bool
    mapping: tuple[str, str, str] | None = None  # (mapping inventory, join column, value column)
    enum_type: str | None = None


@dataclass
class RefInventory:
    name: str
    table: str
    primary_key: str
    extends: str | None
    type_field: str | None
    discriminator: str | None  # the parent's type-field value that selects this child
    children: list[str]
    api_names: list[str]
    rest_paths: list[str]
    fields: dict[str, RefField]


@dataclass
class RefRelation:
    kind: str  # expanded_query | queryable_collection_field | alias | queryable_mapped_field
    inventory: str
    name: str
    target: str | None = None
    foreign_key: str | None = None
    target_key: str | None = None
    hidden: bool = False
    alias_path: str | None = None
    value_column: str | None = None
    java_type: str | None = None
    inherited_by: list[str] = field(default_factory=list)
    broken: str | None = None  # why the reference's declaration cannot be used as is
    corrected: str | None = None  # how the catalogue sets it right


@dataclass
class Reference:
    inventories: dict[str, RefInventory]
    relations: list[RefRelation]
    api_inventory: dict[str, str]  # Query API name → inventory

    @classmethod
    def empty(cls) -> Reference:
        return cls({}, [], {})

    @classmethod
    def load(cls, folder: Path) -> Reference:
        inventories = {raw["inventory"]: _inventory(raw)
                       for raw in _read(folder / "zstack-inventories.json")}
        apis = {raw["api_name"]: raw["inventory"]
                for raw in _read(folder / "zstack-query-apis.json")}
        relations = [rel for raw in _read(folder / "zstack-relations.json")
                     if (rel := _relation(raw)) is not None]
        return cls(inventories, relations, apis)

    def ancestors(self, inventory: str) -> list[str]:
        """Parent first, root last."""
        chain: list[str] = []
        current = self.inventories.get(inventory)
        while current is not None and current.extends:
            chain.append(current.extends)
            current = self.inventories.get(current.extends)
        return chain

    def relations_of(self, inventory: str) -> list[RefRelation]:
        """The inventory's own relations, then inherited ones whose name it does not declare.

        (The reference lets an ancestor's relation override the child's own: a defect.)
        """
        own = [rel for rel in self.relations if rel.inventory == inventory]
        names = {rel.name for rel in own}
        inherited = []
        for ancestor in self.ancestors(inventory):
            for rel in self.relations:
                if rel.inventory == ancestor and rel.name not in names:
                    inherited.append(rel)
                    names.add(rel.name)
        return own + inherited


def _read(path: Path) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _inventory(raw: dict[str, Any]) -> RefInventory:
    fields: dict[str, RefField] = {}
    for item in raw["fields"]:
        mapping = None
        queryable = item.get("queryable")
        if queryable:
            mapping = (queryable["mappingClass"], queryable["joinColumn_name"],
                       queryable["joinColumn_referencedColumnName"])
        vo_type = item.get("vo_java_type")
        enum_type = vo_type if vo_type and vo_type[0].isupper() and "<" not in vo_type else None
        fields[item["name"]] = RefField(item["name"], item["java_type"], bool(item["on_vo"]),
                                        bool(item["queryable_in_zql"]), mapping, enum_type)
    parents = (raw.get("type_discriminator") or {}).get("parent") or []
    return RefInventory(
        name=raw["inventory"], table=raw["mappingVOClass"], primary_key=raw["vo_primary_key"],
        extends=raw.get("extends"), type_field=raw.get("type_field"),
        discriminator=parents[0]["type_value"] if parents else None,
        children=[child["inventory"] for child in raw.get("typed_children", [])],
        api_names=[api["api_message"][3:-3] for api in raw.get("query_apis", [])],
        rest_paths=[api["rest_path"] for api in raw.get("query_apis", [])],
        fields=fields)


def _relation(raw: dict[str, Any]) -> RefRelation | None:
    kind = raw["kind"]
    if kind.startswith("legacy"):
        return None
    inventory = raw["inventory"]
    if kind == "alias":
        return RefRelation(kind, inventory, raw["alias"], alias_path=raw["expandedField"],
                           inherited_by=list(raw.get("inherited_by", [])))
    rel = RefRelation(
        kind, inventory, raw["expandedField"], target=raw.get("targetInventory"),
        foreign_key=raw.get("foreignKey"), target_key=raw.get("expandedInventoryKey"),
        hidden=bool(raw.get("hidden")), value_column=raw.get("referencedColumnName") or None,
        java_type=raw.get("field_java_type"), inherited_by=list(raw.get("inherited_by", [])))
    notes = raw.get("consistency_notes")
    if notes:
        rel.broken = "; ".join(notes)
        fix = CORRECTIONS.get((inventory, rel.name))
        if fix is not None:
            rel.foreign_key, rel.target_key, rel.target, rel.corrected = fix
    return rel

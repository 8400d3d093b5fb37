"""The catalogue while it is being built: mutable drafts that end as the schema dict format.

The builder fills :class:`Draft` step by step (fields from the manual, then the reference,
relations, typed children…) and :meth:`Draft.to_dict` writes the format that
``zquery.schema.serialize.graph_from_dict`` reads. Every decision the builder takes that the
manual does not state is logged with :meth:`Draft.note`, and ends in ``docs/catalogue.md``.

>>> draft = Draft()
>>> zone = draft.add_resource(DraftResource("Zone", "ZoneVO", "uuid"))
>>> zone.fields["uuid"] = DraftField("uuid", "String")
>>> draft.to_dict()["resources"]["Zone"]["fields"]["uuid"]
{'type': 'String', 'nullable': False}
>>> lower_first("VmInstance"), lower_first("IAM2Project"), lower_first("VRouterRouteTable")
('vmInstance', 'iam2Project', 'vRouterRouteTable')
>>> field_type("long"), field_type("VmInstanceState"), field_type("List")
('Long', 'String', None)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Draft", "DraftField", "DraftRelation", "DraftResource", "field_type", "lower_first"]

_SCALARS = {
    "String": "String", "Integer": "Integer", "int": "Integer", "Long": "Long", "long": "Long",
    "Short": "Short", "short": "Short", "Float": "Float", "float": "Float", "Double": "Double",
    "double": "Double", "Boolean": "Boolean", "boolean": "Boolean", "Timestamp": "Timestamp",
    "Date": "Timestamp", "BigDecimal": "Double",
}
_NOT_SCALAR = ("List", "Set", "Map", "LinkedHashMap", "HashMap", "Object", "ErrorCode",
               "Collection", "byte[]", "JSONObject")


def field_type(java_or_manual: str) -> str | None:
    """The ``FieldType`` value of a manual/Java type; ``None`` for a collection or an object.

    Enum types (``VmInstanceState``, ``ProtocolType``) are strings; ``…Inventory`` and
    collections are not scalar fields.
    """
    text = java_or_manual.strip()
    if text in _SCALARS:
        return _SCALARS[text]
    if text.startswith(_NOT_SCALAR) or text.endswith(("Inventory", "Statement")) or "<" in text:
        return None
    return "String" if text[:1].isupper() else None


def lower_first(name: str) -> str:
    """A field-style name: ``VmInstance`` → ``vmInstance``, ``IAM2Project`` → ``iam2Project``,
    ``SNSTopic`` → ``snsTopic``, ``VRouterRouteTable`` → ``vRouterRouteTable``."""
    run = 0
    while run < len(name) and (name[run].isupper() or name[run].isdigit()):
        run += 1
    if run <= 1 or run == len(name):
        return name[:1].lower() + name[1:] if run <= 1 else name.lower()
    # the run's last capital starts the next word (IAM2P-roject → iam2 + Project)
    return name[:run - 1].lower() + name[run - 1:]


@dataclass
class DraftField:
    name: str
    type: str
    description: str = ""
    since: str = ""
    choices: list[str] = field(default_factory=list)
    mapped: dict[str, Any] | None = None
    nullable: bool = True
    origin: str = "manual"  # manual | reference | example | key | fill

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.description:
            out["description"] = self.description
        if self.since:
            out["since"] = self.since
        if self.choices:
            out["choices"] = list(self.choices)
        if self.mapped is not None:
            out["mapped"] = dict(self.mapped)
        if not self.nullable:
            out["nullable"] = False
        return out


@dataclass
class DraftRelation:
    name: str
    target: str
    cardinality: str
    local_key: str
    remote_key: str
    origin: str
    through: dict[str, str] | None = None
    nested: bool = False
    hidden: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target, "cardinality": self.cardinality,
                               "local_key": self.local_key, "remote_key": self.remote_key,
                               "origin": self.origin}
        if self.through is not None:
            out["through"] = dict(self.through)
        if self.nested:
            out["nested"] = True
        if self.hidden:
            out["hidden"] = True
        return out


@dataclass
class DraftResource:
    name: str
    table: str
    primary_key: str
    fields: dict[str, DraftField] = field(default_factory=dict)
    relations: dict[str, DraftRelation] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    tag_type: str | None = None
    owned: bool = False
    row_filter: dict[str, list[str]] = field(default_factory=dict)
    api_name: str | None = None
    rest_paths: list[str] = field(default_factory=list)
    inventory: str | None = None
    title: str = ""
    section: str = ""
    parent: str | None = None  # the resource this typed child extends
    source: str = ""  # where its fields came from (for the docs)

    def taken(self, name: str) -> bool:
        """Whether *name* is already a field, relation or alias here."""
        return name in self.fields or name in self.relations or name in self.aliases

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "table": self.table, "primary_key": self.primary_key,
            "fields": {name: f.to_dict() for name, f in sorted(self.fields.items())},
        }
        if self.relations:
            out["relations"] = {name: r.to_dict() for name, r in sorted(self.relations.items())}
        if self.aliases:
            out["aliases"] = dict(sorted(self.aliases.items()))
        if self.tag_type:
            out["tag_type"] = self.tag_type
        if self.owned:
            out["owned"] = True
        if self.row_filter:
            out["row_filter"] = {col: sorted(vals) for col, vals in sorted(self.row_filter.items())}
        optional = {"api_name": self.api_name, "rest_paths": list(self.rest_paths),
                    "inventory": self.inventory, "title": self.title, "section": self.section}
        out.update({key: value for key, value in optional.items() if value})
        return out


@dataclass
class Draft:
    resources: dict[str, DraftResource] = field(default_factory=dict)
    link_tables: dict[str, dict[str, str]] = field(default_factory=dict)  # table → column → type
    link_keys: dict[str, list[str]] = field(default_factory=dict)
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, where, text)

    def add_resource(self, resource: DraftResource) -> DraftResource:
        self.resources[resource.name] = resource
        return resource

    def note(self, kind: str, where: str, text: str) -> None:
        if (kind, where, text) not in self.notes:
            self.notes.append((kind, where, text))

    def by_inventory(self, inventory: str) -> DraftResource | None:
        for res in self.resources.values():
            if res.inventory == inventory:
                return res
        return None

    def to_dict(self) -> dict[str, Any]:
        for res in self.resources.values():
            key = res.fields.get(res.primary_key)
            if key is not None:
                key.nullable = False
        return {
            "resources": {name: res.to_dict() for name, res in sorted(self.resources.items())},
            "link_tables": {
                name: {"columns": dict(sorted(cols.items())),
                       **({"primary_key": self.link_keys[name]} if self.link_keys.get(name)
                          else {})}
                for name, cols in sorted(self.link_tables.items())},
            "tags": {},
            "ownership": {},
        }

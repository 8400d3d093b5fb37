"""Schema graph and the doors into it."""

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

__all__ = [
    "Alias",
    "Cardinality",
    "Field",
    "FieldType",
    "LinkTable",
    "MappedValue",
    "OwnershipConfig",
    "Relation",
    "Resource",
    "SchemaGraph",
    "TagConfig",
    "Through",
]

"""The schema graph: resources, typed fields, relations, aliases, tags and ownership.

Everything zquery knows about a data model lives here, whatever door it came
in by (the shipped catalogue, a dict, a SQLAlchemy ``MetaData`` or ORM models;
see :mod:`zquery.schema.build`). The graph is pure data: names of tables and
columns, not SQLAlchemy objects, so one graph serves every database.

>>> zone = Resource(name="Zone", table="ZoneVO", primary_key="uuid",
...                 fields={"uuid": Field("uuid", FieldType.STRING),
...                         "name": Field("name", FieldType.STRING)})
>>> graph = SchemaGraph(resources={"Zone": zone})
>>> graph.resource("Zone").field("name").type
<FieldType.STRING: 'String'>
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum

from zquery.errors import SchemaError, UnknownResource, did_you_mean

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


class FieldType(Enum):
    """Field types of the ZStack inventories (the manual's ``类型`` column)."""

    STRING = "String"
    INTEGER = "Integer"
    LONG = "Long"
    SHORT = "Short"
    FLOAT = "Float"
    DOUBLE = "Double"
    BOOLEAN = "Boolean"
    TIMESTAMP = "Timestamp"

    @property
    def is_integer(self) -> bool:
        return self in (FieldType.INTEGER, FieldType.LONG, FieldType.SHORT)

    @property
    def is_number(self) -> bool:
        return self.is_integer or self in (FieldType.FLOAT, FieldType.DOUBLE)


class Cardinality(Enum):
    """How many target rows one source row reaches over a relation."""

    ONE = "one"
    MANY = "many"


@dataclass(frozen=True, slots=True)
class MappedValue:
    """A field whose value lives in another table (ZStack's ``@Queryable`` mapping).

    The owner's ``owner_key`` column equals ``table.join_column``; the value is
    ``table.value_column``. ``many`` marks a list-valued field (one owner, many rows).
    """

    table: str
    owner_key: str
    join_column: str
    value_column: str
    many: bool = True


@dataclass(frozen=True, slots=True)
class Field:
    """A queryable scalar field of a resource.

    ``column`` defaults to ``name``; ``choices`` lists the allowed values of an
    enum-like String field; ``mapped`` is set when the value lives elsewhere.
    """

    name: str
    type: FieldType
    column: str = ""
    choices: tuple[str, ...] = ()
    description: str = ""
    since: str = ""
    nullable: bool = True
    mapped: MappedValue | None = None

    def __post_init__(self) -> None:
        if not self.column:
            object.__setattr__(self, "column", self.name)


@dataclass(frozen=True, slots=True)
class Through:
    """The link table of a many-to-many relation.

    ``table.source_column`` = source's ``local_key`` and
    ``table.target_column`` = target's ``remote_key``.
    """

    table: str
    source_column: str
    target_column: str


@dataclass(frozen=True, slots=True)
class Relation:
    """A named hop from one resource to another.

    Without ``through``: ``source.local_key = target.remote_key``. ``nested``
    marks a collection the replies carry inside each inventory (``vmNics``).
    ``origin`` records where the relation came from (``reference``,
    ``manual``, ``inferred``, ``metadata``, ``orm``, ``dict``).
    """

    name: str
    source: str
    target: str
    cardinality: Cardinality
    local_key: str
    remote_key: str
    through: Through | None = None
    nested: bool = False
    hidden: bool = False
    origin: str = "dict"

    @property
    def to_many(self) -> bool:
        return self.cardinality is Cardinality.MANY


@dataclass(frozen=True, slots=True)
class Alias:
    """A name that stands for a dotted relation path (``l2Network`` → ``l2NetworkRef.l2Network``)."""

    name: str
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LinkTable:
    """A table that is not a resource: a many-to-many link or a mapped-value table."""

    name: str
    columns: tuple[tuple[str, FieldType], ...]
    primary_key: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TagConfig:
    """Where system and user tags live (ZStack's ``SystemTagVO`` / ``UserTagVO``)."""

    system_table: str = "SystemTagVO"
    user_table: str = "UserTagVO"
    resource_uuid: str = "resourceUuid"
    resource_type: str = "resourceType"
    tag: str = "tag"


@dataclass(frozen=True, slots=True)
class OwnershipConfig:
    """The reference server's ownership model (``AccountResourceRefVO`` / ``SharedResourceVO``)."""

    ref_table: str = "AccountResourceRefVO"
    ref_account: str = "accountUuid"
    ref_resource: str = "resourceUuid"
    ref_type: str = "resourceType"
    shared_table: str = "SharedResourceVO"
    shared_receiver: str = "receiverAccountUuid"
    shared_public: str = "toPublic"
    shared_resource: str = "resourceUuid"
    shared_type: str = "resourceType"


@dataclass(frozen=True, eq=False)
class Resource:
    """A queryable resource: one table, typed fields, relations and aliases.

    ``tag_type`` is the resource-type string stored in tag and ownership rows
    (``VmInstanceVO``); None means the resource carries no tags. ``owned``
    means account scoping applies to it. ``row_filter`` restricts a typed child
    that shares its parent's table (``(("type", ("ApplianceVm",)),)``).
    """

    name: str
    table: str
    primary_key: str
    fields: Mapping[str, Field]
    relations: Mapping[str, Relation] = field(default_factory=dict)
    aliases: Mapping[str, Alias] = field(default_factory=dict)
    tag_type: str | None = None
    owned: bool = False
    row_filter: tuple[tuple[str, tuple[str, ...]], ...] = ()
    api_name: str | None = None
    rest_paths: tuple[str, ...] = ()
    inventory: str | None = None
    title: str = ""
    section: str = ""

    def field(self, name: str) -> Field:
        return self.fields[name]

    def column_names(self) -> set[str]:
        return {f.column for f in self.fields.values() if f.mapped is None}

    def names(self) -> list[str]:
        """Every name valid as the next path segment (fields, relations, aliases)."""
        return [*self.fields, *self.relations, *self.aliases]

    def __repr__(self) -> str:
        return f"Resource({self.name!r})"


@dataclass(frozen=True, eq=False)
class SchemaGraph:
    """All resources of a data model; checked when built.

    Look a resource up by its name, its Query API name or its REST path with
    :meth:`resource`.
    """

    resources: Mapping[str, Resource]
    link_tables: Mapping[str, LinkTable] = field(default_factory=dict)
    tags: TagConfig | None = None
    ownership: OwnershipConfig | None = None

    def __post_init__(self) -> None:
        self.check()
        lookup: dict[str, Resource] = {}
        for res in self.resources.values():
            lookup[res.name] = res
            if res.api_name:
                lookup[res.api_name] = res
            for rest in res.rest_paths:
                lookup[_normalise_rest(rest)] = res
        object.__setattr__(self, "_lookup", lookup)

    def resource(self, name: str) -> Resource:
        """Find a resource by name, Query API name or REST path (``vm-instances``)."""
        lookup: dict[str, Resource] = self._lookup  # type: ignore[attr-defined]
        found = lookup.get(name) or lookup.get(_normalise_rest(name))
        if found is None:
            raise UnknownResource(
                f"unknown resource '{name}'",
                hint=did_you_mean(name, [k for k in lookup if not k.startswith("/")]),
            )
        return found

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources.values())

    def check(self) -> None:
        """Raise :class:`SchemaError` unless every relation, key and alias is consistent."""
        for res in self.resources.values():
            if res.primary_key not in res.column_names():
                raise SchemaError(f"{res.name}: primary key '{res.primary_key}' is not a column")
            clash = set(res.fields) & (set(res.relations) | set(res.aliases))
            if clash:
                raise SchemaError(f"{res.name}: {sorted(clash)} both a field and a relation/alias")
            for f in res.fields.values():
                if f.mapped is not None:
                    self._check_link_columns(res, f.mapped.table, (f.mapped.join_column,
                                                                   f.mapped.value_column))
                    self._check_column(res, f.mapped.owner_key, f"field {f.name}")
            for rel in res.relations.values():
                self._check_relation(res, rel)
            for alias in res.aliases.values():
                if not alias.path:
                    raise SchemaError(f"{res.name}.{alias.name}: empty alias")

    def _check_relation(self, res: Resource, rel: Relation) -> None:
        where = f"{res.name}.{rel.name}"
        target = self.resources.get(rel.target)
        if target is None:
            raise SchemaError(f"{where}: target resource '{rel.target}' does not exist")
        self._check_column(res, rel.local_key, where)
        self._check_column(target, rel.remote_key, where)
        if rel.through is not None:
            self._check_link_columns(res, rel.through.table,
                                     (rel.through.source_column, rel.through.target_column))

    def _check_column(self, res: Resource, column: str, where: str) -> None:
        if column not in res.column_names():
            raise SchemaError(f"{where}: key column '{column}' is not a column of {res.name}")

    def _check_link_columns(self, res: Resource, table: str, columns: tuple[str, ...]) -> None:
        link = self.link_tables.get(table)
        if link is None:
            raise SchemaError(f"{res.name}: link table '{table}' is not declared")
        known = {name for name, _ in link.columns}
        for col in columns:
            if col not in known:
                raise SchemaError(f"{res.name}: '{col}' is not a column of link table {table}")


def _normalise_rest(path: str) -> str:
    """``GET zstack/v1/vm-instances`` / ``/v1/vm-instances`` / ``vm-instances`` → ``/vm-instances``."""
    text = path.strip()
    if text.upper().startswith("GET "):
        text = text[4:].strip()
    text = text.split("?", 1)[0]
    for prefix in ("zstack/v1/", "/zstack/v1/", "v1/", "/v1/"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    return "/" + text.strip("/")

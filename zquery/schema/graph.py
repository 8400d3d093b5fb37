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

    __hash__ = object.__hash__  # identity, as for Operator: looked up on every condition

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
    """A name standing for a dotted relation path (``l2Network`` → ``l2NetworkRef.l2Network``)."""

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
        """Raise :class:`SchemaError` unless every name, key, relation and alias is consistent."""
        for key, res in self.resources.items():
            if key != res.name:
                raise SchemaError(f"resources['{key}'] holds the resource named '{res.name}'",
                                  param=key, value=res.name)
            self._check_resource(res)
        # Aliases walk relations of other resources: check them once every relation is known.
        for res in self.resources.values():
            for alias in res.aliases.values():
                self._check_alias(res, alias)
        self._check_shared_tables()

    def _check_resource(self, res: Resource) -> None:
        if res.primary_key not in res.column_names():
            raise SchemaError(f"{res.name}: primary key '{res.primary_key}' is not a column",
                              param=f"{res.name}.primary_key", value=res.primary_key,
                              hint=did_you_mean(res.primary_key, res.column_names()))
        for kind, entries in (("field", res.fields), ("relation", res.relations),
                              ("alias", res.aliases)):
            for key, entry in entries.items():
                if key != entry.name:
                    raise SchemaError(f"{res.name}: {kind} '{key}' is named '{entry.name}'",
                                      param=f"{res.name}.{key}", value=entry.name)
        clash = set(res.fields) & (set(res.relations) | set(res.aliases)) | (
            set(res.relations) & set(res.aliases))
        if clash:
            raise SchemaError(f"{res.name}: {sorted(clash)} used for two of field, relation, "
                              "alias", param=f"{res.name}.{min(clash)}", value=min(clash))
        for f in res.fields.values():
            if f.mapped is not None:
                self._check_link_columns(res, f.mapped.table, (f.mapped.join_column,
                                                               f.mapped.value_column))
                self._check_column(res, f.mapped.owner_key, f"{res.name}.{f.name}")
        for rel in res.relations.values():
            self._check_relation(res, rel)
        for column, _values in res.row_filter:
            self._check_column(res, column, f"{res.name}.row_filter")

    def _check_relation(self, res: Resource, rel: Relation) -> None:
        where = f"{res.name}.{rel.name}"
        if rel.source != res.name:
            raise SchemaError(f"{where}: relation source is '{rel.source}', not {res.name}",
                              param=where, value=rel.source)
        target = self.resources.get(rel.target)
        if target is None:
            raise SchemaError(f"{where}: target resource '{rel.target}' does not exist",
                              param=where, value=rel.target,
                              hint=did_you_mean(rel.target, self.resources))
        self._check_column(res, rel.local_key, where)
        self._check_column(target, rel.remote_key, where)
        if rel.through is not None:
            self._check_link_columns(res, rel.through.table,
                                     (rel.through.source_column, rel.through.target_column))

    def _check_alias(self, res: Resource, alias: Alias) -> None:
        where = f"{res.name}.{alias.name}"
        if not alias.path:
            raise SchemaError(f"{where}: empty alias", param=where, value="")
        current = res
        for segment in alias.path:
            rel = current.relations.get(segment)
            if rel is None:
                raise SchemaError(
                    f"{where}: '{segment}' in alias path '{'.'.join(alias.path)}' is not a "
                    f"relation of {current.name}", param=where, value=".".join(alias.path),
                    hint=did_you_mean(segment, current.relations))
            current = self.resources[rel.target]

    def _check_column(self, res: Resource, column: str, where: str) -> None:
        if column not in res.column_names():
            raise SchemaError(f"{where}: key column '{column}' is not a column of {res.name}",
                              param=where, value=column,
                              hint=did_you_mean(column, res.column_names()))

    def _check_link_columns(self, res: Resource, table: str, columns: tuple[str, ...]) -> None:
        link = self.link_tables.get(table)
        if link is None:
            raise SchemaError(f"{res.name}: link table '{table}' is not declared",
                              param=res.name, value=table,
                              hint=did_you_mean(table, self.link_tables))
        known = {name for name, _ in link.columns}
        for col in columns:
            if col not in known:
                raise SchemaError(f"{res.name}: '{col}' is not a column of link table {table}",
                                  param=res.name, value=col, hint=did_you_mean(col, known))

    def _check_shared_tables(self) -> None:
        """Typed children may share a table, but only with one key and one type per column."""
        first: dict[str, Resource] = {}
        for res in self.resources.values():
            owner = first.setdefault(res.table, res)
            if owner.primary_key != res.primary_key:
                raise SchemaError(
                    f"{res.name}: table {res.table} has primary key '{owner.primary_key}' in "
                    f"{owner.name} but '{res.primary_key}' here", param=f"{res.name}.primary_key",
                    value=res.primary_key)
        columns: dict[str, dict[str, tuple[FieldType, str]]] = {}
        sources = [(r.table, r.name, [(f.column, f.type) for f in r.fields.values()
                                      if f.mapped is None]) for r in self.resources.values()]
        sources += [(t.name, f"link table {t.name}", list(t.columns))
                    for t in self.link_tables.values()]
        for table, who, typed in sources:
            known = columns.setdefault(table, {})
            for column, ftype in typed:
                seen = known.setdefault(column, (ftype, who))
                if seen[0] is not ftype:
                    raise SchemaError(
                        f"table {table}: column '{column}' is {seen[0].value} in {seen[1]} but "
                        f"{ftype.value} in {who}", param=f"{table}.{column}", value=ftype.value)
        special = [*((self.tags.system_table, self.tags.user_table) if self.tags else ()),
                   *((self.ownership.ref_table, self.ownership.shared_table)
                     if self.ownership else ())]
        # A resource may read a tag/ownership table (ZStack's QuerySystemTag reads SystemTagVO);
        # the columns it declares merge with the built-in ones. A link table may not.
        for name in special:
            if name in self.link_tables:
                raise SchemaError(f"table {name} is a tag/ownership table and cannot also be a "
                                  "link table", param=name, value=name)


def _normalise_rest(path: str) -> str:
    """Map a REST path in any spelling (``GET zstack/v1/vm-instances``) to ``/vm-instances``.

    >>> _normalise_rest("GET zstack/v1/vm-instances?q=name=vm1")
    '/vm-instances'
    """
    text = path.strip()
    if text.upper().startswith("GET "):
        text = text[4:].strip()
    text = text.split("?", 1)[0]
    for prefix in ("zstack/v1/", "/zstack/v1/", "v1/", "/v1/"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    return "/" + text.strip("/")

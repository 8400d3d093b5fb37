"""SQLAlchemy tables for a schema graph: :func:`build_metadata`, cached per graph.

One ``Table`` per distinct ``Resource.table`` (typed children sharing a table merge
their columns, all nullable but the primary key), one per :class:`LinkTable`, and the
tag and ownership tables when the graph has them. Every join key is indexed.

Portability rules, so one query gives the same rows on every database:

* strings are ``VARCHAR(255)``; long free text (``description`` and the names in
  :data:`LONG_TEXT_COLUMNS`) is ``TEXT`` unless the column is a key. On MariaDB/MySQL
  the tables use ``utf8mb4`` with a binary collation (a table option, so nothing of it
  reaches PostgreSQL or SQLite DDL), so ``name='Vm1'`` never matches ``vm1``. When the
  table is created the NO PAD variant is chosen if the server has one
  (:func:`mysql_collation`), so ``name='vm1 '`` does not match ``vm1`` either;
* ``Float`` is a double everywhere (MySQL's ``FLOAT`` is single precision);
* timestamps are naive UTC ``DATETIME`` with microseconds (``fsp=6`` on MySQL);
* ``Long`` is ``BIGINT`` but ``INTEGER`` on SQLite, so an integer key still auto-increments.

>>> from zquery.schema.serialize import graph_from_dict
>>> graph = graph_from_dict({"resources": {"Zone": {"table": "ZoneVO", "primary_key": "uuid",
...     "fields": {"uuid": "String", "name": "String", "description": "String"}}}})
>>> build_metadata(graph) is build_metadata(graph)
True
>>> [str(c.type) for c in table_of(graph, "Zone").columns]
['VARCHAR(255)', 'VARCHAR(255)', 'TEXT']
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from zquery.caches import PerGraph
from zquery.errors import SchemaError, did_you_mean
from zquery.schema.graph import FieldType, Resource, SchemaGraph

__all__ = [
    "LONG_TEXT_COLUMNS",
    "MAX_INDEX_NAME",
    "MYSQL_TABLE_OPTIONS",
    "build_metadata",
    "index_name",
    "link_table_of",
    "mysql_collation",
    "sql_type",
    "table_of",
]

#: Column names holding free text that may be longer than 255 characters.
LONG_TEXT_COLUMNS = frozenset({
    "description", "metaData", "metadata", "content", "data", "opaque", "userdata",
    "userData", "script", "sshKey", "publicKey", "privateKey", "certificate", "policy",
    "statements", "extra", "parameters", "reason", "error", "detail", "details", "message",
})
#: MySQL's limit is 64 and PostgreSQL's 63: stay under both.
MAX_INDEX_NAME = 63
#: Table options: the MariaDB/MySQL dialects read them, the others ignore them.
MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mysql_engine": "InnoDB",
    "mariadb_charset": "utf8mb4", "mariadb_collate": "utf8mb4_bin", "mariadb_engine": "InnoDB",
}
# MySQL counts every VARCHAR(255) utf8mb4 as 1022 bytes towards a 65,535-byte row limit;
# past this many plain string columns the non-key ones become TEXT (stored off-row).
_MAX_VARCHARS = 56
# The tag text can be long (``userdata::...``); MySQL indexes only a 255-character prefix.
_TAG_LENGTH = 2048
_TAG_PREFIX = 255



def sql_type(ftype: FieldType, *, long_text: bool = False,
             length: int = 255) -> sa.types.TypeEngine[Any]:
    """The portable SQLAlchemy type of a field type."""
    if ftype is FieldType.STRING:
        return sa.Text() if long_text else sa.String(length)
    if ftype is FieldType.INTEGER:
        return sa.Integer()
    if ftype is FieldType.LONG:
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    if ftype is FieldType.SHORT:
        return sa.SmallInteger()
    if ftype is FieldType.FLOAT:
        return sa.Float().with_variant(mysql.DOUBLE(asdecimal=False), "mysql", "mariadb")
    if ftype is FieldType.DOUBLE:
        return sa.Double()
    if ftype is FieldType.BOOLEAN:
        return sa.Boolean()
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def mysql_collation(dialect: sa.engine.Dialect) -> str:
    """The binary utf8mb4 collation for a MySQL-family server, NO PAD when it has one.

    ``utf8mb4_bin`` is PAD SPACE: it finds ``'vm1'`` for ``name = 'vm1 '``, which
    PostgreSQL and SQLite never do.

    >>> from sqlalchemy.dialects import mysql
    >>> dialect = mysql.dialect()
    >>> dialect.is_mariadb, dialect.server_version_info = True, (10, 11, 19)
    >>> mysql_collation(dialect)
    'utf8mb4_nopad_bin'
    """
    version = tuple(part for part in dialect.server_version_info or () if isinstance(part, int))
    if getattr(dialect, "is_mariadb", False):
        return "utf8mb4_nopad_bin" if version >= (10, 2) else "utf8mb4_bin"
    return "utf8mb4_0900_bin" if version >= (8, 0) else "utf8mb4_bin"


def _choose_collation(table: sa.Table, connection: sa.Connection, **_: Any) -> None:
    """``before_create``: use the server's NO PAD collation for this CREATE TABLE only."""
    name = connection.dialect.name
    if name in ("mysql", "mariadb"):
        table.dialect_options[name]["collate"] = mysql_collation(connection.dialect)


def _restore_collation(table: sa.Table, connection: sa.Connection, **_: Any) -> None:
    """``after_create``: the shared MetaData must not depend on the last server it met."""
    name = connection.dialect.name
    if name in ("mysql", "mariadb"):
        table.dialect_options[name]["collate"] = MYSQL_TABLE_OPTIONS[f"{name}_collate"]


def index_name(table: str, columns: Iterable[str]) -> str:
    """A deterministic index name of at most :data:`MAX_INDEX_NAME` characters.

    >>> index_name("VmNicVO", ["vmInstanceUuid"])
    'ix_VmNicVO_vmInstanceUuid'
    >>> len(index_name("A" * 60, ["b" * 60]))
    63
    """
    full = f"ix_{table}_{'_'.join(columns)}"
    if len(full) <= MAX_INDEX_NAME:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:10]
    return f"{full[:MAX_INDEX_NAME - 11]}_{digest}"


@dataclass
class _TableSpec:
    """Columns and indexes gathered for one table before the ``Table`` is made."""

    name: str
    columns: dict[str, FieldType] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # column → who declared it
    primary_key: tuple[str, ...] = ()
    not_null: set[str] = field(default_factory=set)
    indexes: list[tuple[str, ...]] = field(default_factory=list)
    prefix_lengths: dict[str, int] = field(default_factory=dict)
    sharers: int = 0

    def add(self, column: str, ftype: FieldType, owner: str) -> None:
        known = self.columns.get(column)
        if known is not None and known is not ftype:
            raise SchemaError(
                f"table {self.name}: column '{column}' is {known.value} in "
                f"{self.owners[column]} but {ftype.value} in {owner}",
                param=f"{self.name}.{column}", value=ftype.value,
                hint="give the column one type wherever the table is used")
        self.columns[column] = ftype
        self.owners.setdefault(column, owner)

    def builtin_key(self, column: str) -> None:
        """Set the key of a tag/ownership table, which a resource reading it must share."""
        if self.primary_key not in ((), (column,)):
            raise SchemaError(
                f"table {self.name}: a resource gives it primary key '{self.primary_key[0]}' "
                f"but zquery's tag/ownership table has '{column}'",
                param=f"{self.name}.primary_key", value=self.primary_key[0])
        self.primary_key = (column,)

    def index(self, *columns: str) -> None:
        if columns != self.primary_key[:len(columns)] and columns not in self.indexes:
            self.indexes.append(columns)


def build_metadata(graph: SchemaGraph) -> sa.MetaData:
    """Every table of *graph* in one ``MetaData``; built once per graph object."""
    return _METADATA.get(graph)


def table_of(graph: SchemaGraph, resource: Resource | str) -> sa.Table:
    """The table of a resource (given as a :class:`Resource` or any name :meth:`resource` knows)."""
    res = resource if isinstance(resource, Resource) else graph.resource(resource)
    return build_metadata(graph).tables[res.table]


def link_table_of(graph: SchemaGraph, name: str) -> sa.Table:
    """A link, mapped-value, tag or ownership table by its name."""
    tables = build_metadata(graph).tables
    # A resource may read a tag or ownership table (QuerySystemTag reads SystemTagVO).
    others = set(tables) - {res.table for res in graph} | set(graph.link_tables) | set(
        _special_tables(graph))
    if name in others:
        return tables[name]
    raise SchemaError(f"no link table '{name}'", param="link_table", value=name,
                      hint=did_you_mean(name, others))


def _special_tables(graph: SchemaGraph) -> list[str]:
    tags, ownership = graph.tags, graph.ownership
    return [*((tags.system_table, tags.user_table) if tags else ()),
            *((ownership.ref_table, ownership.shared_table) if ownership else ())]


def _build(graph: SchemaGraph) -> sa.MetaData:
    specs: dict[str, _TableSpec] = {}

    def spec(name: str) -> _TableSpec:
        return specs.setdefault(name, _TableSpec(name))

    for res in graph:
        table = spec(res.table)
        table.primary_key = (res.primary_key,)  # SchemaGraph.check made sharers agree on it
        table.sharers += 1
        for f in res.fields.values():
            if f.mapped is None:
                table.add(f.column, f.type, res.name)
                if not f.nullable:
                    table.not_null.add(f.column)
    for link in graph.link_tables.values():
        table = spec(link.name)
        for column, ftype in link.columns:
            table.add(column, ftype, f"link table {link.name}")
        if not table.primary_key:
            table.primary_key = link.primary_key
    _collect_join_indexes(graph, specs)
    if graph.tags is not None:
        for tag_table in (graph.tags.system_table, graph.tags.user_table):
            _tag_spec(spec(tag_table), graph)
    if graph.ownership is not None:
        _ownership_specs(spec(graph.ownership.ref_table), spec(graph.ownership.shared_table),
                         graph)
    metadata = sa.MetaData()
    for table_spec in specs.values():
        _make_table(metadata, table_spec)
    return metadata


def _collect_join_indexes(graph: SchemaGraph, specs: dict[str, _TableSpec]) -> None:
    for res in graph:
        for rel in res.relations.values():
            target = graph.resources[rel.target]
            specs[res.table].index(rel.local_key)
            specs[target.table].index(rel.remote_key)
            if rel.through is not None:
                specs[rel.through.table].index(rel.through.source_column)
                specs[rel.through.table].index(rel.through.target_column)
        for f in res.fields.values():
            if f.mapped is not None:
                specs[res.table].index(f.mapped.owner_key)
                specs[f.mapped.table].index(f.mapped.join_column)


def _tag_spec(table: _TableSpec, graph: SchemaGraph) -> None:
    assert graph.tags is not None
    config = graph.tags
    for column, ftype in (("uuid", FieldType.STRING), (config.resource_uuid, FieldType.STRING),
                          (config.resource_type, FieldType.STRING), (config.tag, FieldType.STRING),
                          ("type", FieldType.STRING), ("inherent", FieldType.BOOLEAN),
                          ("createDate", FieldType.TIMESTAMP),
                          ("lastOpDate", FieldType.TIMESTAMP)):
            table.add(column, ftype, "tags")
    table.builtin_key("uuid")
    table.prefix_lengths[config.tag] = _TAG_PREFIX
    table.index(config.resource_uuid)
    table.index(config.tag)
    table.index(config.resource_type, config.tag)


def _ownership_specs(ref: _TableSpec, shared: _TableSpec, graph: SchemaGraph) -> None:
    assert graph.ownership is not None
    config = graph.ownership
    stamps = (("createDate", FieldType.TIMESTAMP), ("lastOpDate", FieldType.TIMESTAMP))
    for column, ftype in (("id", FieldType.LONG), (config.ref_account, FieldType.STRING),
                          ("ownerAccountUuid", FieldType.STRING),
                          (config.ref_resource, FieldType.STRING),
                          (config.ref_type, FieldType.STRING),
                          ("concreteResourceType", FieldType.STRING), *stamps):
        ref.add(column, ftype, "ownership")
    for column, ftype in (("id", FieldType.LONG), ("ownerAccountUuid", FieldType.STRING),
                          (config.shared_receiver, FieldType.STRING),
                          (config.shared_public, FieldType.BOOLEAN),
                          (config.shared_resource, FieldType.STRING),
                          (config.shared_type, FieldType.STRING), *stamps):
        shared.add(column, ftype, "ownership")
    ref.builtin_key("id")
    shared.builtin_key("id")
    ref.index(config.ref_resource)
    ref.index(config.ref_account)
    shared.index(config.shared_resource)
    shared.index(config.shared_receiver)


def _make_table(metadata: sa.MetaData, spec: _TableSpec) -> None:
    keys = set(spec.primary_key) | {col for cols in spec.indexes for col in cols}
    plain_strings = [c for c, t in spec.columns.items()
                     if t is FieldType.STRING and c not in keys and c not in LONG_TEXT_COLUMNS]
    crowded = len(plain_strings) > _MAX_VARCHARS
    columns: list[sa.Column[Any]] = []
    for name, ftype in spec.columns.items():
        long_text = name not in keys and (name in LONG_TEXT_COLUMNS or crowded)
        length = _TAG_LENGTH if name in spec.prefix_lengths else 255
        in_pk = name in spec.primary_key
        # A merged table (typed children) cannot promise NOT NULL for one child's column.
        nullable = not in_pk and (spec.sharers > 1 or name not in spec.not_null)
        columns.append(sa.Column(
            name, sql_type(ftype, long_text=long_text, length=length), primary_key=in_pk,
            nullable=nullable,
            autoincrement=in_pk and ftype.is_integer and len(spec.primary_key) == 1))
    table = sa.Table(spec.name, metadata, *columns, **MYSQL_TABLE_OPTIONS)
    sa.event.listen(table, "before_create", _choose_collation)
    sa.event.listen(table, "after_create", _restore_collation)
    for cols in spec.indexes:
        prefix = {c: spec.prefix_lengths[c] for c in cols if c in spec.prefix_lengths}
        options: dict[str, Any] = (
            {"mysql_length": prefix, "mariadb_length": prefix} if prefix else {})
        sa.Index(index_name(spec.name, cols), *(table.c[c] for c in cols), **options)


#: Per graph, its MetaData (after the builders it uses).
_METADATA: PerGraph[sa.MetaData] = PerGraph(_build)

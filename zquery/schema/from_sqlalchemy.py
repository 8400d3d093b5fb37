"""The SQLAlchemy doors of :func:`zquery.schema.build.build_schema`: ``MetaData`` and ORM models.

``MetaData`` (or a list of ``Table``): every table is a resource (``ZoneVO`` → ``Zone``),
its scalar columns are typed fields, and every single-column foreign key becomes two
relations: to-one on the child (``zoneUuid`` → ``zone``) and to-many on the parent
(``cluster``; one-to-one when the key column is unique). A table with exactly two
foreign keys and otherwise only key/audit columns is a link table: it gives a
many-to-many relation both ways ``through`` it and is not a resource.

ORM models: the mapped tables give the resources (named after the classes) and the
mappers' ``relationship()`` objects give the relations, nothing else; single-table
inheritance gives typed children with a ``row_filter`` on the discriminator.

>>> import sqlalchemy as sa
>>> md = sa.MetaData()
>>> _ = sa.Table("HostVO", md, sa.Column("uuid", sa.String(32), primary_key=True),
...              sa.Column("state", sa.Enum("Enabled", "Disabled")))
>>> graph = graph_from_metadata(md.tables.values(), DoorOptions())
>>> graph.resource("Host").field("state").choices
('Enabled', 'Disabled')
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from zquery.errors import SchemaError
from zquery.schema.graph import (
    Cardinality,
    Field,
    FieldType,
    LinkTable,
    OwnershipConfig,
    Relation,
    Resource,
    SchemaGraph,
    TagConfig,
    Through,
)

__all__ = ["AUDIT_COLUMNS", "DoorOptions", "field_type", "graph_from_metadata",
           "graph_from_models", "resource_name"]

#: Columns a link table may carry besides its two foreign keys and its own key.
AUDIT_COLUMNS = frozenset({"createDate", "lastOpDate", "created_at", "updated_at",
                           "createdAt", "updatedAt", "create_date", "last_op_date"})
_KEY_SUFFIXES = ("Uuid", "_uuid", "_id", "Id")


@dataclass(frozen=True)
class DoorOptions:
    """How the SQLAlchemy doors name and filter resources (see ``build_schema``)."""

    name: Callable[[str], str] | None = None
    tags: TagConfig | None = None
    ownership: OwnershipConfig | None = None
    link_tables_as_resources: bool = False
    exclude: frozenset[str] = frozenset()

    def resource_name(self, text: str) -> str:
        return self.name(text) if self.name is not None else resource_name(text)

    def skipped(self, table: str) -> bool:
        """Excluded tables and the tag/ownership tables are never resources."""
        special: set[str] = set()
        if self.tags is not None:
            special |= {self.tags.system_table, self.tags.user_table}
        if self.ownership is not None:
            special |= {self.ownership.ref_table, self.ownership.shared_table}
        return table in self.exclude or table in special


def resource_name(table: str) -> str:
    """The default resource name: drop a trailing ``VO``.

    >>> resource_name("VmInstanceVO"), resource_name("zones")
    ('VmInstance', 'zones')
    """
    return table[:-2] if table.endswith("VO") and len(table) > 2 else table


def field_type(sql_type: sa.types.TypeEngine[Any]) -> FieldType | None:
    """The field type of a column type; None for non-scalar columns (JSON, binary, ...)."""
    while isinstance(sql_type, sa.types.TypeDecorator):
        sql_type = sql_type.impl_instance
    table: Sequence[tuple[type[Any], FieldType]] = (
        (sa.Boolean, FieldType.BOOLEAN), (sa.String, FieldType.STRING),
        (sa.Uuid, FieldType.STRING), (sa.BigInteger, FieldType.LONG),
        (sa.SmallInteger, FieldType.SHORT), (sa.Integer, FieldType.INTEGER),
        (sa.Double, FieldType.DOUBLE), (sa.Float, FieldType.FLOAT),
        (sa.Numeric, FieldType.DOUBLE), (sa.DateTime, FieldType.TIMESTAMP),
        (sa.Date, FieldType.TIMESTAMP))
    return next((ftype for kind, ftype in table if isinstance(sql_type, kind)), None)


def _field(name: str, column: sa.Column[Any]) -> Field | None:
    ftype = field_type(column.type)
    if ftype is None:
        return None
    choices = tuple(column.type.enums) if isinstance(column.type, sa.Enum) else ()
    return Field(name, ftype, column=column.name, choices=choices,
                 description=column.comment or "", nullable=bool(column.nullable))


def _link_columns(table: sa.Table) -> LinkTable:
    columns = tuple((c.name, ftype) for c in table.columns
                    if (ftype := field_type(c.type)) is not None)
    return LinkTable(table.name, columns, tuple(c.name for c in table.primary_key.columns))


def _single_pk(table: sa.Table, what: str) -> str:
    keys = [c.name for c in table.primary_key.columns]
    if len(keys) != 1:
        raise SchemaError(f"{what}: a resource needs a single-column primary key, "
                          f"table {table.name} has {keys or 'none'}", param=table.name,
                          value=", ".join(keys), hint=f"exclude={[table.name]!r} leaves it out")
    return keys[0]


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _cap(name: str) -> str:
    return name[:1].upper() + name[1:]


# -- naming relations without clashes ------------------------------------------------------


@dataclass
class _Namer:
    """Collects relation candidates per resource; clashing names get their suffix added."""

    fields: dict[str, set[str]]
    pending: dict[str, list[tuple[str, str, Relation]]] = dataclasses.field(
        default_factory=dict)

    def add(self, preferred: str, suffix: str, relation: Relation) -> None:
        self.pending.setdefault(relation.source, []).append((preferred, _cap(suffix), relation))

    def resolve(self, source: str) -> dict[str, Relation]:
        candidates = self.pending.get(source, [])
        counts = Counter(preferred for preferred, _, _ in candidates)
        out: dict[str, Relation] = {}
        for preferred, suffix, relation in candidates:
            clash = counts[preferred] > 1 or preferred in self.fields[source]
            final = preferred + suffix if clash else preferred
            if final in out or final in self.fields[source]:
                raise SchemaError(
                    f"{source}: two relations (or a field and a relation) would both be named "
                    f"'{final}'", param=f"{source}.{final}", value=final,
                    hint="exclude one of the tables or declare the schema as a dict")
            out[final] = dataclasses.replace(relation, name=final)
        return out


# -- MetaData --------------------------------------------------------------------------------


def _foreign_keys(table: sa.Table, tables: dict[str, str]) -> list[tuple[sa.Column[Any],
                                                                          sa.Column[Any]]]:
    """Single-column foreign keys of *table* that point at a resource table: (local, remote)."""
    pairs = []
    for constraint in table.foreign_key_constraints:
        if len(constraint.elements) != 1:
            continue  # a composite key names no single join column
        element = constraint.elements[0]
        try:
            remote = element.column
        except sa.exc.NoReferencedTableError:
            continue
        if remote.table.name in tables:
            pairs.append((element.parent, remote))
    return pairs


def _is_link(table: sa.Table, fks: list[tuple[sa.Column[Any], sa.Column[Any]]]) -> bool:
    if len(fks) != 2:
        return False
    allowed = {local.name for local, _ in fks} | set(table.primary_key.columns.keys())
    return all(c.name in allowed or c.name in AUDIT_COLUMNS for c in table.columns)


def graph_from_metadata(tables: Iterable[sa.Table], options: DoorOptions) -> SchemaGraph:
    """Resources, fields and foreign-key relations from plain tables."""
    kept = [t for t in tables if not options.skipped(t.name)]
    by_name = {t.name: t for t in kept}
    candidates = {t.name: options.resource_name(t.name) for t in kept}
    fks = {t.name: _foreign_keys(t, candidates) for t in kept}
    shaped = {t.name for t in kept if _is_link(t, fks[t.name])}
    # A link between link tables is no many-to-many of resources: keep it a plain table.
    links = {t.name: t for t in kept if t.name in shaped
             and not any(remote.table.name in shaped for _, remote in fks[t.name])}
    names = {t: n for t, n in candidates.items()
             if t not in links or options.link_tables_as_resources}
    fields: dict[str, dict[str, Field]] = {}
    keys: dict[str, str] = {}
    for table in kept:
        if table.name in names:
            res = names[table.name]
            fields[res] = {c.name: f for c in table.columns if (f := _field(c.name, c))}
            keys[res] = _single_pk(table, res)
    namer = _Namer({res: set(f) for res, f in fields.items()})
    for table in kept:
        for local, remote in fks[table.name]:
            if table.name in names and remote.table.name in names:
                _fk_relations(namer, names[table.name], names[remote.table.name], local, remote)
    for link in links.values():
        (col_a, ref_a), (col_b, ref_b) = fks[link.name]
        for (src_col, src_ref), (dst_col, dst_ref) in (((col_a, ref_a), (col_b, ref_b)),
                                                       ((col_b, ref_b), (col_a, ref_a))):
            source, target = names[src_ref.table.name], names[dst_ref.table.name]
            namer.add(_lower_camel(target), dst_col.name, Relation(
                "", source, target, Cardinality.MANY, src_ref.name, dst_ref.name,
                through=Through(link.name, src_col.name, dst_col.name), origin="metadata"))
    resources = {
        res: _resource(res, by_name[table], fields[res], keys[res], namer.resolve(res), options)
        for table, res in names.items()
    }
    return SchemaGraph(resources=resources,
                       link_tables={t: _link_columns(links[t]) for t in links},
                       tags=options.tags, ownership=options.ownership)


def _fk_relations(namer: _Namer, child: str, parent: str, local: sa.Column[Any],
                  remote: sa.Column[Any]) -> None:
    stripped = next((local.name[:-len(s)] for s in _KEY_SUFFIXES
                     if local.name.endswith(s) and len(local.name) > len(s)), "")
    to_one = stripped if stripped and stripped not in namer.fields[child] else _lower_camel(
        parent)
    namer.add(to_one, local.name, Relation("", child, parent, Cardinality.ONE, local.name,
                                           remote.name, origin="metadata"))
    unique = bool(local.unique) or list(local.table.primary_key.columns) == [local] or any(
        isinstance(c, sa.UniqueConstraint) and list(c.columns) == [local]
        for c in local.table.constraints)
    namer.add(_lower_camel(child), local.name, Relation(
        "", parent, child, Cardinality.ONE if unique else Cardinality.MANY, remote.name,
        local.name, origin="metadata"))


def _resource(name: str, table: sa.Table, fields: dict[str, Field], key: str,
              relations: dict[str, Relation], options: DoorOptions,
              row_filter: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> Resource:
    return Resource(name=name, table=table.name, primary_key=key, fields=fields,
                    relations=relations,
                    tag_type=table.name if options.tags is not None else None,
                    owned=options.ownership is not None, row_filter=row_filter)


# -- ORM -------------------------------------------------------------------------------------


def graph_from_models(classes: Iterable[type], options: DoorOptions) -> SchemaGraph:
    """Resources from mapped classes; relations from their ``relationship()`` objects only."""
    mappers: list[orm.Mapper[Any]] = []
    for cls in classes:
        try:
            mapper: orm.Mapper[Any] = sa.inspect(cls)
        except sa.exc.NoInspectionAvailable:
            raise SchemaError(f"{cls.__name__} is not a mapped class", param="source",
                              value=cls.__name__) from None
        if not isinstance(mapper.local_table, sa.Table):
            raise SchemaError(f"{cls.__name__} is not mapped to a table", param="source",
                              value=cls.__name__)
        mappers.append(mapper)
    skipped = {m.class_ for m in mappers if options.skipped(_table(m).name)}
    names = {m.class_: options.resource_name(m.class_.__name__)
             for m in mappers if m.class_ not in skipped}
    resources: dict[str, Resource] = {}
    links: dict[str, LinkTable] = {}
    for mapper in mappers:
        if mapper.class_ in skipped:
            continue
        name = names[mapper.class_]
        table = _table(mapper)
        fields = {}
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if len(prop.columns) != 1 or not isinstance(column, sa.Column):
                continue  # a column_property() expression is no stored column
            if column.table is table and (f := _field(prop.key, column)) is not None:
                fields[prop.key] = f
        relations = {}
        for rel in mapper.relationships:
            if rel.mapper.class_ in skipped:
                continue
            relations[rel.key] = _orm_relation(name, rel, names, links)
        resources[name] = _resource(name, table, fields, _single_pk(table, name), relations,
                                    options, _row_filter(mapper, name))
    return SchemaGraph(resources=resources, link_tables=links, tags=options.tags,
                       ownership=options.ownership)


def _table(mapper: orm.Mapper[Any]) -> sa.Table:
    table = mapper.local_table
    assert isinstance(table, sa.Table)  # checked when the mappers were collected
    return table


def _row_filter(mapper: orm.Mapper[Any], name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    parent = mapper.inherits
    if parent is None:
        return ()
    if parent.local_table is not mapper.local_table:
        raise SchemaError(f"{name}: joined-table inheritance is not supported (its rows span "
                          "two tables)", param=name, value=mapper.class_.__name__,
                          hint="map the subclass with single-table inheritance or exclude it")
    discriminator = mapper.polymorphic_on
    if not isinstance(discriminator, sa.Column):
        return ()
    identities = tuple(str(m.polymorphic_identity) for m in mapper.self_and_descendants
                       if m.polymorphic_identity is not None)
    return ((discriminator.name, identities),)


def _orm_relation(source: str, rel: orm.RelationshipProperty[Any], names: dict[type, str],
                  links: dict[str, LinkTable]) -> Relation:
    where = f"{source}.{rel.key}"
    target = names.get(rel.mapper.class_)
    if target is None:
        raise SchemaError(f"{where}: target class {rel.mapper.class_.__name__} is not among "
                          "the models", param=where, value=rel.mapper.class_.__name__,
                          hint="pass it too, or exclude its table")
    cardinality = Cardinality.MANY if rel.uselist else Cardinality.ONE
    if rel.secondary is not None:
        if not isinstance(rel.secondary, sa.Table) or len(rel.synchronize_pairs) != 1 or len(
                rel.secondary_synchronize_pairs or ()) != 1:
            raise SchemaError(f"{where}: a many-to-many needs a secondary table joined on one "
                              "column each side", param=where, value=str(rel.secondary))
        (local, link_source), = rel.synchronize_pairs
        (remote, link_target), = rel.secondary_synchronize_pairs or ()
        links[rel.secondary.name] = _link_columns(rel.secondary)
        return Relation(rel.key, source, target, cardinality, local.name, remote.name,
                        through=Through(rel.secondary.name, link_source.name, link_target.name),
                        origin="orm")
    pairs = rel.local_remote_pairs or []
    if len(pairs) != 1:
        raise SchemaError(f"{where}: the join must compare exactly one column pair, found "
                          f"{len(pairs)}", param=where, value=str(rel.primaryjoin),
                          hint="declare this relation in a schema dict instead")
    (local, remote), = pairs
    return Relation(rel.key, source, target, cardinality, local.name, remote.name,
                    origin="orm")

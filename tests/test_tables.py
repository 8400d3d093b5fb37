"""build_metadata: real tables on SQLite, PostgreSQL and MariaDB, their types, keys and indexes."""

from __future__ import annotations

import gc
import uuid
import weakref
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable
from zstack_like import GRAPH

from zquery.errors import SchemaError
from zquery.schema.graph import SchemaGraph
from zquery.schema.serialize import graph_from_dict, graph_to_dict
from zquery.schema.tables import (
    MAX_INDEX_NAME,
    build_metadata,
    index_name,
    link_table_of,
    mysql_collation,
    table_of,
)

LONG_TABLE = "TtAVeryLongResourceTableNameForIndexNamesVO"
LONG_KEY = "aVeryLongForeignKeyColumnNameUuid"
WIDE_COLUMNS = [f"label{i:03d}" for i in range(100)]

# Every field type, typed children sharing a table, NOT NULL, long names and a wide table.
# The "Tt" prefix keeps these tables apart from GRAPH's in the shared session database.
EXTRA = graph_from_dict({"resources": {
    "VmInstance": {"table": "TtVmInstanceVO", "primary_key": "uuid", "fields": {
        "uuid": "String", "name": {"type": "String", "nullable": False}, "type": "String",
        "hostUuid": "String", "ratio": "Float", "cores": "Short", "count": "Integer",
        "memory": "Long", "load": "Double", "ha": "Boolean", "stamp": "Timestamp",
        "metaData": "String"},
        "relations": {"host": {"target": "Host", "cardinality": "one", "local_key": "hostUuid",
                               "remote_key": "uuid"}}},
    "ApplianceVm": {"table": "TtVmInstanceVO", "primary_key": "uuid", "row_filter": {
        "type": ["ApplianceVm"]}, "fields": {"uuid": "String", "type": "String",
                                             "applianceVmType": "String"}},
    "Host": {"table": "TtHostVO", "primary_key": "uuid", "fields": {
        "uuid": "String", "name": {"type": "String", "nullable": False}, LONG_KEY: "String"},
        "relations": {"longOne": {"target": "Long", "cardinality": "one", "local_key": LONG_KEY,
                                  "remote_key": "uuid"},
                      "peers": {"target": "Host", "cardinality": "many", "local_key": "uuid",
                                "remote_key": "uuid", "through": {  # declared one way only
                                    "table": "TtHostPeerVO", "source_column": "hostUuid",
                                    "target_column": "peerUuid"}}}},
    "Long": {"table": LONG_TABLE, "primary_key": "uuid", "fields": {
        "uuid": "String", LONG_KEY: "String"},
        "relations": {"host": {"target": "Host", "cardinality": "many", "local_key": "uuid",
                               "remote_key": LONG_KEY}, "self": {
            "target": "Long", "cardinality": "one", "local_key": LONG_KEY,
            "remote_key": "uuid"}}},
    "Wide": {"table": "TtWideVO", "primary_key": "id", "fields": {
        "id": "Integer", "hostUuid": "String", **dict.fromkeys(WIDE_COLUMNS, "String")},
        "relations": {"host": {"target": "Host", "cardinality": "one", "local_key": "hostUuid",
                               "remote_key": "uuid"}}},
}, "link_tables": {"TtHostPeerVO": {"columns": {"hostUuid": "String", "peerUuid": "String"},
                                     "primary_key": ["hostUuid", "peerUuid"]}}})
GRAPHS = {"zstack": GRAPH, "extra": EXTRA}


@pytest.fixture(scope="module")
def created(any_engine: sa.Engine) -> sa.Engine:
    for graph in GRAPHS.values():
        build_metadata(graph).create_all(any_engine)
    return any_engine


# -- the cache -------------------------------------------------------------------------------


def test_metadata_is_cached_per_graph_object() -> None:
    assert build_metadata(GRAPH) is build_metadata(GRAPH)
    twin = graph_from_dict(graph_to_dict(GRAPH))
    assert build_metadata(twin) is not build_metadata(GRAPH)
    assert sorted(build_metadata(twin).tables) == sorted(build_metadata(GRAPH).tables)


def test_cache_does_not_keep_graphs_alive() -> None:
    twin = graph_from_dict(graph_to_dict(GRAPH))
    build_metadata(twin)
    ref = weakref.ref(twin)
    del twin
    gc.collect()
    assert ref() is None


# -- which tables, which columns ---------------------------------------------------------------


def test_one_table_per_resource_table_link_tag_and_ownership() -> None:
    expected = {r.table for r in GRAPH} | set(GRAPH.link_tables) | {
        "SystemTagVO", "UserTagVO", "AccountResourceRefVO", "SharedResourceVO"}
    assert set(build_metadata(GRAPH).tables) == expected
    assert set(build_metadata(EXTRA).tables) == {"TtVmInstanceVO", "TtHostVO", LONG_TABLE,
                                                 "TtWideVO", "TtHostPeerVO"}


# (graph, table, column, nullable, primary key, SQL type on SQLite)
COLUMNS: list[tuple[str, str, str, bool, bool, str]] = [
    ("extra", "TtVmInstanceVO", "uuid", False, True, "VARCHAR(255)"),
    ("extra", "TtVmInstanceVO", "name", True, False, "VARCHAR(255)"),  # merged: nullable
    ("extra", "TtVmInstanceVO", "applianceVmType", True, False, "VARCHAR(255)"),
    ("extra", "TtVmInstanceVO", "metaData", True, False, "TEXT"),
    ("extra", "TtVmInstanceVO", "memory", True, False, "INTEGER"),
    ("extra", "TtHostVO", "name", False, False, "VARCHAR(255)"),  # one resource: NOT NULL kept
    ("extra", "TtWideVO", "label000", True, False, "TEXT"),  # too many VARCHARs for MySQL
    ("extra", "TtWideVO", "hostUuid", True, False, "VARCHAR(255)"),  # keys stay VARCHAR
    ("zstack", "ZoneVO", "description", True, False, "TEXT"),
    ("zstack", "SystemTagVO", "tag", True, False, "VARCHAR(2048)"),
    ("zstack", "AccountResourceRefVO", "id", False, True, "INTEGER"),
    ("zstack", "HostCapacityVO", "availableCpu", True, False, "INTEGER"),
]


@pytest.mark.parametrize(("graph", "table", "column", "nullable", "key", "sqlite_type"), COLUMNS)
def test_column_shapes(graph: str, table: str, column: str, nullable: bool, key: bool,
                       sqlite_type: str) -> None:
    col = build_metadata(GRAPHS[graph]).tables[table].c[column]
    assert (col.nullable, col.primary_key) == (nullable, key)
    assert str(col.type.compile(sa.create_engine("sqlite://").dialect)) == sqlite_type


DIALECT_URLS = {"sqlite": "sqlite://", "postgresql": "postgresql+psycopg://",
                "mysql": "mysql+pymysql://", "mariadb": "mariadb+pymysql://"}


@pytest.mark.parametrize("dialect", sorted(DIALECT_URLS))
def test_mysql_options_reach_only_mysql_ddl(dialect: str) -> None:
    engine_dialect = sa.create_engine(DIALECT_URLS[dialect]).dialect
    for table in build_metadata(GRAPH).tables.values():
        ddl = " ".join([str(CreateTable(table).compile(dialect=engine_dialect)),
                        *(str(CreateIndex(ix).compile(dialect=engine_dialect))
                          for ix in table.indexes)])
        mysql_like = dialect in ("mysql", "mariadb")
        assert ("CHARSET=utf8mb4" in ddl and "COLLATE utf8mb4_bin" in ddl) is mysql_like
        assert ("ENGINE=InnoDB" in ddl) is mysql_like
        assert "COLLATE" not in ddl or mysql_like
        if table.name in ("SystemTagVO", "UserTagVO"):
            assert ("tag(255)" in ddl) is mysql_like  # the index prefix of the long tag text


# -- real databases ------------------------------------------------------------------------------


def _value(column: sa.Column[Any]) -> Any:
    """A value that survives a round trip only when the column type is right."""
    sql_type = column.type
    if isinstance(sql_type, sa.Boolean):
        return True
    if isinstance(sql_type, sa.DateTime):
        return datetime(2024, 2, 29, 13, 23, 2, 123456)
    if isinstance(sql_type, (sa.Float, sa.Double)):
        return 0.1  # a single-precision FLOAT would give 0.10000000149011612
    if isinstance(sql_type, sa.SmallInteger):
        return 32000
    if isinstance(sql_type, sa.BigInteger):
        return 2**40 + 1
    if isinstance(sql_type, sa.Integer):
        return 2**31 - 1
    if isinstance(sql_type, sa.Text):
        return "长文本 😀 " * 300  # past 255 characters, 4-byte UTF-8 included
    assert isinstance(sql_type, sa.String)
    return f"Vm1-ü-😀-{uuid.uuid4().hex}"[: sql_type.length]


TABLES = [(g, t) for g, graph in GRAPHS.items() for t in sorted(build_metadata(graph).tables)]


@pytest.mark.parametrize(("graph", "table_name"), TABLES, ids=[t for _, t in TABLES])
def test_insert_and_read_back_every_table(created: sa.Engine, graph: str,
                                          table_name: str) -> None:
    table = build_metadata(GRAPHS[graph]).tables[table_name]
    row = {c.name: _value(c) for c in table.columns if c.autoincrement is not True}
    with created.connect() as conn, conn.begin() as transaction:
        result = conn.execute(table.insert().values(row))
        key = dict(zip(table.primary_key.columns.keys(), result.inserted_primary_key or (),
                       strict=True))
        assert all(value is not None for value in key.values())
        stored = conn.execute(sa.select(table).filter_by(**key)).mappings().one()
        assert {name: stored[name] for name in row} == row
        transaction.rollback()


@pytest.mark.parametrize(("probe", "matches"), [("vm1", 1), ("Vm1", 0), ("VM1", 0), ("vm1 ", 0)])
def test_string_equality_is_exact(created: sa.Engine, probe: str,
                                           matches: int) -> None:
    zone = build_metadata(GRAPH).tables["ZoneVO"]
    key = uuid.uuid4().hex
    with created.connect() as conn, conn.begin() as transaction:
        conn.execute(zone.insert().values(uuid=key, name="vm1"))
        found = conn.execute(sa.select(sa.func.count()).select_from(zone).where(
            zone.c.uuid == key, zone.c.name == probe)).scalar_one()
        assert found == matches
        transaction.rollback()


@pytest.fixture
def case_insensitive_db(mysql_engine: sa.Engine) -> Iterator[sa.Engine]:
    """A MariaDB database whose default collation ignores case, as most installs do."""
    name = f"zqt_ci_{uuid.uuid4().hex[:8]}"
    with mysql_engine.connect() as conn:
        conn.exec_driver_sql(
            f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    engine = sa.create_engine(mysql_engine.url.set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with mysql_engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name}")


def test_mariadb_binary_no_pad_collation_on_a_case_insensitive_server(
        case_insensitive_db: sa.Engine) -> None:
    build_metadata(GRAPH).create_all(case_insensitive_db)
    plain = sa.Table("PlainVO", sa.MetaData(), sa.Column("name", sa.String(32)))
    plain.create(case_insensitive_db)
    zone = build_metadata(GRAPH).tables["ZoneVO"]
    with case_insensitive_db.begin() as conn:
        conn.execute(zone.insert().values(uuid="z1", name="vm1"))
        conn.execute(plain.insert().values(name="vm1"))
        for probe in ("Vm1", "vm1 "):
            assert conn.execute(sa.select(zone.c.uuid).where(zone.c.name == probe)).all() == []
            # The control: without zquery's table options the server ignores case and pads.
            assert conn.execute(sa.select(plain.c.name).where(plain.c.name == probe)).all() == [
                ("vm1",)]
        collations = conn.exec_driver_sql(
            "SELECT DISTINCT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'PlainVO'").all()
        columns = conn.exec_driver_sql(
            "SELECT DISTINCT COLLATION_NAME FROM information_schema.COLUMNS WHERE "
            "TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'PlainVO' AND "
            "COLLATION_NAME IS NOT NULL").scalars().all()
    assert {name for name, _ in collations} == set(build_metadata(GRAPH).tables)
    expected = mysql_collation(case_insensitive_db.dialect)
    assert expected == "utf8mb4_nopad_bin"  # the MariaDB server of the test environment
    assert {collation for _, collation in collations} == {expected}
    assert columns == [expected]


# -- indexes -----------------------------------------------------------------------------------


def join_keys(graph: SchemaGraph) -> set[tuple[str, tuple[str, ...]]]:
    """Every (table, columns) a join or tag/ownership lookup filters on."""
    keys: set[tuple[str, tuple[str, ...]]] = set()
    for res in graph:
        for rel in res.relations.values():
            keys.add((res.table, (rel.local_key,)))
            keys.add((graph.resources[rel.target].table, (rel.remote_key,)))
            if rel.through is not None:
                keys.add((rel.through.table, (rel.through.source_column,)))
                keys.add((rel.through.table, (rel.through.target_column,)))
        for f in res.fields.values():
            if f.mapped is not None:
                keys.add((res.table, (f.mapped.owner_key,)))
                keys.add((f.mapped.table, (f.mapped.join_column,)))
    if graph.tags is not None:
        for table in (graph.tags.system_table, graph.tags.user_table):
            keys |= {(table, ("resourceUuid",)), (table, ("tag",)),
                     (table, ("resourceType", "tag"))}
    if graph.ownership is not None:
        keys |= {("AccountResourceRefVO", ("resourceUuid",)),
                 ("AccountResourceRefVO", ("accountUuid",)),
                 ("SharedResourceVO", ("receiverAccountUuid",)),
                 ("SharedResourceVO", ("resourceUuid",))}
    return keys


SPOT_CHECKS = {("VmNicVO", ("vmInstanceUuid",)), ("VmInstanceVO", ("hostUuid",)),
               ("L2NetworkClusterRefVO", ("clusterUuid",)), ("HostCapacityVO", ("uuid",)),
               ("SystemTagVO", ("resourceType", "tag")), ("UserTagVO", ("tag",))}


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_every_join_key_is_indexed(created: sa.Engine, graph: str) -> None:
    inspector = sa.inspect(created)
    wanted = join_keys(GRAPHS[graph]) | (SPOT_CHECKS if graph == "zstack" else set())
    missing = []
    for table, columns in sorted(wanted):
        leading = [tuple(ix["column_names"][:len(columns)])
                   for ix in inspector.get_indexes(table)]
        pk = tuple(inspector.get_pk_constraint(table)["constrained_columns"][:len(columns)])
        if columns not in leading and columns != pk:
            missing.append((table, columns))
    assert missing == []


def test_index_names_are_unique_short_and_hashed_when_long() -> None:
    names = [ix.name for graph in GRAPHS.values()
             for table in build_metadata(graph).tables.values() for ix in table.indexes]
    assert len(names) == len(set(names))
    assert max(len(str(name)) for name in names) == MAX_INDEX_NAME
    long = index_name(LONG_TABLE, [LONG_KEY])
    assert long in names and len(long) == MAX_INDEX_NAME
    assert long != index_name(LONG_TABLE, [LONG_KEY + "2"])


# -- lookups ------------------------------------------------------------------------------------

TABLE_OF = [("VmInstance", "VmInstanceVO"), ("vm-instances", "VmInstanceVO"),
            ("QueryVmNic", "VmNicVO"), (GRAPH.resource("Eip"), "EipVO")]


@pytest.mark.parametrize(("resource", "table"), TABLE_OF)
def test_table_of(resource: Any, table: str) -> None:
    assert table_of(GRAPH, resource) is build_metadata(GRAPH).tables[table]


@pytest.mark.parametrize("name", ["L2NetworkClusterRefVO", "HostCapacityVO", "SystemTagVO",
                                  "UserTagVO", "AccountResourceRefVO", "SharedResourceVO"])
def test_link_table_of(name: str) -> None:
    assert link_table_of(GRAPH, name) is build_metadata(GRAPH).tables[name]


@pytest.mark.parametrize(("name", "hint"), [("VmNicVO", None),
                                            ("SystemTagV0", "did you mean 'SystemTagVO'?")])
def test_link_table_of_rejects_other_names(name: str, hint: str | None) -> None:
    with pytest.raises(SchemaError) as caught:
        link_table_of(GRAPH, name)
    assert (caught.value.param, caught.value.value, caught.value.hint) == (
        "link_table", name, hint)


# -- a resource reading a tag table (ZStack's QuerySystemTag reads SystemTagVO) ---------------


def _tag_reader(fields: dict[str, Any], key: str = "uuid") -> SchemaGraph:
    return graph_from_dict({"resources": {"SystemTag": {
        "table": "SystemTagVO", "primary_key": key, "fields": fields}}, "tags": {}})


def test_a_resource_may_read_a_tag_table() -> None:
    graph = _tag_reader({"uuid": "String", "tag": "String", "inherent": "Boolean",
                         "note": "String"})
    table = table_of(graph, "SystemTag")
    assert link_table_of(graph, "SystemTagVO") is table
    assert {"resourceUuid", "resourceType", "createDate", "note"} <= set(table.c.keys())
    assert [c.name for c in table.primary_key.columns] == ["uuid"]


READER_ERRORS = [
    ({"uuid": "String", "inherent": "String"}, "uuid",
     "table SystemTagVO: column 'inherent' is String in SystemTag but Boolean in tags",
     "SystemTagVO.inherent"),
    ({"uuid": "String", "tag": "String"}, "tag",
     "a resource gives it primary key 'tag' but zquery's tag/ownership table has 'uuid'",
     "SystemTagVO.primary_key"),
]


@pytest.mark.parametrize(("fields", "key", "message", "param"), READER_ERRORS)
def test_a_tag_table_reader_must_agree_with_the_built_in_columns(
        fields: dict[str, Any], key: str, message: str, param: str) -> None:
    with pytest.raises(SchemaError) as caught:
        build_metadata(_tag_reader(fields, key))
    assert message in caught.value.message
    assert caught.value.param == param

"""The SQLAlchemy doors of build_schema: a ZStack-like MetaData and declarative ORM models."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from zquery.errors import SchemaError
from zquery.schema.build import build_schema
from zquery.schema.graph import (
    Cardinality,
    FieldType,
    LinkTable,
    OwnershipConfig,
    SchemaGraph,
    TagConfig,
    Through,
)

ONE, MANY = Cardinality.ONE, Cardinality.MANY
S, L = FieldType.STRING, FieldType.LONG


def _uuid(name: str = "uuid", *args: Any, **kwargs: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.String(32), *args, **kwargs)


def _fk(name: str, target: str) -> sa.Column[Any]:
    return _uuid(name, sa.ForeignKey(f"{target}.uuid"))


class Upper(sa.types.TypeDecorator[str]):
    impl = sa.String(64)
    cache_ok = True


def zstack_metadata() -> sa.MetaData:
    md = sa.MetaData()
    sa.Table("ZoneVO", md, _uuid(primary_key=True), sa.Column("name", sa.String(255)),
             sa.Column("state", sa.Enum("Enabled", "Disabled", name="zone_state")),
             sa.Column("description", sa.Text, comment="free text"),
             sa.Column("isDefault", sa.Boolean), _fk("parentZoneUuid", "ZoneVO"),
             sa.Column("createDate", sa.DateTime, nullable=False))
    sa.Table("ClusterVO", md, _uuid(primary_key=True), _fk("zoneUuid", "ZoneVO"),
             sa.Column("hypervisorType", Upper))
    sa.Table("HostVO", md, _uuid(primary_key=True), _fk("zoneUuid", "ZoneVO"),
             _fk("clusterUuid", "ClusterVO"), sa.Column("cpuUsage", sa.Float),
             sa.Column("totalCpu", sa.BigInteger))
    sa.Table("HostCapacityVO", md, _uuid("uuid", sa.ForeignKey("HostVO.uuid"), primary_key=True),
             sa.Column("availableCpu", sa.BigInteger))
    sa.Table("VmInstanceVO", md, _uuid(primary_key=True), _fk("zoneUuid", "ZoneVO"),
             _fk("hostUuid", "HostVO"), _fk("lastHostUuid", "HostVO"),
             sa.Column("cpuNum", sa.Integer), sa.Column("deviceCount", sa.SmallInteger),
             sa.Column("price", sa.Numeric(10, 2)), sa.Column("ratio", sa.Double),
             sa.Column("bootDate", sa.Date), sa.Column("extra", sa.JSON),
             sa.Column("stamp", sa.TIMESTAMP), sa.Column("token", sa.Uuid))
    sa.Table("VmNicVO", md, _uuid(primary_key=True), _fk("vmInstanceUuid", "VmInstanceVO"),
             _uuid("l3NetworkUuid"), sa.Column("ip", sa.String(128)))
    sa.Table("L2NetworkVO", md, _uuid(primary_key=True), _fk("zoneUuid", "ZoneVO"))
    sa.Table("L2NetworkClusterRefVO", md, sa.Column("id", sa.BigInteger, primary_key=True),
             _fk("clusterUuid", "ClusterVO"), _fk("l2NetworkUuid", "L2NetworkVO"),
             sa.Column("createDate", sa.DateTime), sa.Column("lastOpDate", sa.DateTime))
    sa.Table("SystemTagVO", md, _uuid(primary_key=True), _uuid("resourceUuid"),
             sa.Column("tag", sa.String(255)))
    sa.Table("AccountResourceRefVO", md, sa.Column("id", sa.BigInteger, primary_key=True),
             _uuid("accountUuid"), _uuid("resourceUuid"))
    return md


MD = zstack_metadata()
MD_GRAPH = build_schema(MD, tags=TagConfig(), ownership=OwnershipConfig())
L2_REF = "L2NetworkClusterRefVO"

# (resource, relation, target, cardinality, local key, remote key, through)
MD_RELATIONS: list[tuple[str, str, str, Cardinality, str, str, Through | None]] = [
    ("Zone", "cluster", "Cluster", MANY, "uuid", "zoneUuid", None),
    ("Zone", "host", "Host", MANY, "uuid", "zoneUuid", None),
    ("Zone", "vmInstance", "VmInstance", MANY, "uuid", "zoneUuid", None),
    ("Zone", "l2Network", "L2Network", MANY, "uuid", "zoneUuid", None),
    ("Zone", "parentZone", "Zone", ONE, "parentZoneUuid", "uuid", None),
    ("Zone", "zone", "Zone", MANY, "uuid", "parentZoneUuid", None),
    ("Cluster", "zone", "Zone", ONE, "zoneUuid", "uuid", None),
    ("Cluster", "host", "Host", MANY, "uuid", "clusterUuid", None),
    ("Cluster", "l2Network", "L2Network", MANY, "uuid", "uuid",
     Through(L2_REF, "clusterUuid", "l2NetworkUuid")),
    ("Host", "zone", "Zone", ONE, "zoneUuid", "uuid", None),
    ("Host", "cluster", "Cluster", ONE, "clusterUuid", "uuid", None),
    ("Host", "hostCapacity", "HostCapacity", ONE, "uuid", "uuid", None),
    ("Host", "vmInstanceHostUuid", "VmInstance", MANY, "uuid", "hostUuid", None),
    ("Host", "vmInstanceLastHostUuid", "VmInstance", MANY, "uuid", "lastHostUuid", None),
    ("HostCapacity", "host", "Host", ONE, "uuid", "uuid", None),
    ("VmInstance", "zone", "Zone", ONE, "zoneUuid", "uuid", None),
    ("VmInstance", "host", "Host", ONE, "hostUuid", "uuid", None),
    ("VmInstance", "lastHost", "Host", ONE, "lastHostUuid", "uuid", None),
    ("VmInstance", "vmNic", "VmNic", MANY, "uuid", "vmInstanceUuid", None),
    ("VmNic", "vmInstance", "VmInstance", ONE, "vmInstanceUuid", "uuid", None),
    ("L2Network", "zone", "Zone", ONE, "zoneUuid", "uuid", None),
    ("L2Network", "cluster", "Cluster", MANY, "uuid", "uuid",
     Through(L2_REF, "l2NetworkUuid", "clusterUuid")),
]


@pytest.mark.parametrize("row", MD_RELATIONS, ids=[f"{r[0]}.{r[1]}" for r in MD_RELATIONS])
def test_metadata_relations(row: tuple[str, str, str, Cardinality, str, str, Any]) -> None:
    source, name, target, cardinality, local, remote, through = row
    rel = MD_GRAPH.resource(source).relations[name]
    assert (rel.source, rel.target, rel.cardinality, rel.local_key, rel.remote_key,
            rel.through, rel.origin) == (source, target, cardinality, local, remote, through,
                                         "metadata")


def test_metadata_relations_are_exactly_those() -> None:
    got = {(res.name, name) for res in MD_GRAPH for name in res.relations}
    assert got == {(r[0], r[1]) for r in MD_RELATIONS}


def test_metadata_resources_link_tables_tags() -> None:
    assert sorted(MD_GRAPH.resources) == ["Cluster", "Host", "HostCapacity", "L2Network",
                                          "VmInstance", "VmNic", "Zone"]
    assert dict(MD_GRAPH.link_tables) == {L2_REF: LinkTable(L2_REF, (
        ("id", L), ("clusterUuid", S), ("l2NetworkUuid", S),
        ("createDate", FieldType.TIMESTAMP), ("lastOpDate", FieldType.TIMESTAMP)), ("id",))}
    assert {(r.tag_type, r.owned) for r in MD_GRAPH} == {(r.table, True) for r in MD_GRAPH}
    assert (MD_GRAPH.tags, MD_GRAPH.ownership) == (TagConfig(), OwnershipConfig())


# (resource, field, type, choices, nullable, description); None type = no such field
MD_FIELDS: list[tuple[str, str, FieldType | None, tuple[str, ...], bool, str]] = [
    ("Zone", "uuid", S, (), False, ""),
    ("Zone", "state", S, ("Enabled", "Disabled"), True, ""),
    ("Zone", "description", S, (), True, "free text"),
    ("Zone", "isDefault", FieldType.BOOLEAN, (), True, ""),
    ("Zone", "createDate", FieldType.TIMESTAMP, (), False, ""),
    ("Cluster", "hypervisorType", S, (), True, ""),
    ("Host", "cpuUsage", FieldType.FLOAT, (), True, ""),
    ("Host", "totalCpu", L, (), True, ""),
    ("VmInstance", "cpuNum", FieldType.INTEGER, (), True, ""),
    ("VmInstance", "deviceCount", FieldType.SHORT, (), True, ""),
    ("VmInstance", "price", FieldType.DOUBLE, (), True, ""),
    ("VmInstance", "ratio", FieldType.DOUBLE, (), True, ""),
    ("VmInstance", "bootDate", FieldType.TIMESTAMP, (), True, ""),
    ("VmInstance", "stamp", FieldType.TIMESTAMP, (), True, ""),
    ("VmInstance", "token", S, (), True, ""),
    ("VmInstance", "extra", None, (), True, ""),
]


@pytest.mark.parametrize("row", MD_FIELDS, ids=[f"{r[0]}.{r[1]}" for r in MD_FIELDS])
def test_metadata_field_types(row: tuple[str, str, FieldType | None, tuple[str, ...], bool,
                                         str]) -> None:
    resource, name, ftype, choices, nullable, description = row
    fields = MD_GRAPH.resource(resource).fields
    if ftype is None:
        assert name not in fields
        return
    f = fields[name]
    assert (f.type, f.column, f.choices, f.nullable, f.description) == (
        ftype, name, choices, nullable, description)


def test_without_tags_the_tag_table_is_a_resource() -> None:
    graph = build_schema(MD)
    assert graph.resource("SystemTag").table == "SystemTagVO"
    assert graph.resource("AccountResourceRef").primary_key == "id"
    assert {r.tag_type for r in graph} == {None}


def test_name_callable_link_tables_as_resources_and_exclude() -> None:
    graph = build_schema(MD, name=lambda table: "T" + table, link_tables_as_resources=True,
                         exclude=["HostCapacityVO", "SystemTagVO", "AccountResourceRefVO"])
    assert "THostCapacityVO" not in graph.resources
    assert "hostCapacity" not in graph.resource("THostVO").relations
    ref = graph.resource("TL2NetworkClusterRefVO")
    assert {n: (r.target, r.cardinality) for n, r in ref.relations.items()} == {
        "cluster": ("TClusterVO", ONE), "l2Network": ("TL2NetworkVO", ONE)}
    cluster = graph.resource("TClusterVO").relations
    assert cluster["tL2NetworkClusterRefVO"].cardinality is MANY
    assert cluster["tL2NetworkVO"].through == Through(L2_REF, "clusterUuid", "l2NetworkUuid")


def test_list_of_tables_ignores_keys_to_tables_left_out() -> None:
    graph = build_schema([MD.tables["ClusterVO"], MD.tables["HostVO"]])
    assert sorted(graph.resources) == ["Cluster", "Host"]
    assert sorted(graph.resource("Host").relations) == ["cluster"]
    assert sorted(graph.resource("Cluster").relations) == ["host"]
    assert build_schema(MD.tables["ZoneVO"]).resource("Zone").relations["zone"].target == "Zone"


def _composite_key() -> list[sa.Table]:
    md = sa.MetaData()
    return [sa.Table("PairVO", md, sa.Column("a", sa.Integer, primary_key=True),
                     sa.Column("b", sa.Integer, primary_key=True), sa.Column("c", sa.String))]


def _unnameable() -> list[sa.Table]:
    md = sa.MetaData()
    sa.Table("ZoneVO", md, _uuid(primary_key=True))
    return [*md.tables.values(), sa.Table(
        "ClusterVO", md, _uuid(primary_key=True), _fk("zoneUuid", "ZoneVO"),
        sa.Column("zone", sa.String), sa.Column("zoneZoneUuid", sa.String))]


MD_ERRORS = [
    ("composite key", _composite_key, "a resource needs a single-column primary key", "PairVO",
     "exclude=['PairVO'] leaves it out"),
    ("no free name", _unnameable, "would both be named 'zoneZoneUuid'", "Cluster.zoneZoneUuid",
     "exclude one of the tables or declare the schema as a dict"),
]


@pytest.mark.parametrize(("make", "message", "param", "hint"), [e[1:] for e in MD_ERRORS],
                         ids=[e[0] for e in MD_ERRORS])
def test_metadata_errors(make: Any, message: str, param: str, hint: str | None) -> None:
    with pytest.raises(SchemaError) as caught:
        build_schema(make())
    assert message in caught.value.message
    assert (caught.value.param, caught.value.hint) == (param, hint)


# -- ORM ----------------------------------------------------------------------------------------


class Base(orm.DeclarativeBase):
    pass


NIC_GROUP = sa.Table("VmNicSecurityGroupRefVO", Base.metadata, _uuid(primary_key=True),
                     _fk("vmNicUuid", "VmNicVO"), _fk("securityGroupUuid", "SecurityGroupVO"))


class ZoneVO(Base):
    __tablename__ = "ZoneVO"
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    clusters: orm.Mapped[list[ClusterVO]] = orm.relationship(back_populates="zone")


class ClusterVO(Base):
    __tablename__ = "ClusterVO"
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    zone_uuid: orm.Mapped[str] = orm.mapped_column("zoneUuid", sa.ForeignKey("ZoneVO.uuid"))
    zone: orm.Mapped[ZoneVO] = orm.relationship(back_populates="clusters")


class HostVO(Base):
    """Has a foreign key but no relationship(): the door must not invent one."""

    __tablename__ = "HostVO"
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    clusterUuid: orm.Mapped[str] = orm.mapped_column(sa.ForeignKey("ClusterVO.uuid"))


class VmInstanceVO(Base):
    __tablename__ = "VmInstanceVO"
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    hostUuid: orm.Mapped[str] = orm.mapped_column(sa.ForeignKey("HostVO.uuid"))
    host: orm.Mapped[HostVO] = orm.relationship()
    nics: orm.Mapped[list[VmNicVO]] = orm.relationship(back_populates="vm")
    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "UserVm"}  # noqa: RUF012


class ApplianceVmVO(VmInstanceVO):
    applianceVmType: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    __mapper_args__ = {"polymorphic_identity": "ApplianceVm"}  # noqa: RUF012


class VirtualRouterVmVO(ApplianceVmVO):
    __mapper_args__ = {"polymorphic_identity": "VirtualRouter"}  # noqa: RUF012


class VmNicVO(Base):
    __tablename__ = "VmNicVO"
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    vm_uuid: orm.Mapped[str] = orm.mapped_column("vmInstanceUuid",
                                                 sa.ForeignKey("VmInstanceVO.uuid"))
    ip: orm.Mapped[str] = orm.mapped_column(sa.String(128))
    ip_upper: orm.Mapped[str] = orm.column_property(sa.func.upper(ip))
    vm: orm.Mapped[VmInstanceVO] = orm.relationship(back_populates="nics")
    groups: orm.Mapped[list[SecurityGroupVO]] = orm.relationship(secondary=NIC_GROUP,
                                                                 back_populates="nics")


class SecurityGroupVO(Base):
    __tablename__ = "SecurityGroupVO"
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    nics: orm.Mapped[list[VmNicVO]] = orm.relationship(secondary=NIC_GROUP,
                                                       back_populates="groups")


class SystemTagVO(Base):
    __tablename__ = "SystemTagVO"
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    resourceUuid: orm.Mapped[str] = orm.mapped_column(sa.String(32))


ORM_GRAPH = build_schema(Base, tags=TagConfig())
NIC_REF = "VmNicSecurityGroupRefVO"
ORM_RELATIONS: list[tuple[str, str, str, Cardinality, str, str, Through | None]] = [
    ("Zone", "clusters", "Cluster", MANY, "uuid", "zoneUuid", None),
    ("Cluster", "zone", "Zone", ONE, "zoneUuid", "uuid", None),
    *((vm, rel, target, card, local, remote, None) for vm in (
        "VmInstance", "ApplianceVm", "VirtualRouterVm") for rel, target, card, local, remote in (
        ("host", "Host", ONE, "hostUuid", "uuid"),
        ("nics", "VmNic", MANY, "uuid", "vmInstanceUuid"))),
    ("VmNic", "vm", "VmInstance", ONE, "vmInstanceUuid", "uuid", None),
    ("VmNic", "groups", "SecurityGroup", MANY, "uuid", "uuid",
     Through(NIC_REF, "vmNicUuid", "securityGroupUuid")),
    ("SecurityGroup", "nics", "VmNic", MANY, "uuid", "uuid",
     Through(NIC_REF, "securityGroupUuid", "vmNicUuid")),
]


@pytest.mark.parametrize("row", ORM_RELATIONS, ids=[f"{r[0]}.{r[1]}" for r in ORM_RELATIONS])
def test_orm_relations(row: tuple[str, str, str, Cardinality, str, str, Any]) -> None:
    source, name, target, cardinality, local, remote, through = row
    rel = ORM_GRAPH.resource(source).relations[name]
    assert (rel.target, rel.cardinality, rel.local_key, rel.remote_key, rel.through,
            rel.origin) == (target, cardinality, local, remote, through, "orm")


def test_orm_relations_are_only_the_declared_ones() -> None:
    got = {(res.name, name) for res in ORM_GRAPH for name in res.relations}
    assert got == {(r[0], r[1]) for r in ORM_RELATIONS}
    assert "SystemTag" not in ORM_GRAPH.resources


# (resource, row filter, {field: column})
ORM_RESOURCES: list[tuple[str, tuple[tuple[str, tuple[str, ...]], ...], dict[str, str]]] = [
    ("VmInstance", (), {"uuid": "uuid", "type": "type", "hostUuid": "hostUuid"}),
    ("ApplianceVm", (("type", ("ApplianceVm", "VirtualRouter")),),
     {"uuid": "uuid", "type": "type", "hostUuid": "hostUuid",
      "applianceVmType": "applianceVmType"}),
    ("VirtualRouterVm", (("type", ("VirtualRouter",)),),
     {"uuid": "uuid", "type": "type", "hostUuid": "hostUuid",
      "applianceVmType": "applianceVmType"}),
    ("VmNic", (), {"uuid": "uuid", "vm_uuid": "vmInstanceUuid", "ip": "ip"}),
    ("Cluster", (), {"uuid": "uuid", "zone_uuid": "zoneUuid"}),
]


@pytest.mark.parametrize(("name", "row_filter", "columns"), ORM_RESOURCES,
                         ids=[r[0] for r in ORM_RESOURCES])
def test_orm_fields_and_typed_children(name: str, row_filter: Any,
                                       columns: dict[str, str]) -> None:
    res = ORM_GRAPH.resource(name)
    assert res.table == ("VmInstanceVO" if "Vm" in name and name != "VmNic" else f"{name}VO")
    assert res.row_filter == row_filter
    assert {f.name: f.column for f in res.fields.values()} == columns


def test_orm_link_table() -> None:
    assert dict(ORM_GRAPH.link_tables) == {NIC_REF: LinkTable(NIC_REF, (
        ("uuid", S), ("vmNicUuid", S), ("securityGroupUuid", S)), ("uuid",))}


ORM_SOURCES = [
    ("registry", lambda: build_schema(Base.registry, tags=TagConfig())),
    ("class list", lambda: build_schema([c for c in (
        ZoneVO, ClusterVO, HostVO, VmInstanceVO, ApplianceVmVO, VirtualRouterVmVO, VmNicVO,
        SecurityGroupVO)])),
]


@pytest.mark.parametrize("make", [s[1] for s in ORM_SOURCES], ids=[s[0] for s in ORM_SOURCES])
def test_orm_sources_agree(make: Any) -> None:
    graph: SchemaGraph = make()
    assert sorted(graph.resources) == sorted(ORM_GRAPH.resources)
    for res in graph:
        assert dict(res.relations) == dict(ORM_GRAPH.resource(res.name).relations)


def test_orm_exclude_drops_relations_to_the_excluded() -> None:
    graph = build_schema(Base, exclude=["HostVO", "SystemTagVO"], name=str.lower)
    assert "hostvo" not in graph.resources
    assert sorted(graph.resource("vminstancevo").relations) == ["nics"]


def _joined_inheritance() -> list[type]:
    class JBase(orm.DeclarativeBase):
        pass

    class PrimaryStorageVO(JBase):
        __tablename__ = "PrimaryStorageVO"
        uuid: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
        type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
        __mapper_args__ = {"polymorphic_on": "type"}  # noqa: RUF012

    class CephPrimaryStorageVO(PrimaryStorageVO):
        __tablename__ = "CephPrimaryStorageVO"
        uuid: orm.Mapped[str] = orm.mapped_column(sa.ForeignKey("PrimaryStorageVO.uuid"),
                                                  primary_key=True)
        __mapper_args__ = {"polymorphic_identity": "Ceph"}  # noqa: RUF012

    return [PrimaryStorageVO, CephPrimaryStorageVO]


def _two_column_join() -> list[type]:
    class CBase(orm.DeclarativeBase):
        pass

    class EipVO(CBase):
        __tablename__ = "EipVO"
        uuid: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
        vipUuid: orm.Mapped[str] = orm.mapped_column(sa.String(32))
        vipIp: orm.Mapped[str] = orm.mapped_column(sa.String(32))
        vip: orm.Mapped[VipVO] = orm.relationship(
            primaryjoin="and_(EipVO.vipUuid == foreign(VipVO.uuid), EipVO.vipIp == "
                        "foreign(VipVO.ip))", viewonly=True)

    class VipVO(CBase):
        __tablename__ = "VipVO"
        uuid: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
        ip: orm.Mapped[str] = orm.mapped_column(sa.String(32))

    return [EipVO, VipVO]


ORM_ERRORS = [
    ("target not among the models", lambda: [ClusterVO],
     "Cluster.zone: target class ZoneVO is not among the models", "Cluster.zone"),
    ("not mapped", lambda: [int], "int is not a mapped class", "source"),
    ("joined inheritance", _joined_inheritance,
     "CephPrimaryStorage: joined-table inheritance is not supported", "CephPrimaryStorage"),
    ("two-column join", _two_column_join, "Eip.vip: the join must compare exactly one column pair",
     "Eip.vip"),
]


@pytest.mark.parametrize(("make", "message", "param"), [e[1:] for e in ORM_ERRORS],
                         ids=[e[0] for e in ORM_ERRORS])
def test_orm_errors(make: Any, message: str, param: str) -> None:
    with pytest.raises(SchemaError) as caught:
        build_schema(make())
    assert message in caught.value.message
    assert caught.value.param == param

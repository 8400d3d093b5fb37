"""A ZStack-like test schema: 9 resources with real cycles, a many-to-many link,
a mapped value, an alias, tags on every resource and ownership on some.

Built directly from the graph dataclasses so every stage's tests share it.
"""

from __future__ import annotations

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

# One-letter type names keep the resource tables below readable.
S, I, L, D, B, T = (FieldType.STRING,  # noqa: E741
                     FieldType.INTEGER, FieldType.LONG, FieldType.DOUBLE,
                    FieldType.BOOLEAN, FieldType.TIMESTAMP)
ONE, MANY = Cardinality.ONE, Cardinality.MANY

VM_STATES = ("Created", "Starting", "Running", "Stopping", "Stopped", "Destroyed")
HOST_STATES = ("Enabled", "Disabled", "PreMaintenance", "Maintenance")
ENABLED = ("Enabled", "Disabled")


def _fields(*specs: tuple) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for spec in specs:
        name, ftype, *rest = spec
        choices = rest[0] if rest else ()
        out[name] = Field(name, ftype, choices=tuple(choices))
    return out


def _common(*specs: tuple) -> dict[str, Field]:
    return _fields(("uuid", S), *specs, ("createDate", T), ("lastOpDate", T))


def _rel(source: str, name: str, target: str, card: Cardinality, local: str, remote: str,
         *, through: Through | None = None, nested: bool = False) -> Relation:
    return Relation(name=name, source=source, target=target, cardinality=card, local_key=local,
                    remote_key=remote, through=through, nested=nested, origin="dict")


CLUSTER_L2 = Through("L2NetworkClusterRefVO", "clusterUuid", "l2NetworkUuid")
L2_CLUSTER = Through("L2NetworkClusterRefVO", "l2NetworkUuid", "clusterUuid")

_SPECS: list[tuple[str, str, dict[str, Field], list[Relation], bool, str]] = [
    ("Zone", "ZoneVO", _common(("name", S), ("description", S), ("state", S, ENABLED),
                               ("type", S), ("isDefault", B)), [
        _rel("Zone", "cluster", "Cluster", MANY, "uuid", "zoneUuid"),
        _rel("Zone", "host", "Host", MANY, "uuid", "zoneUuid"),
        _rel("Zone", "l2Network", "L2Network", MANY, "uuid", "zoneUuid"),
        _rel("Zone", "l3Network", "L3Network", MANY, "uuid", "zoneUuid"),
        _rel("Zone", "vmInstance", "VmInstance", MANY, "uuid", "zoneUuid"),
    ], False, "zones"),
    ("Cluster", "ClusterVO", _common(("name", S), ("description", S), ("zoneUuid", S),
                                     ("hypervisorType", S), ("state", S, ENABLED), ("type", S)), [
        _rel("Cluster", "zone", "Zone", ONE, "zoneUuid", "uuid"),
        _rel("Cluster", "host", "Host", MANY, "uuid", "clusterUuid"),
        _rel("Cluster", "l2Network", "L2Network", MANY, "uuid", "uuid", through=CLUSTER_L2),
        _rel("Cluster", "vmInstance", "VmInstance", MANY, "uuid", "clusterUuid"),
    ], False, "clusters"),
    ("Host", "HostVO", _common(("name", S), ("zoneUuid", S), ("clusterUuid", S),
                               ("managementIp", S), ("hypervisorType", S),
                               ("state", S, HOST_STATES), ("cpuUsage", D), ("totalCpu", L)), [
        _rel("Host", "zone", "Zone", ONE, "zoneUuid", "uuid"),
        _rel("Host", "cluster", "Cluster", ONE, "clusterUuid", "uuid"),
        _rel("Host", "vmInstance", "VmInstance", MANY, "uuid", "hostUuid"),
    ], False, "hosts"),
    ("L2Network", "L2NetworkVO", _common(("name", S), ("zoneUuid", S), ("physicalInterface", S),
                                         ("type", S)), [
        _rel("L2Network", "zone", "Zone", ONE, "zoneUuid", "uuid"),
        _rel("L2Network", "cluster", "Cluster", MANY, "uuid", "uuid", through=L2_CLUSTER),
        _rel("L2Network", "l3Network", "L3Network", MANY, "uuid", "l2NetworkUuid"),
    ], False, "l2-networks"),
    ("L3Network", "L3NetworkVO", _common(("name", S), ("l2NetworkUuid", S), ("zoneUuid", S),
                                         ("type", S), ("state", S, ENABLED), ("system", B),
                                         ("ipVersion", I)), [
        _rel("L3Network", "zone", "Zone", ONE, "zoneUuid", "uuid"),
        _rel("L3Network", "l2Network", "L2Network", ONE, "l2NetworkUuid", "uuid"),
        _rel("L3Network", "vmNic", "VmNic", MANY, "uuid", "l3NetworkUuid"),
        _rel("L3Network", "vip", "Vip", MANY, "uuid", "l3NetworkUuid"),
    ], True, "l3-networks"),
    ("VmInstance", "VmInstanceVO", _common(("name", S), ("description", S), ("zoneUuid", S),
                                           ("clusterUuid", S), ("hostUuid", S),
                                           ("hypervisorType", S), ("type", S),
                                           ("state", S, VM_STATES), ("cpuNum", I),
                                           ("memorySize", L), ("platform", S)), [
        _rel("VmInstance", "zone", "Zone", ONE, "zoneUuid", "uuid"),
        _rel("VmInstance", "cluster", "Cluster", ONE, "clusterUuid", "uuid"),
        _rel("VmInstance", "host", "Host", ONE, "hostUuid", "uuid"),
        _rel("VmInstance", "vmNics", "VmNic", MANY, "uuid", "vmInstanceUuid", nested=True),
    ], True, "vm-instances"),
    ("VmNic", "VmNicVO", _common(("vmInstanceUuid", S), ("l3NetworkUuid", S), ("ip", S),
                                 ("mac", S), ("netmask", S), ("gateway", S), ("deviceId", I)), [
        _rel("VmNic", "vmInstance", "VmInstance", ONE, "vmInstanceUuid", "uuid"),
        _rel("VmNic", "l3Network", "L3Network", ONE, "l3NetworkUuid", "uuid"),
        _rel("VmNic", "eip", "Eip", MANY, "uuid", "vmNicUuid"),
    ], False, "nics"),
    ("Eip", "EipVO", _common(("name", S), ("vmNicUuid", S), ("vipUuid", S), ("vipIp", S),
                             ("guestIp", S), ("state", S, ENABLED)), [
        _rel("Eip", "vmNic", "VmNic", ONE, "vmNicUuid", "uuid"),
        _rel("Eip", "vip", "Vip", ONE, "vipUuid", "uuid"),
    ], True, "eips"),
    ("Vip", "VipVO", _common(("name", S), ("l3NetworkUuid", S), ("ip", S), ("state", S, ENABLED),
                             ("useFor", S)), [
        _rel("Vip", "l3Network", "L3Network", ONE, "l3NetworkUuid", "uuid"),
        _rel("Vip", "eip", "Eip", MANY, "uuid", "vipUuid"),
    ], True, "vips"),
]

# A value stored in another table (ZStack's HostCapacityVO) and a list-valued one.
_MAPPED = {
    "Host": Field("availableCpuCapacity", L, mapped=MappedValue(
        "HostCapacityVO", "uuid", "uuid", "availableCpu", many=False)),
    "L2Network": Field("attachedClusterUuids", S, mapped=MappedValue(
        "L2NetworkClusterRefVO", "uuid", "l2NetworkUuid", "clusterUuid", many=True)),
}

# ZStack's alias style: a name standing for a dotted relation path.
_ALIASES = {"VmInstance": Alias("l3Network", ("vmNics", "l3Network"))}


def build_graph() -> SchemaGraph:
    resources: dict[str, Resource] = {}
    for name, table, fields, relations, owned, rest in _SPECS:
        fields = dict(fields)
        if name in _MAPPED:
            fields[_MAPPED[name].name] = _MAPPED[name]
        alias = _ALIASES.get(name)
        resources[name] = Resource(
            name=name, table=table, primary_key="uuid", fields=fields,
            relations={r.name: r for r in relations},
            aliases={alias.name: alias} if alias else {},
            tag_type=table, owned=owned, api_name=f"Query{name}", rest_paths=(f"/{rest}",),
            inventory=f"{name}Inventory")
    links = {
        "L2NetworkClusterRefVO": LinkTable(
            "L2NetworkClusterRefVO", (("id", L), ("clusterUuid", S), ("l2NetworkUuid", S)),
            primary_key=("id",)),
        "HostCapacityVO": LinkTable("HostCapacityVO", (("uuid", S), ("availableCpu", L)),
                                    primary_key=("uuid",)),
    }
    return SchemaGraph(resources=resources, link_tables=links, tags=TagConfig(),
                       ownership=OwnershipConfig())


GRAPH = build_graph()

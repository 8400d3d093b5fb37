"""The shipped ZStack Cloud 4.1.3 catalogue: every Query API, looked up every way, typed as
the manual says, connected the way chapter 2.9 shows, and consistent as a schema."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from zquery.catalogue import catalogue_data, catalogue_meta, load_catalogue
from zquery.errors import UnknownResource
from zquery.introspect import complete, relations_of
from zquery.request import parse_request
from zquery.resolve import resolve
from zquery.schema.graph import Cardinality, FieldType, SchemaGraph

MANUAL = Path(__file__).resolve().parents[2] / "shared" / "spec" / \
    "zstack-cloud-4.1.3-api-manual.txt"


@pytest.fixture(scope="module")
def catalogue() -> SchemaGraph:
    return load_catalogue()


def test_every_query_api_is_a_resource(catalogue: SchemaGraph) -> None:
    apis = [res.api_name for res in catalogue if res.api_name]
    assert len(apis) == len(set(apis)) == 186
    assert catalogue_meta()["query_apis"] == 186


@pytest.mark.skipif(not MANUAL.exists(), reason="the manual is not at ../shared/spec")
def test_the_api_names_are_the_manuals(catalogue: SchemaGraph) -> None:
    # an independent count: every "(QueryXxx)" of the manual, half- or full-width parentheses
    text = MANUAL.read_text(encoding="utf-8")
    found = set(re.findall(r"[(（]\s*(Query[A-Za-z0-9]+)\s*[)）]", text))
    assert found == {res.api_name for res in catalogue if res.api_name}


LOOKUPS = [
    ("QueryVmInstance", "VmInstance"), ("vm-instances", "VmInstance"),
    ("GET zstack/v1/vm-instances", "VmInstance"), ("/vm-instances/", "VmInstance"),
    ("QueryL3Network", "L3Network"), ("l3-networks", "L3Network"),
    ("QueryIAM2Project", "IAM2Project"), ("iam2/projects", "IAM2Project"),
    ("QueryBareMetal2Instance", "BareMetal2Instance"), ("baremetal2/bm-instances",
                                                        "BareMetal2Instance"),
    ("QueryIpAddress", "UsedIp"), ("l3-networks/ip-address", "UsedIp"),
    ("QueryVpcRouter", "VpcRouterVm"), ("vpc/virtual-routers", "VpcRouterVm"),
    ("QueryVRouterOspfArea", "RouterArea"), ("QueryGCJob", "GarbageCollector"),
    ("QueryVmNicInSecurityGroup", "VmNicSecurityGroupRef"),
    ("QueryEventSubscription", "EventSubscription"),  # full-width parentheses in the manual
    ("QueryAutoScalingGroupInstance", "AutoScalingGroupInstance"),  # heading over two lines
    ("vm-instances/{vmInstanceUuid}/pci-device-specs", "VmInstancePciDeviceSpecRef"),
    ("storage-devices/iscsi", "IscsiServer"), ("storage-devices/iscsi/servers", "IscsiServer"),
]


@pytest.mark.parametrize(("name", "resource"), LOOKUPS)
def test_lookup_by_api_name_and_rest_path(catalogue: SchemaGraph, name: str,
                                          resource: str) -> None:
    assert catalogue.resource(name).name == resource


def test_every_api_resolves_by_its_name_and_each_rest_path(catalogue: SchemaGraph) -> None:
    for res in catalogue:
        if res.api_name:
            assert res.rest_paths, res.name
            assert catalogue.resource(res.api_name) is res
            for path in res.rest_paths:
                assert catalogue.resource(path) is res, path


def test_an_unknown_api_names_the_closest_one(catalogue: SchemaGraph) -> None:
    with pytest.raises(UnknownResource) as caught:
        catalogue.resource("QueryVmInstanc")
    assert caught.value.hint == "did you mean 'QueryVmInstance'?"


# (resource, field, type, choices or None when the field has none)
FIELDS = [
    ("VmInstance", "memorySize", FieldType.LONG, None),
    ("VmInstance", "cpuNum", FieldType.INTEGER, None),
    ("VmInstance", "createDate", FieldType.TIMESTAMP, None),
    ("VmInstance", "type", FieldType.STRING, None),  # an open list: plugins add types
    ("VmInstance", "state", FieldType.STRING, ("Created", "Starting", "Running", "Stopping",
                                                "Stopped", "Rebooting", "Destroying",
                                                "Destroyed", "Migrating", "Expunging",
                                                "Pausing", "Paused", "Resuming",
                                                "VolumeMigrating", "Unknown")),
    ("Volume", "isShareable", FieldType.BOOLEAN, None),
    ("AutoScalingGroupActivity", "activityActionResultMessage", FieldType.STRING, None),
    ("AutoScalingRule", "status", FieldType.STRING,
     ("Created", "WaitingForTrigger", "Triggering", "Error")),
    ("PciDevice", "virtStatus", FieldType.STRING,
     ("UNVIRTUALIZABLE", "SRIOV_VIRTUALIZABLE", "VFIO_MDEV_VIRTUALIZABLE", "SRIOV_VIRTUALIZED",
      "VFIO_MDEV_VIRTUALIZED", "SRIOV_VIRTUAL", "UNKNOWN")),
    ("Host", "availableMemoryCapacity", FieldType.LONG, None),
    ("VolumeSnapshot", "primaryStorageInstallPath", FieldType.STRING, None),
    ("UsedIp", "ipInLong", FieldType.LONG, None),
    ("FirewallRuleSetL3Ref", "packetsForwardType", FieldType.STRING, ("in", "out", "local")),
    ("VpcFirewallRuleSet", "isDefault", FieldType.BOOLEAN, None),
    ("Alarm", "threshold", FieldType.DOUBLE, None),
]


@pytest.mark.parametrize(("resource", "name", "ftype", "choices"), FIELDS)
def test_fields_are_typed_as_the_manual_says(catalogue: SchemaGraph, resource: str, name: str,
                                             ftype: FieldType,
                                             choices: tuple[str, ...] | None) -> None:
    found = catalogue.resource(resource).field(name)
    assert found.type is ftype
    assert found.choices == (choices or ())


# values stored in another table (ZStack's @Queryable)
MAPPED = [
    ("Host", "availableCpuCapacity", "HostCapacityVO", "uuid", "uuid", "availableCpu", False),
    ("L2Network", "attachedClusterUuids", "L2NetworkClusterRefVO", "uuid", "l2NetworkUuid",
     "clusterUuid", True),
    ("PrimaryStorage", "totalCapacity", "PrimaryStorageCapacityVO", "uuid", "uuid",
     "totalCapacity", False),
    ("CephPrimaryStorage", "totalCapacity", "PrimaryStorageCapacityVO", "uuid", "uuid",
     "totalCapacity", False),  # inherited by a typed child
    ("BareMetal2Gateway", "totalCpuCapacity", "HostCapacityVO", "uuid", "uuid", "totalCpu",
     False),  # a child the reference does not know inherits it too
]


@pytest.mark.parametrize(("resource", "name", "table", "owner", "join", "value", "many"), MAPPED)
def test_values_stored_elsewhere_are_mapped(catalogue: SchemaGraph, resource: str, name: str,
                                            table: str, owner: str, join: str, value: str,
                                            many: bool) -> None:
    mapped = catalogue.resource(resource).field(name).mapped
    assert mapped is not None
    assert (mapped.table, mapped.owner_key, mapped.join_column, mapped.value_column,
            mapped.many) == (table, owner, join, value, many)


# (child, table, row filter) — typed children share their root's table
CHILDREN = [
    ("ApplianceVm", "VmInstanceVO", {"type": ("ApplianceVm",)}),
    ("VirtualRouterVm", "VmInstanceVO", {"type": ("ApplianceVm",),
                                         "applianceVmType": ("VirtualRouter", "vrouter")}),
    ("VpcRouterVm", "VmInstanceVO", {"type": ("ApplianceVm",), "applianceVmType": ("vrouter",)}),
    ("BareMetal2Instance", "VmInstanceVO", {"type": ("baremetal2",)}),
    ("CephPrimaryStorage", "PrimaryStorageVO", {"type": ("Ceph",)}),
    ("L2VxlanNetworkPool", "L2NetworkVO",
     {"type": ("HardwareVxlanNetworkPool", "VxlanNetworkPool")}),
    ("AddressPool", "IpRangeVO", {"ipRangeType": ("AddressPool",)}),
    ("SNSHttpEndpoint", "SNSApplicationEndpointVO", {"type": ("HTTP",)}),
]


@pytest.mark.parametrize(("child", "table", "row_filter"), CHILDREN)
def test_typed_children_share_their_roots_table(catalogue: SchemaGraph, child: str, table: str,
                                                row_filter: dict[str, tuple[str, ...]]) -> None:
    res = catalogue.resource(child)
    assert res.table == table
    assert dict(res.row_filter) == row_filter
    assert res.tag_type == table
    root = next(r for r in catalogue if r.table == table and not r.row_filter)
    assert set(root.fields) <= set(res.fields)
    assert all(res.fields[n].type is f.type for n, f in root.fields.items())


OWNED = [("VmInstance", True), ("ApplianceVm", True), ("Volume", True), ("Image", True),
         ("L3Network", True), ("Vip", True), ("Eip", True), ("SecurityGroup", True),
         ("LoadBalancer", True), ("PortForwardingRule", True), ("VolumeBackup", True),
         ("Zone", False), ("Host", False), ("L2Network", False), ("PrimaryStorage", False),
         ("Account", False), ("VmNicSecurityGroupRef", False), ("AlarmRecord", False),
         ("NetworkServiceProvider", False), ("CephPrimaryStorage", False)]


@pytest.mark.parametrize(("resource", "owned"), OWNED)
def test_tenant_resources_are_owned(catalogue: SchemaGraph, resource: str, owned: bool) -> None:
    assert catalogue.resource(resource).owned is owned


def test_tags_and_ownership_use_zstacks_tables(catalogue: SchemaGraph) -> None:
    assert catalogue.tags is not None and catalogue.tags.system_table == "SystemTagVO"
    assert catalogue.ownership is not None
    assert catalogue.ownership.ref_table == "AccountResourceRefVO"
    assert catalogue.resource("QuerySystemTag").table == "SystemTagVO"
    assert catalogue.resource("QueryAccountResourceRef").table == "AccountResourceRefVO"


# chapter 2.9's completion listings, transcribed: the relations offered after each prefix
LISTINGS = [
    ("QueryVmInstance", "", {"allVolumes", "rootVolume", "vmNics", "cluster", "host", "image",
                             "instanceOffering", "zone"}),
    ("QueryVmInstance", "vmNics.", {"eip", "l3Network", "loadBalancerListener",
                                    "portForwarding", "securityGroup", "vmInstance"}),
    ("QueryVmInstance", "zone.cluster.l2Network.l3Network.",
     {"ipRanges", "l2Network", "networkServices", "serviceProvider", "vmNic", "zone"}),
]
LISTED_FIELDS = [
    ("QueryVmInstance", "", "allocatorStrategy clusterUuid cpuNum cpuSpeed createDate "
     "defaultL3NetworkUuid description hostUuid hypervisorType imageUuid instanceOfferingUuid "
     "lastHostUuid lastOpDate memorySize name platform rootVolumeUuid state type uuid zoneUuid"),
    ("QueryVmInstance", "vmNics.", "createDate deviceId gateway ip l3NetworkUuid lastOpDate mac "
     "metaData netmask uuid vmInstanceUuid"),
    ("QueryVmInstance", "zone.cluster.l2Network.l3Network.", "createDate description dnsDomain "
     "l2NetworkUuid lastOpDate name state system type uuid zoneUuid"),
]


@pytest.mark.parametrize(("api", "prefix", "relations"), LISTINGS)
def test_the_manuals_completion_relations_are_offered(catalogue: SchemaGraph, api: str,
                                                      prefix: str, relations: set[str]) -> None:
    offered = {item[len(prefix):-1] for item in complete(catalogue, api, prefix)
               if item.endswith(".")}
    assert relations <= offered


@pytest.mark.parametrize(("api", "prefix", "fields"), LISTED_FIELDS)
def test_the_manuals_completion_fields_are_offered(catalogue: SchemaGraph, api: str,
                                                   prefix: str, fields: str) -> None:
    offered = set(complete(catalogue, api, prefix))
    assert {f"{prefix}{name}=" for name in fields.split()} <= offered
    assert {f"{prefix}__systemTag__=", f"{prefix}__userTag__="} <= offered


@pytest.mark.skipif(not MANUAL.exists(), reason="the manual is not at ../shared/spec")
@pytest.mark.parametrize(("prefix", "tokens"),
                         [(p, [f"{n}." for n in sorted(r)]) for _, p, r in LISTINGS]
                         + [(p, [f"{n}=" for n in f.split()]) for _, p, f in LISTED_FIELDS])
def test_the_transcribed_listings_are_in_the_manual(prefix: str, tokens: list[str]) -> None:
    # lines 922-1118 without the conversion's line breaks and spaces
    lines = MANUAL.read_text(encoding="utf-8").split("\n")[921:1118]
    text = re.sub(r"\s+", "", "\n".join(lines))
    for token in tokens:
        assert f"{prefix}{token}" in text, token


@pytest.mark.parametrize("query", [
    "q=zone.cluster.l2Network.l3Network.name=x",
    "q=vmNics.l3Network.l2Network.cluster.zone.name=z",
    "q=vmNics.securityGroup.name=web",  # an alias through a hidden link resource
    "q=host.managementIp=10.10.20.3",
    "q=allVolumes.primaryStorage.cluster.name=c1",
])
def test_the_graph_is_connected_as_the_manual_shows(catalogue: SchemaGraph, query: str) -> None:
    plan = resolve(parse_request(query), catalogue, "QueryVmInstance")
    assert plan.conditions[0].value


def test_many_to_many_goes_through_the_link_resource(catalogue: SchemaGraph) -> None:
    cluster = catalogue.resource("Cluster")
    assert cluster.aliases["l2Network"].path == ("l2NetworkRef", "l2Network")
    link = cluster.relations["l2NetworkRef"]
    assert (link.target, link.local_key, link.remote_key, link.hidden) == \
        ("L2NetworkClusterRef", "uuid", "clusterUuid", True)
    assert link.cardinality is Cardinality.MANY
    assert "l2NetworkRef" not in {x.name for x in relations_of(catalogue, "Cluster")}


def test_every_relation_says_where_it_came_from(catalogue: SchemaGraph) -> None:
    origins = {rel.origin for res in catalogue for rel in res.relations.values()}
    assert origins == {"reference", "manual", "inferred"}


def test_the_data_file_loads_once_and_quickly() -> None:
    load_catalogue.cache_clear()
    catalogue_data.cache_clear()
    started = time.perf_counter()
    first = load_catalogue()
    elapsed = time.perf_counter() - started
    assert load_catalogue() is first
    assert elapsed < 2.0, f"loading took {elapsed:.2f}s"

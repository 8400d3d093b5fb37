"""The physical estate: zones, clusters, hosts, storage, images, offerings and accounts.

Row zero of several tables reproduces the manual's query examples (zone ``TestZone``,
cluster ``cluster1``, host ``10.10.20.3``), so those examples select something.

>>> from zquery.demo.values import rng_for
>>> IMAGE_KINDS[0].platform
'Linux'
"""

from __future__ import annotations

from dataclasses import dataclass

from zquery.demo.context import Ctx
from zquery.demo.owners import Tenant
from zquery.demo.values import styled

__all__ = [
    "IMAGE_KINDS",
    "Cluster",
    "DiskOffering",
    "Host",
    "Image",
    "ImageKind",
    "Infra",
    "Offering",
    "build_infra",
]

GiB = 1024**3


@dataclass(frozen=True)
class Cluster:
    uuid: str
    zone: str
    name: str
    hypervisor: str
    primary_storage: str


@dataclass(frozen=True)
class Host:
    uuid: str
    cluster: Cluster
    ip: str


@dataclass(frozen=True)
class ImageKind:
    name: str
    platform: str
    guest_os: str
    architecture: str


IMAGE_KINDS = (
    ImageKind("centos-7.9", "Linux", "CentOS 7", "x86_64"),
    ImageKind("ubuntu-22.04", "Linux", "Ubuntu 22.04", "x86_64"),
    ImageKind("kylin-v10", "Linux", "Kylin V10", "aarch64"),
    ImageKind("windows-2019", "Windows", "Windows Server 2019", "x86_64"),
    ImageKind("debian-12", "Linux", "Debian 12", "x86_64"),
    ImageKind("freebsd-13", "Other", "FreeBSD 13", "x86_64"),
    ImageKind("rocky-9", "Linux", "Rocky Linux 9", "aarch64"),
    ImageKind("windows-10", "Windows", "Windows 10", "x86_64"),
    ImageKind("uos-20", "Paravirtualization", "UOS 20", "x86_64"),
)


@dataclass(frozen=True)
class Image:
    uuid: str
    kind: ImageKind
    size: int
    media_type: str


@dataclass(frozen=True)
class Offering:
    uuid: str
    cpu: int
    memory: int


@dataclass(frozen=True)
class DiskOffering:
    uuid: str
    size: int


@dataclass(frozen=True)
class Infra:
    """What the networks and the VMs are placed on."""

    zones: tuple[str, ...]
    clusters: tuple[Cluster, ...]
    hosts: tuple[Host, ...]
    backup_storage: tuple[str, ...]
    images: tuple[Image, ...]
    offerings: tuple[Offering, ...]
    disk_offerings: tuple[DiskOffering, ...]
    accounts: tuple[Tenant, ...]


def build_infra(ctx: Ctx) -> Infra:
    zones = _zones(ctx)
    clusters = _clusters(ctx, zones)
    hosts = _hosts(ctx, clusters)
    backup = _backup_storage(ctx, zones)
    images = _images(ctx, backup)
    offerings, disk_offerings = _offerings(ctx)
    _accounts(ctx)
    return Infra(zones, clusters, hosts, backup, images, offerings, disk_offerings,
                 ctx.owners.accounts)


def _zones(ctx: Ctx) -> tuple[str, ...]:
    rng, clock = ctx.rng("zones"), ctx.clock("zones")
    out = []
    for i in range(ctx.sizes.zones):
        uuid = ctx.ids.uuid("ZoneVO", i)
        created, changed = clock.pair()
        ctx.sink.emit("ZoneVO", {
            "uuid": uuid, "name": "TestZone" if i == 0 else f"{styled(rng, 'zone')}-{i}",
            "description": None if i % 2 else f"availability zone {i}",
            "state": "Enabled" if i == 0 or rng.random() < 0.8 else "Disabled",
            "type": "zstack", "isDefault": i == 0, "createDate": created,
            "lastOpDate": changed})
        out.append(uuid)
    return tuple(out)


def _clusters(ctx: Ctx, zones: tuple[str, ...]) -> tuple[Cluster, ...]:
    rng, clock = ctx.rng("clusters"), ctx.clock("clusters")
    out = []
    for i in range(ctx.sizes.clusters):
        uuid = ctx.ids.uuid("ClusterVO", i)
        zone = zones[i % len(zones)]
        hypervisor = "KVM" if i == 0 or rng.random() < 0.85 else "Simulator"
        architecture = "aarch64" if rng.random() < 0.15 else "x86_64"
        created, changed = clock.pair()
        ps = _primary_storage(ctx, i, zone, uuid)
        ctx.sink.emit("ClusterVO", {
            "uuid": uuid, "zoneUuid": zone, "name": "cluster1" if i == 0 else f"cluster-{i}",
            "description": None if rng.random() < 0.5 else f"{hypervisor} cluster",
            "state": "Enabled" if rng.random() < 0.9 else "Disabled",
            "hypervisorType": hypervisor, "type": "zstack", "architecture": architecture,
            "createDate": created, "lastOpDate": changed})
        out.append(Cluster(uuid, zone, f"cluster-{i}", hypervisor, ps))
    return tuple(out)


def _primary_storage(ctx: Ctx, index: int, zone: str, cluster: str) -> str:
    rng, clock = ctx.rng(f"ps:{index}"), ctx.clock(f"ps:{index}")
    uuid = ctx.ids.uuid("PrimaryStorageVO", index)
    kind = rng.choice(("LocalStorage", "LocalStorage", "Ceph", "SharedBlock", "NFS"))
    total = rng.randint(4, 200) * 1024 * GiB
    available = int(total * rng.uniform(0.05, 0.95))
    created, changed = clock.pair()
    ctx.sink.emit("PrimaryStorageVO", {
        "uuid": uuid, "zoneUuid": zone, "name": f"{kind.lower()}-ps-{index}", "type": kind,
        "url": f"/zstack_ps/{index}" if kind != "Ceph" else f"ceph://pool-{index}",
        "mountPath": f"/zstack_ps/{index}", "description": None,
        "state": "Enabled" if rng.random() < 0.9 else "Maintenance",
        "status": "Connected" if rng.random() < 0.95 else "Disconnected",
        "createDate": created, "lastOpDate": changed})
    ctx.sink.emit("PrimaryStorageCapacityVO", {
        "uuid": uuid, "totalCapacity": total, "availableCapacity": available,
        "totalPhysicalCapacity": total, "availablePhysicalCapacity": available,
        "systemUsedCapacity": total - available})
    ctx.sink.emit("PrimaryStorageClusterRefVO", {
        "primaryStorageUuid": uuid, "clusterUuid": cluster, "createDate": created,
        "lastOpDate": changed})
    return uuid


def _hosts(ctx: Ctx, clusters: tuple[Cluster, ...]) -> tuple[Host, ...]:
    rng, clock = ctx.rng("hosts"), ctx.clock("hosts")
    states = ("Enabled",) * 12 + ("Disabled", "PreMaintenance", "Maintenance")
    statuses = ("Connected",) * 12 + ("Disconnected", "Connecting")
    out = []
    for i in range(ctx.sizes.hosts):
        uuid = ctx.ids.uuid("HostVO", i)
        cluster = clusters[i % len(clusters)]
        # Management addresses: 172.16.0.0/12 (host 0 is the manual's example address).
        ip = "10.10.20.3" if i == 0 else f"172.{16 + i // 64000}.{i // 250 % 256}.{i % 250 + 4}"
        created, changed = clock.pair()
        cpus = rng.choice((16, 32, 48, 64, 96, 128))
        memory = rng.choice((64, 128, 256, 512, 1024)) * GiB
        ctx.sink.emit("HostVO", {
            "uuid": uuid, "zoneUuid": cluster.zone, "clusterUuid": cluster.uuid,
            "name": f"{styled(rng, 'host')}-{ip}", "managementIp": ip,
            "description": None if rng.random() < 0.7 else "rack " + str(i % 40),
            "hypervisorType": cluster.hypervisor, "state": rng.choice(states),
            "status": rng.choice(statuses), "architecture": "x86_64",
            "createDate": created, "lastOpDate": changed})
        ctx.sink.emit("HostCapacityVO", {
            "uuid": uuid, "totalCpu": cpus * 2400, "availableCpu": rng.randint(0, cpus) * 2400,
            "totalMemory": memory, "availableMemory": int(memory * rng.uniform(0, 0.9)),
            "cpuNum": cpus, "cpuSockets": rng.choice((1, 2, 4))})
        health = ("Normal",) * 8 + ("Warning", "Error")
        ctx.sink.emit("HostHwMonitorStatusVO", {
            "uuid": uuid, **{f"{part}Status": rng.choice(health) for part in (
                "cpu", "memory", "disk", "nic", "gpu", "powerSupply", "fan", "raid",
                "temperature")}})
        if rng.random() < 0.5:
            ctx.sink.emit("HostIpmiVO", {
                "uuid": uuid, "ipmiAddress": f"192.0.2.{i % 250 + 1}", "ipmiPort": 623,
                "ipmiUsername": "ADMIN", "ipmiPowerStatus": rng.choice(("PowerOn", "PowerOff"))})
        out.append(Host(uuid, cluster, ip))
    return tuple(out)


def _backup_storage(ctx: Ctx, zones: tuple[str, ...]) -> tuple[str, ...]:
    rng, clock = ctx.rng("bs"), ctx.clock("bs")
    out = []
    for i in range(len(zones) + 1):
        uuid = ctx.ids.uuid("BackupStorageVO", i)
        kind = "Ceph" if i == len(zones) else "ImageStoreBackupStorage"
        total = rng.randint(10, 500) * 1024 * GiB
        created, changed = clock.pair()
        ctx.sink.emit("BackupStorageVO", {
            "uuid": uuid, "name": f"{'ceph' if kind == 'Ceph' else 'imagestore'}-bs-{i}",
            "type": kind, "url": f"/zstack_bs/{i}", "description": None,
            "totalCapacity": total, "availableCapacity": int(total * rng.uniform(0.1, 0.9)),
            "state": "Enabled", "status": "Connected" if rng.random() < 0.9 else "Disconnected",
            "hostname": f"172.30.0.{i + 10}", "username": "root", "sshPort": 22,
            "createDate": created, "lastOpDate": changed})
        for zone in zones if kind == "Ceph" else (zones[i],):
            ctx.sink.emit("BackupStorageZoneRefVO", {
                "backupStorageUuid": uuid, "zoneUuid": zone, "createDate": created,
                "lastOpDate": changed})
        out.append(uuid)
    return tuple(out)


def _images(ctx: Ctx, backup: tuple[str, ...]) -> tuple[Image, ...]:
    rng, clock = ctx.rng("images"), ctx.clock("images")
    out = []
    for i in range(ctx.sizes.images):
        uuid = ctx.ids.uuid("ImageVO", i)
        kind = IMAGE_KINDS[i % len(IMAGE_KINDS)]
        media = "ISO" if i % 7 == 6 else "RootVolumeTemplate"
        size = rng.choice((8, 20, 40, 50, 100)) * GiB
        created, changed = clock.pair()
        account = ctx.owners.pick()
        ctx.sink.emit("ImageVO", {
            "uuid": uuid, "name": f"{kind.name}-{i}" if i >= len(IMAGE_KINDS) else kind.name,
            "description": None if rng.random() < 0.6 else f"{kind.guest_os} image",
            "state": "Enabled" if rng.random() < 0.9 else "Disabled",
            "status": "Ready" if rng.random() < 0.95 else "Downloading",
            "size": size, "actualSize": int(size * rng.uniform(0.1, 0.6)),
            "md5Sum": ctx.ids.uuid("md5", i), "url": f"http://images.example.com/{kind.name}.qcow2",
            "mediaType": media, "guestOsType": kind.guest_os, "platform": kind.platform,
            "architecture": kind.architecture, "format": "iso" if media == "ISO" else "qcow2",
            "type": "zstack", "system": i % 11 == 10, "virtio": kind.platform != "Windows",
            "createDate": created, "lastOpDate": changed})
        ctx.owners.own("ImageVO", uuid, account, created)
        ctx.sink.emit("ImageBackupStorageRefVO", {
            "imageUuid": uuid, "backupStorageUuid": backup[i % len(backup)],
            "installPath": f"zstore://{uuid}", "status": "Ready", "createDate": created,
            "lastOpDate": changed})
        out.append(Image(uuid, kind, size, media))
    return tuple(out)


def _offerings(ctx: Ctx) -> tuple[tuple[Offering, ...], tuple[DiskOffering, ...]]:
    rng, clock = ctx.rng("offerings"), ctx.clock("offerings")
    shapes = [(c, m) for c in (1, 2, 4, 8, 16, 32) for m in (1, 2, 4, 8, 16, 32, 64) if m >= c]
    out = []
    for i in range(ctx.sizes.instance_offerings):
        uuid = ctx.ids.uuid("InstanceOfferingVO", i)
        cpu, mem = shapes[i % len(shapes)]
        created, changed = clock.pair()
        ctx.sink.emit("InstanceOfferingVO", {
            "uuid": uuid, "name": f"{styled(rng, 'small' if cpu < 4 else 'large')}-{cpu}c{mem}g",
            "description": None if rng.random() < 0.5 else f"{cpu} vCPU, {mem} GiB",
            "cpuNum": cpu, "cpuSpeed": 0, "memorySize": mem * GiB, "reservedMemorySize": 0,
            "allocatorStrategy": rng.choice(("LeastVmPreferredHostAllocatorStrategy",
                                             "DefaultHostAllocatorStrategy")),
            "sortKey": i, "state": "Enabled" if rng.random() < 0.9 else "Disabled",
            "type": "UserVm", "createDate": created, "lastOpDate": changed})
        ctx.owners.own("InstanceOfferingVO", uuid, ctx.owners.pick(), created)
        out.append(Offering(uuid, cpu, mem * GiB))
    disks = []
    for i in range(ctx.sizes.disk_offerings):
        uuid = ctx.ids.uuid("DiskOfferingVO", i)
        size = (10, 20, 50, 100, 200, 500, 1024, 2048)[i % 8] * GiB
        created, changed = clock.pair()
        ctx.sink.emit("DiskOfferingVO", {
            "uuid": uuid, "name": f"disk-{size // GiB}G", "description": None,
            "diskSize": size, "sortKey": i, "state": "Enabled", "type": "zstack",
            "allocatorStrategy": "DefaultPrimaryStorageAllocationStrategy",
            "createDate": created, "lastOpDate": changed})
        ctx.owners.own("DiskOfferingVO", uuid, ctx.owners.pick(), created)
        disks.append(DiskOffering(uuid, size))
    return tuple(out), tuple(disks)


def _accounts(ctx: Ctx) -> None:
    rng, clock = ctx.rng("accounts"), ctx.clock("accounts")
    serial = 0
    for account in ctx.owners.accounts:
        created, changed = clock.pair()
        ctx.sink.emit("AccountVO", {
            "uuid": account.uuid, "name": account.name, "type": account.kind,
            "description": None if account.kind == "Normal" else "the administrator",
            "createDate": created, "lastOpDate": changed})
        for k in range(1 + rng.randrange(3)):
            ctx.sink.emit("UserVO", {
                "uuid": ctx.ids.uuid("UserVO", serial), "accountUuid": account.uuid,
                "name": f"{account.name}-user{k}", "description": None,
                "createDate": created, "lastOpDate": changed})
            serial += 1
        for quota, value in (("vm.num", 20), ("volume.data.num", 40), ("eip.num", 20)):
            ctx.sink.emit("QuotaVO", {
                "uuid": ctx.ids.uuid("QuotaVO", serial), "identityUuid": account.uuid,
                "identityType": "AccountVO", "name": quota, "value": value * (1 + serial % 3),
                "createDate": created, "lastOpDate": changed})
            serial += 1

"""Deterministic bench data for the test graph: a ZStack-shaped estate of N VMs.

The harness runs on the demo database (``zquery.demo`` on the shipped catalogue); this
generator is the fallback when the catalogue cannot serve the corpus, and fills the
ZStack-like test graph (``tests/zstack_like.py``) with an estate shaped like the one of
``/work/shared/research/sql-shapes.md``:
70% of VMs Running, 25% Stopped (no host), 1–4 NICs per VM on L3 networks drawn Zipf(1)
(``l3-0`` is the busiest), an EIP (and its VIP) on 10% of NICs, ``hostname::vm-N`` system
tags on 60% of VMs and ``bootMode::Legacy`` on 40%; 5 zones, N/20,000 clusters (at least
4), N/500 hosts (at least 8), up to 200 L3s. Every VM's ``createDate`` is unique (one
minute each). :class:`BenchData` yields the rows in chunks (bounded memory at a million
VMs).

>>> data = BenchData(200, seed=1)
>>> rows = {}
>>> for chunk in data.chunks():
...     for table, part in chunk.items():
...         rows[table] = rows.get(table, 0) + len(part)
>>> rows["VmInstanceVO"], 200 <= rows["VmNicVO"] <= 800
(200, True)
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

__all__ = ["COLUMNS", "BenchData", "Rows", "Sizes"]

#: Rows of one chunk: table name → tuples in the order of :data:`COLUMNS`.
Rows = dict[str, list[tuple[object, ...]]]

_STAMPS = ("createDate", "lastOpDate")
#: The columns the generator fills, per table (the others stay NULL).
COLUMNS: dict[str, tuple[str, ...]] = {
    "ZoneVO": ("uuid", "name", "state", "type", "isDefault", *_STAMPS),
    "ClusterVO": ("uuid", "name", "zoneUuid", "hypervisorType", "state", "type", *_STAMPS),
    "HostVO": ("uuid", "name", "zoneUuid", "clusterUuid", "managementIp", "hypervisorType",
               "state", "cpuUsage", "totalCpu", *_STAMPS),
    "HostCapacityVO": ("uuid", "availableCpu"),
    "L2NetworkVO": ("uuid", "name", "zoneUuid", "physicalInterface", "type", *_STAMPS),
    "L2NetworkClusterRefVO": ("id", "clusterUuid", "l2NetworkUuid"),
    "L3NetworkVO": ("uuid", "name", "l2NetworkUuid", "zoneUuid", "type", "state", "system",
                    "ipVersion", *_STAMPS),
    "VmInstanceVO": ("uuid", "name", "description", "zoneUuid", "clusterUuid", "hostUuid",
                     "hypervisorType", "type", "state", "cpuNum", "memorySize", "platform",
                     *_STAMPS),
    "VmNicVO": ("uuid", "vmInstanceUuid", "l3NetworkUuid", "ip", "mac", "netmask", "gateway",
                "deviceId", *_STAMPS),
    "VipVO": ("uuid", "name", "l3NetworkUuid", "ip", "state", "useFor", *_STAMPS),
    "EipVO": ("uuid", "name", "vmNicUuid", "vipUuid", "vipIp", "guestIp", "state", *_STAMPS),
    "SystemTagVO": ("uuid", "resourceUuid", "resourceType", "tag", "type", "inherent",
                    *_STAMPS),
}

_BASE = datetime(2020, 1, 1)
_GIB = 1 << 30
_CHUNK_VMS = 10_000
_OTHER_STATES = ("Created", "Starting", "Stopping", "Destroyed")


@dataclass(frozen=True, slots=True)
class Sizes:
    """How many of each infrastructure resource an estate of ``vms`` VMs has."""

    vms: int
    zones: int
    clusters: int
    hosts: int
    l2: int
    l3: int

    @classmethod
    def of(cls, vms: int) -> Sizes:
        l3 = min(200, max(8, vms // 50))
        return cls(vms, 5, max(4, vms // 20_000), max(8, vms // 500), max(4, l3 // 2), l3)


@dataclass(frozen=True, slots=True)
class _Estate:
    """What the VM chunks draw from: clusters (and their zones and hosts), L3s by rank."""

    clusters: list[str]
    cluster_zone: list[str]
    hosts_by_cluster: list[list[tuple[str, str]]]
    l3s: list[str]
    cumulative: list[float]  # Zipf(1) cumulative weights over l3s


def _ip(first: int, second: int, number: int) -> str:
    return f"{first}.{second + (number >> 16)}.{(number >> 8) & 255}.{number & 255}"


class BenchData:
    """The rows of an estate of *scale* VMs."""

    def __init__(self, scale: int, *, seed: int = 20240601) -> None:
        self.sizes = Sizes.of(scale)
        self._rng = random.Random(seed)
        self._nics = self._vips = self._eips = 0

    def _uuid(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def chunks(self) -> Iterator[Rows]:
        """The infrastructure first, then the VMs (with NICs, EIPs, VIPs, tags) in chunks."""
        infrastructure, estate = self._infrastructure()
        yield infrastructure
        for first in range(0, self.sizes.vms, _CHUNK_VMS):
            yield self._vms(first, min(first + _CHUNK_VMS, self.sizes.vms), estate)

    def _infrastructure(self) -> tuple[Rows, _Estate]:
        s, rng, at = self.sizes, self._rng, _BASE
        rows: Rows = {name: [] for name in ("ZoneVO", "ClusterVO", "HostVO", "HostCapacityVO",
                                            "L2NetworkVO", "L2NetworkClusterRefVO",
                                            "L3NetworkVO", "SystemTagVO")}
        zones = [self._uuid() for _ in range(s.zones)]
        for i, uuid in enumerate(zones):
            rows["ZoneVO"].append((uuid, f"zone-{i}", "Enabled", "zstack", i == 0, at, at))
        clusters = [self._uuid() for _ in range(s.clusters)]
        cluster_zone = [zones[i % s.zones] for i in range(s.clusters)]
        for i, uuid in enumerate(clusters):
            rows["ClusterVO"].append((uuid, f"cluster-{i}", cluster_zone[i], "KVM", "Enabled",
                                      "zstack", at, at))
        hosts_by_cluster: list[list[tuple[str, str]]] = [[] for _ in clusters]
        for i in range(s.hosts):
            uuid, cluster = self._uuid(), i % s.clusters
            ip = _ip(172, 16, i)
            hosts_by_cluster[cluster].append((uuid, ip))
            rows["HostVO"].append((uuid, f"host-{i}", cluster_zone[cluster], clusters[cluster],
                                   ip, "KVM", "Enabled", rng.random(), 64, at, at))
            rows["HostCapacityVO"].append((uuid, rng.randrange(64)))
            rows["SystemTagVO"].append((self._uuid(), uuid, "HostVO",
                                        "capability::liveSnapshot", "System", False, at, at))
        l2s = [self._uuid() for _ in range(s.l2)]
        link_id = 0
        for i, uuid in enumerate(l2s):
            rows["L2NetworkVO"].append((uuid, f"l2-{i}", zones[i % s.zones], f"eth{i % 4}",
                                        "L2NoVlanNetwork", at, at))
            for cluster in rng.sample(range(s.clusters), rng.randint(1, min(3, s.clusters))):
                link_id += 1
                rows["L2NetworkClusterRefVO"].append((link_id, clusters[cluster], uuid))
        l3s = [self._uuid() for _ in range(s.l3)]
        for i, uuid in enumerate(l3s):
            rows["L3NetworkVO"].append((uuid, f"l3-{i}", l2s[i % s.l2], zones[i % s.l2 % s.zones],
                                        "L3BasicNetwork", "Enabled", False, 4, at, at))
        cumulative = list(accumulate(1.0 / (rank + 1) for rank in range(len(l3s))))
        return rows, _Estate(clusters, cluster_zone, hosts_by_cluster, l3s, cumulative)

    def _vms(self, first: int, last: int, estate: _Estate) -> Rows:
        rng = self._rng
        rows: Rows = {name: [] for name in ("VmInstanceVO", "VmNicVO", "VipVO", "EipVO",
                                            "SystemTagVO")}
        clusters, l3s = estate.clusters, estate.l3s
        for k in range(first, last):
            at = _BASE + timedelta(seconds=k * 60 + rng.randrange(60))
            uuid, cluster_index = self._uuid(), rng.randrange(len(clusters))
            draw = rng.random()
            state = ("Running" if draw < 0.70 else "Stopped" if draw < 0.95
                     else _OTHER_STATES[rng.randrange(len(_OTHER_STATES))])
            host_uuid = None
            if state in ("Running", "Starting", "Stopping"):
                host_uuid = rng.choice(estate.hosts_by_cluster[cluster_index])[0]
            rows["VmInstanceVO"].append((
                uuid, f"vm-{k}", None if k % 2 else f"vm number {k}",
                estate.cluster_zone[cluster_index], clusters[cluster_index], host_uuid,
                "KVM" if rng.random() < 0.9 else "Xen", "UserVm", state,
                rng.randint(1, 16), rng.choice((1, 2, 4, 8, 16)) * _GIB,
                "Linux" if rng.random() < 0.8 else "Windows", at, at))
            if k % 5 < 3:
                rows["SystemTagVO"].append((self._uuid(), uuid, "VmInstanceVO",
                                            f"hostname::vm-{k}", "System", False, at, at))
            if k % 5 < 2:
                rows["SystemTagVO"].append((self._uuid(), uuid, "VmInstanceVO",
                                            "bootMode::Legacy", "System", False, at, at))
            l3_choices = rng.choices(range(len(l3s)), cum_weights=estate.cumulative,
                                     k=rng.randint(1, 4))
            for device, l3 in enumerate(l3_choices):
                self._nic(rows, uuid, l3s[l3], l3s, device, at)
        return rows

    def _nic(self, rows: Rows, vm_uuid: str, l3_uuid: str, l3s: list[str], device: int,
             at: datetime) -> None:
        rng = self._rng
        nic_uuid, ip = self._uuid(), _ip(10, 0, self._nics)
        self._nics += 1
        rows["VmNicVO"].append((nic_uuid, vm_uuid, l3_uuid, ip, f"fa:{self._nics:010x}",
                                "255.255.0.0", "10.0.0.1", device, at, at))
        draw = rng.random()
        if draw < 0.12:
            vip_uuid, vip_ip = self._uuid(), _ip(100, 64, self._vips)
            self._vips += 1
            rows["VipVO"].append((vip_uuid, f"vip-{self._vips}", rng.choice(l3s), vip_ip,
                                  "Enabled", "Eip" if draw < 0.10 else None, at, at))
            if draw < 0.10:  # 10% of NICs get an EIP on their VIP; the others' VIPs are free
                self._eips += 1
                rows["EipVO"].append((self._uuid(), f"eip-{self._eips}", nic_uuid, vip_uuid,
                                      vip_ip, ip, "Enabled", at, at))

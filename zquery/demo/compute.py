"""The VMs, streamed: each VM with its NICs (and their IPs), root and data volumes,
snapshots, CD-ROMs, EIPs, port forwarding, security-group and load-balancer membership,
tags and ownership. Nothing is kept per VM, so a million VMs need no more memory than ten.

VMs 0-2 carry the manual's example values: ``vm1`` (Running, NICs ``192.168.10.100`` and
``192.168.20.100``), ``web-vm`` (NIC ``192.168.0.100`` with an EIP) and a VM with NIC
``172.20.100.100``.

>>> [state for state, _ in VM_STATES][:3]
['Running', 'Stopped', 'Destroyed']
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from zquery.demo.context import Ctx
from zquery.demo.infra import GiB, Host, Infra
from zquery.demo.network import Networks, Subnet, make_vip
from zquery.demo.values import Weighted, ip_number, ip_text, mac_text, styled

__all__ = ["VM_STATES", "VmFactory"]

#: (state, weight): mostly Running and Stopped, every other state present.
VM_STATES = (("Running", 600), ("Stopped", 250), ("Destroyed", 30), ("Created", 20),
             ("Starting", 15), ("Stopping", 15), ("Rebooting", 10), ("Migrating", 15),
             ("Paused", 15), ("Unknown", 10), ("VolumeMigrating", 5), ("Expunging", 5))
_ON_HOST = frozenset({"Running", "Starting", "Stopping", "Rebooting", "Migrating", "Paused",
                      "Unknown", "VolumeMigrating"})
_PREFIXES = ("web", "db", "app", "cache", "k8s-node", "build", "test", "mq", "ci", "gw")
# Awkward descriptions: LIKE metacharacters, quotes, non-ASCII, case variants.
_DESCRIPTIONS = ("production web server", "Production DB", "50% reserved", "db_backup host",
                 "O'Brien's sandbox", "café ordering", "CAFÉ staging", "Жук test", "a\\b path",
                 "straße", "")
_SYSTEM_TAGS = ("ha::NeverStop", "bootMode::UEFI", "bootMode::Legacy", "cleanTraffic::true",
                "vmPriority::High", "50%off", "under_score", "Ärger::ü")
_NIC_COUNTS = Weighted((0, 1, 2, 3), (3, 70, 20, 7))
_DATA_VOLUMES = Weighted((0, 1, 2, 3), (55, 30, 10, 5))
_PLANTED_NICS = {0: ((0, "192.168.10.100"), (0, "192.168.20.100")), 1: ((0, "192.168.0.100"),),
                 2: ((1, "172.20.100.100"),)}


class VmFactory:
    """Writes VM number *i* and everything that hangs off it; counters give unique ids."""

    def __init__(self, ctx: Ctx, infra: Infra, networks: Networks) -> None:
        self.ctx, self.infra, self.nets = ctx, infra, networks
        self.rng: random.Random = ctx.rng("vms")
        self.clock = ctx.clock("vms")
        self._states = Weighted([s for s, _ in VM_STATES], [w for _, w in VM_STATES])
        self._nic = self._volume = self._vip = self._pf = self._misc = 0
        by_base = {ip_text(s.base): s for subnets in networks.private.values() for s in subnets}
        # Private networks 0 and 1 (see zquery.demo.network) hold the planted addresses.
        self._planted_l3 = (by_base["192.168.0.0"],
                            by_base.get("172.20.0.0", by_base["192.168.0.0"]))

    def run(self, count: int, progress: Callable[[int], None] | None = None) -> None:
        for i in range(self.ctx.sizes.virtual_routers):
            self.vm(i, router=True)
        for i in range(count):
            self.vm(i)
            if progress is not None and (i + 1) % 5000 == 0:
                progress(i + 1)
        if progress is not None:
            progress(count)

    def _private(self, zone: str) -> tuple[Subnet, ...]:
        return self.nets.private.get(zone, ())

    def vm(self, i: int, router: bool = False) -> None:
        rng, ctx = self.rng, self.ctx
        kind = "router" if router else "vm"
        uuid = ctx.ids.uuid(f"VmInstanceVO:{kind}", i)
        host = self._host(i, router)
        zone = host.cluster.zone
        state = "Running" if router or i < 3 else self._states.pick(rng)
        created, changed = self.clock.pair()
        account = ctx.owners.pick() if not router else self.infra.accounts[0].uuid
        image = self.infra.images[rng.randrange(len(self.infra.images))]
        offering = self.infra.offerings[rng.randrange(len(self.infra.offerings))]
        name = ("vm1", "web-vm")[i] if not router and i < 2 else (
            f"vrouter-{i}" if router else f"{styled(rng, _PREFIXES[i % len(_PREFIXES)])}-{i:06d}")
        root = ctx.ids.uuid("VolumeVO", self._volume)
        nics = self._nics(i, uuid, zone, router, account, created)
        row = {
            "uuid": uuid, "name": name, "zoneUuid": zone, "state": state,
            "description": rng.choice(_DESCRIPTIONS) if rng.random() < 0.4 else None,
            "clusterUuid": None if state == "Created" and i % 2 else host.cluster.uuid,
            "hostUuid": host.uuid if state in _ON_HOST else None,
            "lastHostUuid": host.uuid if state != "Created" else None,
            "imageUuid": image.uuid, "instanceOfferingUuid": offering.uuid,
            "cpuNum": offering.cpu if rng.random() < 0.95 else rng.randint(1, 64),
            "cpuSpeed": 0 if rng.random() < 0.8 else 2400, "memorySize": offering.memory,
            "reservedMemorySize": 0, "rootVolumeUuid": root,
            "defaultL3NetworkUuid": nics[0] if nics else None,
            "hypervisorType": host.cluster.hypervisor, "platform": image.kind.platform,
            "guestOsType": image.kind.guest_os, "architecture": image.kind.architecture,
            "allocatorStrategy": "LeastVmPreferredHostAllocatorStrategy" if i % 3 else None,
            "type": "ApplianceVm" if router else "UserVm", "createDate": created,
            "lastOpDate": changed}
        if router:
            public = self.nets.public[zone].uuid
            row.update({"applianceVmType": "VirtualRouter" if i % 3 == 1 else "vrouter",
                        "managementNetworkUuid": public, "publicNetworkUuid": public,
                        "defaultRouteL3NetworkUuid": public, "agentPort": 7272,
                        "haStatus": "NoHa", "status": "Connected"})
        ctx.sink.emit("VmInstanceVO", row)
        ctx.owners.own("VmInstanceVO", uuid, account, created)
        self._volumes(uuid, name, host, image.uuid, image.size, account, created)
        if not router:
            self._extras(i, uuid, name, account, created)

    def _host(self, i: int, router: bool) -> Host:
        hosts = self.infra.hosts
        if not router and i < 3:
            return hosts[min(i // 2, len(hosts) - 1)]  # vm1, web-vm on host 0; VM 2 on host 1
        return hosts[self.rng.randrange(len(hosts))]

    def _nics(self, i: int, vm: str, zone: str, router: bool, account: str,
              created: datetime) -> list[str]:
        """Write the NICs; return the L3 network uuid of each, in device order."""
        rng = self.rng
        planted = _PLANTED_NICS.get(i, ()) if not router else ()
        count = len(planted) if planted else (
            2 if router else _NIC_COUNTS.pick(rng))
        subnets = self._private(zone)
        l3s = []
        for device in range(count):
            if planted:
                subnet = self._planted_l3[planted[device][0]]
                number = ip_number(planted[device][1])
            else:
                subnet = self.nets.public[zone] if router and device == 0 else (
                    subnets[rng.randrange(len(subnets))] if subnets else self.nets.public[zone])
                taken = subnet.take()
                if taken is None:
                    continue
                number = taken
            self._nic_row(i, vm, device, subnet, number, account, created, router)
            l3s.append(subnet.uuid)
        return l3s

    def _nic_row(self, i: int, vm: str, device: int, subnet: Subnet, number: int, account: str,
                 created: datetime, router: bool) -> None:
        ctx, rng = self.ctx, self.rng
        nic, used = ctx.ids.uuid("VmNicVO", self._nic), ctx.ids.uuid("UsedIpVO", self._nic)
        ip = ip_text(number)
        ctx.sink.emit("VmNicVO", {
            "uuid": nic, "vmInstanceUuid": vm, "l3NetworkUuid": subnet.uuid, "ip": ip,
            "mac": mac_text(self._nic), "netmask": subnet.netmask, "gateway": subnet.gateway,
            "deviceId": device, "internalName": f"vnic{i}.{device}", "hypervisorType": "KVM",
            "ipVersion": 4, "driverType": "virtio" if rng.random() < 0.9 else "e1000",
            "type": "VNIC", "state": "enable", "usedIpUuid": used,
            "createDate": created, "lastOpDate": created})
        ctx.owners.own("VmNicVO", nic, account, created)
        ctx.sink.emit("UsedIpVO", {
            "uuid": used, "ipRangeUuid": subnet.range_uuid, "l3NetworkUuid": subnet.uuid,
            "ip": ip, "ipInLong": number, "gateway": subnet.gateway, "netmask": subnet.netmask,
            "ipVersion": 4, "usedFor": "Vm", "vmNicUuid": nic, "createDate": created,
            "lastOpDate": created})
        self._nic += 1
        if router:
            return
        self._memberships(nic, vm, account, created, device == 0 and i in (1,), subnet, ip)

    def _memberships(self, nic: str, vm: str, account: str, created: datetime, force_eip: bool,
                     subnet: Subnet, ip: str) -> None:
        ctx, rng = self.ctx, self.rng
        groups = self.nets.security_groups
        if groups and rng.random() < 0.4:
            for k, group in enumerate(rng.sample(groups, min(len(groups), 1 + rng.randrange(2)))):
                ctx.sink.emit("VmNicSecurityGroupRefVO", {
                    "uuid": ctx.ids.uuid("VmNicSecurityGroupRefVO", self._misc), "priority": k + 1,
                    "vmNicUuid": nic, "securityGroupUuid": group, "vmInstanceUuid": vm,
                    "createDate": created, "lastOpDate": created})
                self._misc += 1
        listeners = self.nets.listeners
        if listeners and rng.random() < 0.03:
            listener = listeners[rng.randrange(len(listeners))]
            ctx.sink.emit("LoadBalancerListenerVmNicRefVO", {
                "listenerUuid": listener.uuid, "vmNicUuid": nic, "status": "Active",
                "createDate": created, "lastOpDate": created})
            ctx.sink.emit("LoadBalancerServerGroupVmNicRefVO", {
                "serverGroupUuid": listener.server_group, "vmNicUuid": nic, "weight": 100,
                "ipVersion": 4, "status": "Active", "createDate": created,
                "lastOpDate": created})
        roll = rng.random()
        public = self.nets.public[subnet.zone]
        if force_eip or roll < 0.10:
            vip = make_vip(ctx, public, self._vip, f"vip-eip-{self._vip}", "Eip", account,
                           created)
            if vip is not None:
                eip = ctx.ids.uuid("EipVO", self._vip)
                ctx.sink.emit("EipVO", {
                    "uuid": eip, "name": f"eip-{self._vip}", "vipUuid": vip[0], "vmNicUuid": nic,
                    "vipIp": vip[1], "guestIp": ip, "state": "Enabled" if roll < 0.09 else
                    "Disabled", "description": None, "createDate": created,
                    "lastOpDate": created})
                ctx.owners.own("EipVO", eip, account, created)
            self._vip += 1
        elif roll < 0.12:
            vip = make_vip(ctx, public, self._vip, f"vip-pf-{self._vip}", "PortForwarding",
                           account, created)
            self._vip += 1
            if vip is not None:
                port = rng.choice((22, 80, 443, 3389, 8080))
                pf = ctx.ids.uuid("PortForwardingRuleVO", self._pf)
                ctx.sink.emit("PortForwardingRuleVO", {
                    "uuid": pf, "name": "pf1" if self._pf == 0 else f"pf-{self._pf}",
                    "vipUuid": vip[0], "vmNicUuid": nic, "vipIp": vip[1], "guestIp": ip,
                    "vipPortStart": port, "vipPortEnd": port, "privatePortStart": port,
                    "privatePortEnd": port, "protocolType": rng.choice(("TCP", "UDP")),
                    "allowedCidr": "0.0.0.0/0", "state": "Enabled" if self._pf == 0
                    or rng.random() < 0.8 else "Disabled", "description": None,
                    "createDate": created, "lastOpDate": created})
                ctx.owners.own("PortForwardingRuleVO", pf, account, created)
                self._pf += 1

    def _volumes(self, vm: str, name: str, host: Host, image: str, image_size: int,
                 account: str, created: datetime) -> None:
        rng = self.rng
        disks = self.infra.disk_offerings
        count = _DATA_VOLUMES.pick(rng)
        for device in range(count + 1):
            offering = disks[rng.randrange(len(disks))] if device else None
            size = offering.size if offering else max(image_size, 40 * GiB)
            self._volume_row(vm, f"ROOT-for-{name}" if not device else f"DATA-{device}-for-{name}",
                             host, None if device else image, offering.uuid if offering else None,
                             size, device, account, created)
        if rng.random() < 0.03:  # a detached data volume that remembers its last VM
            offering = disks[rng.randrange(len(disks))]
            self._volume_row(None, f"detached-{name}", host, None, offering.uuid, offering.size,
                             None, account, created, last_vm=vm)

    def _volume_row(self, vm: str | None, name: str, host: Host, image: str | None,
                    offering: str | None, size: int, device: int | None, account: str,
                    created: datetime, last_vm: str | None = None) -> None:
        ctx, rng = self.ctx, self.rng
        uuid = ctx.ids.uuid("VolumeVO", self._volume)
        self._volume += 1
        attached = created + timedelta(minutes=rng.randrange(1, 600))
        ctx.sink.emit("VolumeVO", {
            "uuid": uuid, "name": name, "vmInstanceUuid": vm, "lastVmInstanceUuid": last_vm,
            "primaryStorageUuid": host.cluster.primary_storage, "diskOfferingUuid": offering,
            "rootImageUuid": image, "installPath": f"/zstack_ps/{uuid}.qcow2",
            "type": "Root" if device == 0 else "Data", "format": "qcow2", "size": size,
            "actualSize": int(size * rng.uniform(0.01, 0.9)), "deviceId": device,
            "state": "Enabled" if rng.random() < 0.97 else "Disabled",
            "status": "Ready",
            "isShareable": device is not None and device > 0 and rng.random() < 0.02,
            "description": None, "lastAttachDate": attached if vm else None,
            "lastDetachDate": None if vm else attached, "createDate": created,
            "lastOpDate": attached})
        ctx.owners.own("VolumeVO", uuid, account, created)
        if device == 0 and rng.random() < 0.03:
            self._snapshots(uuid, host, size, account, created)

    def _snapshots(self, volume: str, host: Host, size: int, account: str,
                   created: datetime) -> None:
        ctx, rng = self.ctx, self.rng
        tree = ctx.ids.uuid("VolumeSnapshotTreeVO", self._misc)
        ctx.sink.emit("VolumeSnapshotTreeVO", {
            "uuid": tree, "volumeUuid": volume, "current": True, "status": "Completed",
            "createDate": created, "lastOpDate": created})
        ctx.owners.own("VolumeSnapshotTreeVO", tree, account, created)
        parent = None
        count = 1 + rng.randrange(3)
        for k in range(count):
            uuid = ctx.ids.uuid("VolumeSnapshotVO", self._misc)
            self._misc += 1
            when = created + timedelta(days=k + 1)
            ctx.sink.emit("VolumeSnapshotVO", {
                "uuid": uuid, "name": f"snapshot-{k}", "volumeUuid": volume, "treeUuid": tree,
                "parentUuid": parent, "primaryStorageUuid": host.cluster.primary_storage,
                "primaryStorageInstallPath": f"/zstack_ps/snapshots/{uuid}.qcow2",
                "type": "Hypervisor", "volumeType": "Root", "format": "qcow2",
                "latest": k == count - 1, "size": int(size * rng.uniform(0.01, 0.2)),
                "state": "Enabled", "status": "Ready", "distance": k, "description": None,
                "createDate": when, "lastOpDate": when})
            ctx.owners.own("VolumeSnapshotVO", uuid, account, when)
            parent = uuid

    def _extras(self, i: int, vm: str, name: str, account: str, created: datetime) -> None:
        ctx, rng = self.ctx, self.rng
        if rng.random() < 0.15:
            iso = next((im.uuid for im in self.infra.images if im.media_type == "ISO"), None)
            cdrom = ctx.ids.uuid("VmCdRomVO", i)
            ctx.sink.emit("VmCdRomVO", {
                "uuid": cdrom, "vmInstanceUuid": vm, "deviceId": 0, "name": "cd-1",
                "isoUuid": iso if rng.random() < 0.5 else None,
                "isoInstallPath": None, "description": None, "createDate": created,
                "lastOpDate": created})
            ctx.owners.own("VmCdRomVO", cdrom, account, created)
        if rng.random() < 0.35:
            for tag in rng.sample(_SYSTEM_TAGS, 1 + rng.randrange(2)):
                ctx.owners.system_tag("VmInstanceVO", vm, tag, created)
            ctx.owners.system_tag("VmInstanceVO", vm, f"hostname::{name.lower()}", created)
        patterns = self.nets.tag_patterns
        if patterns and rng.random() < 0.12:
            pattern, tag = patterns[rng.randrange(len(patterns))]
            ctx.owners.user_tag("VmInstanceVO", vm, tag, created, pattern)

"""Networks: L2/L3 networks with IP ranges, addresses, VIPs, security groups, load balancers.

Private L3 network 0 is ``192.168.0.0/16`` and network 1 is ``172.20.0.0/16`` (the
manual's example addresses live there); the others are ``/22`` blocks of
``10.0.0.0/8``. Every zone has one public network (``100.64+z.0.0/16``) for VIPs.

>>> subnet = Subnet("u", "z", "r", ip_number("10.0.0.0"), 22)
>>> ip_text(subnet.take() or 0), subnet.netmask, subnet.gateway
('10.0.0.2', '255.255.252.0', '10.0.0.1')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zquery.demo.context import Ctx
from zquery.demo.infra import Infra
from zquery.demo.values import ip_number, ip_text, styled

__all__ = ["Listener", "Networks", "Subnet", "build_networks", "make_vip"]

#: Addresses the manual's examples ask for, handed out on purpose (never sequentially).
PLANTED = frozenset({"192.168.10.100", "192.168.20.100", "192.168.0.100", "172.20.100.100"})


class Subnet:
    """An L3 network's one IP range and its address allocator.

    Mutable on purpose: addresses are handed out in order while the VMs are generated.
    """

    def __init__(self, uuid: str, zone: str, range_uuid: str, base: int, prefix: int,
                 first_offset: int = 2) -> None:
        self.uuid, self.zone, self.range_uuid = uuid, zone, range_uuid
        self.base, self.prefix = base, prefix
        self.size = 1 << (32 - prefix)
        self.gateway = ip_text(base + 1)
        self.netmask = ip_text((0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF)
        self._next = first_offset

    def take(self) -> int | None:
        """The next free address as an integer, or None when the range is used up."""
        while self._next < self.size - 1:
            number = self.base + self._next
            self._next += 1
            if ip_text(number) not in PLANTED:
                return number
        return None


@dataclass(frozen=True)
class Listener:
    uuid: str
    server_group: str


@dataclass(frozen=True)
class Networks:
    private: dict[str, tuple[Subnet, ...]]
    public: dict[str, Subnet]
    security_groups: tuple[str, ...]
    listeners: tuple[Listener, ...]
    tag_patterns: tuple[tuple[str, str], ...]


def build_networks(ctx: Ctx, infra: Infra) -> Networks:
    l2_by_zone = _l2_networks(ctx, infra)
    private: dict[str, list[Subnet]] = {zone: [] for zone in infra.zones}
    for k in range(ctx.sizes.l3_networks):
        zone = infra.zones[k % len(infra.zones)]
        if k == 0:
            base, prefix, first = ip_number("192.168.0.0"), 16, 258
        elif k == 1:
            base, prefix, first = ip_number("172.20.0.0"), 16, 258
        else:
            base, prefix, first = ip_number("10.0.0.0") + (k - 2) * 1024, 22, 2
        subnet = Subnet(ctx.ids.uuid("L3NetworkVO", k), zone, ctx.ids.uuid("IpRangeVO", k),
                        base, prefix, first)
        _l3(ctx, subnet, k, l2_by_zone[zone][k % len(l2_by_zone[zone])], "Private")
        private[zone].append(subnet)
    public = {}
    for z, zone in enumerate(infra.zones):
        k = ctx.sizes.l3_networks + z
        subnet = Subnet(ctx.ids.uuid("L3NetworkVO", k), zone, ctx.ids.uuid("IpRangeVO", k),
                        ip_number(f"100.{64 + z}.0.0"), 16)
        _l3(ctx, subnet, k, l2_by_zone[zone][0], "Public")
        public[zone] = subnet
    all_private = [s for subnets in private.values() for s in subnets]
    return Networks({z: tuple(s) for z, s in private.items()}, public,
                    _security_groups(ctx, all_private), _load_balancers(ctx, infra, public),
                    _tag_patterns(ctx))


def _l2_networks(ctx: Ctx, infra: Infra) -> dict[str, list[str]]:
    rng, clock = ctx.rng("l2"), ctx.clock("l2")
    kinds = ("L2NoVlanNetwork", "L2VlanNetwork", "L2VlanNetwork", "VxlanNetwork",
             "VxlanNetworkPool")
    by_zone: dict[str, list[str]] = {zone: [] for zone in infra.zones}
    for i in range(ctx.sizes.l2_networks):
        uuid = ctx.ids.uuid("L2NetworkVO", i)
        zone = infra.zones[i % len(infra.zones)]
        kind = kinds[i % len(kinds)]
        created, changed = clock.pair()
        ctx.sink.emit("L2NetworkVO", {
            "uuid": uuid, "zoneUuid": zone, "name": f"{styled(rng, 'l2')}-{kind.lower()}-{i}",
            "type": kind, "physicalInterface": rng.choice(("eth0", "eth1", "bond0")),
            "vSwitchType": "LinuxBridge" if rng.random() < 0.9 else "OvsDpdk",
            "virtualNetworkId": 0 if kind == "L2NoVlanNetwork" else 100 + i % 3900,
            "vlan": 100 + i % 3900 if kind == "L2VlanNetwork" else None,
            "isolated": False, "description": None, "createDate": created,
            "lastOpDate": changed})
        zone_clusters = [c for c in infra.clusters if c.zone == zone][:8]
        for cluster in zone_clusters:
            ctx.sink.emit("L2NetworkClusterRefVO", {
                "l2NetworkUuid": uuid, "clusterUuid": cluster.uuid,
                "l2ProviderType": "LinuxBridge", "createDate": created, "lastOpDate": changed})
        by_zone[zone].append(uuid)
    return by_zone


def _l3(ctx: Ctx, subnet: Subnet, k: int, l2: str, category: str) -> None:
    rng, clock = ctx.rng(f"l3:{k}"), ctx.clock(f"l3:{k}")
    created, changed = clock.pair()
    ctx.sink.emit("L3NetworkVO", {
        "uuid": subnet.uuid, "zoneUuid": subnet.zone, "l2NetworkUuid": l2,
        "name": f"{category.lower()}-{styled(rng, 'net')}-{k}",
        "description": None if rng.random() < 0.6 else f"{category} network {k}",
        "type": rng.choice(("L3BasicNetwork", "L3VpcNetwork")), "category": category,
        "state": "Enabled" if rng.random() < 0.95 else "Disabled", "system": False,
        "ipVersion": 4, "dnsDomain": None if rng.random() < 0.7 else "zstack.example",
        "enableIPAM": True, "isolated": False, "createDate": created, "lastOpDate": changed})
    ctx.owners.own("L3NetworkVO", subnet.uuid, ctx.owners.pick(), created)
    for dns in ("223.5.5.5", "8.8.8.8")[:1 + k % 2]:
        ctx.sink.emit("L3NetworkDnsVO", {"l3NetworkUuid": subnet.uuid, "dns": dns})
    last = subnet.base + subnet.size - 2
    ctx.sink.emit("IpRangeVO", {
        "uuid": subnet.range_uuid, "l3NetworkUuid": subnet.uuid, "name": f"range-{k}",
        "startIp": ip_text(subnet.base + 2), "endIp": ip_text(last),
        "netmask": subnet.netmask, "gateway": subnet.gateway,
        "networkCidr": f"{ip_text(subnet.base)}/{subnet.prefix}", "prefixLen": str(subnet.prefix),
        "ipVersion": 4, "ipRangeType": "Normal", "description": None,
        "createDate": created, "lastOpDate": changed})
    ctx.owners.own("IpRangeVO", subnet.range_uuid, ctx.owners.pick(), created)


def make_vip(ctx: Ctx, subnet: Subnet, index: int, name: str, use_for: str, account: str,
             when: datetime, number: int | None = None) -> tuple[str, str] | None:
    """A VIP (and the used IP under it) on *subnet*: (uuid, ip), or None when it is full."""
    number = number if number is not None else subnet.take()
    if number is None:
        return None
    uuid, used = ctx.ids.uuid("VipVO", index), ctx.ids.uuid("UsedIpVO:vip", index)
    ip = ip_text(number)
    ctx.sink.emit("UsedIpVO", {
        "uuid": used, "ipRangeUuid": subnet.range_uuid, "l3NetworkUuid": subnet.uuid,
        "ip": ip, "ipInLong": number, "gateway": subnet.gateway, "netmask": subnet.netmask,
        "ipVersion": 4, "usedFor": "Vip", "createDate": when, "lastOpDate": when})
    ctx.sink.emit("VipVO", {
        "uuid": uuid, "name": name, "ip": ip, "l3NetworkUuid": subnet.uuid,
        "gateway": subnet.gateway, "netmask": subnet.netmask, "prefixLen": str(subnet.prefix),
        "serviceProvider": "vrouter" if index % 3 else "Flat", "state": "Enabled",
        "useFor": use_for, "system": False, "usedIpUuid": used, "description": None,
        "createDate": when, "lastOpDate": when})
    ctx.owners.own("VipVO", uuid, account, when)
    return uuid, ip


def _security_groups(ctx: Ctx, subnets: list[Subnet]) -> tuple[str, ...]:
    rng, clock = ctx.rng("sg"), ctx.clock("sg")
    purposes = ("web", "db", "ssh", "monitoring", "k8s", "default")
    out = []
    serial = 0
    for i in range(ctx.sizes.security_groups):
        uuid = ctx.ids.uuid("SecurityGroupVO", i)
        created, changed = clock.pair()
        name = "web" if i == 0 else f"{styled(rng, purposes[i % len(purposes)])}-sg-{i}"
        ctx.sink.emit("SecurityGroupVO", {
            "uuid": uuid, "name": name, "description": None if i % 3 else "allow web traffic",
            "state": "Enabled" if i == 0 or rng.random() < 0.85 else "Disabled",
            "ipVersion": 4, "createDate": created, "lastOpDate": changed})
        ctx.owners.own("SecurityGroupVO", uuid, ctx.owners.pick(), created)
        for subnet in rng.sample(subnets, min(len(subnets), 1 + rng.randrange(2))):
            ctx.sink.emit("SecurityGroupL3NetworkRefVO", {
                "uuid": ctx.ids.uuid("SecurityGroupL3NetworkRefVO", serial),
                "securityGroupUuid": uuid, "l3NetworkUuid": subnet.uuid,
                "createDate": created, "lastOpDate": changed})
            serial += 1
        for r in range(2 + rng.randrange(4)):
            port = 22 if i == 0 and r == 0 else rng.choice((22, 80, 443, 3306, 5432, 8080, 0))
            protocol = "ALL" if port == 0 else rng.choice(("TCP", "TCP", "UDP"))
            ctx.sink.emit("SecurityGroupRuleVO", {
                "uuid": ctx.ids.uuid("SecurityGroupRuleVO", serial), "securityGroupUuid": uuid,
                "type": "Ingress" if r % 3 else "Egress", "protocol": protocol,
                "startPort": port if port else -1, "endPort": port if port else -1,
                "dstPortRange": str(port) if port else None,
                "allowedCidr": rng.choice(("0.0.0.0/0", "10.0.0.0/8", "192.168.0.0/16")),
                "srcIpRange": None, "dstIpRange": None, "priority": r + 1, "ipVersion": 4,
                "action": "ACCEPT" if rng.random() < 0.9 else "DROP",
                "state": "Enabled" if (i == 0 and r == 0) or rng.random() < 0.9 else "Disabled",
                "remoteSecurityGroupUuid": None, "description": None,
                "createDate": created, "lastOpDate": changed})
            ctx.owners.own("SecurityGroupRuleVO",
                           ctx.ids.uuid("SecurityGroupRuleVO", serial), ctx.owners.pick(),
                           created)
            serial += 1
        out.append(uuid)
    return tuple(out)


def _load_balancers(ctx: Ctx, infra: Infra, public: dict[str, Subnet]) -> tuple[Listener, ...]:
    rng, clock = ctx.rng("lb"), ctx.clock("lb")
    out = []
    serial = 0
    for i in range(ctx.sizes.load_balancers):
        zone = infra.zones[i % len(infra.zones)]
        created, changed = clock.pair()
        account = ctx.owners.pick()
        vip = make_vip(ctx, public[zone], 1_000_000_000 + i, f"vip-lb-{i}", "LoadBalancer",
                       account, created)
        if vip is None:
            continue
        uuid, group = ctx.ids.uuid("LoadBalancerVO", i), ctx.ids.uuid("LBServerGroup", i)
        ctx.sink.emit("LoadBalancerVO", {
            "uuid": uuid, "name": f"{styled(rng, 'lb')}-{i}", "vipUuid": vip[0],
            "type": "Shared", "state": "Enabled" if rng.random() < 0.9 else "Disabled",
            "serverGroupUuid": group, "description": None, "createDate": created,
            "lastOpDate": changed})
        ctx.owners.own("LoadBalancerVO", uuid, account, created)
        ctx.sink.emit("LoadBalancerServerGroupVO", {
            "uuid": group, "name": f"default-group-{i}", "loadBalancerUuid": uuid,
            "ipVersion": 4, "description": None, "createDate": created, "lastOpDate": changed})
        ctx.owners.own("LoadBalancerServerGroupVO", group, account, created)
        # The first two balancers differ on purpose: web (80, 443) and database (3306).
        ports = ((80, 443), (3306,))[i] if i < 2 else rng.sample((80, 443, 8080, 3306, 53),
                                                                  1 + rng.randrange(3))
        for port in ports:
            listener = ctx.ids.uuid("LoadBalancerListenerVO", serial)
            serial += 1
            protocol = {80: "http", 443: "https", 53: "udp"}.get(port, "tcp")
            ctx.sink.emit("LoadBalancerListenerVO", {
                "uuid": listener, "loadBalancerUuid": uuid, "name": f"{protocol}-{port}",
                "protocol": protocol, "loadBalancerPort": port, "instancePort": port,
                "serverGroupUuid": group, "securityPolicyType": None, "description": None,
                "createDate": created, "lastOpDate": changed})
            ctx.owners.own("LoadBalancerListenerVO", listener, account, created)
            out.append(Listener(listener, group))
    return tuple(out)


def _tag_patterns(ctx: Ctx) -> tuple[tuple[str, str], ...]:
    clock = ctx.clock("tag-patterns")
    out = []
    for i, (name, color) in enumerate((("prod", "#FF0000"), ("dev", "#00FF00"),
                                       ("web", "#0000FF"), ("Team::É", "#AAAAAA"))):
        uuid = ctx.ids.uuid("TagPatternVO", i)
        created, changed = clock.pair()
        ctx.sink.emit("TagPatternVO", {
            "uuid": uuid, "name": name, "value": name, "color": color, "type": "simple",
            "description": None, "createDate": created, "lastOpDate": changed})
        ctx.owners.own("TagPatternVO", uuid, ctx.owners.pick(), created)
        out.append((uuid, name))
    return tuple(out)

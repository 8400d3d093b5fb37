"""How many of each thing the demo estate has, derived from one number: the VM count.

The ratios follow a typical private cloud: ~30 VMs per host, 16 hosts per cluster,
~250 VMs per private L3 network (so one /22 range never runs out), a VIP and EIP for a
tenth of the VMs, a load balancer per thousand.

>>> small = Sizes.for_scale(100)
>>> small.vms, small.zones, small.clusters >= 2, small.l3_networks >= 4
(100, 2, True, True)
>>> big = Sizes.for_scale(1_000_000)
>>> big.hosts, big.l3_networks, big.zones
(33333, 4000, 8)
"""

from __future__ import annotations

from dataclasses import dataclass

from zquery.errors import BadParameter

__all__ = ["MAX_SCALE", "MIN_SCALE", "Sizes"]

MIN_SCALE = 1
#: One /22 per private L3 network under 10.0.0.0/8 leaves room for 16,384 networks.
MAX_SCALE = 4_000_000


@dataclass(frozen=True)
class Sizes:
    """Row counts of the hand-modelled part of the estate."""

    vms: int
    zones: int
    clusters: int
    hosts: int
    l2_networks: int
    l3_networks: int
    public_l3_networks: int
    images: int
    instance_offerings: int
    disk_offerings: int
    accounts: int
    security_groups: int
    load_balancers: int
    virtual_routers: int
    generic_rows: int

    @classmethod
    def for_scale(cls, vms: int) -> Sizes:
        if not MIN_SCALE <= vms <= MAX_SCALE:
            raise BadParameter(f"scale must be between {MIN_SCALE} and {MAX_SCALE:,} VMs, got "
                               f"{vms:,}", param="scale", value=str(vms),
                               hint="e.g. --scale 10000")
        zones = min(8, 2 + vms // 100_000)
        clusters = max(2 * zones, vms // 500)
        hosts = max(2 * clusters, vms // 30)
        l3 = max(4, -(-vms // 250))
        return cls(
            vms=vms, zones=zones, clusters=clusters, hosts=hosts,
            l2_networks=max(2 * zones, l3 // 4), l3_networks=l3,
            public_l3_networks=zones, images=min(200, 12 + vms // 5000),
            instance_offerings=min(60, 10 + vms // 20_000), disk_offerings=8,
            accounts=min(200, 4 + vms // 10_000), security_groups=max(3, vms // 400),
            load_balancers=max(2, vms // 1000), virtual_routers=max(2, l3 // 8),
            generic_rows=min(60, 6 + vms // 20_000),
        )

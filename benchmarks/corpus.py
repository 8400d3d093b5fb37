"""The named corpus: QueryVmInstance requests, each with its hand-built and peer equivalents.

An :class:`Entry` turns one :class:`~benchmarks.values.Values` into the zquery request
(``(name, value)`` pairs, the decoded form a web framework hands over), the floor
(:mod:`benchmarks.handwritten`) and the reference statements (:mod:`benchmarks.reference`)
and, where the peer can say it, the
same filter in RSQL (pyrsql) and OData (odata-query). Peers only filter: entries about
result shape (sort, paging, grouping, counts) have no peer text.

>>> entry = BY_NAME["one_hop"]
>>> entry.request(Values.variant(3))
[('q', 'vmNics.ip=10.0.0.3')]
>>> entry.rsql(Values.variant(3)), entry.odata(Values.variant(3))
('vmNics.ip=="10.0.0.3"', "vmNics/any(n: n/ip eq '10.0.0.3')")
>>> shown(BY_NAME["in_list"].request(Values.variant(0)))[:40]
'q=name?=vm-c0-0,vm-c0-1,vm-c0-2,… (1000 '
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from benchmarks import handwritten as hw
from benchmarks import reference as ref
from benchmarks.values import Values

__all__ = ["BY_NAME", "ENTRIES", "RESOURCE", "Builder", "Entry", "Pairs", "shown"]

#: Every corpus request queries this resource (``GET zstack/v1/vm-instances``).
RESOURCE = "VmInstance"

Pairs = list[tuple[str, str]]
Builder = Callable[[hw.Tables, Values, str], hw.Statements]


@dataclass(frozen=True, slots=True)
class Entry:
    """One corpus request. ``total_order``: its page has a total order (compare it as a
    list); ``uses_list``: it reads ``Values.names`` (the others get variants without it)."""

    name: str
    title: str
    request: Callable[[Values], Pairs]
    floor: Builder
    reference: Builder | None
    rsql: Callable[[Values], str] | None = None
    odata: Callable[[Values], str] | None = None
    total_order: bool = False
    uses_list: bool = False


def _q(*conditions: str) -> Pairs:
    return [("q", condition) for condition in conditions]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _six(v: Values) -> Pairs:
    return _q(f"hypervisorType?={v.hypervisors[0]},{v.hypervisors[1]}",
              f"name~={v.name_prefix}%", f"cpuNum>{v.cpu}", f"memorySize>{v.memory}",
              f"createDate>{_when(v.since)}", f"platform!={v.platform}")


def _six_rsql(v: Values) -> str:
    return (f'hypervisorType=in=("{v.hypervisors[0]}","{v.hypervisors[1]}");'
            f'name=="^{v.name_prefix}*";cpuNum>{v.cpu};memorySize>{v.memory};'
            f'createDate>"{v.since.isoformat()}";platform!="{v.platform}"')


def _six_odata(v: Values) -> str:
    return (f"hypervisorType in ('{v.hypervisors[0]}', '{v.hypervisors[1]}') and "
            f"startswith(tolower(name), '{v.name_prefix.lower()}') and cpuNum gt {v.cpu} and "
            f"memorySize gt {v.memory} and createDate gt {v.since.isoformat()} and "
            f"platform ne '{v.platform}'")


_FIFTY_PATHS = {"nic_ip": "vmNics.ip!=", "host_ip": "host.managementIp!=", "name": "name!=",
                "cpu": "cpuNum<", "memory": "memorySize<"}
_FIFTY_RSQL = {"nic_ip": 'vmNics.ip!="{}"', "host_ip": 'host.managementIp!="{}"',
               "name": 'name!="{}"', "cpu": "cpuNum<{}", "memory": "memorySize<{}"}
_FIFTY_ODATA = {"nic_ip": "vmNics/any(n: n/ip ne '{}')", "host_ip": "host/managementIp ne '{}'",
                "name": "name ne '{}'", "cpu": "cpuNum lt {}", "memory": "memorySize lt {}"}


def _fifty(v: Values) -> Pairs:
    return _q(*(f"{_FIFTY_PATHS[kind]}{value}" for kind, value in v.fifty))


def _rsql_list(values: Sequence[str]) -> str:
    return ",".join(f'"{value}"' for value in values)


def _odata_list(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


ENTRIES: tuple[Entry, ...] = (
    Entry("one_condition", "1 condition on the root",
          lambda v: _q(f"name={v.vm_name}"), hw.floor_one_condition,
          ref.reference_one_condition,
          lambda v: f'name=="{v.vm_name}"', lambda v: f"name eq '{v.vm_name}'"),
    Entry("six_conditions", "6 conditions: ?= ~= > >date !=",
          _six, hw.floor_six_conditions, ref.reference_six_conditions, _six_rsql, _six_odata),
    Entry("one_hop", "to-many hop: vmNics.ip=",
          lambda v: _q(f"vmNics.ip={v.ip}"), hw.floor_one_hop, ref.reference_one_hop,
          lambda v: f'vmNics.ip=="{v.ip}"', lambda v: f"vmNics/any(n: n/ip eq '{v.ip}')"),
    Entry("two_hops", "two hops: vmNics.l3Network.name=",
          lambda v: _q(f"vmNics.l3Network.name={v.l3_name}"), hw.floor_two_hops,
          ref.reference_two_hops, lambda v: f'vmNics.l3Network.name=="{v.l3_name}"',
          lambda v: f"vmNics/any(n: n/l3Network/name eq '{v.l3_name}')"),
    Entry("two_hops_eip", "two to-many hops: vmNics.eip.vipIp=",
          lambda v: _q(f"vmNics.eip.vipIp={v.vip_ip}"), hw.floor_two_hops_eip,
          ref.reference_two_hops_eip, lambda v: f'vmNics.eip.vipIp=="{v.vip_ip}"',
          lambda v: f"vmNics/any(n: n/eip/any(e: e/vipIp eq '{v.vip_ip}'))"),
    Entry("four_hops", "four hops (link table): vmNics.l3Network.l2Network.cluster.name=",
          lambda v: _q(f"vmNics.l3Network.l2Network.cluster.name={v.cluster_name}"),
          hw.floor_four_hops, ref.reference_four_hops,
          lambda v: f'vmNics.l3Network.l2Network.cluster.name=="{v.cluster_name}"',
          lambda v: (f"vmNics/any(n: n/l3Network/l2Network/cluster/any(c: c/name eq "
                     f"'{v.cluster_name}'))")),
    Entry("to_one", "to-one hop: host.managementIp=",
          lambda v: _q(f"host.managementIp={v.host_ip}"), hw.floor_to_one,
          ref.reference_to_one, lambda v: f'host.managementIp=="{v.host_ip}"',
          lambda v: f"host/managementIp eq '{v.host_ip}'"),
    Entry("cycle", "simplified cycle: vmNics.vmInstance.name=",
          lambda v: _q(f"vmNics.vmInstance.name={v.vm_name}"), hw.floor_cycle,
          ref.reference_cycle, lambda v: f'vmNics.vmInstance.name=="{v.vm_name}"',
          lambda v: f"vmNics/any(n: n/vmInstance/name eq '{v.vm_name}')"),
    Entry("system_tag", "tag: __systemTag__=",
          lambda v: _q(f"__systemTag__={v.tag}"), hw.floor_system_tag, ref.reference_system_tag,
          lambda v: f'systemTags.tag=="{v.tag}"',
          lambda v: f"systemTags/any(s: s/tag eq '{v.tag}')"),
    Entry("sort_fields_paging", "sort + fields + limit/start",
          lambda v: [*_q(f"createDate>{_when(v.since)}"), ("sort", "-createDate"),
                     ("fields", "uuid,name,state,createDate"), ("limit", "20"),
                     ("start", str(v.page_start))],
          hw.floor_sort_fields_paging, ref.reference_sort_fields_paging, total_order=True),
    Entry("group_by", "groupBy=state, sort=-count",
          lambda v: [*_q(f"createDate>{_when(v.since)}"), ("groupBy", "state"),
                     ("sort", "-count")],
          hw.floor_group_by, None),
    Entry("in_list", "?= with 1,000 elements",
          lambda v: _q("name?=" + ",".join(v.names)), hw.floor_in_list, ref.reference_in_list,
          lambda v: f"name=in=({_rsql_list(v.names)})",
          lambda v: f"name in ({_odata_list(v.names)})", uses_list=True),
    Entry("fifty_conditions", "50 conditions (10 across vmNics, 10 across host)",
          _fifty, hw.floor_fifty, ref.reference_fifty,
          lambda v: ";".join(_FIFTY_RSQL[kind].format(value) for kind, value in v.fifty),
          lambda v: " and ".join(_FIFTY_ODATA[kind].format(value) for kind, value in v.fifty)),
    Entry("count", "count=true over two hops",
          lambda v: [*_q(f"vmNics.l3Network.name={v.l3_name}"), ("count", "true")],
          hw.floor_count, ref.reference_count),
    Entry("reply_with_count", "replyWithCount=true, limit=100",
          lambda v: [*_q(f"hypervisorType={v.hypervisor}", f"cpuNum>={v.cpu}"),
                     ("replyWithCount", "true"), ("limit", "100")],
          hw.floor_reply_with_count, ref.reference_reply_with_count, total_order=True),
    Entry("deep_start", "sort=createDate, limit=100, deep start",
          lambda v: [*_q(f"hypervisorType={v.hypervisor}"), ("sort", "createDate"),
                     ("limit", "100"), ("start", str(v.deep_start))],
          hw.floor_deep_start, ref.reference_deep_start, total_order=True),
)

BY_NAME = {entry.name: entry for entry in ENTRIES}


def shown(pairs: Pairs, longest: int = 90) -> str:
    """A request as a readable query string, long lists cut (``… (1000 elements)``)."""
    parts = []
    for name, value in pairs:
        if value.count(",") > 5:
            items = value.split(",")
            value = ",".join(items[:3]) + f",… ({len(items)} elements)"
        parts.append(f"{name}={value}")
    if len(parts) > 8:
        parts = [*parts[:3], f"… ({len(parts)} parameters)"]
    text = "&".join(parts)
    return text if len(text) <= longest else text[:longest - 1] + "…"

"""The reference ZStack server's statements for the corpus: the shape to be no slower than.

The reference issues one nested ``IN (SELECT …)`` per hop and per condition, orders without
a primary-key tie-breaker (so its page order is never claimed total here), checks no tag
type (a defect the contract fixes; the bench data has no tag a wrong type would match)
and has no ``groupBy`` at all: it documents it but does not apply it.

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> from benchmarks.handwritten import hand_tables
>>> from benchmarks.values import Values
>>> built = reference_two_hops(hand_tables(GRAPH), Values.variant(7), "mysql")
>>> " ".join(str(built.rows).split()).count("IN (SELECT")
2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from benchmarks.handwritten import (
    Predicate,
    Statements,
    Tables,
    floor_in_list,
    floor_one_condition,
    kvm_cpu,
    page,
    rows,
    six_conditions,
    total,
)
from benchmarks.values import Values

__all__ = [
    "reference_count",
    "reference_cycle",
    "reference_deep_start",
    "reference_fifty",
    "reference_four_hops",
    "reference_in_list",
    "reference_one_condition",
    "reference_one_hop",
    "reference_reply_with_count",
    "reference_six_conditions",
    "reference_sort_fields_paging",
    "reference_system_tag",
    "reference_to_one",
    "reference_two_hops",
    "reference_two_hops_eip",
]

_VM_TYPE = "VmInstanceVO"


def _nested(column: ColumnElement[Any], hops: Sequence[tuple[FromClause, str, str]],
            test: Predicate) -> Predicate:
    """``column IN (SELECT h1.k1 FROM h1 WHERE h1.n1 IN (SELECT … WHERE test))``.

    *hops*: (table, column the outer side matches, column the next hop matches), outermost
    first; *test* applies to the last table.
    """
    table, key, _ = hops[-1]
    subquery = sa.select(table.c[key]).where(test)
    for outer, outer_key, next_key in reversed(hops[:-1]):
        subquery = sa.select(outer.c[outer_key]).where(outer.c[next_key].in_(subquery))
    return column.in_(subquery)


def _nic_ip_nested(t: Tables, test_of: Any) -> Predicate:
    nic = t["VmNicVO"]
    return _nested(t[_VM_TYPE].c.uuid, [(nic, "vmInstanceUuid", "")], test_of(nic))


def reference_one_condition(t: Tables, v: Values, dialect: str) -> Statements:
    return floor_one_condition(t, v, dialect)


def reference_six_conditions(t: Tables, v: Values, dialect: str) -> Statements:
    return rows(t, six_conditions(t, v, dialect))


def reference_one_hop(t: Tables, v: Values, dialect: str) -> Statements:
    return rows(t, [_nic_ip_nested(t, lambda nic: nic.c.ip == v.ip)])


def _l3_name_nested(t: Tables, name: str) -> Predicate:
    nic, l3 = t["VmNicVO"], t["L3NetworkVO"]
    return _nested(t[_VM_TYPE].c.uuid, [(nic, "vmInstanceUuid", "l3NetworkUuid"),
                                        (l3, "uuid", "")], l3.c.name == name)


def reference_two_hops(t: Tables, v: Values, dialect: str) -> Statements:
    return rows(t, [_l3_name_nested(t, v.l3_name)])


def reference_two_hops_eip(t: Tables, v: Values, dialect: str) -> Statements:
    nic, eip = t["VmNicVO"], t["EipVO"]
    return rows(t, [_nested(t[_VM_TYPE].c.uuid, [(nic, "vmInstanceUuid", "uuid"),
                                                  (eip, "vmNicUuid", "")],
                             eip.c.vipIp == v.vip_ip)])


def reference_four_hops(t: Tables, v: Values, dialect: str) -> Statements:
    nic, l3, l2 = t["VmNicVO"], t["L3NetworkVO"], t["L2NetworkVO"]
    link, cluster = t["L2NetworkClusterRefVO"], t["ClusterVO"]
    hops = [(nic, "vmInstanceUuid", "l3NetworkUuid"), (l3, "uuid", "l2NetworkUuid"),
            (l2, "uuid", "uuid"), (link, "l2NetworkUuid", "clusterUuid"), (cluster, "uuid", "")]
    return rows(t, [_nested(t[_VM_TYPE].c.uuid, hops, cluster.c.name == v.cluster_name)])


def reference_to_one(t: Tables, v: Values, dialect: str) -> Statements:
    host = t["HostVO"]
    return rows(t, [_nested(t[_VM_TYPE].c.hostUuid, [(host, "uuid", "")],
                             host.c.managementIp == v.host_ip)])


def reference_cycle(t: Tables, v: Values, dialect: str) -> Statements:
    nic, back = t["VmNicVO"], t[_VM_TYPE].alias("vm2")
    hops = [(nic, "vmInstanceUuid", "vmInstanceUuid"), (back, "uuid", "")]
    return rows(t, [_nested(t[_VM_TYPE].c.uuid, hops, back.c.name == v.vm_name)])


def reference_system_tag(t: Tables, v: Values, dialect: str) -> Statements:
    tag = t["SystemTagVO"]
    return rows(t, [_nested(t[_VM_TYPE].c.uuid, [(tag, "resourceUuid", "")],
                             tag.c.tag == v.tag)])


def reference_sort_fields_paging(t: Tables, v: Values, dialect: str) -> Statements:
    vm = t[_VM_TYPE]
    rows = page(t, [vm.c.createDate > v.since],
                 columns=[vm.c.uuid, vm.c.name, vm.c.state, vm.c.createDate],
                 order=[vm.c.createDate.desc()], limit=20, offset=v.page_start)
    return Statements(rows, None)  # no tie-breaker: the page order is not total


def reference_in_list(t: Tables, v: Values, dialect: str) -> Statements:
    return floor_in_list(t, v, dialect)


def reference_fifty(t: Tables, v: Values, dialect: str) -> Statements:
    vm, host = t[_VM_TYPE], t["HostVO"]
    where: list[Predicate] = []
    for kind, value in v.fifty:
        if kind == "nic_ip":
            where.append(_nic_ip_nested(t, lambda nic, ip=value: nic.c.ip != ip))
        elif kind == "host_ip":
            where.append(_nested(vm.c.hostUuid, [(host, "uuid", "")],
                                 host.c.managementIp != value))
        elif kind == "name":
            where.append(vm.c.name != value)
        elif kind == "cpu":
            where.append(vm.c.cpuNum < value)
        else:
            where.append(vm.c.memorySize < value)
    return rows(t, where)


def reference_count(t: Tables, v: Values, dialect: str) -> Statements:
    return Statements(None, total(t, [_l3_name_nested(t, v.l3_name)]))


def reference_reply_with_count(t: Tables, v: Values, dialect: str) -> Statements:
    where = kvm_cpu(t, v)
    return Statements(page(t, where, limit=100), total(t, where))


def reference_deep_start(t: Tables, v: Values, dialect: str) -> Statements:
    vm = t[_VM_TYPE]
    rows = page(t, [vm.c.hypervisorType == v.hypervisor], order=[vm.c.createDate.asc()],
                 limit=100, offset=v.deep_start)
    return Statements(rows, None)

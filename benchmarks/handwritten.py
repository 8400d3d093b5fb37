"""The statements zquery is measured against, written by hand with SQLAlchemy Core.

Two kinds per corpus request, both over the same tables (``build_metadata``):

* the **floor** (``floor_*``): the best hand-written equivalent of zquery's statement: one
  flat ``IN (SELECT …)`` semi-join per to-many condition (a correlated ``EXISTS`` on SQLite
  for an unselective one, as ``/work/shared/research/sql-shapes.md`` advises), a plain
  JOIN for a to-one hop, the tag type checked, the primary key as tie-breaker when paged;
* the **reference** (``reference_*``): what the reference ZStack server issues: one nested
  ``IN (SELECT …)`` per hop and per condition, no tie-breaker, no tag type, and no
  ``groupBy`` at all (it documents it but does not apply it: None).

Both take the typed :class:`~benchmarks.values.Values` a hand-writer would have after
reading the request, so the floor costs what building a ``Select`` costs, nothing more.

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> from zquery.schema.graph import SchemaGraph
from zquery.schema.tables import build_metadata

from benchmarks.values import Values
>>> built = floor_one_hop(hand_tables(GRAPH), Values.variant(7), "postgresql")
>>> " ".join(str(built.rows).split())[-57:]
'FROM "VmNicVO" WHERE "VmNicVO".ip = :ip_1) LIMIT :param_1'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from benchmarks.values import Values
from zquery.schema.graph import SchemaGraph
from zquery.schema.tables import build_metadata

__all__ = [
    "DEFAULT_LIMIT",
    "HandTables",
    "Statements",
    "Tables",
    "floor_count",
    "floor_cycle",
    "floor_deep_start",
    "floor_fifty",
    "floor_four_hops",
    "floor_group_by",
    "floor_in_list",
    "floor_one_condition",
    "floor_one_hop",
    "floor_reply_with_count",
    "floor_six_conditions",
    "floor_sort_fields_paging",
    "floor_system_tag",
    "floor_to_one",
    "floor_two_hops",
    "floor_two_hops_eip",
    "hand_tables",
    "ilike",
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

Predicate = ColumnElement[bool]
#: ``limit`` when a request gives none (the manual's default).
DEFAULT_LIMIT = 1000
_VM_TYPE = "VmInstanceVO"
_ROOT = "VmInstance"


class HandTables:
    """The tables a hand-writer works with, and the root's inventory columns, listed once
    (as a hand-writer lists them in the code: building them is not part of the floor)."""

    def __init__(self, graph: SchemaGraph) -> None:
        self.tables: Mapping[str, sa.Table] = build_metadata(graph).tables
        root = graph.resource(_ROOT)
        table = self.tables[root.table]
        self.root_columns: tuple[ColumnElement[Any], ...] = tuple(
            table.c[f.column] if f.column == f.name else table.c[f.column].label(f.name)
            for f in root.fields.values() if f.mapped is None)

    def __getitem__(self, name: str) -> sa.Table:
        return self.tables[name]


Tables = HandTables
_HAND_TABLES: dict[int, tuple[SchemaGraph, HandTables]] = {}


def hand_tables(graph: SchemaGraph) -> HandTables:
    """The (cached) :class:`HandTables` of *graph*."""
    found = _HAND_TABLES.get(id(graph))
    if found is None or found[0] is not graph:
        found = (graph, HandTables(graph))
        _HAND_TABLES[id(graph)] = found
    return found[1]


@dataclass(frozen=True, slots=True)
class Statements:
    """A request's page and total statements; ``ordered``: the page order is total."""

    rows: Select[Any] | None
    count: Select[Any] | None
    ordered: bool = False

    def all(self) -> tuple[Select[Any], ...]:
        return tuple(s for s in (self.rows, self.count) if s is not None)


def ilike(column: ColumnElement[Any], pattern: str, dialect: str) -> Predicate:
    """Case-insensitive LIKE as zquery's contract has it (Unicode ``zq_lower`` on SQLite)."""
    lower = sa.func.zq_lower if dialect == "sqlite" else sa.func.lower
    return lower(column).like(lower(sa.literal(pattern, sa.String())), escape="!")


# -- the floor ----------------------------------------------------------------------------

def _page(t: Tables, where: Sequence[Predicate], *, from_: Any = None,
          columns: Sequence[ColumnElement[Any]] | None = None,
          order: Sequence[ColumnElement[Any]] = (), limit: int = DEFAULT_LIMIT,
          offset: int = 0) -> Select[Any]:
    stmt = sa.select(*(columns if columns is not None else t.root_columns))
    if from_ is not None:
        stmt = stmt.select_from(from_)
    stmt = stmt.where(*where)
    if order:
        stmt = stmt.order_by(*order)
    stmt = stmt.limit(limit)
    return stmt.offset(offset) if offset else stmt


def _count(t: Tables, where: Sequence[Predicate], from_: Any = None) -> Select[Any]:
    return sa.select(sa.func.count()).select_from(
        from_ if from_ is not None else t[_VM_TYPE]).where(*where)


def _rows(t: Tables, where: Sequence[Predicate], from_: Any = None) -> Statements:
    return Statements(_page(t, where, from_=from_), None)


def _nic_semi_join(t: Tables, test: Predicate, *, exists: bool) -> Predicate:
    vm, nic = t[_VM_TYPE], t["VmNicVO"]
    if exists:
        return sa.exists().where(nic.c.vmInstanceUuid == vm.c.uuid, test)
    return vm.c.uuid.in_(sa.select(nic.c.vmInstanceUuid).where(test))


def floor_one_condition(t: Tables, v: Values, dialect: str) -> Statements:
    return _rows(t, [t[_VM_TYPE].c.name == v.vm_name])


def _six(t: Tables, v: Values, dialect: str) -> list[Predicate]:
    vm = t[_VM_TYPE]
    return [vm.c.hypervisorType.in_(list(v.hypervisors)),
            ilike(vm.c.name, v.name_prefix + "%", dialect), vm.c.cpuNum > v.cpu,
            vm.c.memorySize > v.memory, vm.c.createDate > v.since, vm.c.platform != v.platform]


def floor_six_conditions(t: Tables, v: Values, dialect: str) -> Statements:
    return _rows(t, _six(t, v, dialect))


def floor_one_hop(t: Tables, v: Values, dialect: str) -> Statements:
    return _rows(t, [_nic_semi_join(t, t["VmNicVO"].c.ip == v.ip, exists=False)])


def _l3_name_semi_join(t: Tables, name: str) -> Predicate:
    vm, nic, l3 = t[_VM_TYPE], t["VmNicVO"], t["L3NetworkVO"]
    return vm.c.uuid.in_(sa.select(nic.c.vmInstanceUuid).join(
        l3, l3.c.uuid == nic.c.l3NetworkUuid).where(l3.c.name == name))


def floor_two_hops(t: Tables, v: Values, dialect: str) -> Statements:
    return _rows(t, [_l3_name_semi_join(t, v.l3_name)])


def floor_two_hops_eip(t: Tables, v: Values, dialect: str) -> Statements:
    vm, nic, eip = t[_VM_TYPE], t["VmNicVO"], t["EipVO"]
    return _rows(t, [vm.c.uuid.in_(sa.select(nic.c.vmInstanceUuid).join(
        eip, eip.c.vmNicUuid == nic.c.uuid).where(eip.c.vipIp == v.vip_ip))])


def floor_four_hops(t: Tables, v: Values, dialect: str) -> Statements:
    vm, nic, l3, l2 = t[_VM_TYPE], t["VmNicVO"], t["L3NetworkVO"], t["L2NetworkVO"]
    link, cluster = t["L2NetworkClusterRefVO"], t["ClusterVO"]
    inner = (sa.select(nic.c.vmInstanceUuid)
             .join(l3, l3.c.uuid == nic.c.l3NetworkUuid)
             .join(l2, l2.c.uuid == l3.c.l2NetworkUuid)
             .join(link, link.c.l2NetworkUuid == l2.c.uuid)
             .join(cluster, cluster.c.uuid == link.c.clusterUuid)
             .where(cluster.c.name == v.cluster_name))
    return _rows(t, [vm.c.uuid.in_(inner)])


def floor_to_one(t: Tables, v: Values, dialect: str) -> Statements:
    vm, host = t[_VM_TYPE], t["HostVO"]
    joined = vm.join(host, host.c.uuid == vm.c.hostUuid)
    return _rows(t, [host.c.managementIp == v.host_ip], joined)


def floor_cycle(t: Tables, v: Values, dialect: str) -> Statements:
    vm, nic = t[_VM_TYPE], t["VmNicVO"]
    return _rows(t, [vm.c.name == v.vm_name,
                     vm.c.uuid.in_(sa.select(nic.c.vmInstanceUuid))])


def floor_system_tag(t: Tables, v: Values, dialect: str) -> Statements:
    vm, tag = t[_VM_TYPE], t["SystemTagVO"]
    return _rows(t, [vm.c.uuid.in_(sa.select(tag.c.resourceUuid).where(
        tag.c.resourceType == _VM_TYPE, tag.c.tag == v.tag))])


def floor_sort_fields_paging(t: Tables, v: Values, dialect: str) -> Statements:
    vm = t[_VM_TYPE]
    rows = _page(t, [vm.c.createDate > v.since],
                 columns=[vm.c.uuid, vm.c.name, vm.c.state, vm.c.createDate],
                 order=[_nulls_last(vm.c.createDate.desc(), dialect), _by_key(vm, dialect)],
                 limit=20, offset=v.page_start)
    return Statements(rows, None, ordered=True)


def floor_group_by(t: Tables, v: Values, dialect: str) -> Statements:
    vm = t[_VM_TYPE]
    count = sa.func.count().label("count")
    rows = (sa.select(vm.c.state, count).where(vm.c.createDate > v.since)
            .group_by(vm.c.state).order_by(count.desc()).limit(DEFAULT_LIMIT))
    return Statements(rows, None)


def floor_in_list(t: Tables, v: Values, dialect: str) -> Statements:
    return _rows(t, [t[_VM_TYPE].c.name.in_(list(v.names))])


def floor_fifty(t: Tables, v: Values, dialect: str) -> Statements:
    vm, nic, host = t[_VM_TYPE], t["VmNicVO"], t["HostVO"]
    where: list[Predicate] = []
    host_tests: list[Predicate] = []
    for kind, value in v.fifty:
        if kind == "nic_ip":
            # ``!=`` keeps most rows: SQLite wants the correlated EXISTS (see the module doc).
            where.append(_nic_semi_join(t, nic.c.ip != value, exists=dialect == "sqlite"))
        elif kind == "host_ip":
            host_tests.append(host.c.managementIp != value)
        elif kind == "name":
            where.append(vm.c.name != value)
        elif kind == "cpu":
            where.append(vm.c.cpuNum < value)
        else:
            where.append(vm.c.memorySize < value)
    joined = vm.join(host, host.c.uuid == vm.c.hostUuid)
    return _rows(t, [*where, *host_tests], joined)


def floor_count(t: Tables, v: Values, dialect: str) -> Statements:
    return Statements(None, _count(t, [_l3_name_semi_join(t, v.l3_name)]))


def _kvm_cpu(t: Tables, v: Values) -> list[Predicate]:
    vm = t[_VM_TYPE]
    return [vm.c.hypervisorType == v.hypervisor, vm.c.cpuNum >= v.cpu]


def floor_reply_with_count(t: Tables, v: Values, dialect: str) -> Statements:
    where = _kvm_cpu(t, v)
    rows = _page(t, where, order=[_by_key(t[_VM_TYPE], dialect)], limit=100)
    return Statements(rows, _count(t, where), ordered=True)


def floor_deep_start(t: Tables, v: Values, dialect: str) -> Statements:
    vm = t[_VM_TYPE]
    order = [_nulls_first(vm.c.createDate.asc(), dialect), _by_key(vm, dialect)]
    rows = _page(t, [vm.c.hypervisorType == v.hypervisor], order=order, limit=100,
                 offset=v.deep_start)
    return Statements(rows, None, ordered=True)


def _by_key(vm: sa.Table, dialect: str) -> ColumnElement[Any]:
    # zquery's contract: code-point order for strings (PostgreSQL needs COLLATE "C").
    return vm.c.uuid.collate("C").asc() if dialect == "postgresql" else vm.c.uuid.asc()


def _nulls_last(order: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    return order.nulls_last() if dialect == "postgresql" else order


def _nulls_first(order: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    return order.nulls_first() if dialect == "postgresql" else order


# -- the reference ZStack shape: one nested IN per hop and per condition --------------------

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
    return _rows(t, _six(t, v, dialect))


def reference_one_hop(t: Tables, v: Values, dialect: str) -> Statements:
    return _rows(t, [_nic_ip_nested(t, lambda nic: nic.c.ip == v.ip)])


def _l3_name_nested(t: Tables, name: str) -> Predicate:
    nic, l3 = t["VmNicVO"], t["L3NetworkVO"]
    return _nested(t[_VM_TYPE].c.uuid, [(nic, "vmInstanceUuid", "l3NetworkUuid"),
                                        (l3, "uuid", "")], l3.c.name == name)


def reference_two_hops(t: Tables, v: Values, dialect: str) -> Statements:
    return _rows(t, [_l3_name_nested(t, v.l3_name)])


def reference_two_hops_eip(t: Tables, v: Values, dialect: str) -> Statements:
    nic, eip = t["VmNicVO"], t["EipVO"]
    return _rows(t, [_nested(t[_VM_TYPE].c.uuid, [(nic, "vmInstanceUuid", "uuid"),
                                                  (eip, "vmNicUuid", "")],
                             eip.c.vipIp == v.vip_ip)])


def reference_four_hops(t: Tables, v: Values, dialect: str) -> Statements:
    nic, l3, l2 = t["VmNicVO"], t["L3NetworkVO"], t["L2NetworkVO"]
    link, cluster = t["L2NetworkClusterRefVO"], t["ClusterVO"]
    hops = [(nic, "vmInstanceUuid", "l3NetworkUuid"), (l3, "uuid", "l2NetworkUuid"),
            (l2, "uuid", "uuid"), (link, "l2NetworkUuid", "clusterUuid"), (cluster, "uuid", "")]
    return _rows(t, [_nested(t[_VM_TYPE].c.uuid, hops, cluster.c.name == v.cluster_name)])


def reference_to_one(t: Tables, v: Values, dialect: str) -> Statements:
    host = t["HostVO"]
    return _rows(t, [_nested(t[_VM_TYPE].c.hostUuid, [(host, "uuid", "")],
                             host.c.managementIp == v.host_ip)])


def reference_cycle(t: Tables, v: Values, dialect: str) -> Statements:
    nic, back = t["VmNicVO"], t[_VM_TYPE].alias("vm2")
    hops = [(nic, "vmInstanceUuid", "vmInstanceUuid"), (back, "uuid", "")]
    return _rows(t, [_nested(t[_VM_TYPE].c.uuid, hops, back.c.name == v.vm_name)])


def reference_system_tag(t: Tables, v: Values, dialect: str) -> Statements:
    tag = t["SystemTagVO"]
    return _rows(t, [_nested(t[_VM_TYPE].c.uuid, [(tag, "resourceUuid", "")],
                             tag.c.tag == v.tag)])


def reference_sort_fields_paging(t: Tables, v: Values, dialect: str) -> Statements:
    vm = t[_VM_TYPE]
    rows = _page(t, [vm.c.createDate > v.since],
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
    return _rows(t, where)


def reference_count(t: Tables, v: Values, dialect: str) -> Statements:
    return Statements(None, _count(t, [_l3_name_nested(t, v.l3_name)]))


def reference_reply_with_count(t: Tables, v: Values, dialect: str) -> Statements:
    where = _kvm_cpu(t, v)
    return Statements(_page(t, where, limit=100), _count(t, where))


def reference_deep_start(t: Tables, v: Values, dialect: str) -> Statements:
    vm = t[_VM_TYPE]
    rows = _page(t, [vm.c.hypervisorType == v.hypervisor], order=[vm.c.createDate.asc()],
                 limit=100, offset=v.deep_start)
    return Statements(rows, None)

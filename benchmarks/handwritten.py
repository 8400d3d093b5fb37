"""The floor: zquery's statements as a competent hand-writer builds them with SQLAlchemy Core.

For every corpus request, ``floor_*`` builds the best hand-written equivalent of zquery's
statements over the same tables (``build_metadata``): one flat ``IN (SELECT …)`` semi-join
per to-many condition (a correlated ``EXISTS`` on SQLite for an unselective one, as
``/work/shared/research/sql-shapes.md`` advises), a plain JOIN for a to-one hop, the tag
type checked, the primary key as tie-breaker when paged. (The reference ZStack shape is in
:mod:`benchmarks.reference`.)

The builders take the typed :class:`~benchmarks.values.Values` a hand-writer would have after
reading the request, so the floor costs what building a ``Select`` costs, nothing more.

>>> import sys; sys.path.insert(0, "tests")
>>> from zstack_like import GRAPH
>>> from benchmarks.values import Values
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

from benchmarks.values import Values
from zquery.schema.graph import SchemaGraph
from zquery.schema.tables import build_metadata

__all__ = [
    "DEFAULT_LIMIT",
    "HandTables",
    "Predicate",
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
    "kvm_cpu",
    "page",
    "rows",
    "six_conditions",
    "total",
]

Predicate = ColumnElement[bool]
#: ``limit`` when a request gives none (the manual's default).
DEFAULT_LIMIT = 1000
_VM_TYPE = "VmInstanceVO"
_ROOT = "VmInstance"


class HandTables:
    """The tables a hand-writer works with, and the root's inventory columns, listed once
    (as a hand-writer lists them in the code: building them is not part of the floor).

    *prebuilt* (the **value floor**): ``SELECT <inventory columns> FROM root`` is built once
    too, as a server keeps it, so a page builds only what holds the request's values (its
    tests, WHERE, LIMIT) through SQLAlchemy's public operators. zquery builds its
    comparisons and semi-joins as elements directly (the same expressions, without the
    operators' coercion dispatch), so it can go below this.
    """

    def __init__(self, graph: SchemaGraph, *, prebuilt: bool = False) -> None:
        self.tables: Mapping[str, sa.Table] = build_metadata(graph).tables
        root = graph.resource(_ROOT)
        table = self.tables[root.table]
        self.root_columns: tuple[ColumnElement[Any], ...] = tuple(
            table.c[f.column] if f.column == f.name else table.c[f.column].label(f.name)
            for f in root.fields.values() if f.mapped is None)
        self.base: Select[Any] | None = sa.select(*self.root_columns) if prebuilt else None

    def __getitem__(self, name: str) -> sa.Table:
        return self.tables[name]


Tables = HandTables
_HAND_TABLES: dict[tuple[int, bool], tuple[SchemaGraph, HandTables]] = {}


def hand_tables(graph: SchemaGraph, *, prebuilt: bool = False) -> HandTables:
    """The (cached) :class:`HandTables` of *graph* (*prebuilt*: for the value floor)."""
    found = _HAND_TABLES.get((id(graph), prebuilt))
    if found is None or found[0] is not graph:
        found = (graph, HandTables(graph, prebuilt=prebuilt))
        _HAND_TABLES[(id(graph), prebuilt)] = found
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

def page(t: Tables, where: Sequence[Predicate], *, from_: Any = None,
          columns: Sequence[ColumnElement[Any]] | None = None,
          order: Sequence[ColumnElement[Any]] = (), limit: int = DEFAULT_LIMIT,
          offset: int = 0) -> Select[Any]:
    if columns is None and t.base is not None:
        stmt = t.base
    else:
        stmt = sa.select(*(columns if columns is not None else t.root_columns))
    if from_ is not None:
        stmt = stmt.select_from(from_)
    stmt = stmt.where(*where)
    if order:
        stmt = stmt.order_by(*order)
    stmt = stmt.limit(limit)
    return stmt.offset(offset) if offset else stmt


def total(t: Tables, where: Sequence[Predicate], from_: Any = None) -> Select[Any]:
    return sa.select(sa.func.count()).select_from(
        from_ if from_ is not None else t[_VM_TYPE]).where(*where)


def rows(t: Tables, where: Sequence[Predicate], from_: Any = None) -> Statements:
    return Statements(page(t, where, from_=from_), None)


def _nic_semi_join(t: Tables, test: Predicate, *, exists: bool) -> Predicate:
    vm, nic = t[_VM_TYPE], t["VmNicVO"]
    if exists:
        return sa.exists().where(nic.c.vmInstanceUuid == vm.c.uuid, test)
    return vm.c.uuid.in_(sa.select(nic.c.vmInstanceUuid).where(test))


def floor_one_condition(t: Tables, v: Values, dialect: str) -> Statements:
    return rows(t, [t[_VM_TYPE].c.name == v.vm_name])


def six_conditions(t: Tables, v: Values, dialect: str) -> list[Predicate]:
    vm = t[_VM_TYPE]
    return [vm.c.hypervisorType.in_(list(v.hypervisors)),
            ilike(vm.c.name, v.name_prefix + "%", dialect), vm.c.cpuNum > v.cpu,
            vm.c.memorySize > v.memory, vm.c.createDate > v.since, vm.c.platform != v.platform]


def floor_six_conditions(t: Tables, v: Values, dialect: str) -> Statements:
    return rows(t, six_conditions(t, v, dialect))


def floor_one_hop(t: Tables, v: Values, dialect: str) -> Statements:
    return rows(t, [_nic_semi_join(t, t["VmNicVO"].c.ip == v.ip, exists=False)])


def _l3_name_semi_join(t: Tables, name: str) -> Predicate:
    vm, nic, l3 = t[_VM_TYPE], t["VmNicVO"], t["L3NetworkVO"]
    return vm.c.uuid.in_(sa.select(nic.c.vmInstanceUuid).join(
        l3, l3.c.uuid == nic.c.l3NetworkUuid).where(l3.c.name == name))


def floor_two_hops(t: Tables, v: Values, dialect: str) -> Statements:
    return rows(t, [_l3_name_semi_join(t, v.l3_name)])


def floor_two_hops_eip(t: Tables, v: Values, dialect: str) -> Statements:
    vm, nic, eip = t[_VM_TYPE], t["VmNicVO"], t["EipVO"]
    return rows(t, [vm.c.uuid.in_(sa.select(nic.c.vmInstanceUuid).join(
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
    return rows(t, [vm.c.uuid.in_(inner)])


def floor_to_one(t: Tables, v: Values, dialect: str) -> Statements:
    vm, host = t[_VM_TYPE], t["HostVO"]
    joined = vm.join(host, host.c.uuid == vm.c.hostUuid)
    return rows(t, [host.c.managementIp == v.host_ip], joined)


def floor_cycle(t: Tables, v: Values, dialect: str) -> Statements:
    vm, nic = t[_VM_TYPE], t["VmNicVO"]
    return rows(t, [vm.c.name == v.vm_name,
                     vm.c.uuid.in_(sa.select(nic.c.vmInstanceUuid))])


def floor_system_tag(t: Tables, v: Values, dialect: str) -> Statements:
    vm, tag = t[_VM_TYPE], t["SystemTagVO"]
    return rows(t, [vm.c.uuid.in_(sa.select(tag.c.resourceUuid).where(
        tag.c.resourceType == _VM_TYPE, tag.c.tag == v.tag))])


def floor_sort_fields_paging(t: Tables, v: Values, dialect: str) -> Statements:
    vm = t[_VM_TYPE]
    rows = page(t, [vm.c.createDate > v.since],
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
    return rows(t, [t[_VM_TYPE].c.name.in_(list(v.names))])


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
    return rows(t, [*where, *host_tests], joined)


def floor_count(t: Tables, v: Values, dialect: str) -> Statements:
    return Statements(None, total(t, [_l3_name_semi_join(t, v.l3_name)]))


def kvm_cpu(t: Tables, v: Values) -> list[Predicate]:
    vm = t[_VM_TYPE]
    return [vm.c.hypervisorType == v.hypervisor, vm.c.cpuNum >= v.cpu]


def floor_reply_with_count(t: Tables, v: Values, dialect: str) -> Statements:
    where = kvm_cpu(t, v)
    rows = page(t, where, order=[_by_key(t[_VM_TYPE], dialect)], limit=100)
    return Statements(rows, total(t, where), ordered=True)


def floor_deep_start(t: Tables, v: Values, dialect: str) -> Statements:
    vm = t[_VM_TYPE]
    order = [_nulls_first(vm.c.createDate.asc(), dialect), _by_key(vm, dialect)]
    rows = page(t, [vm.c.hypervisorType == v.hypervisor], order=order, limit=100,
                 offset=v.deep_start)
    return Statements(rows, None, ordered=True)


def _by_key(vm: sa.Table, dialect: str) -> ColumnElement[Any]:
    # zquery's contract: code-point order for strings (PostgreSQL needs COLLATE "C").
    return vm.c.uuid.collate("C").asc() if dialect == "postgresql" else vm.c.uuid.asc()


def _nulls_last(order: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    return order.nulls_last() if dialect == "postgresql" else order


def _nulls_first(order: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    return order.nulls_first() if dialect == "postgresql" else order

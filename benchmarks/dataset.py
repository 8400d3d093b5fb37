"""The data the execution section runs on, and the values that hit its rows.

``demo`` (the default when it can serve the corpus): the demo database of
:func:`zquery.demo.build_demo` on the shipped catalogue, built into every scratch database
with the same seed, so every database holds the same rows. ``bench``: the fallback bench
data of :mod:`benchmarks.data` on the test graph. Either way the filter columns get their
indexes (:func:`~benchmarks.databases.add_filter_indexes`) unless asked not to, and
:func:`discover_values` reads, from the data itself, values every corpus request matches.

>>> from benchmarks.databases import open_database
>>> db = open_database("sqlite")
>>> data = prepare_dataset([db], scale=200, kind="bench")
>>> data.graph_name, data.values.l3_name, len(data.values.names)
('test graph (tests/zstack_like.py)', 'l3-0', 1000)
>>> db.close()
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.data import BenchData
from benchmarks.databases import Database, add_filter_indexes, load_bench_data
from benchmarks.schema import test_graph, usable
from benchmarks.values import LIST_SIZE, Values, fifty_values
from zquery.schema.graph import SchemaGraph
from zquery.schema.tables import build_metadata

__all__ = ["DATASET_KINDS", "Dataset", "discover_values", "kept_name", "prepare_dataset"]

#: ``auto`` is ``demo`` when the demo generator and the catalogue serve the corpus.
DATASET_KINDS = ("auto", "demo", "bench")
DEMO_SEED = 42
#: The table a kept database records its build in (written last, so only when complete).
_MARKER = "zqb_kept_build"


@dataclass(frozen=True)
class Dataset:
    graph: SchemaGraph
    graph_name: str
    description: str
    values: Values
    seconds: float


def _demo_graph() -> tuple[SchemaGraph | None, str]:
    try:
        from zquery.catalogue import load_catalogue
        from zquery.demo import build_demo  # noqa: F401
    except ImportError as error:
        return None, f"demo unavailable ({error})"
    graph: SchemaGraph = load_catalogue()
    problem = usable(graph)
    return (graph, "") if problem is None else (None, f"catalogue unusable: {problem}")


def kept_name(scale: int, kind: str) -> str:
    """The name ``--keep-data`` gives the databases of one scale and data kind."""
    return f"zqb_kept_{kind}_{scale}"


def _fingerprint(scale: int, kind: str, filter_indexes: bool) -> str:
    """What the kept data was built from: the generators' code and the catalogue."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{scale}/{kind}/{filter_indexes}/{DEMO_SEED}".encode())
    sources = [*sorted((root / "zquery" / "demo").glob("*.py")),
               *sorted((root / "zquery" / "catalogue").glob("*.json")),
               root / "zquery" / "schema" / "tables.py", root / "benchmarks" / "data.py",
               root / "benchmarks" / "databases.py"]
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _is_current(db: Database, fingerprint: str) -> bool:
    """Whether a kept database holds complete data of this *fingerprint*."""
    if _MARKER not in sa.inspect(db.engine).get_table_names():
        return False
    with db.engine.connect() as conn:
        found = conn.exec_driver_sql(f"SELECT fingerprint FROM {_MARKER}").scalar()
    return bool(found == fingerprint)


def _mark(db: Database, fingerprint: str) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_MARKER}")
        conn.exec_driver_sql(f"CREATE TABLE {_MARKER} (fingerprint VARCHAR(32))")
        conn.exec_driver_sql(f"INSERT INTO {_MARKER} VALUES ('{fingerprint}')")


def _unmark(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_MARKER}")


def prepare_dataset(databases: Sequence[Database], *, scale: int, kind: str = "auto",
                    filter_indexes: bool = True, kept: bool = False,
                    progress: Callable[[str], None] | None = None) -> Dataset:
    """Fill every database with the same data; return it with values that hit its rows.

    *kept* (``--keep-data``): the databases outlive the run, and one that already holds
    complete data built by the same generators, catalogue, scale and seed is used as it is.
    """
    say = progress or (lambda text: None)
    began = time.perf_counter()
    graph, why_not = _demo_graph() if kind != "bench" else (None, "bench data asked for")
    if kind == "demo" and graph is None:
        raise SystemExit(f"--dataset demo: {why_not}")
    fingerprint = _fingerprint(scale, "demo" if graph is not None else "bench", filter_indexes)
    todo = [db for db in databases if not (kept and _is_current(db, fingerprint))]
    for db in todo:
        if kept:
            _unmark(db)  # a build cut short must not pass for a complete one
    if graph is not None:
        from zquery.demo import build_demo

        for db in todo:
            say(f"building the demo database ({scale:,} VMs) in {db.kind}")
            build_demo(db.engine, scale=scale, seed=DEMO_SEED, graph=graph, replace=True)
            db.engine.dispose()  # a SQLite demo is built aside and moved in: reconnect
        graph_name = "shipped catalogue (zquery.catalogue)"
        description = f"demo database (zquery.demo.build_demo, seed {DEMO_SEED})"
    else:
        graph = test_graph()
        if todo:
            say(f"generating bench data ({scale:,} VMs) into {len(todo)} database(s)")
            if kept:
                for db in todo:
                    build_metadata(graph).drop_all(db.engine)
            load_bench_data(todo, graph, BenchData(scale).chunks())
        graph_name = "test graph (tests/zstack_like.py)"
        description = ("bench data (benchmarks/data.py)"
                       + (f"; {why_not}" if kind == "auto" else ""))
    for db in todo:
        if filter_indexes:
            add_filter_indexes(db)
        if kept:
            _mark(db, fingerprint)
    reused = [db.kind for db in databases if db not in todo]
    if reused:
        description += " (kept from an earlier run in " + ", ".join(reused) + ")"
    with databases[0].engine.connect() as conn:
        values = discover_values(conn)
    return Dataset(graph, graph_name, description + f", {scale:,} VMs", values,
                   time.perf_counter() - began)


def _one(conn: sa.Connection, sql: str) -> Any:
    row = conn.exec_driver_sql(sql).first()
    return None if row is None else row[0]


def _middle(conn: sa.Connection, table: str, column: str, where: str = "") -> Any:
    """The value of *column* in the middle row of *table* by uuid (deterministic)."""
    clause = f" WHERE {where}" if where else ""
    count = int(_one(conn, f"SELECT count(*) FROM {table}{clause}") or 0)
    return _one(conn, f"SELECT {column} FROM {table}{clause} ORDER BY uuid "
                      f"LIMIT 1 OFFSET {count // 2}")


def _commonest(conn: sa.Connection, table: str, column: str, rank: int = 0) -> Any:
    return _one(conn, f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL "
                      f"GROUP BY {column} ORDER BY count(*) DESC, {column} "
                      f"LIMIT 1 OFFSET {rank}")


def discover_values(conn: sa.Connection) -> Values:
    """Values every corpus request matches, read from the data (same data, same values).

    Written for SQLite (the reference copy), with the double-quoted identifiers the
    ZStack table and column names need.
    """
    q = conn.dialect.identifier_preparer.quote
    vm, nic, l3 = q("VmInstanceVO"), q("VmNicVO"), q("L3NetworkVO")
    # A VM with a NIC, so that the simplified cycle (name=x and has a NIC) matches too.
    vm_name = str(_middle(conn, vm, "name", f"name IS NOT NULL AND uuid IN (SELECT "
                                            f"{q('vmInstanceUuid')} FROM {nic})"))
    hypervisor = str(_commonest(conn, vm, q("hypervisorType")))
    second = _commonest(conn, vm, q("hypervisorType"), 1)
    host_uuid = _middle(conn, vm, q("hostUuid"), f"{q('hostUuid')} IS NOT NULL")
    busiest_l3 = _one(conn, f"SELECT {q('l3NetworkUuid')} FROM {nic} GROUP BY "
                            f"{q('l3NetworkUuid')} ORDER BY count(*) DESC, "
                            f"{q('l3NetworkUuid')} LIMIT 1")
    tag = _one(conn, f"SELECT tag FROM {q('SystemTagVO')} WHERE {q('resourceType')} = "
                     f"'VmInstanceVO' GROUP BY tag ORDER BY count(*), tag LIMIT 1")
    cluster = _one(conn, f"SELECT c.name FROM {q('ClusterVO')} c JOIN "
                         f"{q('L2NetworkClusterRefVO')} r ON r.{q('clusterUuid')} = c.uuid "
                         f"ORDER BY c.uuid LIMIT 1")
    total_vms = int(_one(conn, f"SELECT count(*) FROM {vm}"))
    names = [str(row[0]) for row in conn.exec_driver_sql(
        f"SELECT name FROM {vm} WHERE name IS NOT NULL ORDER BY uuid")]
    step = max(1, len(names) // LIST_SIZE)
    chosen = names[::step][:LIST_SIZE]
    chosen += [f"absent-{k}" for k in range(LIST_SIZE - len(chosen))]
    matching = int(_one(conn, f"SELECT count(*) FROM {vm} WHERE {q('hypervisorType')} = "
                              f"'{hypervisor}'"))
    return Values(
        vm_name=vm_name, name_prefix=vm_name[:3], hypervisor=hypervisor,
        hypervisors=(hypervisor, str(second if second is not None else hypervisor)),
        cpu=int(_middle(conn, vm, q("cpuNum"), f"{q('cpuNum')} IS NOT NULL")) // 2,
        memory=int(_middle(conn, vm, q("memorySize"), f"{q('memorySize')} IS NOT NULL")) // 2,
        since=_as_datetime(_middle(conn, vm, q("createDate"), f"{q('createDate')} IS NOT NULL")),
        platform=str(_commonest(conn, vm, "platform", 1)),
        ip=str(_middle(conn, nic, "ip", "ip IS NOT NULL")),
        l3_name=str(_one(conn, f"SELECT name FROM {l3} WHERE uuid = '{busiest_l3}'")),
        vip_ip=str(_middle(conn, q("EipVO"), q("vipIp"),
                           f"{q('vipIp')} IS NOT NULL AND {q('vmNicUuid')} IS NOT NULL")),
        cluster_name=str(cluster),
        host_ip=str(_one(conn, f"SELECT {q('managementIp')} FROM {q('HostVO')} "
                               f"WHERE uuid = '{host_uuid}'")),
        tag=str(tag), names=tuple(chosen), page_start=min(40, total_vms // 4),
        deep_start=int(matching * 0.8), fifty=fifty_values(0))


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

"""The whole catalogue as tables: ``create_all`` on SQLite, PostgreSQL and MariaDB, one row in
every table, and real queries across the graph run end to end on each database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from estate import drop_estate_engines, sibling_engine

from zquery.api import ZQuery
from zquery.catalogue import load_catalogue
from zquery.schema.graph import FieldType
from zquery.schema.tables import build_metadata

SAMPLE: dict[FieldType, Any] = {
    FieldType.STRING: "x", FieldType.INTEGER: 1, FieldType.LONG: 1, FieldType.SHORT: 1,
    FieldType.FLOAT: 1.5, FieldType.DOUBLE: 1.5, FieldType.BOOLEAN: True,
    FieldType.TIMESTAMP: datetime(2017, 5, 11, 13, 23, 2),
}

# a small estate: zone → cluster ↔ L2 (link table) → L3 ← NIC ← VM, an appliance VM, a host
ROWS: list[tuple[str, dict[str, Any]]] = [
    ("Zone", {"uuid": "z1", "name": "zone-1", "state": "Enabled"}),
    ("Cluster", {"uuid": "c1", "name": "cluster-1", "zoneUuid": "z1"}),
    ("Host", {"uuid": "h1", "name": "host-1", "zoneUuid": "z1", "clusterUuid": "c1",
              "managementIp": "10.10.20.3", "hypervisorType": "KVM"}),
    ("L2Network", {"uuid": "l2", "name": "l2-1", "zoneUuid": "z1", "type": "L2VlanNetwork"}),
    ("L2NetworkClusterRef", {"id": 1, "clusterUuid": "c1", "l2NetworkUuid": "l2"}),
    ("L3Network", {"uuid": "l3", "name": "pub", "zoneUuid": "z1", "l2NetworkUuid": "l2"}),
    ("VmInstance", {"uuid": "vm1", "name": "vm1", "zoneUuid": "z1", "clusterUuid": "c1",
                    "hostUuid": "h1", "type": "UserVm", "state": "Running", "cpuNum": 4}),
    ("VmInstance", {"uuid": "vr1", "name": "router", "zoneUuid": "z1", "type": "ApplianceVm",
                    "applianceVmType": "vrouter", "state": "Running", "cpuNum": 1}),
    ("VmNic", {"uuid": "n1", "vmInstanceUuid": "vm1", "l3NetworkUuid": "l3",
               "ip": "192.168.10.100"}),
]

QUERIES = [
    ("QueryVmInstance", "q=zone.cluster.l2Network.l3Network.name=pub", ["vm1", "vr1"]),
    ("QueryVmInstance", "q=vmNics.ip=192.168.10.100", ["vm1"]),
    ("QueryVmInstance", "q=host.managementIp=10.10.20.3&q=cpuNum>2", ["vm1"]),
    ("QueryApplianceVm", "q=zone.name=zone-1", ["vr1"]),
    ("QueryVpcRouter", "q=state=Running", ["vr1"]),
    ("QueryL2VlanNetwork", "q=cluster.name=cluster-1", ["l2"]),
    ("QueryCluster", "q=l2Network.l3Network.vmNic.vmInstance.name=vm1", ["c1"]),
    ("QueryL3Network", "q=vmNic.vmInstance.state=Running", ["l3"]),
]


@pytest.fixture(scope="session")
def _drop_siblings() -> Iterator[None]:
    yield
    drop_estate_engines()


@pytest.fixture(scope="module")
def created(any_engine: sa.Engine, _drop_siblings: None) -> sa.Engine:
    # a database of its own: the catalogue's tables (ZoneVO, …) must not meet other tests'
    return sibling_engine(any_engine, "catalogue",
                          lambda engine: build_metadata(load_catalogue()).create_all(engine))


def test_every_table_is_created(created: sa.Engine) -> None:
    expected = set(build_metadata(load_catalogue()).tables)
    assert expected <= set(sa.inspect(created).get_table_names())
    assert len(expected) > 200


def test_every_resource_table_takes_a_row(created: sa.Engine) -> None:
    metadata = build_metadata(load_catalogue())
    with created.connect() as conn:  # rolled back at the end: the rows are only a smoke test
        for table in metadata.sorted_tables:
            row = {col.name: SAMPLE[_type_of(col)] for col in table.columns
                   if not (col.primary_key and col.autoincrement is True)}
            for col in table.primary_key.columns:
                row[col.name] = 10_000 if _type_of(col).is_integer else "pk-smoke"
            conn.execute(table.insert(), [row])
        count = conn.execute(sa.select(sa.func.count()).select_from(
            metadata.tables["VmInstanceVO"])).scalar_one()
        assert count == 1
        conn.rollback()


def _type_of(col: sa.Column[Any]) -> FieldType:
    python = col.type.python_type
    for ftype, value in SAMPLE.items():
        if type(value) is python and ftype in (FieldType.STRING, FieldType.LONG,
                                               FieldType.DOUBLE, FieldType.BOOLEAN,
                                               FieldType.TIMESTAMP):
            return ftype
    raise AssertionError(f"{col}: {python}")


@pytest.fixture(scope="module")
def loaded(created: sa.Engine) -> sa.Engine:
    zq = ZQuery(load_catalogue())
    with created.begin() as conn:
        for resource, row in ROWS:
            conn.execute(zq.table(resource).insert(), [row])
    return created


@pytest.mark.parametrize(("api", "query", "uuids"), QUERIES)
def test_catalogue_queries_run_on_every_database(loaded: sa.Engine, api: str, query: str,
                                                 uuids: list[str]) -> None:
    zq = ZQuery(load_catalogue())
    with loaded.connect() as conn:
        reply = zq.run(conn, api, query + "&sort=uuid&fields=uuid")
    assert [row["uuid"] for row in reply["inventories"]] == uuids

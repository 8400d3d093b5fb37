"""The demo database: deterministic, consistent, varied enough that every operator selects
something, every Query API answers rows, and the manual's examples find what they ask for."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from zquery.api import ZQuery
from zquery.catalogue import load_catalogue, load_examples
from zquery.demo import (
    ACCOUNTS,
    ADMIN_ACCOUNT,
    DEMO_SESSIONS,
    Sizes,
    build_demo,
    default_demo_path,
    demo_exists,
)
from zquery.demo.generic import foreign_keys
from zquery.demo.writer import _sqlite_datetime
from zquery.errors import BadParameter
from zquery.schema.tables import build_metadata

SCALE = 200


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    build_demo(f"sqlite:///{path}", scale=SCALE)
    engine = sa.create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def zq() -> ZQuery:
    return ZQuery()


def _count(zq: ZQuery, engine: sa.Engine, api: str, query: str,
           account: str | None = None) -> int:
    with engine.connect() as conn:
        total: int = zq.run(conn, api, query + "&count=true", account=account)["total"]
    return total


def _fingerprint(engine: sa.Engine) -> dict[str, str]:
    """One hash per table over its rows in key order."""
    out = {}
    metadata = build_metadata(load_catalogue())
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


# -- sizes ---------------------------------------------------------------------------------

SIZE_CASES = [
    (1, {"vms": 1, "zones": 2, "clusters": 4, "l3_networks": 4}),
    (100, {"vms": 100, "zones": 2, "hosts": 8, "accounts": 4}),
    (10_000, {"hosts": 333, "clusters": 20, "l3_networks": 40, "load_balancers": 10}),
    (1_000_000, {"zones": 8, "hosts": 33_333, "l3_networks": 4000, "accounts": 104}),
]


@pytest.mark.parametrize(("scale", "expected"), SIZE_CASES)
def test_sizes_follow_the_scale(scale: int, expected: dict[str, int]) -> None:
    sizes = Sizes.for_scale(scale)
    assert {name: getattr(sizes, name) for name in expected} == expected
    # One /22 per private network: ~250 VMs each keeps every range far from full.
    assert sizes.vms / sizes.l3_networks <= 250


@pytest.mark.parametrize("scale", [0, -5, 4_000_001])
def test_a_scale_out_of_range_is_refused(scale: int) -> None:
    with pytest.raises(BadParameter) as caught:
        Sizes.for_scale(scale)
    assert caught.value.param == "scale"


# -- determinism ---------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_rows_and_another_seed_does_not(tmp_path: Path) -> None:
    prints = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        engine = sa.create_engine(f"sqlite:///{tmp_path / name}.sqlite")
        build_demo(engine, scale=40, seed=seed)
        prints.append(_fingerprint(engine))
        engine.dispose()
    assert prints[0] == prints[1]
    assert prints[0]["VmInstanceVO"] != prints[2]["VmInstanceVO"]


def test_an_existing_demo_is_kept_unless_replaced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    assert not demo_exists(url)
    assert not (tmp_path / "demo.sqlite").exists()  # checking did not create the file
    first = build_demo(url, scale=5)
    assert demo_exists(url)
    with pytest.raises(BadParameter) as caught:
        build_demo(url, scale=5)
    assert caught.value.hint and "replace" in caught.value.hint
    report = build_demo(url, scale=6, replace=True)
    assert report.counts["VmInstanceVO"] == first.counts["VmInstanceVO"] + 1
    assert not list(tmp_path.glob("*.building"))


def test_an_engine_with_foreign_tables_is_refused_then_replaced() -> None:
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    build_demo(engine, scale=3)
    with pytest.raises(BadParameter):
        build_demo(engine, scale=3)
    assert build_demo(engine, scale=4, replace=True).counts["ZoneVO"] == 2


def test_the_default_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("ZQUERY_DEMO_DB", str(tmp_path / "x.sqlite"))
    assert default_demo_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("ZQUERY_DEMO_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_demo_path() == tmp_path / "zquery" / "demo.sqlite"


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)))
def test_the_fast_sqlite_timestamp_text_is_sqlalchemys(value: datetime) -> None:
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    processor = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    assert _sqlite_datetime(value) == processor(value)


# -- consistency ---------------------------------------------------------------------------

FOREIGN_KEYS = [
    ("VmNicVO", "vmInstanceUuid", "VmInstanceVO"), ("VmNicVO", "l3NetworkUuid", "L3NetworkVO"),
    ("UsedIpVO", "vmNicUuid", "VmNicVO"), ("UsedIpVO", "ipRangeUuid", "IpRangeVO"),
    ("UsedIpVO", "l3NetworkUuid", "L3NetworkVO"), ("VolumeVO", "vmInstanceUuid", "VmInstanceVO"),
    ("VolumeVO", "lastVmInstanceUuid", "VmInstanceVO"),
    ("VolumeVO", "primaryStorageUuid", "PrimaryStorageVO"),
    ("VolumeVO", "diskOfferingUuid", "DiskOfferingVO"), ("VolumeVO", "rootImageUuid", "ImageVO"),
    ("VmInstanceVO", "rootVolumeUuid", "VolumeVO"), ("VmInstanceVO", "hostUuid", "HostVO"),
    ("VmInstanceVO", "lastHostUuid", "HostVO"), ("VmInstanceVO", "clusterUuid", "ClusterVO"),
    ("VmInstanceVO", "zoneUuid", "ZoneVO"), ("VmInstanceVO", "imageUuid", "ImageVO"),
    ("VmInstanceVO", "instanceOfferingUuid", "InstanceOfferingVO"),
    ("VmInstanceVO", "defaultL3NetworkUuid", "L3NetworkVO"), ("HostVO", "clusterUuid", "ClusterVO"),
    ("HostVO", "zoneUuid", "ZoneVO"), ("ClusterVO", "zoneUuid", "ZoneVO"),
    ("PrimaryStorageVO", "zoneUuid", "ZoneVO"), ("L2NetworkVO", "zoneUuid", "ZoneVO"),
    ("L3NetworkVO", "l2NetworkUuid", "L2NetworkVO"), ("L3NetworkVO", "zoneUuid", "ZoneVO"),
    ("IpRangeVO", "l3NetworkUuid", "L3NetworkVO"), ("EipVO", "vipUuid", "VipVO"),
    ("EipVO", "vmNicUuid", "VmNicVO"), ("VipVO", "usedIpUuid", "UsedIpVO"),
    ("VipVO", "l3NetworkUuid", "L3NetworkVO"), ("PortForwardingRuleVO", "vipUuid", "VipVO"),
    ("PortForwardingRuleVO", "vmNicUuid", "VmNicVO"),
    ("VmNicSecurityGroupRefVO", "securityGroupUuid", "SecurityGroupVO"),
    ("VmNicSecurityGroupRefVO", "vmNicUuid", "VmNicVO"),
    ("SecurityGroupRuleVO", "securityGroupUuid", "SecurityGroupVO"),
    ("SecurityGroupL3NetworkRefVO", "l3NetworkUuid", "L3NetworkVO"),
    ("LoadBalancerVO", "vipUuid", "VipVO"),
    ("LoadBalancerListenerVO", "loadBalancerUuid", "LoadBalancerVO"),
    ("LoadBalancerListenerVmNicRefVO", "vmNicUuid", "VmNicVO"),
    ("LoadBalancerListenerVmNicRefVO", "listenerUuid", "LoadBalancerListenerVO"),
    ("VolumeSnapshotVO", "volumeUuid", "VolumeVO"),
    ("VolumeSnapshotVO", "treeUuid", "VolumeSnapshotTreeVO"),
    ("VolumeSnapshotVO", "parentUuid", "VolumeSnapshotVO"),
    ("ImageBackupStorageRefVO", "imageUuid", "ImageVO"),
    ("ImageBackupStorageRefVO", "backupStorageUuid", "BackupStorageVO"),
    ("L2NetworkClusterRefVO", "clusterUuid", "ClusterVO"),
    ("PrimaryStorageClusterRefVO", "primaryStorageUuid", "PrimaryStorageVO"),
    ("HostCapacityVO", "uuid", "HostVO"), ("UserVO", "accountUuid", "AccountVO"),
    ("AccountResourceRefVO", "accountUuid", "AccountVO"),
    ("SharedResourceVO", "ownerAccountUuid", "AccountVO"),
    ("SharedResourceVO", "receiverAccountUuid", "AccountVO"),
    ("UserTagVO", "tagPatternUuid", "TagPatternVO"),
    ("VmCdRomVO", "vmInstanceUuid", "VmInstanceVO"),
]


def _dangling(conn: sa.Connection, child: str, column: str, parents: list[tuple[str, str]],
              where: str = "1 = 1") -> int:
    """Rows of *child* (matching *where*) whose *column* is in none of the *parents*."""
    tests = " OR ".join(f'c."{column}" IN (SELECT "{key}" FROM "{table}")'
                        for table, key in parents)
    return int(conn.exec_driver_sql(
        f'SELECT count(*) FROM "{child}" c WHERE c."{column}" IS NOT NULL AND NOT ({tests}) '
        f"AND {where}").scalar_one())


@pytest.mark.parametrize(("child", "column", "parent"), FOREIGN_KEYS)
def test_every_reference_of_the_estate_points_at_a_row(demo: sa.Engine, child: str, column: str,
                                                       parent: str) -> None:
    with demo.connect() as conn:
        assert conn.exec_driver_sql(
            f'SELECT count(*) FROM "{child}" WHERE "{column}" IS NOT NULL').scalar_one() > 0
        assert _dangling(conn, child, column, [(parent, "uuid")]) == 0


def test_every_foreign_key_the_catalogue_declares_points_at_a_row(demo: sa.Engine) -> None:
    """The generic filler draws keys from the graph's relations: none may dangle."""
    refs = foreign_keys(load_catalogue())
    metadata = build_metadata(load_catalogue())
    broken = []
    with demo.connect() as conn:
        for (table, column), parents in refs.items():
            usable = [(t, c) for t, c in parents
                      if t in metadata.tables and c in metadata.tables[t].c]
            if usable and _dangling(conn, table, column, usable):
                broken.append(f"{table}.{column}")
    assert broken == []


def test_addresses_are_unique_and_inside_their_networks(demo: sa.Engine) -> None:
    with demo.connect() as conn:
        ips = conn.exec_driver_sql(
            'SELECT u.ip, r."networkCidr", u."l3NetworkUuid" FROM "UsedIpVO" u '
            'JOIN "IpRangeVO" r ON r.uuid = u."ipRangeUuid"').all()
        macs = conn.exec_driver_sql('SELECT mac FROM "VmNicVO"').scalars().all()
        zones = conn.exec_driver_sql(
            'SELECT count(*) FROM "VmInstanceVO" v JOIN "HostVO" h ON h.uuid = v."hostUuid" '
            'WHERE h."zoneUuid" != v."zoneUuid" AND v.type IN (\'UserVm\', \'ApplianceVm\')'
        ).scalar_one()
    assert len({(ip, l3) for ip, _, l3 in ips}) == len(ips)
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network(cidr) for ip, cidr, _ in ips)
    assert len(set(macs)) == len(macs)
    assert zones == 0


def test_every_owned_row_has_an_owner_among_the_accounts(demo: sa.Engine) -> None:
    graph = load_catalogue()
    with demo.connect() as conn:
        kinds = conn.exec_driver_sql(
            'SELECT DISTINCT "resourceType" FROM "AccountResourceRefVO"').scalars().all()
        tables = {res.table: res.primary_key for res in graph}
        assert kinds and set(kinds) <= set(tables)
        for kind in kinds:
            assert _dangling(conn, "AccountResourceRefVO", "resourceUuid",
                             [(kind, tables[kind])], f"c.\"resourceType\" = '{kind}'") == 0
        owned_vms = conn.exec_driver_sql(
            'SELECT count(*) FROM "VmInstanceVO" v WHERE v.uuid NOT IN (SELECT "resourceUuid" '
            'FROM "AccountResourceRefVO")').scalar_one()
    assert owned_vms == 0


# -- every Query API, every operator -------------------------------------------------------


def test_every_query_api_answers_rows(demo: sa.Engine, zq: ZQuery) -> None:
    empty = [res.api_name for res in zq.graph
             if res.api_name and _count(zq, demo, res.name, "") == 0]
    assert empty == []


OPERATOR_CASES = [
    ("vm-instances", "name=vm1"), ("vm-instances", "name!=vm1"),
    ("vm-instances", "cpuNum>4"), ("vm-instances", "cpuNum<4"),
    ("vm-instances", "cpuNum>=8"), ("vm-instances", "cpuNum<=1"),
    ("vm-instances", "state?=Running,Stopped"), ("vm-instances", "state!?=Running,Stopped"),
    ("vm-instances", "name~=WEB%"), ("vm-instances", "name!~=web%"),
    ("vm-instances", "name~=_eb-%"), ("vm-instances", "description~=%50\\%%"),
    ("vm-instances", "description~=%CAFÉ%"), ("vm-instances", "description~=%o'brien%"),
    ("vm-instances", "description is null"), ("vm-instances", "description not null"),
    ("vm-instances", "hostUuid is null"), ("vm-instances", "createDate>2021-01-01 00:00:00"),
    ("vm-instances", "createDate<2019-01-01T00:00:00Z"),
    ("vm-instances", "__systemTag__=ha::NeverStop"),
    ("vm-instances", "__systemTag__!=ha::NeverStop"),
    ("vm-instances", "__systemTag__~=hostname::%"), ("vm-instances", "__userTag__?=prod,dev,web"),
    ("vm-instances", "__userTag__ is null"), ("vm-instances", "__userTag__ not null"),
    ("vm-instances", "vmNics.ip~=192.168.%"), ("vm-instances", "vmNics.ip!=192.168.10.100"),
    ("vm-instances", "vmNics.l3Network.zone.name=TestZone"),
    ("vm-instances", "allVolumes.size>10737418240"), ("vm-instances", "zone.state=Enabled"),
    ("vm-instances", "host.managementIp=10.10.20.3"), ("vm-instances", "cluster.name=cluster1"),
    ("vm-instances", "platform=Windows"), ("vm-instances", "architecture=aarch64"),
    ("hosts", "availableCpuCapacity>0"), ("hosts", "state!=Enabled"),
    ("volumes", "type=Data"), ("volumes", "vmInstanceUuid is null"),
    ("eips", "vmNic.vmInstance.name=web-vm"), ("l3-networks", "ipRanges.startIp~=10.%"),
    ("security-groups", "rules.endPort=22"), ("load-balancers", "listeners.loadBalancerPort=80"),
    ("vips", "useFor=Eip"), ("images", "mediaType=ISO"), ("primary-storage", "type=Ceph"),
]


@pytest.mark.parametrize(("api", "condition"), OPERATOR_CASES)
def test_every_operator_selects_something_but_not_everything(demo: sa.Engine, zq: ZQuery,
                                                             api: str, condition: str) -> None:
    total = _count(zq, demo, api, "")
    selected = _count(zq, demo, api, f"q={condition.replace('%', '%25').replace('+', '%2B')}")
    assert 0 < selected < total


def test_the_manual_examples_find_rows(demo: sa.Engine, zq: ZQuery) -> None:
    misses = []
    for example in load_examples():
        conditions = example["conditions"]
        if example.get("erratum") or len(set(c.split("=")[0] for c in conditions)) < len(
                conditions):  # e.g. name=a&name=b: nothing can match both
            continue
        query = "&".join("q=" + c for c in conditions)
        if _count(zq, demo, example["rest_path"], query) == 0:
            misses.append((example["api"], conditions))
    assert misses == []


# -- accounts ------------------------------------------------------------------------------

SCOPE_CASES = [("vm-instances", ""), ("volumes", ""), ("vm-instances/nics", ""),
               ("vm-instances", "q=vmNics.l3Network.category=Private")]


@pytest.mark.parametrize(("api", "query"), SCOPE_CASES)
def test_accounts_see_their_own_share_of_the_estate(demo: sa.Engine, zq: ZQuery, api: str,
                                                    query: str) -> None:
    total = _count(zq, demo, api, query)
    seen = {name: _count(zq, demo, api, query, account=uuid)
            for name, uuid in ACCOUNTS.items() if uuid != ADMIN_ACCOUNT}
    assert all(0 < count < total for count in seen.values())
    assert sum(seen.values()) < 2 * total


def test_some_resources_are_shared_and_some_public(demo: sa.Engine) -> None:
    with demo.connect() as conn:
        kinds = dict(conn.exec_driver_sql(
            'SELECT "toPublic", count(*) FROM "SharedResourceVO" GROUP BY "toPublic"').all())
    assert kinds.get(1, 0) > 0 and kinds.get(0, 0) > 0
    assert set(DEMO_SESSIONS.values()) == set(ACCOUNTS.values())

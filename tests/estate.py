"""A deterministic ZStack-like estate over ``zstack_like.GRAPH``, and its loader.

:func:`generate` builds plain Python rows (one dict per row, keyed by column name) from a
seeded :class:`random.Random`: zones, clusters, hosts, L2/L3 networks with the cluster
link table, VMs with 0-3 NICs, EIPs, VIPs, system and user tags, ``HostCapacityVO`` rows
and ownership rows for three accounts (owned, shared to one account, public). Values are
chosen so every operator selects something: NULLs in every nullable column (foreign keys
included), mixed case, non-ASCII text, LIKE metacharacters, quotes, whole-second naive UTC
timestamps. :func:`load` creates the tables with zquery's ``build_metadata`` and inserts.

The independent evaluator lives in ``estate_eval.py``; :func:`compare` checks a reply
against its :class:`Expected`, honouring runs of rows whose order the request leaves open.

Non-ASCII alphabet: only letters whose lower-case form is the same single character in
Python's ``str.lower``, PostgreSQL's ``lower`` and MariaDB's ``LOWER`` (checked against the
servers). Left out on purpose: ``İ`` (Python gives two code points), ``ẞ`` (MariaDB keeps
it), ``Σ`` (Python picks a final ``ς`` by context), and compatibility letters such as the
Kelvin and Ohm signs.

>>> one, again = generate(3), generate(3)
>>> one.tables == again.tables
True
>>> len(one.tables["VmInstanceVO"]) >= 10
True
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from zstack_like import GRAPH, HOST_STATES, VM_STATES

__all__ = ["ACCOUNTS", "ADMIN", "TEXT_POOL", "Estate", "Expected", "compare", "drop_estate_engines",
           "estate_engine", "generate", "load", "runs", "sibling_engine"]

Row = dict[str, Any]

#: ZStack's admin account uuid; the admin sees everything.
ADMIN = "36c27e8ff05c4780bf6d2fa65700f22e"
#: Ordinary accounts that own, share and receive rows.
ACCOUNTS = ("a1000000000000000000000000000001", "a2000000000000000000000000000002",
            "a3000000000000000000000000000003")

#: Awkward strings: case variants, LIKE metacharacters, quotes, backslashes, commas,
#: spaces at either end, the empty string and the agreed non-ASCII alphabet.
TEXT_POOL = (
    "web", "Web", "WEB", "web ", "web-01", "db_01", "db%01", "dbx01", "a_b", "a\\b", "a\\%b", "50%",
    "O'Brien", 'say "hi"', "café", "CAFÉ", "Café", "Ärger", "ärger", "straße", "Straße",
    "Δέλτα", "ΔΈΛΤΑ", "δέλτα", "Жук", "ЖУК", "жук", "ñandú", "ÑANDÚ", "", " lead", "trail ",
    "x,y", "a=b", "MiXeD-Case", "ÿes", "ŒUVRE",
)
SYSTEM_TAGS = ("hostname::web", "bootMode::Legacy", "bootMode::UEFI", "ha::NeverStop",
               "a,b", "50%off", "under_score", "Ärger::ü", "back\\slash", "capability::On")
USER_TAGS = ("web", "WEB", "prod", "dev", "team::é", "Team::É", "x,y", "жук")
HYPERVISORS = ("KVM", "kvm", "Simulator", "ESX")
PLATFORMS = ("Linux", "Windows", "Other", "Paravirtualization")

_EPOCH = datetime(2017, 1, 1)
_SPAN_SECONDS = 5 * 365 * 24 * 3600
#: Timestamps every estate carries, to hit 12 AM / 12 PM formatting and exact matches.
FIXED_TIMES = (datetime(2017, 5, 11, 13, 23, 2), datetime(2018, 1, 1, 0, 0, 0),
               datetime(2019, 6, 30, 12, 0, 0))


@dataclass(frozen=True)
class Estate:
    """Rows per table name; ``seed``/``size`` say how it was made."""

    seed: int
    size: int
    tables: Mapping[str, list[Row]]

    def rows(self, table: str) -> list[Row]:
        return self.tables.get(table, [])


class _Maker:
    """Draws values from one seeded generator so the whole estate is reproducible."""

    def __init__(self, seed: int, pool: tuple[str, ...] = TEXT_POOL) -> None:
        self.rng = random.Random(seed)
        self.pool = pool
        self._decks: dict[str, list[str]] = {}
        self._dealt: dict[str, int] = {}

    def uuid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def maybe(self, value: Any, null: float = 0.15) -> Any:
        return None if self.rng.random() < null else value

    def pick(self, pool: tuple[Any, ...] | list[Any], null: float = 0.15) -> Any:
        return self.maybe(self.rng.choice(pool), null) if pool else None

    def text(self, prefix: str, index: int, null: float = 0.1) -> str | None:
        """An awkward pool string, dealt from a shuffled deck per *prefix* so each one turns
        up once before any repeats, then half the time a unique ``prefix-index``; or NULL."""
        if self.rng.random() < null:
            return None
        dealt = self._dealt.get(prefix, 0)
        if dealt >= len(self.pool) and self.rng.random() < 0.5:
            return f"{prefix}-{index}"
        self._dealt[prefix] = dealt + 1
        deck = self._decks.setdefault(prefix, [])
        if not deck:
            deck.extend(self.rng.sample(self.pool, len(self.pool)))
        return deck.pop()

    def time(self, null: float = 0.1) -> datetime | None:
        if self.rng.random() < 0.15:
            return self.rng.choice(FIXED_TIMES)
        return self.maybe(_EPOCH + timedelta(seconds=self.rng.randrange(_SPAN_SECONDS)), null)

    def common(self, table: str, index: int, named: bool = True) -> Row:
        row: Row = {"uuid": self.uuid(), "createDate": self.time(), "lastOpDate": self.time()}
        if named:
            row["name"] = self.text(table[:-2].lower(), index)
        return row


def generate(seed: int = 0, size: int = 1) -> Estate:
    """A small estate; *size* scales every table (1 gives 30 VMs)."""
    mk = _Maker(seed * 7919 + size)
    rng = mk.rng
    t: dict[str, list[Row]] = {}

    t["ZoneVO"] = [{**mk.common("ZoneVO", i), "description": mk.text("zone desc", i, 0.3),
                    "state": mk.pick(("Enabled", "Disabled")),
                    "type": mk.pick(("zstack", "ZStack")),
                    "isDefault": mk.maybe(i == 0)} for i in range(2 + size)]
    zones = [z["uuid"] for z in t["ZoneVO"]]
    t["ClusterVO"] = [{**mk.common("ClusterVO", i), "description": mk.text("desc", i, 0.3),
                       "zoneUuid": mk.pick(zones, 0.1), "hypervisorType": mk.pick(HYPERVISORS),
                       "state": mk.pick(("Enabled", "Disabled")), "type": mk.pick(("zstack",))}
                      for i in range(2 * size + 2)]
    clusters = [c["uuid"] for c in t["ClusterVO"]]
    t["HostVO"] = [{**mk.common("HostVO", i), "zoneUuid": mk.pick(zones, 0.1),
                    "clusterUuid": mk.pick(clusters, 0.1),
                    "managementIp": mk.maybe(f"172.20.{i % 3}.{rng.randrange(1, 5)}"),
                    "hypervisorType": mk.pick(HYPERVISORS), "state": mk.pick(HOST_STATES),
                    "cpuUsage": mk.maybe(rng.randrange(0, 400) / 4),
                    "totalCpu": mk.pick((8, 16, 32, 64, 3_000_000_000))}
                   for i in range(3 * size + 3)]
    hosts = [h["uuid"] for h in t["HostVO"]]
    # Every host has a capacity row (as in ZStack); the value itself may be NULL.
    t["HostCapacityVO"] = [{"uuid": h, "availableCpu": mk.pick((0, 4, 8, 5_000_000_000))}
                           for h in hosts]
    t["L2NetworkVO"] = [{**mk.common("L2NetworkVO", i), "zoneUuid": mk.pick(zones, 0.1),
                         "physicalInterface": mk.pick(("eth0", "ETH0", "bond0", "eth1")),
                         "type": mk.pick(("L2NoVlanNetwork", "L2VlanNetwork"))}
                        for i in range(2 * size + 2)]
    l2s = [n["uuid"] for n in t["L2NetworkVO"]]
    pairs = sorted({(rng.choice(clusters), rng.choice(l2s)) for _ in range(3 * size + 3)})
    t["L2NetworkClusterRefVO"] = [{"id": i + 1, "clusterUuid": c, "l2NetworkUuid": n}
                                  for i, (c, n) in enumerate(pairs)]
    t["L3NetworkVO"] = [{**mk.common("L3NetworkVO", i), "l2NetworkUuid": mk.pick(l2s, 0.1),
                         "zoneUuid": mk.pick(zones, 0.1), "type": mk.pick(("L3BasicNetwork",)),
                         "state": mk.pick(("Enabled", "Disabled")),
                         "system": mk.pick((True, False)),
                         "ipVersion": mk.pick((4, 6))} for i in range(3 * size + 2)]
    l3s = [n["uuid"] for n in t["L3NetworkVO"]]
    t["VmInstanceVO"] = [{**mk.common("VmInstanceVO", i), "description": mk.text("d", i, 0.4),
                          "zoneUuid": mk.pick(zones), "clusterUuid": mk.pick(clusters),
                          "hostUuid": mk.pick(hosts, 0.25), "hypervisorType": mk.pick(HYPERVISORS),
                          "type": mk.pick(("UserVm", "ApplianceVm")), "state": mk.pick(VM_STATES),
                          "cpuNum": mk.pick((1, 2, 4, 8, 16)),
                          "memorySize": mk.pick((1 << 30, 2 << 30, 8 << 30)),
                          "platform": mk.pick(PLATFORMS)} for i in range(16 * size + 14)]
    vms = [v["uuid"] for v in t["VmInstanceVO"]]
    nics: list[Row] = []
    owners: list[str | None] = [*vms, None, None]  # two NICs belong to no VM
    for vm in owners:
        for device in range(rng.choice((0, 1, 1, 2, 3)) if vm else 1):
            nics.append({**mk.common("VmNicVO", len(nics), named=False), "vmInstanceUuid": vm,
                         "l3NetworkUuid": mk.pick(l3s, 0.1),
                         "ip": mk.maybe(f"192.168.{rng.randrange(3)}.{rng.randrange(1, 6)}"),
                         "mac": mk.maybe(f"fa:16:3e:{rng.randrange(256):02x}:00:{device:02x}"),
                         "netmask": mk.pick(("255.255.255.0", "255.255.0.0")),
                         "gateway": mk.pick(("192.168.0.1", "192.168.1.1")),
                         "deviceId": mk.maybe(device)})
    t["VmNicVO"] = nics
    t["VipVO"] = [{**mk.common("VipVO", i), "l3NetworkUuid": mk.pick(l3s, 0.1),
                   "ip": mk.maybe(f"100.64.{rng.randrange(2)}.{rng.randrange(1, 4)}"),
                   "state": mk.pick(("Enabled", "Disabled")), "useFor": mk.pick(("Eip", "SNAT"))}
                  for i in range(2 * size + 3)]
    vips = [v["uuid"] for v in t["VipVO"]]
    nic_ids = [n["uuid"] for n in nics]
    t["EipVO"] = [{**mk.common("EipVO", i), "vmNicUuid": mk.pick(nic_ids, 0.2),
                   "vipUuid": mk.pick(vips, 0.1), "vipIp": mk.maybe(f"100.64.0.{i % 3 + 1}"),
                   "guestIp": mk.maybe(f"192.168.0.{i % 4 + 1}"),
                   "state": mk.pick(("Enabled", "Disabled"))} for i in range(2 * size + 2)]
    _tags(mk, t)
    _ownership(mk, t)
    return Estate(seed=seed, size=size, tables=t)


def _tags(mk: _Maker, t: dict[str, list[Row]]) -> None:
    """Tags on about half the rows of every resource, plus rows whose type is wrong."""
    system: list[Row] = []
    user: list[Row] = []
    for res in GRAPH:
        for row in t[res.table]:
            for pool, out in ((SYSTEM_TAGS, system), (USER_TAGS, user)):
                for tag in mk.rng.sample(pool, mk.rng.choice((0, 0, 1, 2))):
                    out.append({"uuid": mk.uuid(), "resourceUuid": row["uuid"],
                                "resourceType": res.tag_type, "tag": tag})
            # A tag filed under another resource type must never count for this row.
            if mk.rng.random() < 0.1:
                system.append({"uuid": mk.uuid(), "resourceUuid": row["uuid"],
                               "resourceType": "ImageVO", "tag": mk.rng.choice(SYSTEM_TAGS)})
                user.append({"uuid": mk.uuid(), "resourceUuid": row["uuid"],
                             "resourceType": "ImageVO", "tag": mk.rng.choice(USER_TAGS)})
    t["SystemTagVO"] = system
    t["UserTagVO"] = user


def _ownership(mk: _Maker, t: dict[str, list[Row]]) -> None:
    """Each owned row: an owner (admin or an account, a few none), some shares, some public."""
    refs: list[Row] = []
    shared: list[Row] = []
    for res in GRAPH:
        if not res.owned:
            continue
        for row in t[res.table]:
            owner = mk.rng.choice((ADMIN, *ACCOUNTS, *ACCOUNTS, None))
            if owner is not None:
                refs.append({"id": len(refs) + 1, "accountUuid": owner,
                             "resourceUuid": row["uuid"], "resourceType": res.tag_type})
            roll = mk.rng.random()
            if roll < 0.15:
                shared.append({"id": len(shared) + 1, "receiverAccountUuid": None,
                               "toPublic": True, "resourceUuid": row["uuid"],
                               "resourceType": res.tag_type})
            elif roll < 0.35:
                shared.append({"id": len(shared) + 1,
                               "receiverAccountUuid": mk.rng.choice(ACCOUNTS), "toPublic": False,
                               "resourceUuid": row["uuid"], "resourceType": res.tag_type})
    t["AccountResourceRefVO"] = refs
    t["SharedResourceVO"] = shared


def load(engine: sa.Engine, estate: Estate) -> None:
    """Create zquery's tables for ``GRAPH`` on *engine* and bulk-insert *estate*.

    Only the columns a table really has are sent, so extra bookkeeping keys in a row
    (an ``id`` the table does not declare) do no harm.
    """
    from zquery.schema.tables import build_metadata

    metadata = build_metadata(GRAPH)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for name, rows in estate.tables.items():
            table = metadata.tables[name]
            if not rows:
                continue
            known = set(table.c.keys())
            conn.execute(table.delete())
            conn.execute(table.insert(), [{k: v for k, v in r.items() if k in known}
                                          for r in rows])


# (base engine url, name) → (engine on the sibling database, database name or file path).
_LOADED: dict[tuple[str, str], tuple[sa.Engine, str]] = {}


def _server_admin(engine: sa.Engine) -> sa.Engine:
    """An autocommit engine on the server's maintenance database (never a test database,
    so it neither blocks nor depends on one being dropped)."""
    database = "postgres" if engine.dialect.name == "postgresql" else None
    return sa.create_engine(engine.url.set(database=database), isolation_level="AUTOCOMMIT",
                            poolclass=sa.pool.NullPool)


def sibling_engine(base: sa.Engine, name: str,
                   setup: Callable[[sa.Engine], None]) -> sa.Engine:
    """An engine on a database of its own next to *base* (same server), made and set up
    once per (server, *name*) with *setup*; dropped by :func:`drop_estate_engines`.

    A database of their own keeps these rows apart from other tests that use the shared
    session engines, and lets several estates stay loaded side by side.
    """
    key = (base.url.render_as_string(hide_password=False), name)
    if key in _LOADED:
        return _LOADED[key][0]
    if base.dialect.name == "sqlite":
        where = f"{base.url.database}.{name}"
        Path(where).unlink(missing_ok=True)
        engine = sa.create_engine(f"sqlite:///{where}")
    else:
        where = f"{base.url.database}_{name}"
        charset = "" if base.dialect.name == "postgresql" else \
            " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        admin = _server_admin(base)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {where}")
            conn.exec_driver_sql(f"CREATE DATABASE {where}{charset}")
        admin.dispose()
        engine = sa.create_engine(base.url.set(database=where))
    setup(engine)
    _LOADED[key] = (engine, where)
    return engine


def estate_engine(base: sa.Engine, estate: Estate) -> sa.Engine:
    """An engine on a sibling database of *base* loaded with *estate* (once)."""
    return sibling_engine(base, f"e{estate.seed}_{estate.size}",
                          lambda engine: load(engine, estate))



def drop_estate_engines() -> None:
    """Dispose every estate engine and drop the databases :func:`estate_engine` created."""
    while _LOADED:
        _, (engine, name) = _LOADED.popitem()
        engine.dispose()
        if engine.dialect.name == "sqlite":
            Path(name).unlink(missing_ok=True)
            continue
        admin = _server_admin(engine)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


# -- comparing a reply with the evaluator's --------------------------------------------


@dataclass(frozen=True)
class Expected:
    """The reply the evaluator expects, and how free the row order is.

    ``runs`` splits ``reply["inventories"]`` into consecutive runs whose inner order the
    request leaves open (ties of the sort keys, or one run when nothing is sorted).
    """

    reply: dict[str, Any]
    runs: tuple[int, ...]


def runs(keys: list[tuple[Any, ...]], sorted_: bool) -> tuple[int, ...]:
    """Lengths of consecutive runs of equal keys (one run for everything when unsorted)."""
    if not keys:
        return ()
    if not sorted_:
        return (len(keys),)
    runs = [1]
    for before, after in itertools.pairwise(keys):
        if before == after:
            runs[-1] += 1
        else:
            runs.append(1)
    return tuple(runs)


def _canonical(item: Any) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False)


def compare(actual: dict[str, Any], expected: Expected) -> str | None:
    """None when *actual* is the expected reply (order free inside runs), else a diff text."""
    if set(actual) != set(expected.reply):
        return f"keys {sorted(actual)} != {sorted(expected.reply)}"
    if actual.get("total") != expected.reply.get("total"):
        return f"total {actual.get('total')} != {expected.reply.get('total')}"
    if "inventories" not in actual:
        return None
    got, want = actual["inventories"], expected.reply["inventories"]
    if len(got) != len(want):
        return f"{len(got)} rows != {len(want)} expected\n got: {got}\nwant: {want}"
    at = 0
    for length in expected.runs:
        got_run = sorted(map(_canonical, got[at:at + length]))
        want_run = sorted(map(_canonical, want[at:at + length]))
        if got_run != want_run:
            return f"rows {at}..{at + length - 1} differ\n got: {got_run}\nwant: {want_run}"
        at += length
    return None

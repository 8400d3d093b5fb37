"""The same demo database in SQLite, PostgreSQL and MariaDB gives the same replies: every
query example the manual prints, and a corpus of requests over every operator, cross-table
paths, tags, sorting, paging, fields, groupBy, counts, ``/{uuid}``, placeholder paths,
sessions and errors."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from estate import drop_estate_engines, sibling_engine

from zquery.api import ZQuery
from zquery.catalogue import load_catalogue, load_examples
from zquery.demo import DEFAULT_SEED, DEMO_ADMINS, DEMO_SESSIONS, build_demo
from zquery.demo.values import Ids
from zquery.schema.tables import build_metadata
from zquery.server import QueryService, ServerConfig

SCALE = 120
API = "/zstack/v1"
DATABASES = ("sqlite", "postgresql", "mysql")
WEB_VM = Ids(DEFAULT_SEED).uuid("VmInstanceVO:vm", 1)

# (path, query, session)
CORPUS: list[tuple[str, str, str | None]] = [
    ("/vm-instances", "q=name~=WEB%25&sort=name&limit=20&fields=name", None),
    ("/vm-instances", "q=name!~=web%25&count=true", None),
    ("/vm-instances", "q=description~=%25caf%C3%A9%25&fields=name,description&sort=name", None),
    ("/vm-instances", "q=description~=%2550%5C%25%25&fields=name&sort=name", None),
    ("/vm-instances", "q=description~=%25o'brien%25&count=true", None),
    ("/vm-instances", "q=description~=%25%D0%96%D0%A3%D0%9A%25&count=true", None),
    ("/vm-instances", "q=description~=%25a%5Cb%25&count=true", None),
    ("/vm-instances", "q=description is null&count=true", None),
    ("/vm-instances", "q=description=&count=true", None),
    ("/vm-instances", "q=description not null&sort=-createDate&limit=5&fields=name,createDate",
     None),
    ("/vm-instances", "q=cpuNum>4&q=memorySize<=8589934592&sort=cpuNum,-name&limit=15"
     "&fields=name,cpuNum,memorySize", None),
    ("/vm-instances", "q=state?=Running,Paused&q=state!?=Paused&count=true", None),
    ("/vm-instances", "q=createDate>=2020-01-01 00:00:00&q=createDate<2022-01-01T00:00:00Z"
     "&sort=createDate&limit=10&fields=name,createDate", None),
    ("/vm-instances", "q=lastOpDate>1546300800000&count=true", None),
    ("/vm-instances", "q=vmNics.l3Network.zone.name=TestZone&sort=name&fields=name", None),
    ("/vm-instances", "q=vmNics.ip!=192.168.10.100&count=true", None),
    ("/vm-instances", "q=vmNics.ip is null&count=true", None),
    ("/vm-instances", "q=allVolumes.size>53687091200&q=allVolumes.type=Data&count=true", None),
    ("/vm-instances", "q=__systemTag__~=hostname::%25&q=__userTag__ is null&count=true", None),
    ("/vm-instances", "q=__systemTag__!=ha::NeverStop&count=true", None),
    ("/vm-instances", "q=__systemTag__~=%2550\\%25%25&count=true", None),
    ("/vm-instances", "q=__userTag__=Team::%C3%89&fields=name&sort=name", None),
    ("/vm-instances", "q=zone.uuid is null&count=true", None),
    ("/vm-instances", "q=hostUuid is null&q=lastHostUuid not null&count=true", None),
    ("/vm-instances", "q=host.cluster.zone.name=TestZone&groupBy=state&sort=-count,state", None),
    ("/vm-instances", "groupBy=hypervisorType,platform&sort=hypervisorType,platform", None),
    ("/vm-instances", "q=name=vm1", None),
    ("/vm-instances", "sortBy=name&sortDirection=desc&start=5&limit=5&replyWithCount=true"
     "&fields=name", None),
    ("/vm-instances", "q=vmNics.vmInstance.name=web-vm&fields=name", None),
    ("/vm-instances", "q=zone.vmInstance.name=vm1&count=true", None),
    ("/vm-instances", "sort=zone.name,name&limit=12&fields=name,zoneUuid", None),
    (f"/vm-instances/{WEB_VM}", "", None),
    (f"/vm-instances/{WEB_VM}", "fields=name,state", None),
    ("/vm-instances/e58abf7fd2d0332bb18ba348195be863/pci-device-specs", "", None),
    ("/vm-instances/nics", "q=l3Network.category=Public&sort=ip&limit=10&fields=ip,deviceId",
     None),
    ("/vm-instances/nics", "q=ip~=192.168.%25&sort=ip", None),
    ("/hosts", "q=availableCpuCapacity>0&sort=name&limit=5&fields=name,availableCpuCapacity",
     None),
    ("/hosts", "q=cluster.name=cluster1&fields=managementIp&sort=managementIp", None),
    ("/volumes", "q=vmInstanceUuid is null&sort=name&fields=name,size", None),
    ("/volumes", "q=vmInstance.state=Stopped&q=type=Root&count=true", None),
    ("/eips", "q=vmNic.vmInstance.name=web-vm", None),
    ("/vips", "q=useFor?=Eip,LoadBalancer&sort=ip&limit=10&fields=ip,useFor", None),
    ("/l3-networks", "q=ipRanges.networkCidr~=10.%25&sort=name&fields=name", None),
    ("/security-groups", "q=rules.endPort=22&q=rules.state=Enabled&sort=name&fields=name", None),
    ("/load-balancers", "q=listeners.loadBalancerPort=80&fields=name", None),
    ("/zones", "sort=name&fields=name,isDefault", None),
    ("/images", "q=size>=21474836480&q=platform!=Windows&sort=-size,name&limit=5"
     "&fields=name,size", None),
    ("/vm-instances", "count=true", "alice-session"),
    ("/vm-instances", "q=vmNics.l3Network.category=Private&sort=name&fields=name", "bob-session"),
    ("/volumes", "q=vmInstance.name~=web%25&count=true", "bob-session"),
    ("/vm-instances/nics", "sort=ip&limit=5&fields=ip", "carol-session"),
    ("/vm-instances", "q=nmae=vm1", None),
    ("/vm-instances", "q=cpuNum>abc", None),
    ("/no-such-api", "", None),
]


def _example_requests() -> list[tuple[str, str, str | None]]:
    """Every example of the manual as an HTTP request (placeholders filled from its
    conditions, each condition URL-encoded)."""
    graph = load_catalogue()
    out = []
    for example in load_examples():
        conditions = example["conditions"]
        path = example["rest_path"]
        for name in re.findall(r"\{([^}]+)\}", path):
            value = next((c.split("=", 1)[1] for c in conditions
                          if c.startswith(f"{name}=")), None)
            if value is not None:
                path = path.replace("{" + name + "}", value)
        if "{" in path:
            static = [p for p in graph.resource(example["api"]).rest_paths if "{" not in p]
            path = static[0] if static else path
        query = "&".join("q=" + quote(c, safe="") for c in conditions)
        out.append((path, query, None))
    return out


REQUESTS = CORPUS + _example_requests()


@pytest.fixture(scope="session")
def _drop_estates() -> Any:
    yield
    drop_estate_engines()


@pytest.fixture(scope="module")
def services(request: pytest.FixtureRequest, _drop_estates: None) -> dict[str, QueryService]:
    zq = ZQuery()
    config = ServerConfig(sessions=DEMO_SESSIONS, admin_accounts=DEMO_ADMINS)
    out = {}
    for kind in DATABASES:
        base: sa.Engine = request.getfixturevalue(f"{kind}_engine")
        engine = sibling_engine(base, f"demo{SCALE}",
                                lambda e: build_demo(e, scale=SCALE, replace=True))
        out[kind] = QueryService(zq, engine, config)
    return out


def _canonical(path: str, query: str, body: Any) -> Any:
    """Without sort and paging the row order is the database's own: compare as a set."""
    ordered = any(k in query for k in ("sort=", "sortBy=", "limit=", "start="))
    if isinstance(body, dict) and "inventories" in body and not ordered:
        rows = sorted(body["inventories"], key=lambda r: json.dumps(r, sort_keys=True))
        return {**body, "inventories": rows}
    return body


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 30
    assert len(REQUESTS) >= len(CORPUS) + 100


@pytest.mark.parametrize(("path", "query", "session"), REQUESTS)
def test_every_database_gives_the_same_reply(services: dict[str, QueryService], path: str,
                                             query: str, session: str | None) -> None:
    headers = [("Authorization", f"OAuth {session}")] if session else []
    replies = {kind: service.handle("GET", API + path, query, headers)
               for kind, service in services.items()}
    first = replies["sqlite"]
    assert first.status in (200, 400, 404), first.body[:300]
    for kind, reply in replies.items():
        assert reply.status == first.status, kind
        assert _canonical(path, query, reply.json()) == _canonical(path, query, first.json()), \
            kind


def test_the_manuals_examples_answer_rows_and_its_errata_fail(
        services: dict[str, QueryService]) -> None:
    service = services["sqlite"]
    for (path, query, _), example in zip(_example_requests(), load_examples(), strict=True):
        reply = service.handle("GET", API + path, query + "&count=true", [])
        names = [c.split("=")[0] for c in example["conditions"]]
        if example.get("erratum"):
            assert reply.status == 400, (example["api"], example["conditions"])
        elif len(set(names)) == len(names):  # name=a&name=b can match nothing
            assert reply.status == 200 and reply.json()["total"] > 0, example


def test_the_three_databases_hold_the_same_rows(services: dict[str, QueryService]) -> None:
    metadata = build_metadata(load_catalogue())
    counts = {}
    for kind, service in services.items():
        with service.engine.connect() as conn:
            counts[kind] = {name: conn.execute(sa.select(sa.func.count()).select_from(table))
                            .scalar_one() for name, table in metadata.tables.items()}
    assert counts["sqlite"] == counts["postgresql"] == counts["mysql"]
    assert counts["sqlite"]["VmInstanceVO"] >= SCALE

"""The HTTP server through a real client: every parameter, every error status and shape,
``/{uuid}`` and placeholder paths, account scoping, health, mounting, the per-request
function, and no 500 for anything a client sends."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import Mount

from zquery.api import ZQuery
from zquery.demo import ACCOUNTS, ADMIN_ACCOUNT, DEMO_ADMINS, DEMO_SESSIONS, build_demo
from zquery.server import QueryService, ServerConfig, create_app, handle_request
from zquery.server_app import build_app

with warnings.catch_warnings():  # starlette 1.x would rather see httpx2; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

API = "/zstack/v1"
ALICE, BOB = ACCOUNTS["alice"], ACCOUNTS["bob"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    path = tmp_path_factory.mktemp("server") / "demo.sqlite"
    build_demo(f"sqlite:///{path}", scale=60)
    engine = sa.create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def zq() -> ZQuery:
    return ZQuery()


@pytest.fixture(scope="module")
def service(zq: ZQuery, engine: sa.Engine) -> QueryService:
    return QueryService(zq, engine, ServerConfig(sessions=DEMO_SESSIONS,
                                                 admin_accounts=DEMO_ADMINS))


@pytest.fixture(scope="module")
def client(service: QueryService) -> TestClient:
    return TestClient(build_app(service))


def _get(client: TestClient, path: str, query: str = "", **headers: str) -> Any:
    response = client.get(f"{API}{path}" + (f"?{query}" if query else ""), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def _names(reply: dict[str, Any]) -> list[str]:
    return [inv["name"] for inv in reply["inventories"]]


def _assert_error_shape(text: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(text)
    error = body["error"]
    assert set(error) >= {"code", "description", "details"}
    assert isinstance(error["details"], str) and error["details"]
    for leak in ("Traceback", "SELECT ", "sqlalchemy", "File \""):
        assert leak not in text
    return error


# -- parameters ----------------------------------------------------------------------------

CONDITION_CASES = [
    ("q=name=vm1", ["vm1"]),
    ("condition=name=vm1", ["vm1"]),
    ("q=name=vm1&q=state=Running", ["vm1"]),
    ("q=vmNics.ip=192.168.0.100", ["web-vm"]),
    ("q=vmNics.ip%3F%3D192.168.10.100,192.168.0.100&sort=name", ["vm1", "web-vm"]),
]


@pytest.mark.parametrize(("query", "expected"), CONDITION_CASES)
def test_conditions_select_the_planted_rows(client: TestClient, query: str,
                                            expected: list[str]) -> None:
    assert _names(_get(client, "/vm-instances", query + "&fields=name")) == expected


@pytest.fixture(scope="module")
def all_names(client: TestClient) -> list[str]:
    return _names(_get(client, "/vm-instances", "sort=name&fields=name"))


PAGE_CASES = [(0, 5), (3, 4), (10, 0), (59, 10), (1000, 3)]


@pytest.mark.parametrize(("start", "limit"), PAGE_CASES)
def test_start_and_limit_page_through_the_sorted_rows(client: TestClient, all_names: list[str],
                                                      start: int, limit: int) -> None:
    page = _get(client, "/vm-instances", f"sort=name&fields=name&start={start}&limit={limit}")
    assert _names(page) == all_names[start:start + limit]


def test_the_default_limit_returns_every_row_here(client: TestClient,
                                                  all_names: list[str]) -> None:
    assert len(_get(client, "/vm-instances", "fields=uuid")["inventories"]) == len(all_names)


def test_count_and_reply_with_count(client: TestClient, all_names: list[str]) -> None:
    assert _get(client, "/vm-instances", "count=true") == {"total": len(all_names)}
    assert _get(client, "/vm-instances", "count=TRUE&q=name=vm1") == {"total": 1}
    reply = _get(client, "/vm-instances", "replyWithCount=true&limit=2&fields=name")
    assert reply["total"] == len(all_names) and len(reply["inventories"]) == 2
    assert "total" not in _get(client, "/vm-instances", "replyWithCount=false&limit=1")


SORT_CASES = [
    ("sort=-name", True), ("sortBy=name&sortDirection=desc", True), ("sort=name", False),
    ("sort=%2Bname", False), ("sort=+name", False), ("sortBy=name", False),
    ("sortBy=name&sortDirection=ASC", False),
]


@pytest.mark.parametrize(("query", "descending"), SORT_CASES)
def test_every_sort_spelling(client: TestClient, all_names: list[str], query: str,
                             descending: bool) -> None:
    names = _names(_get(client, "/vm-instances", query + "&fields=name"))
    assert names == (all_names[::-1] if descending else all_names)


def test_sorting_through_a_to_one_relation(client: TestClient) -> None:
    reply = _get(client, "/hosts", "sort=zone.name,name&fields=name,zoneUuid")
    zones = {z["uuid"]: z["name"] for z in _get(client, "/zones")["inventories"]}
    keys = [(zones[h["zoneUuid"]], h["name"]) for h in reply["inventories"]]
    assert keys == sorted(keys)


FIELDS_CASES = ["fields=uuid,name", "fields=uuid&fields=name", "fields=name,uuid"]


@pytest.mark.parametrize("query", FIELDS_CASES)
def test_fields_repeated_or_comma_separated(client: TestClient, query: str) -> None:
    reply = _get(client, "/vm-instances", query + "&q=name=vm1")
    assert [set(inv) for inv in reply["inventories"]] == [{"uuid", "name"}]


def test_group_by_counts_each_group(client: TestClient, all_names: list[str]) -> None:
    groups = _get(client, "/vm-instances", "groupBy=state&sort=-count")["inventories"]
    assert sum(g["count"] for g in groups) == len(all_names)
    assert [g["count"] for g in groups] == sorted((g["count"] for g in groups), reverse=True)
    assert all(set(g) == {"state", "count"} for g in groups)
    assert _get(client, "/vm-instances", "groupBy=state&count=true")["total"] == len(groups)


def test_tolerated_parameters_and_nested_collections(client: TestClient) -> None:
    reply = _get(client, "/vm-instances", "q=name=vm1&timeout=5")
    vm = reply["inventories"][0]
    assert {nic["ip"] for nic in vm["vmNics"]} == {"192.168.10.100", "192.168.20.100"}
    assert any(vol["type"] == "Root" for vol in vm["allVolumes"])
    assert vm["createDate"].endswith(("AM", "PM"))


# -- /{uuid} and placeholders --------------------------------------------------------------


def test_a_uuid_path_is_one_uuid_condition(client: TestClient) -> None:
    listed = _get(client, "/vm-instances", "q=name=web-vm")["inventories"][0]
    assert _get(client, f"/vm-instances/{listed['uuid']}") == {"inventories": [listed]}
    assert _get(client, f"/vm-instances/{listed['uuid']}", "fields=name") == {
        "inventories": [{"name": "web-vm"}]}
    assert _get(client, "/vm-instances/no-such-uuid") == {"inventories": []}
    assert _get(client, "/vm-instances/a%2Cb%25") == {"inventories": []}
    nics = _get(client, "/vm-instances/nics", "q=ip=192.168.0.100")  # a path, not a uuid
    assert [nic["ip"] for nic in nics["inventories"]] == ["192.168.0.100"]


def test_a_placeholder_path_adds_its_condition(client: TestClient, zq: ZQuery,
                                              engine: sa.Engine) -> None:
    vm = "e58abf7fd2d0332bb18ba348195be863"  # the manual's example VM (planted)
    refs = _get(client, f"/vm-instances/{vm}/pci-device-specs")["inventories"]
    assert refs and {ref["vmInstanceUuid"] for ref in refs} == {vm}
    with engine.connect() as conn:
        expected = zq.run(conn, "VmInstancePciDeviceSpecRef", f"q=vmInstanceUuid={vm}")
    assert refs == expected["inventories"]
    assert _get(client, "/vm-instances/no-vm/pci-device-specs", "count=true") == {"total": 0}


# -- errors --------------------------------------------------------------------------------

ERROR_CASES = [
    ("GET", "/vm-instances?q=nmae=vm1", {}, 400, "SYS.1007", "resolve.unknown_field"),
    ("GET", "/vm-instances?q=name%20=%20vm1", {}, 400, "SYS.1007", "request.syntax"),
    ("GET", "/vm-instances?q=name%3Fvm1", {}, 400, "SYS.1007", "request.syntax"),
    ("GET", "/vm-instances?limt=5", {}, 400, "SYS.1007", "request.unknown_parameter"),
    ("GET", "/vm-instances?limit=-1", {}, 400, "SYS.1007", "request.bad_parameter"),
    ("GET", "/vm-instances?start=1.5", {}, 400, "SYS.1007", "request.bad_parameter"),
    ("GET", "/vm-instances?limit=1&limit=2", {}, 400, "SYS.1007",
     "request.duplicate_parameter"),
    ("GET", "/vm-instances?sort=name&sortBy=name", {}, 400, "SYS.1007",
     "request.ambiguous_sort"),
    ("GET", "/vm-instances?sortDirection=desc", {}, 400, "SYS.1007", "request.ambiguous_sort"),
    ("GET", "/vm-instances?count=maybe", {}, 400, "SYS.1007", "request.bad_parameter"),
    ("GET", "/vm-instances?q=cpuNum>abc", {}, 400, "SYS.1007", "resolve.bad_value"),
    ("GET", "/vm-instances?q=state=Sleeping", {}, 400, "SYS.1007", "resolve.bad_value"),
    ("GET", "/vm-instances?q=cpuNum~=1", {}, 400, "SYS.1007", "resolve.bad_operator"),
    ("GET", "/vm-instances?q=vmNics=1", {}, 400, "SYS.1007", "resolve.path_ends_on_relation"),
    ("GET", "/vm-instances?sort=vmNics.ip", {}, 400, "SYS.1007", "resolve.to_many_not_allowed"),
    ("GET", "/vm-instances?fields=vmNics.ip", {}, 400, "SYS.1007", "request.bad_parameter"),
    ("GET", "/vm-instances?groupBy=state&fields=name", {}, 400, "SYS.1007",
     "resolve.not_allowed"),
    ("GET", "/vm-instances?" + "&".join(["q=name=x"] * 101), {}, 400, "SYS.1007",
     "limit.conditions"),
    ("GET", "/no-such-api", {}, 404, "SYS.1007", "resolve.unknown_resource"),
    ("GET", "/vm-instance", {}, 404, "SYS.1007", "resolve.unknown_resource"),
    ("GET", "/vm-instances/a/b/c", {}, 404, "SYS.1007", "resolve.unknown_resource"),
    ("POST", "/vm-instances", {}, 405, "SYS.1007", "request.method_not_allowed"),
    ("PUT", "/vm-instances/x", {}, 405, "SYS.1007", "request.method_not_allowed"),
    ("DELETE", "/vm-instances", {}, 405, "SYS.1007", "request.method_not_allowed"),
    ("PATCH", "/zones", {}, 405, "SYS.1007", "request.method_not_allowed"),
    ("GET", "/vm-instances", {"Authorization": "OAuth no-such-session"}, 401, "ID.1001",
     "request.invalid_session"),
    ("GET", "/vm-instances", {"Authorization": "Bearer alice-session"}, 401, "ID.1001",
     "request.invalid_session"),
    ("GET", "/vm-instances", {"Authorization": "OAuth"}, 401, "ID.1001",
     "request.invalid_session"),
]


@pytest.mark.parametrize(("method", "path", "headers", "status", "code", "zquery_code"),
                         ERROR_CASES)
def test_every_error_has_its_status_and_the_manuals_shape(
        client: TestClient, method: str, path: str, headers: dict[str, str], status: int,
        code: str, zquery_code: str) -> None:
    response = client.request(method, API + path, headers=headers)
    assert response.status_code == status
    error = _assert_error_shape(response.text)
    assert error["code"] == code
    assert error["opaque"]["zquery"]["code"] == zquery_code
    if status == 405:
        assert response.headers["allow"] == "GET"


def test_a_value_past_the_length_limit_is_400(service: QueryService) -> None:
    # Past httpx's URL limit, so through the per-request entry point.
    reply = service.handle("GET", f"{API}/vm-instances", "q=name=" + "x" * 70_000, [])
    assert reply.status == 400
    assert _assert_error_shape(reply.body.decode())["opaque"]["zquery"]["code"] == \
        "limit.value_length"


def test_an_error_points_at_the_bad_span(client: TestClient) -> None:
    response = client.get(f"{API}/vm-instances?q=name=vm1&q=vmNics.ipp=1")
    detail = _assert_error_shape(response.text)["opaque"]["zquery"]
    assert (detail["param"], detail["start"], detail["end"]) == ("q[1]", 7, 10)
    assert detail["hint"] == "did you mean 'ip'?"


def test_outside_the_prefix_is_404(client: TestClient) -> None:
    response = client.get("/v2/vm-instances")
    assert response.status_code == 404
    _assert_error_shape(response.text)


@pytest.mark.parametrize("url", ["sqlite:////nonexistent-dir/zquery.sqlite", "sqlite://"])
def test_a_broken_database_is_503_without_details(zq: ZQuery, url: str) -> None:
    broken = TestClient(create_app(zq, sa.create_engine(url)))
    response = broken.get(f"{API}/vm-instances?q=name=vm1")
    assert response.status_code == 503
    assert _assert_error_shape(response.text)["code"] in ("SYS.1000", "SYS.1001")
    assert broken.get("/health").status_code == (503 if "nonexistent" in url else 200)


# -- sessions and scoping ------------------------------------------------------------------


def _uuids(client: TestClient, path: str, query: str = "", session: str | None = None
           ) -> set[str]:
    headers = {"Authorization": f"OAuth {session}"} if session else {}
    return {inv["uuid"] for inv in _get(client, path, query + "&fields=uuid", **headers)
            ["inventories"]}


def _visible(engine: sa.Engine, account: str, kind: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.exec_driver_sql(
            'SELECT "resourceUuid" FROM "AccountResourceRefVO" WHERE "accountUuid" = ? AND '
            '"resourceType" = ? UNION SELECT "resourceUuid" FROM "SharedResourceVO" WHERE '
            '"resourceType" = ? AND ("receiverAccountUuid" = ? OR "toPublic" = 1)',
            (account, kind, kind, account)).scalars())


@pytest.mark.parametrize(("session", "account"), [("alice-session", ALICE),
                                                  ("bob-session", BOB)])
@pytest.mark.parametrize(("path", "kind"), [("/vm-instances", "VmInstanceVO"),
                                            ("/volumes", "VolumeVO"),
                                            ("/vm-instances/nics", "VmNicVO")])
def test_a_session_sees_what_its_account_owns_or_is_shared(
        client: TestClient, engine: sa.Engine, session: str, account: str, path: str,
        kind: str) -> None:
    everything = _uuids(client, path)
    seen = _uuids(client, path, session=session)
    assert seen == everything & _visible(engine, account, kind)
    assert 0 < len(seen) < len(everything)
    assert _uuids(client, path, session="admin-session") == everything


def test_a_hidden_row_stays_hidden_by_uuid_and_across_relations(
        client: TestClient, engine: sa.Engine) -> None:
    hidden = sorted(_uuids(client, "/vm-instances/nics") - _visible(engine, ALICE, "VmNicVO"))
    nic = _get(client, f"/vm-instances/nics/{hidden[0]}")["inventories"][0]
    as_alice = {"Authorization": "OAuth alice-session"}
    assert _get(client, f"/vm-instances/nics/{hidden[0]}", **as_alice) == {"inventories": []}
    # a condition through the NIC must not reveal it either (every hop is scoped)
    vms = _get(client, "/vm-instances", f"q=vmNics.uuid={nic['uuid']}&count=true", **as_alice)
    assert vms == {"total": 0}
    assert _get(client, "/vm-instances", f"q=vmNics.uuid={nic['uuid']}&count=true") == {
        "total": 1}


def test_a_closed_server_wants_a_session(zq: ZQuery, engine: sa.Engine) -> None:
    closed = TestClient(create_app(zq, engine, config=ServerConfig(
        sessions=DEMO_SESSIONS, admin_accounts=DEMO_ADMINS, open=False)))
    response = closed.get(f"{API}/zones")
    assert response.status_code == 401
    assert _assert_error_shape(response.text)["code"] == "ID.1001"
    ok = closed.get(f"{API}/zones?count=true", headers={"authorization": "oauth admin-session"})
    assert ok.status_code == 200
    assert ADMIN_ACCOUNT in DEMO_ADMINS


# -- health, mounting, the per-request function --------------------------------------------


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "sqlite", "apis": 186}


def test_the_app_mounts_under_another_app(service: QueryService) -> None:
    outer = TestClient(Starlette(routes=[Mount("/cloud", app=build_app(service))]))
    assert outer.get(f"/cloud{API}/zones?count=true").json() == {"total": 2}
    assert outer.get("/cloud/health").status_code == 200
    assert outer.get(f"/cloud{API}/nope").status_code == 404


@pytest.mark.parametrize("target", ["/vm-instances?q=name=vm1&fields=name", "/nope",
                                    "/vm-instances?limit=x"])
def test_the_per_request_function_answers_like_http(client: TestClient, zq: ZQuery,
                                                    engine: sa.Engine, target: str) -> None:
    path, _, query = target.partition("?")
    status, headers, body = handle_request(zq, engine, "GET", API + path, query, [])
    response = client.get(API + target)
    assert (status, json.loads(body)) == (response.status_code, response.json())
    assert ("content-type", "application/json; charset=utf-8") in headers


# -- nothing a client sends is a 500 -------------------------------------------------------

_NAMES = st.sampled_from(["q", "condition", "limit", "start", "count", "replyWithCount",
                          "sort", "sortBy", "sortDirection", "fields", "groupBy", "x"])
_VALUES = st.one_of(st.text(max_size=30), st.sampled_from([
    "name=vm1", "vmNics.ip~=%", "cpuNum>1", "zone.name", "-name", "uuid,name", "true", "1",
    "__systemTag__!=a", "name?=", "vmNics.l3Network.zone.uuid is null", "state", "count"]))
_PATHS = st.one_of(st.sampled_from(["/vm-instances", "/zones", "/vm-instances/nics",
                                    "/vm-instances/x/pci-device-specs", "/hosts/abc"]),
                   st.text(alphabet="abc-/%{}.", max_size=20).map(lambda s: "/" + s))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=_PATHS, pairs=st.lists(st.tuples(_NAMES, _VALUES), max_size=4),
       method=st.sampled_from(["GET", "GET", "GET", "POST", "HEAD"]))
def test_no_request_gets_a_500(service: QueryService, path: str,
                               pairs: list[tuple[str, str]], method: str) -> None:
    from urllib.parse import urlencode

    reply = service.handle(method, API + path, urlencode(pairs), [])
    assert reply.status in (200, 400, 401, 404, 405)
    body = reply.json()
    assert ("error" in body) == (reply.status != 200)
    if reply.status != 200:
        _assert_error_shape(reply.body.decode())

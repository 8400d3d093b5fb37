"""Fuzzing the server: whole HTTP requests against :class:`~zquery.server.QueryService` (and
a sample through the Starlette app) over a SQLite estate.

The property: the status is one of 200, 400, 404, 405 (401 only for a request that sent an
``Authorization`` header), the body is the manual's JSON, and it carries no stack trace,
no driver or SQLAlchemy text, and no SQL zquery wrote: a fragment of SQL in the reply must
have come from the request itself. 503 is the database's (``test_timeouts.py`` and the
outage test below). Requests come from ``test_fuzz_library.requests`` restricted to what
HTTP can carry, with any method, any path (the API's, ``/{uuid}``, misspelt, percent
garbage, NUL) and hostile ``Authorization`` headers.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from estate import ACCOUNTS, ADMIN, generate, load
from hostile_values import CORPUS
from hypothesis import given, note
from hypothesis import strategies as st
from test_fuzz_library import FUZZ_SETTINGS, http_text, mutated, requests
from zstack_like import GRAPH

from zquery.api import ZQuery
from zquery.server import QueryService, ServerConfig

with warnings.catch_warnings():  # starlette 1.x would rather see httpx2
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from zquery.server_app import build_app

SESSIONS = {"s-admin": ADMIN, "s-one": ACCOUNTS[0], "s-two": ACCOUNTS[1]}
CONFIG = ServerConfig(sessions=SESSIONS, admin_accounts=frozenset({ADMIN}))
METHODS = ("GET", "GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS",
           "get", "TRACE", "G\u00c9T")
#: Text only a failing server would show: a traceback, a driver, SQLAlchemy, zquery's SQL.
TELLTALES = ("Traceback", 'File "', "sqlalchemy", "SQLAlchemy", "sqlite3", "psycopg",
             "pymysql", "OperationalError", "ProgrammingError", "[SQL:", "[parameters:",
             "SELECT ", " FROM ", "WHERE ", "VmInstanceVO", "ZoneVO", "zq_lower", "ESCAPE",
             "EXISTS (", "LIMIT ?", "OFFSET ?")
ERROR_CODE = re.compile(r"[A-Z]+\.\d{4}")
HEADERS: st.SearchStrategy[list[tuple[bytes, bytes]]] = st.one_of(
    st.just([]),
    st.sampled_from(("OAuth s-admin", "OAuth s-one", "OAuth s-two", "OAuth nope", "OAuth",
                     "oauth: s-one", "Bearer s-one", "", " ", "OAuth s-one\x00",
                     "OAuth ' OR '1'='1")).map(lambda v: [(b"authorization", v.encode())]),
    http_text.map(lambda v: [(b"authorization", v.encode("utf-8"))]),
)


@st.composite
def http_requests(draw: st.DrawFn) -> tuple[str, str, str, list[tuple[bytes, bytes]]]:
    """(method, path, raw query string, headers) as the ASGI server hands them over."""
    resource, query, _ = draw(requests(http=True))
    if not isinstance(query, str):
        query = "&".join(f"{quote(n, safe='')}={quote(v, safe='=,')}" for n, v in query)
    kind = draw(st.integers(0, 9))
    if kind == 0:
        path = draw(http_text)
    elif kind == 1:
        path = "/" + draw(st.sampled_from(("health", "openapi.json", "zstack", "zstack/v1",
                                           "zstack/v1/", "zstack/v2/zones", "")))
    else:
        tail = "/" + draw(st.sampled_from(CORPUS[:150])) if kind == 2 else ""
        path = f"/zstack/v1/{resource}{tail}"
        if kind == 3:
            path = draw(mutated(path))
    headers = draw(HEADERS)
    return draw(st.sampled_from(METHODS)), path, draw(mutated(query)), headers


@pytest.fixture(scope="module")
def service() -> Iterator[QueryService]:
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool,
                              connect_args={"check_same_thread": False})
    load(engine, generate(seed=12, size=1))
    yield QueryService(ZQuery(GRAPH), engine, CONFIG)
    engine.dispose()


def check_reply(status: int, body: bytes, request_text: str, with_auth: bool) -> None:
    allowed = {200, 400, 404, 405} | ({401} if with_auth else set())
    assert status in allowed, (status, body[:500])
    text = body.decode("utf-8")
    data = json.loads(text) if text else None  # HEAD: no body
    if status != 200 and data is not None:
        assert ERROR_CODE.fullmatch(data["error"]["code"]), data
    shown = [t for t in TELLTALES if t in text and t not in request_text]
    assert not shown, (shown, text[:500])


@FUZZ_SETTINGS
@given(http_requests())
def test_server_answers_only_expected_statuses(service: QueryService, request_: Any) -> None:
    method, path, query, headers = request_
    note(f"{method} {path!a}?{query!a} {headers!a}"[:4000])
    reply = service.handle(method, path, query, headers)
    check_reply(reply.status, reply.body, path + query + repr(headers), bool(headers))


@pytest.fixture(scope="module")
def client(service: QueryService) -> TestClient:
    return TestClient(build_app(service), raise_server_exceptions=False)


RAW_TARGETS = [
    "/zstack/v1/vm-instances?q=name%3Dx%00&q=%ff%fe",
    "/zstack/v1/vm-instances/%00?limit=1",
    "/zstack/v1/vm-instances/%27%20OR%20%271%27%3D%271",
    "/zstack/v1/%2e%2e/%2e%2e/etc/passwd",
    "/zstack/v1/vm-instances?" + "&".join(["q=name=x"] * 3000),
    "/zstack/v1/vm-instances?q=name~=" + "%25a" * 16_000,
    "/zstack/v1/vm-instances?q=vmNics.vmInstance." + "vmNics.vmInstance." * 10 + "name=x",
    "/zstack/v1/vm-instances?q=name~=%25%5C%25_%5C&sort=%2Bname&limit=%2B1",
    "/zstack/v1/vm-instances?q=__userTag__!?=%5C,,&count=TRUE&groupBy=state",
    "/zstack/v1/zones?q=name=%E2%80%AEevil&fields=uuid,,name&replyWithCount=maybe",
    "/health",
    "/openapi.json",
]


@pytest.mark.parametrize("target", RAW_TARGETS, ids=[f"raw-{i}" for i in range(len(RAW_TARGETS))])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "HEAD"])
def test_raw_http_targets(client: TestClient, target: str, method: str) -> None:
    """Byte-level garbage that only a real HTTP request carries, through the ASGI app."""
    response = client.request(method, target)
    check_reply(response.status_code, response.content, target, False)
    if method != "GET":
        assert response.status_code == 405 and response.headers["allow"] == "GET"


UNREACHABLE = ["sqlite:////zq-no-such-directory/db.sqlite",
               "postgresql+psycopg://postgres@127.0.0.1:1/test",
               "mysql+pymysql://root@127.0.0.1:1/test"]


@pytest.mark.parametrize("url", UNREACHABLE)
def test_database_outage_is_503(url: str) -> None:
    """No database: every API request gets 503 in the manual's shape, nothing else."""
    engine = sa.create_engine(url)
    service = QueryService(ZQuery(GRAPH), engine, CONFIG)
    try:
        for target in ("vm-instances", "zones/z1", "nics?count=true"):
            path, _, query = target.partition("?")
            reply = service.handle("GET", f"/zstack/v1/{path}", query, [])
            assert reply.status == 503, reply.body
            assert reply.json()["error"]["code"] == "SYS.1000"
            check_reply(200, reply.body, "", False)
        assert service.handle("GET", "/health", "", []).status == 503
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", UNREACHABLE[:1])
def test_bad_request_during_outage_is_400(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        reply = QueryService(ZQuery(GRAPH), engine, CONFIG).handle(
            "GET", "/zstack/v1/vm-instances", "q=nmae=x", [])
        assert reply.status == 400, reply.body
    finally:
        engine.dispose()

"""A ZStack-compatible query server: ``GET /zstack/v1/<rest-path>[/{uuid}]`` over SQLAlchemy.

Three ways to use it:

* ``create_app(zq, engine)`` — a Starlette (ASGI) app; run it with uvicorn or mount it in
  another app (``Mount("/cloud", app=create_app(...))``);
* ``QueryService(zq, engine).handle(method, path, query_string, headers)`` — one call per
  request from any framework, returning a :class:`Reply` (status, headers, body bytes);
* ``handle_request(zq, engine, method, path, query_string, headers)`` — the same as a
  plain function returning ``(status, headers, body)``.

Replies are the contract's: ``{"inventories": [...]}`` (``"total"`` with
``replyWithCount``), errors in the manual's error shape with 400 (bad request), 401 (unknown
session), 404 (unknown path), 405 (not GET) or 503 (database failure) — never a stack trace
or SQL text. ``GET /health`` checks the database; ``GET /openapi.json`` lists every path.

>>> import sqlalchemy as sa
>>> from zquery.api import ZQuery
>>> from zquery.schema.serialize import graph_from_dict
>>> zq = ZQuery(graph_from_dict({"resources": {"Zone": {"table": "ZoneVO",
...     "primary_key": "uuid", "fields": {"uuid": "String", "name": "String"},
...     "rest_paths": ["/zones"], "api_name": "QueryZone"}}}))
>>> engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool,
...                          connect_args={"check_same_thread": False})
>>> zq.create_tables(engine)
>>> with engine.begin() as conn:
...     _ = conn.execute(zq.table("Zone").insert(), [{"uuid": "z1", "name": "zone1"}])
>>> status, headers, body = handle_request(zq, engine, "GET", "/zstack/v1/zones/z1", "", [])
>>> status, body
(200, b'{"inventories":[{"uuid":"z1","name":"zone1"}]}')
>>> handle_request(zq, engine, "DELETE", "/zstack/v1/zones", "", [])[0]
405
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from zquery.api import ZQuery
from zquery.dialects import SelectivityStats, bytewise_name, stats_for
from zquery.errors import (
    BadParameter,
    InvalidSession,
    MethodNotAllowed,
    UnknownResource,
    ZQueryError,
)
from zquery.execute import map_database_error
from zquery.server_openapi import openapi_document
from zquery.server_routes import DEFAULT_PREFIX, Router, with_conditions

__all__ = ["QueryService", "Reply", "ServerConfig", "create_app", "handle_request"]

log = logging.getLogger("zquery.server")

_JSON = ("content-type", "application/json; charset=utf-8")
_INTERNAL = {"error": {"code": "SYS.1000", "description": "An internal error happened",
                       "details": "the server failed to answer; see its log"}}


@dataclass(frozen=True, eq=False)
class ServerConfig:
    """How the server authenticates and where its API lives.

    ``sessions`` maps ``Authorization: OAuth <session>`` values to account uuids; a session
    of an account in ``admin_accounts`` sees everything. With ``open`` (the default), a
    request without the header is answered as admin; otherwise it gets 401.
    """

    prefix: str = DEFAULT_PREFIX
    sessions: Mapping[str, str] = field(default_factory=dict)
    admin_accounts: frozenset[str] = frozenset()
    open: bool = True


@dataclass(frozen=True)
class Reply:
    """An HTTP reply: status, headers, JSON body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _error_reply(error: ZQueryError, extra: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(error.http_status, (_JSON, *extra), _dump(error.to_dict()))


class QueryService:
    """The whole server as one object: routing, sessions, the pipeline and the replies.

    Build one at start-up (the router and the OpenAPI document are made once) and call
    :meth:`handle` per request; it is thread-safe (each call takes its own connection).
    """

    def __init__(self, zq: ZQuery, engine: sa.Engine, config: ServerConfig | None = None
                 ) -> None:
        self.zq = zq
        self.engine = engine
        self._dialect = engine.dialect.name
        self.config = config or ServerConfig()
        self.router = Router(zq.graph)
        self._prefix = "/" + self.config.prefix.strip("/")
        self._openapi: bytes | None = None

    # -- the one entry point --------------------------------------------------------------

    def handle(self, method: str, path: str, query_string: str | bytes,
               headers: Iterable[tuple[str | bytes, str | bytes]] = ()) -> Reply:
        """Answer one request; never raises for anything a client can send."""
        try:
            return self._handle(method.upper(), path, query_string, headers)
        except ZQueryError as error:
            return _error_reply(error)
        except Exception:  # a bug, not the client's fault: log it, show nothing of it
            log.exception("zquery server failed on %s %s", method, path)
            return Reply(500, (_JSON,), _dump(_INTERNAL))

    def _handle(self, method: str, path: str, query_string: str | bytes,
                headers: Iterable[tuple[str | bytes, str | bytes]]) -> Reply:
        if method != "GET":
            raise MethodNotAllowed(
                f"{method} is not allowed: the query API answers GET only", param="method",
                value=method, start=0, end=len(method), hint="send a GET request")
        if path in ("/health", "/health/"):
            return self.health()
        if path == "/openapi.json":
            return Reply(200, (_JSON,), self.openapi())
        rest = self._rest(path)
        match = self.router.resolve(rest)
        account = self.account(headers)
        query = query_string.decode("utf-8", "replace") if isinstance(
            query_string, bytes) else query_string
        query = with_conditions(query, match.conditions)
        # Validate before taking a connection: a bad request is a 400 even during an outage.
        prepared = self.zq.prepare(match.resource.name, query, dialect=self._compile_for(),
                                   account=account, stats=self._stats())
        with map_database_error(), self.engine.connect() as conn:
            reply = self.zq.execute(conn, prepared)
        return Reply(200, (_JSON,), _dump(reply))

    def _compile_for(self) -> str:
        """The dialect name to compile for (PostgreSQL: whether its default collation is
        already code-point order); the plain name while the database is down."""
        if self._dialect != "postgresql":
            return self._dialect
        try:
            return bytewise_name(self.engine)
        except sa.exc.SQLAlchemyError:
            return self._dialect

    def _stats(self) -> SelectivityStats | None:
        """SQLite's selectivity statistics, read once; None while the database is down
        (the query then compiles by operator, and its own connection reports the outage)."""
        if self._dialect != "sqlite":
            return None
        try:
            return stats_for(self.engine)
        except sa.exc.SQLAlchemyError:
            return None

    def _rest(self, path: str) -> str:
        prefix = self._prefix
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix):] or "/"
        shown = path or "/"
        raise UnknownResource(f"no query API at {shown}: the API lives under {prefix}/",
                              param="path", value=shown, start=0, end=len(shown),
                              hint=f"e.g. GET {prefix}/vm-instances")

    # -- sessions -------------------------------------------------------------------------

    def account(self, headers: Iterable[tuple[str | bytes, str | bytes]]) -> str | None:
        """The account a request is scoped to (None: admin), from its Authorization header."""
        value = None
        for name, raw in headers:
            key = name.decode("latin-1") if isinstance(name, bytes) else name
            if key.lower() == "authorization":
                value = raw.decode("latin-1") if isinstance(raw, bytes) else raw
                break
        if value is None:
            if self.config.open:
                return None
            raise InvalidSession("this server needs a session: send 'Authorization: OAuth "
                                 "<session>'", param="Authorization",
                                 hint="log in to get a session uuid")
        scheme, _, session = value.strip().partition(" ")
        session = session.strip()
        if scheme.rstrip(":").lower() != "oauth" or not session:
            raise InvalidSession("the Authorization header must be 'OAuth <session>'",
                                 param="Authorization", value=value, start=0,
                                 end=len(value), hint="e.g. Authorization: OAuth <session>")
        account = self.config.sessions.get(session)
        if account is None:
            raise InvalidSession(f"unknown session '{session}'", param="Authorization",
                                 value=value, start=len(value) - len(session), end=len(value),
                                 hint="the session is unknown or has expired; log in again")
        return None if account in self.config.admin_accounts else account

    # -- health and OpenAPI ---------------------------------------------------------------

    def health(self) -> Reply:
        body: dict[str, Any] = {"status": "ok", "database": self.engine.dialect.name,
                                "apis": sum(1 for res in self.zq.graph if res.api_name)}
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception:  # any failure to reach the database means "unavailable"
            log.warning("health check: database unavailable", exc_info=True)
            body["status"] = "unavailable"
            return Reply(503, (_JSON,), _dump(body))
        return Reply(200, (_JSON,), _dump(body))

    def openapi(self) -> bytes:
        if self._openapi is None:
            self._openapi = _dump(openapi_document(self.zq.graph, self.router,
                                                   prefix=self._prefix))
        return self._openapi


@lru_cache(maxsize=32)
def _service(zq: ZQuery, engine: sa.Engine, config: ServerConfig | None) -> QueryService:
    return QueryService(zq, engine, config)


def handle_request(zq: ZQuery, engine: sa.Engine, method: str, path: str,
                   query_string: str | bytes,
                   headers: Iterable[tuple[str | bytes, str | bytes]] = (),
                   config: ServerConfig | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request in, ``(status, headers, body)`` out (a :class:`QueryService` is cached
    per *zq*, *engine* and *config*)."""
    reply = _service(zq, engine, config).handle(method, path, query_string, headers)
    return reply.status, list(reply.headers), reply.body


def create_app(zq: ZQuery | None = None, engine: sa.Engine | None = None, *,
               db_url: str | None = None, config: ServerConfig | None = None) -> Any:
    """The Starlette app; give an engine or a database URL (the catalogue is the default
    schema). See :mod:`zquery.server_app`."""
    from zquery.server_app import build_app

    if engine is None:
        if db_url is None:
            raise BadParameter("create_app needs an engine or a db_url", param="engine",
                               hint="create_app(engine=sa.create_engine(url)) or db_url=url")
        engine = sa.create_engine(db_url, pool_pre_ping=True)
    return build_app(QueryService(zq or ZQuery(), engine, config))

"""The Starlette (ASGI) face of :class:`~zquery.server.QueryService`.

Every request goes to :meth:`QueryService.handle` in Starlette's thread pool (the database
call blocks), whatever its method, so the JSON 405 and 404 replies come from one place.
Mount the app anywhere: paths are taken relative to the mount point.

>>> import sqlalchemy as sa
>>> import warnings
>>> with warnings.catch_warnings():  # starlette 1.x would rather see httpx2
...     warnings.simplefilter("ignore")
...     from starlette.testclient import TestClient
>>> from zquery.api import ZQuery
>>> from zquery.schema.serialize import graph_from_dict
>>> from zquery.server import QueryService
>>> zq = ZQuery(graph_from_dict({"resources": {"Zone": {"table": "ZoneVO",
...     "primary_key": "uuid", "fields": {"uuid": "String"}, "rest_paths": ["/zones"]}}}))
>>> engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool,
...                          connect_args={"check_same_thread": False})
>>> zq.create_tables(engine)
>>> client = TestClient(build_app(QueryService(zq, engine)))
>>> client.get("/zstack/v1/zones?count=true").json()
{'total': 0}
>>> client.post("/zstack/v1/zones").status_code
405
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from zquery.server import QueryService

__all__ = ["QueryEndpoint", "build_app"]


class QueryEndpoint:
    """A raw ASGI app answering every HTTP request through one :class:`QueryService`."""

    def __init__(self, service: QueryService) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        reply = await run_in_threadpool(self.service.handle, scope["method"], _route_path(scope),
                                        scope.get("query_string", b""), scope.get("headers", ()))
        headers = dict(reply.headers)
        if reply.status == 405:
            headers["allow"] = "GET"
        body = b"" if scope["method"] == "HEAD" else reply.body
        await Response(body, reply.status, headers)(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The request path below the mount point (Starlette keeps the full path in scope)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root):] or "/"
    return path


def build_app(service: QueryService) -> Starlette:
    """A Starlette app serving *service* at ``/`` (its API under ``service.config.prefix``)."""
    app = Starlette(routes=[Mount("", app=QueryEndpoint(service))])
    app.state.zquery = service
    return app

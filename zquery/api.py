"""The library door: one object that runs parse → resolve → compile → execute.

An API server builds one :class:`ZQuery` at start-up and calls :meth:`ZQuery.run`
per request; the validator calls :meth:`ZQuery.plan` and :meth:`ZQuery.sql`.

>>> import sqlalchemy as sa
>>> from zquery.schema.graph import Field, FieldType, Resource, SchemaGraph
>>> zone = Resource(name="Zone", table="ZoneVO", primary_key="uuid",
...                 fields={"uuid": Field("uuid", FieldType.STRING),
...                         "name": Field("name", FieldType.STRING)},
...                 rest_paths=("/zones",))
>>> zq = ZQuery(SchemaGraph(resources={"Zone": zone}))
>>> engine = sa.create_engine("sqlite://")
>>> zq.create_tables(engine)
>>> with engine.begin() as conn:
...     _ = conn.execute(zq.table("Zone").insert(), [{"uuid": "z1", "name": "zone1"}])
...     zq.run(conn, "zones", "q=name~=ZONE%&replyWithCount=true")
{'inventories': [{'uuid': 'z1', 'name': 'zone1'}], 'total': 1}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from zquery.ast import QueryRequest
from zquery.compile import CompiledQuery, compile_plan
from zquery.dialects import SelectivityStats, bytewise_name, stats_for
from zquery.errors import BadParameter
from zquery.execute import execute
from zquery.limits import Limits
from zquery.plan import CyclePolicy, QueryPlan, Scope
from zquery.request import parse_request
from zquery.resolve import ResolveOptions, resolve
from zquery.schema.build import build_schema
from zquery.schema.graph import Resource, SchemaGraph
from zquery.schema.tables import build_metadata, table_of
from zquery.shapes import Prepared, ShapeCache

__all__ = ["QueryInput", "ZQuery", "ZQueryConfig"]

#: A request as a raw query string, a multi-dict, or (name, value) pairs.
QueryInput = str | Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]


@dataclass(frozen=True)
class ZQueryConfig:
    """Every knob of the pipeline, with the contract's defaults."""

    mode: str = "strict"
    lenient: bool = False
    limits: Limits = field(default_factory=Limits)
    cycle_policy: CyclePolicy = CyclePolicy.SIMPLIFY
    iso_dates: bool = False
    timeout_ms: int | None = None


class ZQuery:
    """A schema plus a configuration: the whole query pipeline behind one object.

    ``schema`` goes through :func:`zquery.schema.build.build_schema` (a graph, a
    dict/JSON, a SQLAlchemy ``MetaData`` or ORM models); None loads the shipped
    ZStack Cloud 4.1.3 catalogue.
    """

    def __init__(self, schema: Any = None, config: ZQueryConfig | None = None) -> None:
        if schema is None:
            from zquery.catalogue import load_catalogue

            schema = load_catalogue()
        self.graph: SchemaGraph = build_schema(schema)
        self.config = config or ZQueryConfig()
        self._options = ResolveOptions(cycle_policy=self.config.cycle_policy,
                                       limits=self.config.limits)
        #: Statements per request shape, reused by :meth:`run` (see :mod:`zquery.shapes`).
        self.shapes = ShapeCache(self.graph, self._options)

    def resource(self, name: str) -> Resource:
        """A resource by name, Query API name (``QueryVmInstance``) or REST path."""
        return self.graph.resource(name)

    def table(self, resource: str) -> sa.Table:
        return table_of(self.graph, self.resource(resource))

    def create_tables(self, bind: sa.Engine | sa.Connection) -> None:
        """``CREATE TABLE`` for every resource, link, tag and ownership table."""
        build_metadata(self.graph).create_all(bind)

    def parse(self, query: QueryInput) -> QueryRequest:
        return parse_request(query, mode=self.config.mode, limits=self.config.limits,
                             lenient=self.config.lenient)

    def plan(self, resource: str, query: QueryInput, *, account: str | None = None) -> QueryPlan:
        """Parse and resolve; ``account`` scopes every resource touched (None: admin)."""
        options = self._options
        if account is not None:
            _check_account(account)
            options = replace(options, scope=Scope(account))
        return resolve(self.parse(query), self.graph, resource, options=options)

    def compile(self, resource: str, query: QueryInput, *, dialect: str = "sqlite",
                account: str | None = None) -> CompiledQuery:
        return compile_plan(self.plan(resource, query, account=account), self.graph,
                            dialect=dialect)

    def sql(self, resource: str, query: QueryInput, *, dialect: str = "sqlite",
            literal: bool = True) -> str:
        """The page statement (or the count) as SQL text, values shown for reading only."""
        compiled = self.compile(resource, query, dialect=dialect)
        statement = compiled.rows if compiled.rows is not None else compiled.count
        assert statement is not None
        sa_dialect = _dialect(dialect)
        kwargs = {"literal_binds": True} if literal else {}
        return str(statement.compile(dialect=sa_dialect, compile_kwargs=kwargs))

    def prepare(self, resource: str, query: QueryInput, *, dialect: str,
                account: str | None = None,
                stats: SelectivityStats | None = None) -> Prepared:
        """Parse, resolve and compile for *dialect*, through the shape cache; no database.

        A server calls this before it takes a connection, so a bad request is a 400 even
        while the database is down. *stats*: SQLite's selectivity statistics
        (:func:`zquery.dialects.stats_for`), which choose between IN and EXISTS.
        """
        if account is not None:
            _check_account(account)
        return self.shapes.prepare(self.parse(query), resource, dialect, account=account,
                                   stats=stats)

    def execute(self, conn: sa.Connection | Session, prepared: Prepared) -> dict[str, Any]:
        """Run what :meth:`prepare` made on an open connection: the reply dict."""
        return execute(conn, prepared.plan, prepared.compiled, self.graph,
                       iso_dates=self.config.iso_dates, timeout_ms=self.config.timeout_ms)

    def run(self, conn: sa.Connection | Session, resource: str, query: QueryInput, *,
            account: str | None = None) -> dict[str, Any]:
        """The whole pipeline on an open connection: the ZStack-shaped reply dict.

        A request whose shape was seen before reuses its statements with new values
        (:mod:`zquery.shapes`); the reply is the same as without the cache.
        """
        bind = conn.get_bind() if isinstance(conn, Session) else conn
        prepared = self.prepare(resource, query, dialect=bytewise_name(bind), account=account,
                                stats=stats_for(bind))
        return self.execute(conn, prepared)


def _check_account(account: str) -> None:
    """An account uuid is bound as a parameter: it must be text a driver can encode."""
    try:
        account.encode("utf-8")
    except UnicodeEncodeError as error:
        raise BadParameter("the account is not valid Unicode text", param="account",
                           value=account, start=error.start, end=error.end,
                           hint="pass the account uuid as valid UTF-8 text") from None


def _dialect(name: str) -> sa.engine.Dialect:
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    modules = {"sqlite": sqlite, "postgresql": postgresql, "mysql": mysql, "mariadb": mysql}
    return modules[name].dialect()  # type: ignore[no-any-return]

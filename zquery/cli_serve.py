"""The CLI commands that touch a database: ``demo``, ``serve`` and ``run``.

Without ``--db`` they use the embedded demo database (a SQLite file at
:func:`~zquery.demo.default_demo_path`); ``serve`` builds it on first use.

>>> parse_pairs(["ops-session=a11ce0000000400080000000000a11ce"])
{'ops-session': 'a11ce0000000400080000000000a11ce'}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated

import sqlalchemy as sa
import typer

from zquery.api import ZQuery, ZQueryConfig
from zquery.cli_render import DATABASE, INVALID, fail
from zquery.demo import (
    DEFAULT_SCALE,
    DEFAULT_SEED,
    DEMO_ADMINS,
    DEMO_SESSIONS,
    DemoReport,
    build_demo,
    default_demo_url,
    demo_exists,
)
from zquery.errors import BadParameter, ZQueryError
from zquery.limits import Limits
from zquery.server_routes import split_request_line

__all__ = ["make_engine", "parse_pairs", "query_engine", "register"]

Db = Annotated[str | None, typer.Option(
    "--db", help="SQLAlchemy URL (default: the embedded SQLite demo database).")]
Scale = Annotated[int, typer.Option(min=1, help="Number of VMs in the demo estate.")]
MaxLimit = Annotated[int | None, typer.Option(
    min=0, help="Largest 'limit' a request may ask for (larger: 400). Default: none.")]
Timeout = Annotated[int | None, typer.Option(
    min=1, help="Statement timeout in milliseconds (PostgreSQL, MariaDB/MySQL, SQLite).")]


def query_engine(strict: bool = True, max_limit: int | None = None,
                 timeout_ms: int | None = None) -> ZQuery:
    """The catalogue's :class:`ZQuery` with the CLI's settings."""
    return ZQuery(config=ZQueryConfig(mode="strict" if strict else "compat",
                                      limits=Limits(max_limit=max_limit),
                                      timeout_ms=timeout_ms))


def make_engine(url: str) -> sa.Engine:
    """An engine with a pool sized for a threaded server (SQLite files need no tuning)."""
    if url.startswith("sqlite"):
        return sa.create_engine(url)
    return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def parse_pairs(values: Sequence[str]) -> dict[str, str]:
    """``NAME=VALUE`` options → dict."""
    out = {}
    for value in values:
        name, sep, account = value.partition("=")
        if not sep or not name or not account:
            raise typer.BadParameter(f"expected SESSION=ACCOUNT_UUID, got {value!r}")
        out[name] = account
    return out


def _build(url: str, scale: int, seed: int, replace: bool) -> DemoReport:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("{task.description:<13}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True)) as bar:
        tasks: dict[str, object] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        return build_demo(url, scale=scale, seed=seed, replace=replace, progress=progress)


def demo(scale: Scale = DEFAULT_SCALE, db: Db = None,
         seed: Annotated[int, typer.Option(help="Same seed and scale, same rows.")
                         ] = DEFAULT_SEED,
         force: Annotated[bool, typer.Option("--force", help="Drop and rebuild existing "
                                             "demo tables.")] = False) -> None:
    """Build the demo database (SQLite file by default, or any --db URL)."""
    url = db or default_demo_url()
    try:
        if not force and demo_exists(url):
            typer.echo(f"the demo database is already built at {_shown(url)} "
                       "(--force rebuilds it)")
            return
        report = _build(url, scale, seed, force)
    except ZQueryError as error:
        raise fail(error) from None
    except sa.exc.SQLAlchemyError as error:
        typer.echo(f"error: cannot build the demo database: {type(error).__name__}", err=True)
        raise typer.Exit(DATABASE) from None
    typer.echo(f"built {report.rows:,} rows ({report.scale:,} VMs, seed {report.seed}) in "
               f"{report.seconds:.1f} s at {report.url}")


def serve(db: Db = None,
          host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
          scale: Scale = DEFAULT_SCALE,
          closed: Annotated[bool, typer.Option(
              "--closed", help="Refuse requests without a session (default: they are "
              "answered as admin).")] = False,
          session: Annotated[list[str] | None, typer.Option(
              help="SESSION=ACCOUNT_UUID, repeatable.")] = None,
          admin: Annotated[list[str] | None, typer.Option(
              help="An account uuid that sees everything, repeatable.")] = None,
          demo_sessions: Annotated[bool | None, typer.Option(
              "--demo-sessions/--no-demo-sessions",
              help="Accept the demo sessions (default: only on the demo database).")] = None,
          max_limit: MaxLimit = None, statement_timeout: Timeout = None,
          log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info") -> None:
    """Serve GET /zstack/v1/<rest-path> for every Query API (built demo DB by default)."""
    import uvicorn

    from zquery.server import ServerConfig, create_app
    from zquery.server_memory import limit_malloc_arenas

    limit_malloc_arenas()  # before the worker threads: keeps RSS flat under load
    url = db or default_demo_url()
    if db is None and not demo_exists(url):
        typer.echo(f"building the demo database ({scale:,} VMs) at {_shown(url)} …", err=True)
        _build(url, scale, DEFAULT_SEED, False)
    with_demo = db is None if demo_sessions is None else demo_sessions
    sessions = {**(DEMO_SESSIONS if with_demo else {}), **parse_pairs(session or [])}
    admins = (DEMO_ADMINS if with_demo else frozenset()) | frozenset(admin or [])
    config = ServerConfig(sessions=sessions, admin_accounts=admins, open=not closed)
    app = create_app(query_engine(True, max_limit, statement_timeout), make_engine(url),
                     config=config)
    typer.echo(f"serving {_shown(url)} on http://{host}:{port}/zstack/v1/ "
               f"({'closed' if closed else 'open'}; {len(sessions)} sessions)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


def run(request: Annotated[str, typer.Argument(help="The request line, e.g. "
                                               "'zstack/v1/vm-instances?q=name=vm1'.")],
        db: Db = None,
        account: Annotated[str | None, typer.Option(
            help="Answer as this account (scoped); default: admin.")] = None,
        strict: Annotated[bool, typer.Option("--strict/--compat")] = True,
        max_limit: MaxLimit = None, statement_timeout: Timeout = None) -> None:
    """Run one request and print the reply JSON, exactly as the server would answer."""
    from zquery.server import QueryService, ServerConfig

    url = db or default_demo_url()
    if db is None and not demo_exists(url):
        raise fail(BadParameter("no demo database yet", param="--db",
                                hint="run 'zquery demo' first, or pass --db URL"))
    sessions = {"cli": account} if account else {}
    zq = query_engine(strict, max_limit, statement_timeout)
    engine = make_engine(url)
    try:
        service = QueryService(zq, engine, ServerConfig(sessions=sessions))
        path, query = split_request_line(request)
        headers = [("authorization", "OAuth cli")] if account else []
        reply = service.handle("GET", service.config.prefix + path, query, headers)
    finally:
        engine.dispose()
    typer.echo(json.dumps(reply.json(), ensure_ascii=False, indent=2))
    if reply.status >= 500:
        raise typer.Exit(DATABASE)
    if reply.status >= 400:
        raise typer.Exit(INVALID)


def _shown(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def register(app: typer.Typer) -> None:
    """Add ``demo``, ``serve`` and ``run`` to the ``zquery`` app."""
    app.command()(demo)
    app.command()(serve)
    app.command()(run)

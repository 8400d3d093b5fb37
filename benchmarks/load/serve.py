"""The server under load: the ZStack catalogue over a demo database, served by uvicorn.

Builds the demo estate on first use (``--scale`` VMs), then serves it on 127.0.0.1 with a
statement timeout, the demo sessions, the pool a threaded server needs (``pool_pre_ping``:
a connection that died with the database is replaced, not reused) and, like ``zquery
serve``, two glibc malloc arenas (``--malloc-arenas``; :mod:`zquery.server_memory`).
``run_load.py`` starts it as a child process; it can also be run by hand::

    .venv/bin/python benchmarks/load/serve.py \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/zquery_load --port 8765

Debug hook: with ``ZQUERY_MEMORY_LOG=<file>`` (and ``ZQUERY_TRACEMALLOC=1``) the process
logs what its memory is made of (:mod:`memory_probe`).
"""

from __future__ import annotations

import argparse

import sqlalchemy as sa
import uvicorn
from memory_probe import install_from_env

from zquery.api import ZQuery, ZQueryConfig
from zquery.cli_serve import make_engine
from zquery.demo import DEMO_ADMINS, DEMO_SESSIONS, build_demo, demo_exists
from zquery.server import ServerConfig, create_app
from zquery.server_memory import SERVER_MALLOC_ARENAS, limit_malloc_arenas

__all__ = ["main", "prepare"]


def create_database(url: str) -> None:
    """Create the database of a PostgreSQL or MariaDB *url* when it does not exist yet."""
    target = sa.make_url(url)
    if target.get_backend_name() not in ("postgresql", "mysql") or not target.database:
        return
    # The maintenance database each server always has.
    server = target.set(database="postgres" if target.get_backend_name() == "postgresql"
                        else "mysql")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if target.database not in sa.inspect(conn).get_schema_names() and not (
                    target.get_backend_name() == "postgresql" and conn.exec_driver_sql(
                        "SELECT 1 FROM pg_database WHERE datname = %(name)s",
                        {"name": target.database}).first()):
                conn.exec_driver_sql(f"CREATE DATABASE {target.database}")
    finally:
        admin.dispose()


def prepare(url: str, scale: int) -> None:
    """Create the database if needed and build the demo estate unless it is there."""
    create_database(url)
    if not demo_exists(url):
        report = build_demo(url, scale=scale)
        print(f"built {report.rows:,} demo rows in {report.seconds:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the demo database")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--scale", type=int, default=10_000, help="VMs in the demo estate")
    parser.add_argument("--timeout-ms", type=int, default=5_000,
                        help="statement timeout per query")
    parser.add_argument("--malloc-arenas", type=int, default=SERVER_MALLOC_ARENAS,
                        help="cap on glibc malloc arenas (0: glibc's default, 8 per core)")
    args = parser.parse_args()
    limit_malloc_arenas(args.malloc_arenas)  # before any thread starts
    install_from_env()
    prepare(args.db, args.scale)
    zq = ZQuery(config=ZQueryConfig(timeout_ms=args.timeout_ms))
    config = ServerConfig(sessions=DEMO_SESSIONS, admin_accounts=DEMO_ADMINS)
    app = create_app(zq, make_engine(args.db), config=config)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning",
                timeout_keep_alive=30)


if __name__ == "__main__":
    main()

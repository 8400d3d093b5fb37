"""Shared fixtures: the ZStack-like graph and one engine per database.

PostgreSQL and MariaDB tests run against real servers. Each test session gets a
scratch database of its own (``zqt_<random>``), dropped at the end, so parallel
runs never see each other's tables. The servers' URLs come from
``ZQUERY_PG_URL`` / ``ZQUERY_MYSQL_URL``; when one is unset the tests that need
it are skipped, except under CI (``CI=true``), where they fail instead.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

from zstack_like import GRAPH

from zquery.schema.graph import SchemaGraph

DATABASES = ("sqlite", "postgresql", "mysql")
_URL_VARS = {"postgresql": "ZQUERY_PG_URL", "mysql": "ZQUERY_MYSQL_URL"}


@pytest.fixture(scope="session")
def graph() -> SchemaGraph:
    return GRAPH


def _server_url(kind: str) -> str:
    var = _URL_VARS[kind]
    url = os.environ.get(var)
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{var} must be set in CI: the {kind} tests have to run")
        pytest.skip(f"{var} is not set")
    return url


def _scratch_engine(kind: str) -> Iterator[sa.Engine]:
    base = sa.make_url(_server_url(kind))
    name = f"zqt_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if kind == "mysql":
            conn.exec_driver_sql(
                f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        else:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine = sa.create_engine(base.set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    path = tmp_path_factory.mktemp("db") / "zquery.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine() -> Iterator[sa.Engine]:
    yield from _scratch_engine("postgresql")


@pytest.fixture(scope="session")
def mysql_engine() -> Iterator[sa.Engine]:
    yield from _scratch_engine("mysql")


@pytest.fixture(scope="session", params=DATABASES)
def any_engine(request: pytest.FixtureRequest) -> sa.Engine:
    """Each test using it runs once per database: SQLite, PostgreSQL, MariaDB."""
    engine: sa.Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine

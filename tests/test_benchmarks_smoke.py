"""The benchmark harness, on a tiny scale: it runs, and its comparisons compare like with like.

* every corpus entry's zquery statement returns the same rows as its hand-built floor, and
  so does the reference ZStack shape, on each database (SQLite always; PostgreSQL and
  MariaDB when ``ZQUERY_PG_URL`` / ``ZQUERY_MYSQL_URL`` are set), with values that match
  rows (an empty answer would prove nothing);
* the whole harness runs end to end and writes its Markdown and PNG;
* the doctests of the ``benchmarks`` modules pass (pytest collects doctests only under
  ``zquery/``).

No time is asserted anywhere: the machine is shared and noisy.
"""

from __future__ import annotations

import doctest
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The harness lives next to the package, not in it: make it importable however pytest starts.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.__main__ import main
from benchmarks.check import compare, full_rows
from benchmarks.corpus import ENTRIES, RESOURCE, Entry
from benchmarks.databases import Database, open_database
from benchmarks.dataset import Dataset, prepare_dataset
from benchmarks.handwritten import Statements, hand_tables
from zquery.compile import compile_plan
from zquery.request import parse_request
from zquery.resolve import resolve

_URL_VARIABLES = {"postgresql": "ZQUERY_PG_URL", "mysql": "ZQUERY_MYSQL_URL"}
_MODULES = ("benchmarks", "benchmarks.values", "benchmarks.corpus", "benchmarks.handwritten",
            "benchmarks.reference",
            "benchmarks.schema", "benchmarks.peers", "benchmarks.data", "benchmarks.databases",
            "benchmarks.dataset", "benchmarks.timing", "benchmarks.check",
            "benchmarks.compile_cost", "benchmarks.repeat", "benchmarks.explain",
            "benchmarks.execution", "benchmarks.report", "benchmarks.plot",
            "benchmarks.contract_cost",
            "benchmarks.__main__")
_TINY = 150


@pytest.fixture(scope="module", params=("sqlite", "postgresql", "mysql"))
def loaded(request: pytest.FixtureRequest) -> Iterator[tuple[Database, Dataset]]:
    """A scratch database of each kind holding the tiny demo estate (dropped afterwards)."""
    kind = request.param
    if kind in _URL_VARIABLES and not os.environ.get(_URL_VARIABLES[kind]):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{_URL_VARIABLES[kind]} must be set in CI")
        pytest.skip(f"{_URL_VARIABLES[kind]} is not set")
    db = open_database(kind)
    try:
        yield db, prepare_dataset([db], scale=_TINY)
    finally:
        db.close()


def _zquery(data: Dataset, entry: Entry, dialect: str) -> Statements:
    plan = resolve(parse_request(entry.request(data.values)), data.graph, RESOURCE)
    compiled = compile_plan(plan, data.graph, dialect=dialect)
    return Statements(compiled.rows, compiled.count, ordered=entry.total_order)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_zquery_and_hand_built_statements_return_the_same_rows(
        loaded: tuple[Database, Dataset], entry: Entry) -> None:
    db, data = loaded
    floor = entry.floor(hand_tables(data.graph), data.values, db.kind)
    with db.engine.connect() as conn:
        if floor.rows is not None:
            assert full_rows(conn, floor.rows), "the values must match rows"
        else:
            assert floor.count is not None and conn.execute(floor.count).scalar_one() > 0
        assert compare(conn, floor, _zquery(data, entry, conn.dialect.name)) is None


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.reference is not None],
                         ids=[e.name for e in ENTRIES if e.reference is not None])
def test_the_reference_shape_returns_the_floors_rows(
        loaded: tuple[Database, Dataset], entry: Entry) -> None:
    db, data = loaded
    assert entry.reference is not None
    tables = hand_tables(data.graph)
    with db.engine.connect() as conn:
        assert compare(conn, entry.floor(tables, data.values, db.kind),
                       entry.reference(tables, data.values, db.kind)) is None


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_the_value_floor_builds_the_floors_statements(entry: Entry) -> None:
    """The value floor (prebuilt SELECT list) differs from the floor in cost only."""
    from benchmarks.schema import test_graph
    from benchmarks.values import Values

    graph, values = test_graph(), Values.variant(5, list_size=3)
    prebuilt = hand_tables(graph, prebuilt=True)
    assert prebuilt.base is not None and hand_tables(graph).base is None
    for dialect in ("sqlite", "postgresql", "mysql"):
        floor = entry.floor(hand_tables(graph), values, dialect)
        value_floor = entry.floor(prebuilt, values, dialect)
        assert [str(s) for s in floor.all()] == [str(s) for s in value_floor.all()]


def test_the_harness_runs_end_to_end_and_writes_its_report(tmp_path: Path) -> None:
    entries = "one_condition,one_hop,two_hops,group_by,count,in_list"
    # The load section has its own test (tests/test_benchmarks_load.py).
    code = main(["--sections", "compile,repeat,execute",
                 "--scale", str(_TINY), "--rounds", "1", "--warmup", "1", "--target", "0.0005",
                 "--exec-target", "0.0005", "--databases", "sqlite", "--entries", entries,
                 "--out", str(tmp_path), "--quiet"])
    assert code == 0
    text = (tmp_path / "latest.md").read_text(encoding="utf-8")
    for heading in ("## Targets", "## 1. Compile cost", "## 2. Repeated shapes",
                    "## 3. Execution", "### sqlite"):
        assert heading in text
    for name in entries.split(","):
        assert f"| {name} |" in text
    assert "Not served by an index" not in text
    assert (tmp_path / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", _MODULES)
def test_the_doctests_of_the_harness_pass(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0

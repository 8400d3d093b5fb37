"""Hostile values stored and queried on SQLite, PostgreSQL and MariaDB: the rows are always
the independent evaluator's, and no value ever appears in the SQL the driver receives.

A 174-VM estate gets the corpus (``hostile_values.py``) in its VM names and descriptions,
zone and L3 network names, and in user and system tags. Each value is then queried with
every operator on a column, through a to-one path, an alias over a to-many path and a
cycle, and through both tag kinds. The driver's statements are captured with a
``before_cursor_execute`` hook and searched for every meaningful value.

The rule for values a database cannot store: PostgreSQL text cannot hold ``\\x00``, so
the estate loaded there leaves those values out, and the compiler rewrites a comparison
with a NUL-bearing value to what it means for NUL-free data (``=`` matches nothing, ``!=``
every non-NULL value, ``>``/``<`` compare with the text before the NUL; see
``zquery/operators.py``). The evaluator knows nothing of this rule and still agrees,
because its estate is the same NUL-free one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
from estate import Estate, drop_estate_engines, generate, load, sibling_engine
from estate_eval import Evaluator
from hostile_values import CORPUS, FAMILIES, like_literal, list_element, meaningful, storable
from zstack_like import GRAPH

from zquery.api import ZQuery
from zquery.request import parse_request

ZQ = ZQuery(GRAPH)
TAG_LENGTH = 2048
#: One condition per query; {v} the value, {e} it as a ``?=`` element, {lit} as a literal
#: ``~=`` pattern.
FORMS = (
    "name={v}", "name!={v}", "name>{v}", "name<{v}", "name>={v}", "name<={v}",
    "name?={e},web", "name!?={e}", "name~={v}", "name!~={v}", "description~=%{lit}%",
    "zone.name={v}", "l3Network.name!~={v}", "vmNics.vmInstance.description<={v}",
    "__userTag__={v}", "__userTag__!={v}", "__systemTag__~={lit}", "__systemTag__?={e}",
    "zone.__userTag__~=%{lit}",
)
FAMILY_NAMES = tuple(FAMILIES)


def hostile_estate(dialect: str) -> Estate:
    """The base estate with every value this database can hold put into text columns and
    tags (several rows share one value; each value lands in at least one name and tag)."""
    base = generate(seed=77, size=10)
    tables: dict[str, list[dict[str, Any]]] = {
        name: [dict(row) for row in rows] for name, rows in base.tables.items()}
    short = [v for v in CORPUS if storable(v, dialect)]
    tagged = [v for v in CORPUS if storable(v, dialect, length=TAG_LENGTH)]
    vms = tables["VmInstanceVO"]
    for i, vm in enumerate(vms):
        vm["name"] = short[i % len(short)]
        vm["description"] = short[(i + len(vms)) % len(short)]
    for table in ("ZoneVO", "L3NetworkVO"):
        for i, row in enumerate(tables[table]):
            row["name"] = short[-1 - i]
    for i, value in enumerate(tagged):
        for kind, step in (("UserTagVO", 1), ("SystemTagVO", 7)):
            target = vms[(i * step) % len(vms)]
            tables[kind].append({"uuid": f"{kind[0]}{i:031x}", "resourceUuid": target["uuid"],
                                 "resourceType": "VmInstanceVO", "tag": value})
    for i, zone in enumerate(tables["ZoneVO"]):
        tables["UserTagVO"].append({"uuid": f"z{i:031x}", "resourceUuid": zone["uuid"],
                                    "resourceType": "ZoneVO", "tag": tagged[-1 - i]})
    return replace(base, seed=-77, tables=tables)


class Captured:
    """Every statement the driver receives on one engine (the hook's view)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)


@pytest.fixture(scope="module")
def _drop() -> Iterator[None]:
    yield
    drop_estate_engines()


@pytest.fixture(scope="module")
def hostile_db(any_engine: sa.Engine, _drop: None) -> tuple[sa.Engine, Evaluator, Captured]:
    estate = hostile_estate(any_engine.dialect.name)
    engine = sibling_engine(any_engine, "hostile", lambda e: load(e, estate))
    return engine, Evaluator(estate), Captured(engine)


def fill(form: str, value: str) -> str:
    return form.format(v=value, e=list_element(value), lit=like_literal(value))


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_rows_equal_evaluator(hostile_db: tuple[sa.Engine, Evaluator, Captured],
                              family: str) -> None:
    engine, evaluator, captured = hostile_db
    wrong: list[str] = []
    with engine.connect() as conn:
        for value in FAMILIES[family]:
            for form in FORMS:
                query = [("q", fill(form, value)), ("fields", "uuid"), ("limit", "100000")]
                captured.statements.clear()
                got = {row["uuid"] for row in ZQ.run(conn, "VmInstance", query)["inventories"]}
                want = {row["uuid"] for row in evaluator.select(parse_request(query),
                                                                "VmInstance")}
                if got != want:
                    wrong.append(f"{query[0][1]!a}: {len(got)} rows, expected {len(want)}")
                if meaningful(value):
                    pasted = [s for s in captured.statements if value in s]
                    assert not pasted, (value, pasted[0])
    assert not wrong, f"{len(wrong)} wrong on {engine.dialect.name}:\n" + "\n".join(wrong[:30])


def test_estate_holds_the_corpus(hostile_db: tuple[sa.Engine, Evaluator, Captured]) -> None:
    """The values really are in the database, byte for byte (or the test proves nothing)."""
    engine, evaluator, _ = hostile_db
    dialect = engine.dialect.name
    with engine.connect() as conn:
        names = set(conn.execute(sa.text('SELECT name FROM "VmInstanceVO"' if dialect != "mysql"
                                         else "SELECT name FROM VmInstanceVO")).scalars())
        tags = set(conn.execute(sa.text('SELECT tag FROM "UserTagVO"' if dialect != "mysql"
                                        else "SELECT tag FROM UserTagVO")).scalars())
    assert names == {vm["name"] for vm in evaluator.estate.rows("VmInstanceVO")}
    assert {v for v in CORPUS if storable(v, dialect, length=TAG_LENGTH)} <= tags
    assert len({v for v in CORPUS if storable(v, dialect)} & (names | tags)) >= 200

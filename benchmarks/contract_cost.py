"""What the contract adds to the reference ZStack shape, timed apart.

Two corpus entries are slower than the reference server's statement in some runs:
``sort_fields_paging`` (the contract appends the primary key to a paged sort, so pages do
not repeat or skip rows that tie; the reference does not) and ``system_tag`` (the
contract tests the tag's ``resourceType``; the reference does not). This times zquery's
statement, the reference's, and the reference's with only that addition, interleaved,
so the difference can be read as the addition's cost or not::

    python -m benchmarks.contract_cost sqlite 100000   # or postgresql, mysql; kept data

>>> from benchmarks.databases import open_database
>>> db = open_database("sqlite")
>>> rows = measure_contract_cost(db, scale=200, rounds=1)
>>> sorted({row.entry for row in rows}), all(row.rows_equal for row in rows)
(['sort_fields_paging', 'system_tag'], True)
>>> db.close()
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from benchmarks.corpus import BY_NAME, RESOURCE
from benchmarks.databases import Database, open_database
from benchmarks.dataset import kept_name, prepare_dataset
from benchmarks.handwritten import DEFAULT_LIMIT, hand_tables
from zquery.compile import compile_plan
from zquery.dialects import bytewise_name, stats_for
from zquery.request import parse_request
from zquery.resolve import resolve

__all__ = ["ContractRow", "main", "measure_contract_cost"]

#: The label of the reference statement with the contract's addition, per entry.
ADDITIONS = {"sort_fields_paging": "reference + primary-key tie-breaker",
             "system_tag": "reference + resourceType test"}


@dataclass(frozen=True)
class ContractRow:
    """One entry on one database: median milliseconds per statement, same rows or not."""

    database: str
    entry: str
    medians: dict[str, float]
    rows_equal: bool


def _with_addition(entry: str, reference: sa.Select[Any], t: Any, values: Any) -> Any:
    vm, tag = t["VmInstanceVO"], t["SystemTagVO"]
    if entry == "sort_fields_paging":
        return reference.order_by(vm.c.uuid.asc())
    typed = sa.select(tag.c.resourceUuid).where(tag.c.tag == values.tag,
                                                tag.c.resourceType == "VmInstanceVO")
    return sa.select(*t.root_columns).where(vm.c.uuid.in_(typed)).limit(DEFAULT_LIMIT)


def measure_contract_cost(db: Database, *, scale: int, rounds: int = 21,
                          kept: bool = False) -> list[ContractRow]:
    """Fill *db* (or reuse kept data), then time the three statements of each entry."""
    dataset = prepare_dataset([db], scale=scale, kept=kept)
    graph, values = dataset.graph, dataset.values
    tables = hand_tables(graph)
    out = []
    with db.engine.connect() as conn:
        for name, label in ADDITIONS.items():
            entry = BY_NAME[name]
            assert entry.reference is not None
            plan = resolve(parse_request(entry.request(values)), graph, RESOURCE)
            zquery = compile_plan(plan, graph, dialect=bytewise_name(conn),
                                  stats=stats_for(conn)).rows
            reference = entry.reference(tables, values, db.kind).rows
            assert zquery is not None and reference is not None
            statements = {"zquery": zquery, "reference": reference,
                          label: _with_addition(name, reference, tables, values)}
            found = {key: conn.execute(stmt).all() for key, stmt in statements.items()}
            times: dict[str, list[float]] = {key: [] for key in statements}
            for _ in range(rounds):
                for key, stmt in statements.items():
                    start = time.perf_counter()
                    conn.execute(stmt).all()
                    times[key].append(time.perf_counter() - start)
            equal = found["zquery"] == found[label]
            out.append(ContractRow(db.kind, name, {k: statistics.median(v) * 1000
                                                   for k, v in times.items()}, equal))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    kind = args[0] if args else "sqlite"
    scale = int(args[1]) if len(args) > 1 else 100_000
    db = open_database(kind, kept_name(scale, "auto"))
    try:
        for row in measure_contract_cost(db, scale=scale, kept=True):
            print(f"\n{row.database}, {scale:,} VMs, {row.entry} (median ms; zquery / it)")
            for key, value in row.medians.items():
                print(f"  {key:38} {value:9.3f}  {row.medians['zquery'] / value:.2f}×")
            print(f"  zquery's rows equal the one with the addition: {row.rows_equal}")
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

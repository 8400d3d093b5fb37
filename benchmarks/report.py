"""The run's Markdown report: environment, targets, and one table per section.

:func:`render` turns a :class:`Run` into Markdown (also what the console shows);
:func:`targets` checks the figures against the issue's targets. Every number is a median
over interleaved rounds; every ratio is measured in the same round as its reference.

>>> print(_table(["a", "b"], [["1", "2"]]))
| a | b |
|---|---|
| 1 | 2 |
>>> _ratio(1.234), _us(1234.5), _ms(0.01234)
('1.23×', '1,234', '0.012')
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from benchmarks.compile_cost import STAGES, CompileResult
from benchmarks.corpus import BY_NAME, shown
from benchmarks.execution import ExecResult, ExecRow
from benchmarks.peers import PEER_NAMES
from benchmarks.repeat import CONTENDERS, CacheStats, RepeatResult
from benchmarks.values import Values

__all__ = ["NOISE", "TARGETS", "Run", "environment", "now", "render", "targets"]

#: Same-round ratios closer than this are ties on this machine (the research's measure).
NOISE = 1.3
#: The issue's targets: key → (what, limit).
TARGETS = {
    "cold": ("cold build: zquery / floor (median over the corpus)", 1.5),
    "pyrsql": ("pyrsql / zquery on every shared filter", 2.0),
    "odata": ("odata-query / zquery on every shared filter", 3.0),
    "repeat": ("repeated shape: zquery / hand-building, every entry", 0.5),
    "exec_floor": ("execution: zquery / hand-written SQL, every entry and database", 1.2),
    "exec_reference": ("execution: zquery / reference ZStack shape, every entry and database",
                       1.0),
}


@dataclass
class Run:
    """Everything one harness run measured (sections left out are None)."""

    started: datetime
    command: str
    settings: dict[str, str]
    environment: dict[str, str]
    compile_graph: str = ""
    compile: CompileResult | None = None
    repeat: RepeatResult | None = None
    cache: list[CacheStats] = field(default_factory=list)
    cache_size: int = 0
    execution: ExecResult | None = None
    dataset: str = ""
    dataset_seconds: float = 0.0
    values: Values | None = None
    notes: list[str] = field(default_factory=list)
    extra_sections: list[str] = field(default_factory=list)
    #: Panels a plug-in section adds to the PNG: each draws on the matplotlib ``Axes`` given.
    extra_panels: list[Callable[[Any], None]] = field(default_factory=list)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment(database_versions: Sequence[str]) -> dict[str, str]:
    """Machine and software versions, for the report's header."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info
                        if line.startswith("model name")), "")
    except OSError:
        cpu = platform.processor()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "machine": f"nproc {os.cpu_count()}, {cpu or platform.machine()}",
        "load average at start": load,
        "Python": sys.version.split()[0],
        "SQLAlchemy": _version("sqlalchemy"),
        "lark": _version("lark"),
        "zquery": _version("zquery"),
        "peers": f"pyrsql {_version('pyrsql')}, odata-query {_version('odata-query')}",
        "databases": "; ".join(database_versions) or "none",
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.2f}×"


def _us(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value >= 10 else f"{value:.3f}" if value < 1 else f"{value:.2f}"


def targets(run: Run) -> list[tuple[str, float, str, bool | None, str]]:
    """(target, limit, measured, met, margin) per target; met is None when not measured.

    *margin* says, for the peer targets, how much time they allow zquery on the closest
    filters (:func:`_peer_margin`).
    """
    out: list[tuple[str, float, str, bool | None, str]] = []

    def add(key: str, measured: str, met: bool | None, margin: str = "—") -> None:
        out.append((TARGETS[key][0], TARGETS[key][1], measured, met, margin))

    if run.compile is not None and run.compile.rows:
        ratios = [row.ratio_to_floor for row in run.compile.rows]
        middle = statistics.median(ratios)
        worst = max(run.compile.rows, key=lambda row: row.ratio_to_floor)
        add("cold", f"median {middle:.2f}× (worst {worst.ratio_to_floor:.2f}× on "
                    f"{worst.entry}; {sum(r <= 1.5 for r in ratios)}/{len(ratios)} entries "
                    f"≤ 1.5×)", middle <= TARGETS["cold"][1])
        for peer in PEER_NAMES:
            shared = [(row.entry, row.peer_ratio[peer]) for row in run.compile.rows
                      if peer in row.peer_ratio]
            if not shared:
                add(peer, "no shared filter", None)
                continue
            slowest = min(shared, key=lambda item: item[1])
            met = all(ratio >= TARGETS[peer][1] for _, ratio in shared)
            add(peer, f"{len(shared)} shared filters; least {slowest[1]:.2f}× ({slowest[0]})",
                met, _peer_margin(run.compile, peer))
    if run.repeat is not None and run.repeat.rows:
        repeated = [(row.entry, row.to_floor["zquery"]) for row in run.repeat.rows]
        worst = max(repeated, key=lambda item: item[1])
        add("repeat", f"worst {worst[1]:.2f}× ({worst[0]}), median "
                      f"{statistics.median(r for _, r in repeated):.2f}×",
            all(r <= TARGETS["repeat"][1] for _, r in repeated))
    if run.execution is not None and run.execution.rows:
        rows = run.execution.rows
        for key in ("exec_floor", "exec_reference"):
            limit = TARGETS[key][1]
            found = [(row, row.to_floor if key == "exec_floor" else row.to_reference)
                     for row in rows]
            found = [(row, ratio) for row, ratio in found if ratio is not None]
            over = [(row, ratio) for row, ratio in found if ratio is not None and ratio > limit]
            clear = [f"{row.entry}@{row.database} {ratio:.2f}×" for row, ratio in over
                     if ratio is not None and ratio > limit * NOISE]
            add(key, f"{len(found) - len(over)}/{len(found)} within; beyond the noise band "
                     f"(> {limit * NOISE:.2f}×): " + (", ".join(clear) or "none"), not over)
    return out


def _peer_margin(result: CompileResult, peer: str) -> str:
    """How close each peer target is: for the closest shared filters, the time zquery may
    take to be *limit* times faster than the peer (``peer / limit``) against its own."""
    limit = TARGETS[peer][1]
    found = sorted((row for row in result.rows if peer in row.peers),
                   key=lambda row: row.peer_ratio[peer])
    if not found:
        return "—"
    cells = [f"{row.entry}: ≤ {row.peers[peer] / limit:,.0f} µs allowed, zquery "
             f"{row.zquery['total']:,.0f} µs" for row in found[:_CLOSEST]]
    return "closest: " + "; ".join(cells)


#: Shared filters the peer margin names.
_CLOSEST = 3


def _targets_table(run: Run) -> str:
    rows = [[what, f"{limit:g}×", measured, "—" if met is None else "met" if met else "NOT met",
             margin]
            for what, limit, measured, met, margin in targets(run)]
    return _table(["target", "limit", "measured", "status", "margin"], rows)


def _compile_section(run: Run) -> str:
    result = run.compile
    assert result is not None
    rows = []
    notes = []
    for row in result.rows:
        cells = [row.entry, *(_us(row.zquery[s]) for s in STAGES), _us(row.zquery["total"]),
                 _us(row.floor), f"{_ratio(row.ratio_to_floor)} ±{row.ratio_spread:.0%}",
                 _us(row.value_floor), _ratio(row.ratio_to_value_floor)]
        for peer in PEER_NAMES:
            if peer in row.peers:
                cells += [_us(row.peers[peer]), _ratio(row.peer_ratio[peer])]
            else:
                note = row.peer_notes.get(peer, "—")
                cells += ["—", "—" if note == "—" else "excluded"]
                if note != "—":
                    notes.append(f"- {peer} on `{row.entry}` excluded: {note}")
        rows.append(cells)
    header = ["entry", "parse µs", "resolve µs", "compile µs", "zquery µs", "floor µs",
              "zquery/floor", "value floor µs", "zquery/value floor", "pyrsql µs",
              "pyrsql/zquery", "odata µs", "odata/zquery"]
    requests = [[entry_row.entry, f"`{shown(BY_NAME[entry_row.entry].request(Values.variant(0)))}`"]
                for entry_row in result.rows]
    return "\n\n".join([
        f"## 1. Compile cost, cold (graph: {run.compile_graph}; dialect {result.dialect}; "
        f"{result.rounds} rounds)",
        "Microseconds per request (median); a ratio is the median of same-round ratios "
        "(± its run-to-run spread). *value floor*: the floor on a prebuilt SELECT list, so "
        "only what holds the request's values is built through SQLAlchemy's public "
        "operators (a peer's `select(Model)` does not coerce the column list either; zquery "
        "builds its comparisons directly, so it can go below it). Peer columns: how many "
        "times slower than zquery the "
        "peer is. Every iteration uses values never seen before.",
        _table(header, rows), "\n".join(notes) if notes else "",
        "<details><summary>The corpus (values of variant 0)</summary>\n\n"
        + _table(["entry", "request"], requests) + "\n\n</details>"])


def _repeat_section(run: Run) -> str:
    result = run.repeat
    assert result is not None
    rows = [[row.entry, *(_us(row.medians[c]) for c in CONTENDERS),
             *(_ratio(row.to_floor[c]) for c in CONTENDERS if c != "floor")]
            for row in result.rows]
    header = ["entry", "zquery µs", "no cache µs", "same text µs", "parse only µs", "floor µs",
              "zquery/floor", "no cache/floor", "same text/floor", "parse only/floor"]
    cache_rows = [[s.entry, str(s.executions), str(s.statements), str(s.misses), str(s.hits),
                   f"`[{s.marker}]`" if s.marker else "—"] for s in run.cache]
    parts = [f"## 2. Repeated shapes ({result.rounds} rounds)",
             "*zquery* is the whole per-request overhead with the shape cache "
             "(`parse_request` + `ShapeCache.prepare`: parse, look the shape up, bind new "
             "values); *no cache* runs parse → resolve → compile again. "
             "*same text* repeats one request verbatim "
             "(zquery's per-text caches); *parse only* is `parse_request` alone, the least "
             "any shape cache that still runs the grammar costs.", _table(header, rows)]
    if run.cache:
        parts += ["SQLAlchemy's compiled cache over requests of one shape with new values "
                  f"(zquery `execute()`, nested collections included; cache size at the end: "
                  f"{run.cache_size} entries):",
                  _table(["entry", "requests", "statements", "misses", "hits", "sample marker"],
                         cache_rows)]
    return "\n\n".join(parts)


def _execution_section(run: Run) -> str:
    result = run.execution
    assert result is not None
    parts = [f"## 3. Execution ({run.dataset}; built in {run.dataset_seconds:.0f} s; "
             f"{result.rounds} rounds)",
             "Milliseconds per request (median, every row fetched). *floor*: best hand-written "
             "SQL; *reference*: the reference ZStack shape (nested IN per hop and condition); "
             "*execute()*: zquery's whole executor (statements, nested collections, reply "
             "dicts). Checks: every shape returned the floor's rows before timing. Scans: "
             "tables other than the queried one read in full by a zquery statement, planner "
             "pushed towards indexes."]
    header = ["entry", "zquery", "floor", "reference", "zquery/floor", "zquery/reference",
              "execute()", "execute()/statements", "checks", "full scans"]
    for database in dict.fromkeys(row.database for row in result.rows):
        rows = []
        for row in (r for r in result.rows if r.database == database):
            def cell(shape: str, row: ExecRow = row) -> str:
                if shape not in row.medians:
                    return "—"
                value = _ms(row.medians[shape])
                return f"> {value}" if shape in row.capped else value

            def bound(ratio: float | None, top: str, bottom: str, row: ExecRow = row) -> str:
                # A capped time is a lower bound: the ratio is then a bound, not a value.
                above, below = top in row.capped, bottom in row.capped
                prefix = "" if above == below else "≥ " if above else "≤ "
                return prefix + _ratio(ratio)

            rows.append([row.entry, cell("zquery"), cell("floor"), cell("reference"),
                         bound(row.to_floor, "zquery", "floor"),
                         bound(row.to_reference, "zquery", "reference"),
                         cell("zquery_reply"),
                         bound(row.reply_to_statements, "zquery_reply", "zquery"),
                         "; ".join(row.problems) or "same rows",
                         ", ".join(row.scans) or "—"])
        parts += [f"### {database}", _table(header, rows)]
    keys = ", ".join(f"{t}.{c}" for t, c in result.join_keys)
    missing = [f"{db}: " + ", ".join(f"{t}.{c}" for t, c in found)
               for db, found in result.unindexed.items() if found]
    parts.append(f"Join keys the corpus uses ({len(result.join_keys)}): {keys}. "
                 + ("Not served by an index: " + "; ".join(missing) if missing
                    else "Every one is the leading column of an index (or the primary key) "
                         "on every database."))
    return "\n\n".join(parts)


def render(run: Run) -> str:
    """The whole report as Markdown."""
    header = [f"# zquery benchmarks — {run.started:%Y-%m-%d %H:%M} UTC",
              f"Command: `{run.command}`",
              _table(["", ""], [[k, v] for k, v in {**run.environment,
                                                     **run.settings}.items()]),
              "Method: every case runs once per round, rounds in a seeded shuffled order, "
              "batches sized to about the same time; medians over rounds, ratios measured "
              "side by side in the same round. The machine is shared and noisy: read ratios "
              f"under {NOISE}× as ties.",
              "## Targets", _targets_table(run)]
    if run.notes:
        header.append("\n".join(f"- {note}" for note in run.notes))
    sections = []
    if run.compile is not None:
        sections.append(_compile_section(run))
    if run.repeat is not None:
        sections.append(_repeat_section(run))
    if run.execution is not None:
        sections.append(_execution_section(run))
    sections.extend(run.extra_sections)
    return "\n\n".join([*header, *sections]) + "\n"


def now() -> datetime:
    return datetime.now(timezone.utc)

"""``python -m benchmarks``: run the harness, print the report, write Markdown and PNG.

Sections (``--sections``, all by default): ``compile`` (cold compile cost against the
hand-built floor and the peers), ``repeat`` (a shape seen before; SQLAlchemy's compiled
cache) and ``execute`` (statements on the same data in SQLite, PostgreSQL and MariaDB).
More sections plug in through :func:`register_section`: when ``benchmarks.load`` (the
server-load section: ``wrk`` against a server process) defines ``SECTION``, a
``(name, function)`` pair, it is registered after the built-in ones.

>>> args = parse_args(["--scale", "300", "--sections", "compile", "--rounds", "1"])
>>> args.scale, args.sections, args.databases
(300, ['compile'], ['sqlite', 'postgresql', 'mysql'])
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.compile_cost import peer_problems, run_compile_cost
from benchmarks.corpus import BY_NAME, ENTRIES, Entry
from benchmarks.databases import DATABASE_KINDS, Database, open_database, open_databases
from benchmarks.dataset import DATASET_KINDS, Dataset, kept_name, prepare_dataset
from benchmarks.execution import run_execution
from benchmarks.plot import plot
from benchmarks.repeat import compiled_cache_stats, run_repeat
from benchmarks.report import Run, environment, now, render
from benchmarks.schema import compile_graph
from zquery.schema.graph import SchemaGraph

__all__ = ["SECTIONS", "Harness", "main", "parse_args", "register_section"]

_RESULTS = Path(__file__).resolve().parent / "results"
#: Scale of the small data the peer check and the cache count run on.
_CHECK_SCALE = 300
#: From this scale on, a shape's trial run is capped at _DEFAULT_CAP seconds by default.
_CAPPED_SCALE, _DEFAULT_CAP = 100_000, 60.0
#: Seconds of one wrk run of the load section: below and from _CAPPED_SCALE on.
_SHORT_LOAD, _LONG_LOAD = 3, 30


@dataclass
class Harness:
    """What every section reads and fills: the options, the run, the shared small database."""

    args: argparse.Namespace
    run: Run
    entries: list[Entry]
    say: Callable[[str], None]
    graph: SchemaGraph
    _check: tuple[Database, Dataset] | None = None
    opened: list[Database] = field(default_factory=list)
    #: The execution section's databases and data (the load section serves them when set).
    executed: tuple[list[Database], Dataset] | None = None

    def check_data(self) -> tuple[Database, Dataset]:
        """A small SQLite database on the compile graph's data (built on first use)."""
        if self._check is None:
            db = open_database("sqlite")
            self.opened.append(db)
            kind = "bench" if self.run.compile_graph.startswith("test graph") else "auto"
            self._check = (db, prepare_dataset([db], scale=_CHECK_SCALE, kind=kind))
        return self._check


Section = Callable[[Harness], None]
#: Section name → function, in run order.
SECTIONS: dict[str, Section] = {}


def register_section(name: str, section: Section) -> None:
    """Add a section (``--sections`` can then name it); it may append Markdown to
    ``harness.run.extra_sections``."""
    SECTIONS[name] = section


def _compile(h: Harness) -> None:
    db, data = h.check_data()
    with db.engine.connect() as conn:
        notes = peer_problems(conn, data.graph, h.entries, data.values)
    h.say("compile cost: timing")
    h.run.compile = run_compile_cost(h.graph, h.entries, rounds=h.args.rounds,
                                     warmup=h.args.warmup, target=h.args.target,
                                     peer_notes=notes, seed=h.args.seed, progress=h.say)


def _repeat(h: Harness) -> None:
    h.say("repeated shapes: timing")
    h.run.repeat = run_repeat(h.graph, h.entries, rounds=h.args.rounds, warmup=h.args.warmup,
                              target=h.args.target, seed=h.args.seed + 1, progress=h.say)
    db, data = h.check_data()
    h.run.cache, h.run.cache_size = compiled_cache_stats(db.engine, data.graph, h.entries)


def _execute(h: Harness) -> None:
    kept = kept_name(h.args.scale, h.args.dataset) if h.args.keep_data else None
    databases, skipped = open_databases(h.args.databases, kept)
    h.opened.extend(databases)
    h.run.notes.extend(f"execution skipped {line}" for line in skipped)
    if not databases:
        return
    data = prepare_dataset(databases, scale=h.args.scale, kind=h.args.dataset,
                           filter_indexes=h.args.filter_indexes, kept=kept is not None,
                           progress=h.say)
    h.run.dataset, h.run.dataset_seconds, h.run.values = (
        f"{data.description}, graph: {data.graph_name}"
        + ("" if h.args.filter_indexes else ", no filter-column indexes"),
        data.seconds, data.values)
    h.executed = (databases, data)
    h.say("execution: checking rows, EXPLAIN, timing")
    h.run.execution = run_execution(databases, data.graph, data.values, h.entries,
                                    rounds=h.args.exec_rounds, warmup=h.args.exec_warmup,
                                    target=h.args.exec_target,
                                    seed=h.args.seed + 2, cap=h.args.exec_cap,
                                    progress=h.say)


register_section("compile", _compile)
register_section("repeat", _repeat)
register_section("execute", _execute)
if importlib.util.find_spec("benchmarks.load") is not None:  # the later server-load section
    _LOAD_SECTION = getattr(importlib.import_module("benchmarks.load"), "SECTION", None)
    if _LOAD_SECTION is not None:
        register_section(*_LOAD_SECTION)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _numbers(text: str) -> list[int]:
    return [int(part) for part in _names(text)]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--scale", type=int, default=1000,
                        help="VMs in the execution data (1000000 for the full run)")
    parser.add_argument("--rounds", type=int, default=7,
                        help="measured rounds of the compile and repeat sections")
    parser.add_argument("--exec-rounds", type=int, default=5,
                        help="measured rounds of the execution section")
    parser.add_argument("--warmup", type=int, default=2,
                        help="warm-up rounds of compile and repeat (the first sizes batches)")
    parser.add_argument("--exec-warmup", type=int, default=1,
                        help="warm-up rounds of execution (1: only the batch-sizing one)")
    parser.add_argument("--target", type=float, default=0.02,
                        help="seconds one compile batch should take")
    parser.add_argument("--exec-target", type=float, default=0.05,
                        help="seconds one execution batch should take")
    parser.add_argument("--sections", type=_names, default=None,
                        help="comma-separated, from: " + ", ".join(SECTIONS))
    parser.add_argument("--databases", type=_names, default=list(DATABASE_KINDS),
                        help="comma-separated, from: " + ", ".join(DATABASE_KINDS))
    parser.add_argument("--entries", type=_names, default=None,
                        help="corpus entries to run (default: all)")
    parser.add_argument("--schema", choices=("auto", "catalogue", "test"), default="auto",
                        help="graph for compile cost")
    parser.add_argument("--dataset", choices=DATASET_KINDS, default="auto",
                        help="execution data: the demo database or the fallback bench data")
    parser.add_argument("--no-filter-indexes", dest="filter_indexes", action="store_false",
                        help="do not index the columns the corpus filters by")
    parser.add_argument("--exec-cap", type=float, default=None,
                        help="seconds a shape's trial run may take before it is reported as "
                             "over the cap instead of timed (default: 60 at 100,000 VMs "
                             "and more, no cap below)")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the execution databases after the run and reuse them when "
                             "their data is current (zqb_kept_<dataset>_<scale>; SQLite files "
                             "in $ZQUERY_BENCH_DATA, default <tmp>/zqb_kept)")
    parser.add_argument("--load-seconds", type=int, default=None,
                        help="seconds of each wrk run of the load section (default: 3, and "
                             "30 at 100,000 VMs and more)")
    parser.add_argument("--load-clients", type=_numbers, default=[1, 16, 64],
                        help="comma-separated: concurrent clients of the load section's runs")
    parser.add_argument("--load-port", type=int,
                        default=int(os.environ.get("ZQUERY_BENCH_PORT", "0")),
                        help="the load section's server port: the first free one from this "
                             "on (default: $ZQUERY_BENCH_PORT, else any free port)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--out", type=Path, default=_RESULTS,
                        help="directory for latest.md and latest.png")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    args.sections = args.sections or list(SECTIONS)
    if args.exec_cap is None and args.scale >= _CAPPED_SCALE:
        args.exec_cap = _DEFAULT_CAP
    if args.load_seconds is None:
        args.load_seconds = _LONG_LOAD if args.scale >= _CAPPED_SCALE else _SHORT_LOAD
    for name in args.sections:
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r} (known: {', '.join(SECTIONS)})")
    for name in args.databases:
        if name not in DATABASE_KINDS:
            parser.error(f"unknown database {name!r} (known: {', '.join(DATABASE_KINDS)})")
    for name in args.entries or ():
        if name not in BY_NAME:
            parser.error(f"unknown entry {name!r} (known: {', '.join(BY_NAME)})")
    return args


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds, so the scratch databases are dropped


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    signal.signal(signal.SIGTERM, _stop)

    def say(text: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - began:6.1f} s] {text}", file=sys.stderr, flush=True)

    entries = [BY_NAME[name] for name in args.entries] if args.entries else list(ENTRIES)
    command = "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv)
    run = Run(now(), command.strip(), settings={}, environment={})
    graph, run.compile_graph = compile_graph(args.schema)
    harness = Harness(args, run, entries, say, graph)
    try:
        for name in args.sections:
            say(f"section {name}")
            SECTIONS[name](harness)
        versions = [db.version for db in harness.opened]
    finally:
        for db in harness.opened:
            db.close()
    run.environment = environment(list(dict.fromkeys(versions)))
    run.settings = {
        "scale": f"{args.scale:,} VMs",
        "rounds": f"{args.rounds} + {args.warmup} warm-up (execution: {args.exec_rounds} + "
                  f"{args.exec_warmup} warm-up)",
        "batch": f"~{args.target * 1000:g} ms compile, ~{args.exec_target * 1000:g} ms "
                 "execution", "seed": str(args.seed),
        "wall time": f"{time.perf_counter() - began:.0f} s"}
    text = render(run)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(text, encoding="utf-8")
    plot(run, args.out / "latest.png")
    say(f"wrote {args.out / 'latest.md'} and {args.out / 'latest.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

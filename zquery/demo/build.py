"""Build the demo database: create the catalogue's tables, generate, bulk-load, index, analyse.

:func:`build_demo` fills any SQLAlchemy URL or engine. A SQLite file is built next to its
final name and moved into place only when complete, so a half-built file never looks like
a demo database (and the fast unsafe build settings cannot leave a broken one behind).

>>> import sqlalchemy as sa
>>> from zquery.schema.serialize import graph_from_dict
>>> graph = graph_from_dict({"resources": {"Zone": {"table": "ZoneVO", "primary_key": "uuid",
...     "fields": {"uuid": "String", "name": "String", "state": "String"}}}})
>>> engine = sa.create_engine("sqlite://")
>>> report = build_demo(engine, scale=100, graph=graph)
>>> report.counts["ZoneVO"]
2
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from zquery.demo.compute import VmFactory
from zquery.demo.context import Ctx
from zquery.demo.examples import plant_examples
from zquery.demo.generic import fill_generic, watched_columns
from zquery.demo.infra import build_infra
from zquery.demo.network import build_networks
from zquery.demo.owners import Owners, tenants
from zquery.demo.sink import Sink
from zquery.demo.sizes import Sizes
from zquery.demo.values import Ids, rng_for
from zquery.demo.writer import create_indexes, create_tables, drop_tables, writer_for
from zquery.errors import BadParameter
from zquery.schema.graph import SchemaGraph
from zquery.schema.tables import build_metadata

__all__ = ["DEFAULT_SCALE", "DEFAULT_SEED", "DemoReport", "Progress", "build_demo",
           "default_demo_path", "default_demo_url", "demo_exists"]

DEFAULT_SCALE = 10_000
DEFAULT_SEED = 42
#: ``progress(stage, done, total)``; stages: ``estate``, ``vms``, ``other tables``,
#: ``indexes``, ``analyze``. ``vms`` is called every few thousand VMs.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoReport:
    """What was built: where, how big, how long, rows per table."""

    url: str
    scale: int
    seed: int
    seconds: float
    counts: Mapping[str, int]

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def default_demo_path() -> Path:
    """``$ZQUERY_DEMO_DB``, else ``$XDG_DATA_HOME/zquery/demo.sqlite`` (``~/.local/share``)."""
    explicit = os.environ.get("ZQUERY_DEMO_DB")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "zquery" / "demo.sqlite"


def default_demo_url() -> str:
    return f"sqlite:///{default_demo_path()}"


def demo_exists(target: str | sa.Engine, graph: SchemaGraph | None = None) -> bool:
    """True when the database already has the catalogue's ``VmInstanceVO``-like tables."""
    engine = sa.create_engine(target) if isinstance(target, str) else target
    try:
        path = _sqlite_file(engine)
        if path is not None and not path.exists():
            return False  # do not let the check create an empty file
        names = set(build_metadata(graph or _catalogue()).tables)
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
        return bool(names) and names <= present
    finally:
        if isinstance(target, str):
            engine.dispose()


def build_demo(target: str | sa.Engine, *, scale: int = DEFAULT_SCALE, seed: int = DEFAULT_SEED,
               graph: SchemaGraph | None = None, replace: bool = False,
               progress: Progress | None = None,
               examples: Sequence[Mapping[str, Any]] | None = None) -> DemoReport:
    """Fill *target* (a URL or an engine) with a demo estate of *scale* VMs.

    The same *seed* and *scale* give the same rows. Existing catalogue tables make this
    refuse, unless *replace* (then they are dropped first). *examples* (default: the
    manual's, with the catalogue) get a matching row each (:mod:`zquery.demo.examples`).
    """
    sizes = Sizes.for_scale(scale)
    if graph is None:
        from zquery.catalogue import load_examples

        graph = _catalogue()
        examples = load_examples() if examples is None else examples
    examples = examples or ()
    began = time.perf_counter()
    engine = sa.create_engine(target) if isinstance(target, str) else target
    final = _sqlite_file(engine)
    try:
        if final is not None:
            if final.exists() and not replace:
                raise _exists(engine.url.render_as_string(hide_password=True))
            final.parent.mkdir(parents=True, exist_ok=True)
            aside = final.with_name(final.name + ".building")
            aside.unlink(missing_ok=True)
            build_engine = sa.create_engine(engine.url.set(database=str(aside)))
            try:
                counts = _build(build_engine, graph, sizes, seed, replace=True,
                                progress=progress, examples=examples)
            finally:
                build_engine.dispose()
            os.replace(aside, final)
        else:
            counts = _build(engine, graph, sizes, seed, replace=replace, progress=progress,
                            examples=examples)
    finally:
        if isinstance(target, str):
            engine.dispose()
    return DemoReport(engine.url.render_as_string(hide_password=True), scale, seed,
                      time.perf_counter() - began, counts)


def _build(engine: sa.Engine, graph: SchemaGraph, sizes: Sizes, seed: int, *, replace: bool,
           progress: Progress | None, examples: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    report = progress or (lambda stage, done, total: None)
    metadata = build_metadata(graph)
    with engine.begin() as conn:
        writer = writer_for(conn)
        writer.prepare()
        present = set(sa.inspect(conn).get_table_names()) & set(metadata.tables)
        if present and not replace:
            raise _exists(engine.url.render_as_string(hide_password=True))
        drop_tables(conn, metadata)
        create_tables(conn, metadata)
        sink = Sink(metadata, writer.write, watch=watched_columns(graph))
        ids = Ids(seed)
        owners = Owners(sink, graph, tenants(sizes.accounts, ids), rng_for(seed, "owners"), ids)
        ctx = Ctx(sink, ids, owners, sizes, seed)
        report("estate", 0, 1)
        infra = build_infra(ctx)
        networks = build_networks(ctx, infra)
        report("estate", 1, 1)
        report("vms", 0, sizes.vms)
        VmFactory(ctx, infra, networks).run(sizes.vms,
                                            lambda done: report("vms", done, sizes.vms))
        report("other tables", 0, 1)
        special = {name for name in (
            *((graph.tags.system_table, graph.tags.user_table) if graph.tags else ()),
            *((graph.ownership.ref_table, graph.ownership.shared_table)
              if graph.ownership else ()))}
        fill_generic(ctx, graph, metadata, frozenset(set(sink.counts) | special))
        sink.close()
        plant_examples(ctx, conn, graph, examples)
        sink.close()
        report("other tables", 1, 1)
        report("indexes", 0, 1)
        create_indexes(conn, metadata)
        report("indexes", 1, 1)
        report("analyze", 0, 1)
        writer.finish(metadata)
        report("analyze", 1, 1)
    return dict(sorted(sink.counts.items()))


def _sqlite_file(engine: sa.Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or \
            database.startswith("file:"):
        return None
    return Path(database)


def _exists(url: str) -> BadParameter:
    return BadParameter(f"{url} already has zquery demo tables", param="db", value=url,
                        hint="pass replace=True (zquery demo --force) to rebuild it")


def _catalogue() -> SchemaGraph:
    from zquery.catalogue import load_catalogue

    return load_catalogue()

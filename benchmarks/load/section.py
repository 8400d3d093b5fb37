"""Section 4 of the harness: a real server process under ``wrk``, on SQLite and PostgreSQL.

For each database the section takes the execution section's demo database of this run,
or builds one at ``--scale`` VMs the same way (:func:`benchmarks.dataset.prepare_dataset`:
a scratch database dropped at the end, or the kept one with ``--keep-data``). It starts
``serve.py`` (uvicorn, one process) on 127.0.0.1, checks every request it will send, warms
the server up, then runs ``wrk`` for ``--load-seconds`` per request kind and number of
clients (``--load-clients``: 1, 16, 64), each run once the server is idle again:

* ``uuid``: ``q=uuid=<uuid>``, an indexed lookup, over 64 different VMs;
* ``two_hops``: ``q=vmNics.l3Network.name=<name>&limit=20`` over the L3 networks with NICs;
* ``count_page``: ``replyWithCount=true&limit=20``, the first pages in turn.

wrk and the server share the machine's cores, so the figures are the whole loop's, not the
server's alone. Without wrk the section is skipped with a note.

>>> print(render([LoadRow("sqlite", "uuid", 1, WrkOutcome(300, 99.5, 9.8, 20.01, 0, 0))],
...              {"uuid": "/v?q=uuid=<uuid>"}, 3, "demo").splitlines()[-1])
| sqlite | uuid | 1 | 99.5 | 9.80 | 20.0 | 300 | 0 | 0 |
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import sqlalchemy as sa

from benchmarks.databases import Database, open_databases
from benchmarks.dataset import kept_name, prepare_dataset
from benchmarks.load.panel import draw_load
from benchmarks.load.run_load import start_server
from benchmarks.load.wrk import WrkOutcome, run_wrk, wrk_path
from zquery.catalogue import load_catalogue
from zquery.schema.graph import SchemaGraph
from zquery.schema.tables import build_metadata
from zquery.server_memory import SERVER_MALLOC_ARENAS

if TYPE_CHECKING:
    from benchmarks.__main__ import Harness

__all__ = ["KINDS", "LoadRow", "check_requests", "free_port", "render", "request_paths",
           "run_load_section", "wait_until_idle"]

#: The databases a server is started on, in order (MariaDB is left to the execution section).
LOAD_DATABASES = ("sqlite", "postgresql")
KINDS = ("uuid", "two_hops", "count_page")
V1 = "/zstack/v1/vm-instances"
#: Distinct VMs the uuid lookups rotate through: no single cached row answers them all.
_UUIDS = 64
_L3_NAMES = 8
_PAGES, _PAGE = 5, 20
#: Warm-up over all requests before timing (the pool, the allocator).
_WARMUP_SECONDS = 1


@dataclass(frozen=True)
class LoadRow:
    """One wrk run: database, request kind, concurrent clients and what wrk measured."""

    database: str
    kind: str
    clients: int
    outcome: WrkOutcome


def free_port(first: int = 0) -> int:
    """A free TCP port on 127.0.0.1: any (*first* 0), else the first free from *first* on.

    >>> 0 < free_port() < 65536
    True
    """
    for port in [0] if first == 0 else range(first, first + 100):
        with closing(socket.socket()) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError(f"no free port in {first}-{first + 99}")


def request_paths(conn: sa.Connection, metadata: sa.MetaData) -> dict[str, list[str]]:
    """Per request kind, the paths wrk rotates through, read from the data."""
    vm, nic, l3 = (metadata.tables[name] for name in ("VmInstanceVO", "VmNicVO", "L3NetworkVO"))
    uuids = list(conn.execute(sa.select(vm.c.uuid).order_by(vm.c.uuid)).scalars())
    step = max(1, len(uuids) // _UUIDS)
    used = sa.select(nic.c.l3NetworkUuid).where(nic.c.l3NetworkUuid.is_not(None))
    names = conn.execute(sa.select(l3.c.name).distinct().where(
        l3.c.uuid.in_(used), l3.c.name.is_not(None)).order_by(l3.c.name).limit(_L3_NAMES))
    pages = min(_PAGES, max(1, len(uuids) // _PAGE))
    return {
        "uuid": [f"{V1}?q=uuid={quote(u)}" for u in uuids[::step][:_UUIDS]],
        "two_hops": [f"{V1}?q=vmNics.l3Network.name={quote(name)}&limit={_PAGE}"
                     for name in names.scalars()],
        "count_page": [f"{V1}?replyWithCount=true&limit={_PAGE}&start={k * _PAGE}"
                       for k in range(pages)],
    }


def check_requests(base: str, paths: Mapping[str, Sequence[str]], total: int) -> list[str]:
    """What is wrong with the answers to *paths* (empty: every one answers as it should)."""
    wrong = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for kind, kind_paths in paths.items():
            if not kind_paths:
                wrong.append(f"{kind}: no request (the data has nothing to ask for)")
            for path in kind_paths:
                response = client.get(path)
                reply = response.json() if response.status_code == 200 else {}
                found = reply.get("inventories", [])
                good = {"uuid": len(found) == 1 and path.endswith(found[0].get("uuid", "-")),
                        "two_hops": 0 < len(found) <= _PAGE,
                        "count_page": reply.get("total") == total and len(found) > 0}[kind]
                if not good:
                    wrong.append(f"{path}: {response.status_code} {response.text[:200]}")
    return wrong


def _cpu_ticks(pid: int) -> int:
    """User + system CPU clock ticks the process *pid* has used (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, from field 3 on
    return int(fields[11]) + int(fields[12])  # fields 14 and 15: utime, stime


def wait_until_idle(pid: int, *, window: float = 0.5, timeout: float = 120.0) -> None:
    """Return once the process *pid* used at most one clock tick of CPU in *window* s.

    When wrk stops, the requests its connections had in flight still run to the end in
    the server (a disconnect does not cancel a query). Without this wait they would be
    counted against the next run: right after 64 clients, a 1-client run on a saturated
    server may not complete a single request.

    >>> import os
    >>> wait_until_idle(os.getppid(), window=0.05, timeout=1.0)
    """
    if not Path(f"/proc/{pid}/stat").exists():
        return  # not Linux: nothing to read; the runs follow each other directly
    deadline = time.monotonic() + timeout
    last = _cpu_ticks(pid)
    while time.monotonic() < deadline:
        time.sleep(window)
        now = _cpu_ticks(pid)
        if now - last <= 1:
            return
        last = now


def _measure(base: str, pid: int, database: str, paths: Mapping[str, Sequence[str]],
             seconds: int, clients_list: Sequence[int],
             say: Callable[[str], None]) -> list[LoadRow]:
    # The checks before sent every path once (compiled caches); this grows the connection
    # pool and the server's thread pool to the most clients before anything is timed.
    run_wrk(base, [path for kind in KINDS for path in paths[kind]],
            clients=max(clients_list), seconds=_WARMUP_SECONDS)
    rows = []
    for kind in KINDS:
        for clients in clients_list:
            wait_until_idle(pid)
            say(f"load: {database} {kind} × {clients} client(s), {seconds} s")
            rows.append(LoadRow(database, kind, clients,
                                run_wrk(base, paths[kind], clients=clients, seconds=seconds)))
    return rows


def _demo_database(h: Harness, kind: str) -> tuple[Database, SchemaGraph, str] | None:
    """A database of *kind* holding the demo estate at ``--scale``, its graph and where it
    comes from: the execution section's when it ran on the demo data, else one built here
    (None, with a note, when the server does not answer)."""
    if h.executed is not None and h.executed[1].graph is load_catalogue():
        for db in h.executed[0]:
            if db.kind == kind:
                return db, h.executed[1].graph, "section 3's database"
    args = h.args
    kept = kept_name(args.scale, "demo" if args.dataset == "bench" else args.dataset)
    databases, skipped = open_databases([kind], kept if args.keep_data else None)
    h.run.notes.extend(f"load skipped {line}" for line in skipped)
    if not databases:
        return None
    db = databases[0]
    h.opened.append(db)  # dropped with the others at the end of the run
    data = prepare_dataset([db], scale=args.scale, kind="demo",
                           filter_indexes=args.filter_indexes, kept=args.keep_data,
                           progress=h.say)
    return db, data.graph, f"built in {data.seconds:.0f} s"


def _serve_and_measure(h: Harness, kind: str) -> tuple[list[LoadRow], dict[str, list[str]],
                                                       str]:
    """Serve *kind*'s demo database, check and time every request kind; [] if it is down."""
    args = h.args
    found = _demo_database(h, kind)
    if found is None:
        return [], {}, ""
    db, graph, origin = found
    metadata = build_metadata(graph)
    with db.engine.connect() as conn:
        paths = request_paths(conn, metadata)
        total = conn.execute(sa.select(sa.func.count()).select_from(
            metadata.tables["VmInstanceVO"])).scalar_one()
    db.engine.dispose()  # the server process is the only client while wrk runs
    port = free_port(args.load_port)
    h.say(f"load: starting the server on {kind}, port {port}")
    server = start_server(db.engine.url.render_as_string(hide_password=False), port,
                          args.scale, SERVER_MALLOC_ARENAS)
    try:
        base = f"http://127.0.0.1:{port}"
        h.say(f"load: checking the {sum(map(len, paths.values()))} requests, warming up")
        wrong = check_requests(base, paths, total)
        if wrong:
            raise RuntimeError(f"the load requests do not answer as expected on {kind}:\n"
                               + "\n".join(wrong[:10]))
        return _measure(base, server.pid, kind, paths, args.load_seconds, args.load_clients,
                        h.say), paths, f"{kind}: {origin}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def render(rows: Sequence[LoadRow], examples: Mapping[str, str], seconds: int,
           dataset: str) -> str:
    """The section's Markdown: how it ran, the requests, one row per wrk run."""
    table = ["| database | request | clients | req/s | p50 ms | p99 ms | requests | non-2xx "
             "| socket errors |", "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        o = row.outcome
        table.append(f"| {row.database} | {row.kind} | {row.clients} | {o.per_second:,.1f} | "
                     f"{_ms(o.p50_ms)} | {_ms(o.p99_ms)} | {o.requests:,} | {o.non_2xx} | "
                     f"{o.socket_errors} |")
    counts = [str(n) for n in dict.fromkeys(row.clients for row in rows)]
    clients = " and ".join([", ".join(counts[:-1]), counts[-1]] if len(counts) > 1 else counts)
    requests = "\n".join(f"- `{kind}`: `{example}`" for kind, example in examples.items())
    return "\n\n".join([
        f"## 4. Server load ({dataset}; wrk, {seconds} s per row)",
        "A real server process (`benchmarks/load/serve.py`: uvicorn, one worker, the "
        "catalogue over the demo database) on 127.0.0.1, and `wrk --latency` with "
        f"{clients} connections (at most 2 threads). Every request was checked first (status "
        "and rows), then all of them ran for 1 s at the most connections as a warm-up. "
        "Before each row, the server finished the requests the last run left in flight "
        "(its CPU went idle). **wrk and the server share the machine's "
        "cores** (2 on the project machine, busy with other work), so the absolute figures "
        "are low and only comparable within one run. The requests (each row rotates "
        "through its list, each wrk thread from its own offset):",
        requests, "\n".join(table)])


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def run_load_section(h: Harness) -> None:
    """The ``load`` section: appends its Markdown to ``h.run.extra_sections`` and its panel
    to ``h.run.extra_panels``."""
    if wrk_path() is None:
        h.run.notes.append("load skipped: wrk is not installed (`apt-get install wrk`)")
        return
    kinds = [kind for kind in LOAD_DATABASES if kind in h.args.databases]
    if not kinds:
        h.run.notes.append("load skipped: neither sqlite nor postgresql in --databases")
        return
    rows: list[LoadRow] = []
    examples: dict[str, str] = {}
    origins = []
    for kind in kinds:
        measured, paths, origin = _serve_and_measure(h, kind)
        rows.extend(measured)
        origins.append(origin)
        examples = examples or {k: f"{p[0]} (+{len(p) - 1} more)" if len(p) > 1 else p[0]
                                for k, p in paths.items()}
    failed = sum(row.outcome.non_2xx + row.outcome.socket_errors for row in rows)
    if failed:
        h.run.notes.append(f"load: {failed} non-2xx responses or socket errors (see section 4)")
    if rows:
        data = f"demo database, {h.args.scale:,} VMs ({'; '.join(filter(None, origins))})"
        h.run.extra_sections.append(render(rows, examples, h.args.load_seconds, data))
        h.run.extra_panels.append(lambda axes: draw_load(axes, rows))

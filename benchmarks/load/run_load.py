"""Load and fault runs against a real uvicorn server on 127.0.0.1 (results for the README).

``steady``: ``wrk`` with 64 connections for 60 s over a fixed mix of good and bad requests
(every API shape, scoped sessions, 400s, 401, 404, 405); counts every status, samples the
server's RSS from ``/proc`` each second, and fails on any status the request mix does not
expect (each request's status is checked once before the run). ``pg-restart``: the same
load, and PostgreSQL is restarted in the middle; a prober sends one request every 100 ms
to time the outage (503) and the recovery, and after the run every request of the mix must
answer as before, from the same server process::

    .venv/bin/python benchmarks/load/run_load.py steady --seconds 60 --clients 64
    .venv/bin/python benchmarks/load/run_load.py pg-restart --seconds 40 --clients 64

Needs ``wrk`` (``apt-get install -y wrk``) and the PostgreSQL server; the demo estate is
built in the ``zquery_load`` database (created if missing) on first use.
Results go to ``benchmarks/load/results/<mode>.json`` (``--out`` names another file) and
are printed. Traffic goes to 127.0.0.1 only.

Memory: RSS is sampled each second after the warm-up; the report gives the start, the end,
the growth per minute and the least-squares slope over the second half of the run
(``slope_last_half_mib_per_min``). ``--malloc-arenas N`` caps the server's glibc malloc
arenas (default 2, as ``zquery serve``; ``0``: glibc's default, 8 per core); ``--probe`` turns on
the server's memory probe (``memory_probe.py``: glibc's arenas every 30 s; with ``--trace``
also the Python heap by ``tracemalloc``, which slows the server) and, after the run, asks
it for ``malloc_trim(0)`` to see how much of the RSS was free memory held by the
allocator.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from zquery.server_memory import SERVER_MALLOC_ARENAS

HERE = Path(__file__).resolve().parent
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/zquery_load"
RESTART = ["pg_ctlcluster", "--skip-systemctl-redirect", "{version}", "main", "restart"]
V1 = "/zstack/v1"


@dataclass(frozen=True)
class Call:
    path: str
    status: int
    method: str = "GET"
    session: str | None = None


MIX = (
    Call(f"{V1}/vm-instances?limit=20&sort=-createDate", 200),
    Call(f"{V1}/vm-instances?q=state=Running&q=cpuNum>=2&replyWithCount=true&limit=10", 200),
    Call(f"{V1}/vm-instances?q=name~=vm-1%25&fields=uuid,name&limit=50", 200),
    Call(f"{V1}/vm-instances?q=vmNics.ip~=10.%25&count=true", 200),
    Call(f"{V1}/vm-instances?groupBy=state&sort=-count", 200),
    Call(f"{V1}/vm-instances?q=host.cluster.zone.name~=%25zone%25&limit=5", 200),
    Call(f"{V1}/vm-instances?q=__userTag__~=%25&limit=5&start=10", 200),
    Call(f"{V1}/vm-instances?limit=25&sort=name", 200, session="alice-session"),
    Call(f"{V1}/vm-instances?q=allVolumes.size>0&count=true", 200, session="bob-session"),
    Call(f"{V1}/vm-instances/nics?q=l3Network.name~=%25&limit=30", 200),
    Call(f"{V1}/zones", 200),
    Call(f"{V1}/hosts?q=state=Enabled&replyWithCount=true", 200),
    Call(f"{V1}/l3-networks?limit=10", 200, session="carol-session"),
    Call(f"{V1}/volumes?q=vmInstance.state=Running&limit=10", 200),
    Call(f"{V1}/images?q=name!=x&sort=-createDate&limit=10", 200),
    Call(f"{V1}/vm-instances?q=nmae=vm1", 400),
    Call(f"{V1}/vm-instances?q=cpuNum=abc", 400),
    Call(f"{V1}/vm-instances?q=name%3D%27%3B%20DROP%20TABLE%20VmInstanceVO%3B--", 200),
    Call(f"{V1}/vm-instances?limit=-1", 400),
    Call(f"{V1}/vm-instances?q=host.zone.cluster.host.zone.cluster.host.zone.cluster.name=x",
         400),
    Call(f"{V1}/vm-instances?q=name?=" + ",".join(["x"] * 10_001), 400),
    Call(f"{V1}/vm-instances?sort=vmNics.ip", 400),
    Call(f"{V1}/vm-instances?q=name=x", 401, session="no-such-session"),
    Call(f"{V1}/vm-instancez", 404),
    Call(f"{V1}/vm-instances", 405, method="POST"),
    Call(f"{V1}/zones", 405, method="DELETE"),
)
EXPECTED = {200, 400, 401, 404, 405}


def lua_script(base: str) -> str:
    """A wrk script cycling through MIX and counting statuses per thread."""
    rows = []
    for call in MIX:
        headers = f'{{["Authorization"]="OAuth {call.session}"}}' if call.session else "{}"
        rows.append(f"  {{{json.dumps(call.method)}, {json.dumps(call.path)}, {headers}}},")
    return "\n".join([
        "local mix = {", *rows, "}",
        "local threads = {}",
        "function setup(thread) table.insert(threads, thread) end",
        "local n = 0",
        "statuses = {}",
        "function init(args) n = math.random(#mix) end",
        "function request()",
        "  n = n % #mix + 1",
        "  local call = mix[n]",
        "  return wrk.format(call[1], call[2], call[3])",
        "end",
        "function response(status, headers, body)",
        "  statuses[status] = (statuses[status] or 0) + 1",
        "end",
        "function done(summary, latency, requests)",
        "  local total = {}",
        "  for _, thread in ipairs(threads) do",
        "    for status, count in pairs(thread:get('statuses')) do",
        "      total[status] = (total[status] or 0) + count",
        "    end",
        "  end",
        "  for status, count in pairs(total) do io.write(string.format('STATUS %d %d\\n',"
        " status, count)) end",
        "  io.write(string.format('LATENCY p50=%.1f p99=%.1f max=%.1f\\n',"
        " latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))",
        "  io.write(string.format('ERRORS connect=%d read=%d write=%d timeout=%d\\n',"
        " summary.errors.connect, summary.errors.read, summary.errors.write,"
        " summary.errors.timeout))",
        "end",
        f"-- base: {base}",
    ])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class Sampler(threading.Thread):
    """RSS of the server every second while the run lasts."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.stop = pid, threading.Event()
        self.samples: list[int] = []

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.samples.append(rss_kib(self.pid))


class Prober(threading.Thread):
    """One good request every 100 ms: (seconds since start, status or error name)."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.stop = base, threading.Event()
        self.timeline: list[tuple[float, Any]] = []

    def run(self) -> None:
        began = time.monotonic()
        with httpx.Client(base_url=self.base, timeout=10) as client:
            while not self.stop.wait(0.1):
                try:
                    status: Any = client.get(f"{V1}/zones?count=true").status_code
                except httpx.HTTPError as error:
                    status = type(error).__name__
                self.timeline.append((round(time.monotonic() - began, 2), status))


def check_mix(base: str) -> list[str]:
    """Each call of the mix answers with its declared status (and JSON, no SQL)."""
    wrong = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for call in MIX:
            headers = {"Authorization": f"OAuth {call.session}"} if call.session else {}
            response = client.request(call.method, call.path, headers=headers)
            body = response.text
            if response.status_code != call.status or "SELECT" in body or "Traceback" in body:
                wrong.append(f"{call.method} {call.path[:80]}: {response.status_code} "
                             f"{body[:200]}")
    return wrong


def start_server(db: str, port: int, scale: int, arenas: int,
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([sys.executable, str(HERE / "serve.py"), "--db", db, "--port",
                               str(port), "--scale", str(scale), "--malloc-arenas",
                               str(arenas)], env=env)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise RuntimeError("the server exited while starting")
        time.sleep(0.5)
    server.kill()
    raise RuntimeError("the server did not come up")


def wrk(base: str, seconds: int, clients: int) -> dict[str, Any]:
    (HERE / "results" / "mix.lua").write_text(lua_script(base))  # a copy to read
    # wrk reads its own copy, so runs on other ports can go on at the same time.
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua_script(base))
        script.flush()
        out = subprocess.run(["wrk", "-t4", f"-c{clients}", f"-d{seconds}s", "--timeout",
                              "10s", "-s", script.name, base], capture_output=True, text=True,
                             check=True)
    statuses = {int(s): int(c) for s, c in re.findall(r"^STATUS (\d+) (\d+)$", out.stdout,
                                                     re.M)}
    latency = dict(re.findall(r"(p50|p99|max)=([\d.]+)", out.stdout))
    errors = {k: int(v) for k, v in re.findall(r"(connect|read|write|timeout)=(\d+)",
                                               out.stdout)}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    return {"statuses": statuses, "latency_ms": {k: float(v) for k, v in latency.items()},
            "socket_errors": errors, "requests_per_second": float(rate.group(1)) if rate else 0,
            "requests": sum(statuses.values())}


def memory_figures(start_kib: int, samples: list[int]) -> dict[str, Any]:
    """RSS growth per minute and the least-squares slope over the second half, in MiB.

    *samples* are KiB, one per second after *start_kib* was read.

    >>> figures = memory_figures(102_400, [102_400 + 2 * i for i in range(1, 241)])
    >>> figures["per_minute_mib"], figures["slope_last_half_mib_per_min"]
    ([0.12, 0.12, 0.12, 0.12], 0.12)
    """
    minutes = [start_kib / 1024, *(s / 1024 for s in samples[59::60])]
    half = [s / 1024 for s in samples[len(samples) // 2:]]
    slope = 0.0
    if len(half) > 1:
        mean_x, mean_y = (len(half) - 1) / 2, sum(half) / len(half)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(half)) / sum(
            (x - mean_x) ** 2 for x in range(len(half))) * 60
    return {"per_minute_mib": [round(b - a, 2) for a, b in itertools.pairwise(minutes)],
            "slope_last_half_mib_per_min": round(slope, 2)}


def trim_and_read(server: subprocess.Popen[bytes], log: Path) -> list[dict[str, Any]]:
    """Ask the probe for ``malloc_trim(0)``, then read (and remove) every line it logged."""
    server.send_signal(signal.SIGUSR1)
    time.sleep(2)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    log.unlink()  # the report holds them all
    return lines


def outage(timeline: list[tuple[float, Any]]) -> dict[str, Any]:
    """First and last non-200 probe, and how long after the last one the 200s came back."""
    bad = [(t, s) for t, s in timeline if s != 200]
    if not bad:
        return {"non_200_probes": 0}
    return {"non_200_probes": len(bad), "first": bad[0][0], "last": bad[-1][0],
            "statuses": sorted({str(s) for _, s in bad}),
            "recovered_after_s": round(bad[-1][0] - bad[0][0], 2),
            "all_200_after": all(s == 200 for t, s in timeline if t > bad[-1][0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("steady", "pg-restart"))
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--scale", type=int, default=10_000)
    parser.add_argument("--out", help="result file name (default: <mode>.json)")
    parser.add_argument("--malloc-arenas", type=int, default=SERVER_MALLOC_ARENAS,
                        help="cap on the server's glibc malloc arenas (0: glibc's default)")
    parser.add_argument("--probe", action="store_true",
                        help="log the server's memory make-up (memory_probe.py)")
    parser.add_argument("--trace", action="store_true",
                        help="with --probe: trace the Python heap too (tracemalloc)")
    args = parser.parse_args()
    (HERE / "results").mkdir(exist_ok=True)
    path = HERE / "results" / (args.out or f"{args.mode}.json")
    base = f"http://127.0.0.1:{args.port}"
    env = dict(os.environ)
    probe_log = path.with_suffix(".memory.jsonl")
    if args.probe:
        probe_log.unlink(missing_ok=True)
        env.update(ZQUERY_MEMORY_LOG=str(probe_log),
                   ZQUERY_TRACEMALLOC="1" if args.trace else "0")
    server = start_server(args.db, args.port, args.scale, args.malloc_arenas, env)
    try:
        wrong = check_mix(base)
        if wrong:
            raise SystemExit("the mix does not answer as declared:\n" + "\n".join(wrong))
        wrk(base, args.warmup, args.clients)  # warm caches, pools and the allocator
        rss_start = rss_kib(server.pid)
        sampler, prober = Sampler(server.pid), Prober(base)
        sampler.start()
        prober.start()
        restart: dict[str, Any] = {}
        if args.mode == "pg-restart":
            def restart_database() -> None:
                time.sleep(args.seconds / 2)
                version = os.listdir("/etc/postgresql")[0]
                began = time.monotonic()
                subprocess.run([a.format(version=version) for a in RESTART], check=True)
                restart["restart_command_s"] = round(time.monotonic() - began, 2)
            threading.Thread(target=restart_database, daemon=True).start()
        result = wrk(base, args.seconds, args.clients)
        sampler.stop.set()
        prober.stop.set()
        prober.join()
        after = check_mix(base)
        unexpected = {s: c for s, c in result["statuses"].items()
                      if s not in EXPECTED and not (args.mode == "pg-restart" and s == 503)}
        report = {
            "mode": args.mode, "seconds": args.seconds, "clients": args.clients, **result,
            "unexpected_statuses": unexpected, "mix_after_run_ok": not after,
            "malloc_arenas": env.get("MALLOC_ARENA_MAX", args.malloc_arenas or "glibc default"),
            "tracemalloc": args.probe and args.trace,
            "warmup_s": args.warmup,
            "rss_kib": {"start": rss_start, "end": rss_kib(server.pid),
                        "max": max(sampler.samples, default=rss_start),
                        "every_10_s": sampler.samples[9::10]},
            "rss_mib": memory_figures(rss_start, sampler.samples),
            "server_pid_unchanged": server.poll() is None, "prober": outage(prober.timeline),
            **restart,
        }
        if args.probe:
            report["probe"] = trim_and_read(server, probe_log)
    finally:
        server.terminate()
        server.wait(timeout=30)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    failed = report["unexpected_statuses"] or after or (
        args.mode == "pg-restart" and not report["prober"].get("all_200_after", False))
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()

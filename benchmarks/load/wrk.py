"""One ``wrk`` run over a list of request paths, and what its ``--latency`` output says.

The Lua script only rotates through the paths (each thread from its own offset, so that
concurrent connections ask for different rows); it defines no ``response`` callback, which
would make wrk parse every reply in Lua and take CPU from the server it shares the cores
with. Statuses come from wrk's own ``Non-2xx or 3xx responses`` line.

>>> sample = '''Running 1s test @ http://127.0.0.1:1
...   Latency Distribution
...      50%  635.00us
...      75%    1.20ms
...      99%    1.50s
...   2400 requests in 1.00s, 1.23MB read
...   Socket errors: connect 0, read 2, write 0, timeout 1
...   Non-2xx or 3xx responses: 3
... Requests/sec:   2398.51
... '''
>>> outcome = parse_output(sample)
>>> outcome.p50_ms, outcome.p99_ms, outcome.requests, outcome.per_second
(0.635, 1500.0, 2400, 2398.51)
>>> outcome.non_2xx, outcome.socket_errors
(3, 3)
>>> print(lua_script(["/a?x=1", "/b"]).splitlines()[0])
local paths = {"/a?x=1", "/b"}
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WrkOutcome", "lua_script", "parse_output", "run_wrk", "wrk_path"]

#: wrk's duration units, in milliseconds.
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
#: wrk's threads: no more than the connections, and no more than the two cores.
_MAX_THREADS = 2


@dataclass(frozen=True)
class WrkOutcome:
    """The figures of one run: throughput, latency percentiles and every kind of failure."""

    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


def wrk_path() -> str | None:
    """Where ``wrk`` is, or None when it is not installed."""
    return shutil.which("wrk")


def lua_script(paths: Sequence[str]) -> str:
    """A wrk script sending *paths* in turn, each thread starting at its own offset."""
    return "\n".join([
        "local paths = {" + ", ".join(json.dumps(path) for path in paths) + "}",
        "local threads = 0",
        "function setup(thread)",
        "  threads = threads + 1",
        "  thread:set('offset', threads * 7)",  # 7: coprime with most list lengths
        "end",
        "local n = 0",
        "function init(args) n = offset end",
        "function request()",
        "  n = n % #paths + 1",
        "  return wrk.format('GET', paths[n])",
        "end",
    ]) + "\n"


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text, re.M)
    if found is None:
        raise ValueError(f"wrk's output has no {pattern!r}:\n{text}")
    return float(found.group(1))


def parse_output(text: str) -> WrkOutcome:
    """The figures in the output of ``wrk --latency``."""
    percentiles = {int(p): float(v) * _UNIT_MS[unit] for p, v, unit in _PERCENTILE.findall(text)}
    if set(percentiles) != {50, 99}:
        raise ValueError(f"wrk's output has no latency distribution:\n{text}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return WrkOutcome(
        requests=int(_number(r"^\s+(\d+) requests in", text)),
        per_second=_number(r"^Requests/sec:\s+([\d.]+)", text),
        p50_ms=round(percentiles[50], 6), p99_ms=round(percentiles[99], 6),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0)


def run_wrk(base: str, paths: Sequence[str], *, clients: int, seconds: int) -> WrkOutcome:
    """``wrk --latency`` with *clients* connections for *seconds* against *base* + *paths*."""
    executable = wrk_path()
    if executable is None:
        raise FileNotFoundError("wrk is not installed")
    with tempfile.TemporaryDirectory(prefix="zqb_wrk_") as directory:
        script = Path(directory) / "paths.lua"
        script.write_text(lua_script(paths), encoding="utf-8")
        done = subprocess.run(
            [executable, f"-t{min(_MAX_THREADS, clients)}", f"-c{clients}",
             f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(script), base],
            capture_output=True, text=True, check=True)
    return parse_output(done.stdout)

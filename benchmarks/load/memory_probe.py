"""What the server's memory is made of, sampled from inside the process (a debug hook).

``serve.py`` starts :class:`MemoryProbe` when ``ZQUERY_MEMORY_LOG`` names a file: every
``ZQUERY_MEMORY_EVERY`` seconds (default 30) it appends one JSON line with

* ``rss_kib``: the resident set, from ``/proc/self/status``;
* ``malloc``: glibc's own account (``mallinfo2``, summed over every arena): ``arena_kib``
  taken from the system by ``brk``/arena heaps, ``mmap_kib`` in big mmapped blocks,
  ``in_use_kib`` handed out to callers, ``free_kib`` free but kept by the allocator, and
  ``heaps``, the number of arenas (:func:`zquery.server_memory.malloc_arenas`);
* ``threads``: live Python threads (each worker thread may get an arena of its own);
* with ``ZQUERY_TRACEMALLOC=1``: ``traced_kib``, the live Python heap (``tracemalloc``),
  and ``grew``, the ten source lines whose live memory grew most since the last sample.

``SIGUSR1`` makes the process call ``malloc_trim(0)`` (give free arena memory back to the
system) and log the RSS before and after: if RSS falls back, what grew was free memory
held by the allocator, not live objects. ``run_load.py --probe`` uses all of this.

>>> probe = MemoryProbe(path=None)
>>> sample = probe.sample()
>>> sample["rss_kib"] > 0 and sample["malloc"]["heaps"] >= 1
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import re
import signal
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

from zquery.server_memory import malloc_arenas

__all__ = ["MemoryProbe", "install_from_env", "rss_kib"]

_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


class _MallInfo2(ctypes.Structure):
    # glibc >= 2.33; every field is a size_t (bytes), summed over all arenas.
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def rss_kib() -> int:
    """This process's resident set size in KiB."""
    match = re.search(r"^VmRSS:\s+(\d+)", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def malloc_stats() -> dict[str, int]:
    """glibc's account of the C heap, in KiB (see the module doc)."""
    _LIBC.mallinfo2.restype = _MallInfo2
    info = _LIBC.mallinfo2()
    return {"arena_kib": info.arena // 1024, "mmap_kib": info.hblkhd // 1024,
            "in_use_kib": (info.uordblks + info.hblkhd) // 1024,
            "free_kib": info.fordblks // 1024, "heaps": malloc_arenas()}


class MemoryProbe(threading.Thread):
    """Appends a memory sample to *path* every *every* seconds (``None``: sample on demand)."""

    def __init__(self, path: str | None, every: float = 30.0, trace: bool = False) -> None:
        super().__init__(daemon=True, name="memory-probe")
        self.path, self.every, self.trace = path, every, trace
        self.began = time.monotonic()
        self._last: tracemalloc.Snapshot | None = None
        self._lock = threading.Lock()

    def sample(self) -> dict[str, Any]:
        """One sample: RSS, glibc's arenas, threads and (when tracing) the Python heap."""
        out: dict[str, Any] = {"t": round(time.monotonic() - self.began, 1),
                               "rss_kib": rss_kib(), "malloc": malloc_stats(),
                               "threads": threading.active_count()}
        if self.trace and tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot()
            out["traced_kib"] = tracemalloc.get_traced_memory()[0] // 1024
            if self._last is not None:
                out["grew"] = [[str(s.traceback), s.size_diff, s.count_diff]
                               for s in snapshot.compare_to(self._last, "lineno")[:10]]
            self._last = snapshot
        return out

    def write(self, record: dict[str, Any]) -> None:
        if self.path is not None:
            with self._lock, open(self.path, "a", encoding="utf-8") as log:
                log.write(json.dumps(record) + "\n")

    def run(self) -> None:
        while True:
            time.sleep(self.every)
            self.write(self.sample())

    def trim(self, *_: object) -> None:
        """``malloc_trim(0)``, logging the RSS before and after (the SIGUSR1 handler)."""
        before = rss_kib()
        _LIBC.malloc_trim(0)
        self.write({"t": round(time.monotonic() - self.began, 1), "trim": True,
                    "rss_before_kib": before, "rss_after_kib": rss_kib(),
                    "malloc": malloc_stats()})


def install_from_env() -> MemoryProbe | None:
    """Start the probe when ``ZQUERY_MEMORY_LOG`` is set (call from the main thread)."""
    path = os.environ.get("ZQUERY_MEMORY_LOG")
    if not path:
        return None
    trace = os.environ.get("ZQUERY_TRACEMALLOC") == "1"
    if trace:
        tracemalloc.start(1)
    probe = MemoryProbe(path, float(os.environ.get("ZQUERY_MEMORY_EVERY", "30")), trace)
    signal.signal(signal.SIGUSR1, probe.trim)
    probe.write(probe.sample())
    probe.start()
    return probe

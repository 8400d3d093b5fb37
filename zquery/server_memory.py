"""Keep a threaded server's memory flat: fewer glibc malloc arenas.

The server answers every request in Starlette's thread pool (up to 40 threads). glibc
gives threads that allocate at the same time arenas of their own, up to eight per core,
and each arena keeps the memory freed into it for reuse rather than returning it to the
system. Under 64 clients the allocator's free memory then creeps up for minutes while the
memory actually in use stays level: in the 600 s load runs of ``docs/reliability.md`` (2
vCPUs, so 16 arenas) glibc ended holding 24.3 MiB free (5.5 MiB with two arenas), the
resident set was 20 MiB larger and still grew 0.46 MiB a minute over the second half (0.11
with two arenas), for the same throughput and the same memory in use.

:func:`limit_malloc_arenas` sets the same tunable as the ``MALLOC_ARENA_MAX`` environment
variable, from inside the process; ``zquery serve`` calls it before any worker thread
starts. An explicit ``MALLOC_ARENA_MAX`` wins, and on a C library other than glibc it does
nothing.

>>> limit_malloc_arenas(0)
False
>>> malloc_arenas() >= 1  # glibc here; 0 elsewhere
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import tempfile
from pathlib import Path

__all__ = ["SERVER_MALLOC_ARENAS", "limit_malloc_arenas", "malloc_arenas"]

#: The arenas a server process keeps (see the module doc for the measurements).
SERVER_MALLOC_ARENAS = 2
# mallopt's parameter number for the arena cap (glibc's malloc.h: M_ARENA_MAX).
_M_ARENA_MAX = -8


def _glibc() -> ctypes.CDLL | None:
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def limit_malloc_arenas(count: int = SERVER_MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas at *count*; True when the cap was set.

    Nothing happens (False) for ``count < 1``, when ``MALLOC_ARENA_MAX`` is set (the
    operator's choice stands), or when the C library is not glibc. Call it before the
    threads start: arenas already made stay.
    """
    libc = _glibc()
    if count < 1 or "MALLOC_ARENA_MAX" in os.environ or libc is None:
        return False
    return bool(libc.mallopt(ctypes.c_int(_M_ARENA_MAX), ctypes.c_int(count)))


def malloc_arenas() -> int:
    """How many malloc arenas this process has now (glibc's ``malloc_info``; 0 elsewhere)."""
    libc = _glibc()
    if libc is None:
        return 0
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "malloc_info.xml"
        stream = libc.fopen(str(path).encode(), b"w")
        if not stream:
            return 0
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        return path.read_text().count("<heap nr=")

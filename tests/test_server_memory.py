"""``zquery.server_memory``: the malloc-arena cap a threaded server runs with.

Each case runs in a fresh interpreter, because the cap must be set before threads start
and stays for the life of the process: eight threads allocate at the same time, and the
process ends with at most two arenas when capped; uncapped, glibc gives them arenas of
their own (more than two); an explicit ``MALLOC_ARENA_MAX`` is left alone.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")

_THREADS = """
import ctypes, sys, threading
from zquery.server_memory import limit_malloc_arenas, malloc_arenas
capped = limit_malloc_arenas(int(sys.argv[1]))
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
gate = threading.Barrier(8)
def allocate():
    gate.wait()  # all eight alive at once: none can inherit another's arena
    for _ in range(200):
        libc.free(libc.malloc(4096))
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(capped, malloc_arenas())
"""


def _run(count: int, **env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", _THREADS, str(count)], env={**clean, **env},
                         capture_output=True, text=True, check=True).stdout.split()
    return out[0], int(out[1])


def test_the_cap_holds_eight_allocating_threads_to_two_arenas() -> None:
    assert _run(2) == ("True", 2)


def test_without_the_cap_the_threads_get_more_arenas() -> None:
    capped, arenas = _run(0)
    assert capped == "False" and arenas > 2


def test_an_explicit_malloc_arena_max_is_left_alone() -> None:
    capped, arenas = _run(2, MALLOC_ARENA_MAX="4")
    assert capped == "False" and 2 < arenas <= 4

"""Deterministic building blocks of the demo estate: ids, addresses, names and timestamps.

Everything is a pure function of the seed and a stream name, so a rerun with the same
seed produces the same rows whatever order the tables are written in.

>>> ids = Ids(7)
>>> ids.uuid("VmInstanceVO", 0) == Ids(7).uuid("VmInstanceVO", 0)
True
>>> len(ids.uuid("VmInstanceVO", 0)), ids.uuid("VmInstanceVO", 0) != ids.uuid("VmNicVO", 0)
(32, True)
>>> ip_text(ip_number("192.168.10.100"))
'192.168.10.100'
>>> mac_text(1)
'fa:16:3e:00:00:01'
>>> clock = Clock(rng_for(7, "demo"))
>>> clock.stamp().microsecond
0
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Generic, TypeVar

__all__ = [
    "EPOCH",
    "FIXED_TIMES",
    "Clock",
    "Ids",
    "Weighted",
    "ip_number",
    "ip_text",
    "mac_text",
    "rng_for",
    "styled",
]

#: The estate's timestamps fall in [EPOCH, EPOCH + 8 years), whole seconds, naive UTC.
EPOCH = datetime(2017, 1, 1)
_SPAN_SECONDS = 8 * 365 * 24 * 3600
_PREFIXES = 16**12
#: Times that appear as they are, so exact timestamp conditions and the 12 AM/PM
#: formatting corners select something (the first one is the manual's example time).
FIXED_TIMES = (datetime(2017, 5, 11, 13, 23, 2), datetime(2018, 1, 1, 0, 0, 0),
               datetime(2019, 6, 30, 12, 0, 0))


def rng_for(seed: int, stream: str) -> random.Random:
    """A random generator of its own for one stream (seeded by text: stable across runs)."""
    return random.Random(f"zquery-demo:{seed}:{stream}")


@dataclass(frozen=True)
class Ids:
    """Uuids (32 hex digits, ZStack's form) derived from (seed, kind, index).

    Like a UUIDv7, the first 12 digits grow with the index (from a random start per kind)
    and the other 20 are a hash: rows are written in key order, so the primary-key B-trees
    of a large build are appended to instead of being written all over (several times
    faster at a million VMs).

    >>> ids = Ids(1)
    >>> ids.uuid("VmInstanceVO", 1) < ids.uuid("VmInstanceVO", 2)
    True
    """

    seed: int

    def uuid(self, kind: str, index: int) -> str:
        digest = hashlib.blake2b(f"{self.seed}/{kind}/{index}".encode(),
                                 digest_size=16).hexdigest()
        return f"{(_start(self.seed, kind) + index * 7919) % _PREFIXES:012x}{digest[:20]}"


@lru_cache(maxsize=4096)
def _start(seed: int, kind: str) -> int:
    return int(hashlib.blake2b(f"{seed}/{kind}".encode(), digest_size=6).hexdigest(), 16)


T = TypeVar("T")


class Weighted(Generic[T]):
    """A weighted choice, faster than ``random.choices`` for one pick at a time.

    >>> Weighted(("a", "b"), (0, 1)).pick(random.Random(1))
    'b'
    """

    def __init__(self, values: Sequence[T], weights: Sequence[float]) -> None:
        self.values = tuple(values)
        self._cumulative = tuple(accumulate(weights))
        self._total = self._cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect(self._cumulative, rng.random() * self._total)]


def ip_number(text: str) -> int:
    """Dotted IPv4 text → integer."""
    a, b, c, d = (int(part) for part in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def ip_text(number: int) -> str:
    """Integer → dotted IPv4 text."""
    return f"{number >> 24 & 255}.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


def mac_text(number: int) -> str:
    """A MAC address in OpenStack/ZStack's ``fa:16:3e`` range."""
    return f"fa:16:3e:{number >> 16 & 255:02x}:{number >> 8 & 255:02x}:{number & 255:02x}"


class Clock:
    """Whole-second timestamps from one random stream (a few fixed times mixed in)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def stamp(self) -> datetime:
        if self._rng.random() < 0.01:
            return self._rng.choice(FIXED_TIMES)
        return EPOCH + timedelta(seconds=self._rng.randrange(_SPAN_SECONDS))

    def pair(self) -> tuple[datetime, datetime]:
        """(createDate, lastOpDate) with lastOpDate never before createDate."""
        created = self.stamp()
        return created, created + timedelta(seconds=self._rng.randrange(90 * 24 * 3600))


def styled(rng: random.Random, word: str) -> str:
    """Mostly lower case, sometimes Capitalised or UPPER, so ``~=`` (case-folding) matters."""
    roll = rng.random()
    if roll < 0.1:
        return word.upper()
    if roll < 0.25:
        return word.capitalize()
    return word

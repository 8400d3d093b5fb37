"""The values one corpus request is filled with: fresh ones per cold build, real ones to execute.

Every corpus entry is a function of a :class:`Values`: the zquery request text, the peers'
filter texts and the hand-built statements all read the same values, so they ask the same
question. :meth:`Values.variant` makes values no request has used before (a cold build: no
cache can answer); the data generator (:mod:`benchmarks.data`) makes values that hit rows.

>>> a, b = Values.variant(1), Values.variant(2)
>>> a.ip != b.ip and a.vm_name != b.vm_name and len(a.names) == 1000
True
>>> [kind for kind, _ in a.fifty[:5]]
['nic_ip', 'host_ip', 'name', 'cpu', 'memory']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["FIFTY_KINDS", "LIST_SIZE", "Values"]

#: Elements of the big ``?=`` list.
LIST_SIZE = 1000
#: The five kinds of condition the 50-condition request cycles through.
FIFTY_KINDS = ("nic_ip", "host_ip", "name", "cpu", "memory")
_BASE_DATE = datetime(2021, 1, 1)


@dataclass(frozen=True, slots=True)
class Values:
    """Everything a corpus request compares with (already typed, as a hand-writer has them)."""

    vm_name: str
    name_prefix: str
    hypervisor: str
    hypervisors: tuple[str, str]
    cpu: int
    memory: int
    since: datetime
    platform: str
    ip: str
    l3_name: str
    vip_ip: str
    cluster_name: str
    host_ip: str
    tag: str
    names: tuple[str, ...]
    page_start: int
    deep_start: int
    fifty: tuple[tuple[str, str | int], ...]

    @classmethod
    def variant(cls, number: int, *, list_size: int = LIST_SIZE) -> Values:
        """Values no other variant uses: every condition's text changes with *number*.

        *list_size*: elements of ``names`` (0 where the request has no list: cheaper).
        """
        n = number
        return cls(
            vm_name=f"vm-c{n}",
            name_prefix=f"vm-c{n}",
            hypervisor=f"KVM-{n}",
            hypervisors=("KVM", f"Xen-{n}"),
            cpu=n % 1_000_000,
            memory=1024 + n,
            since=_BASE_DATE + timedelta(seconds=n),
            platform=f"Other-{n}",
            ip=_dotted(10, n),
            l3_name=f"l3-c{n}",
            vip_ip=_dotted(100, n),
            cluster_name=f"cluster-c{n}",
            host_ip=_dotted(172, n),
            tag=f"hostname::vm-c{n}",
            names=tuple(f"vm-c{n}-{k}" for k in range(list_size)),
            page_start=40 + n,
            deep_start=1000 + n,
            fifty=fifty_values(n),
        )


def fifty_values(number: int) -> tuple[tuple[str, str | int], ...]:
    """The 50 conditions' values: ten of each kind of :data:`FIFTY_KINDS`, none ever stored.

    ``nic_ip``/``host_ip``/``name`` are compared with ``!=``, ``cpu``/``memory`` with ``<``
    against bounds above any stored value, so every condition holds on a row that has the
    column (and, across a relation, the related row).
    """
    out: list[tuple[str, str | int]] = []
    for k in range(50):
        kind = FIFTY_KINDS[k % len(FIFTY_KINDS)]
        if kind == "nic_ip":
            out.append((kind, f"198.51.{k}.{number}"))
        elif kind == "host_ip":
            out.append((kind, f"203.0.{k}.{number}"))
        elif kind == "name":
            out.append((kind, f"absent-{k}-{number}"))
        elif kind == "cpu":
            out.append((kind, 1_000_000 + k + number))
        else:
            out.append((kind, 10**12 + k + number))
    return tuple(out)


def _dotted(first: int, number: int) -> str:
    """A dotted-quad-looking text unique per *number* (beyond 2**24 the first part grows)."""
    return f"{first + (number >> 24)}.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"

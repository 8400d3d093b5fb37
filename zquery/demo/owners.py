"""Accounts, demo sessions, resource ownership and tags.

The demo has four named accounts with fixed uuids (so a server can map sessions to them
without knowing the seed): ``admin`` (ZStack's admin uuid), ``alice``, ``bob`` and
``carol``, plus numbered tenants at larger scales. Every resource of an owned type gets
an ``AccountResourceRefVO`` row; a few are shared with one other account or made public
(``SharedResourceVO``), so account scoping has something to hide and something to show.

>>> DEMO_SESSIONS["alice-session"] == ACCOUNTS["alice"]
True
>>> ADMIN_ACCOUNT in DEMO_ADMINS
True
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from zquery.demo.sink import Sink
from zquery.demo.values import Ids, Weighted
from zquery.schema.graph import SchemaGraph

__all__ = [
    "ACCOUNTS",
    "ADMIN_ACCOUNT",
    "DEMO_ADMINS",
    "DEMO_SESSIONS",
    "Owners",
    "Tenant",
    "tenants",
]

#: ZStack's built-in admin account uuid.
ADMIN_ACCOUNT = "36c27e8ff05c4780bf6d2fa65700f22e"
#: The named demo accounts: name → uuid (the same for every seed and scale).
ACCOUNTS = {
    "admin": ADMIN_ACCOUNT,
    "alice": "a11ce0000000400080000000000a11ce",
    "bob": "b0b00000000040008000000000000b0b",
    "carol": "ca501000000040008000000000ca5010",
}
#: ``Authorization: OAuth <session>`` values the demo server accepts.
DEMO_SESSIONS = {f"{name}-session": uuid for name, uuid in ACCOUNTS.items()}
#: Accounts that see everything (no scoping).
DEMO_ADMINS = frozenset({ADMIN_ACCOUNT})

_SHARE_WITH_ONE = 0.04
_SHARE_PUBLIC = 0.02


@dataclass(frozen=True)
class Tenant:
    """An account of the estate; ``weight`` is its share of the owned resources."""

    uuid: str
    name: str
    kind: str
    weight: float


def tenants(count: int, ids: Ids) -> tuple[Tenant, ...]:
    """The named accounts, then ``tenant-0004`` … up to *count* accounts in all."""
    named = (Tenant(ADMIN_ACCOUNT, "admin", "SystemAdmin", 0.35),
             Tenant(ACCOUNTS["alice"], "alice", "Normal", 0.25),
             Tenant(ACCOUNTS["bob"], "bob", "Normal", 0.2),
             Tenant(ACCOUNTS["carol"], "carol", "Normal", 0.1))
    extra = max(0, count - len(named))
    rest = tuple(Tenant(ids.uuid("AccountVO", i), f"tenant-{i:04d}", "Normal", 0.1 / extra)
                 for i in range(len(named), len(named) + extra))
    return named + rest


class Owners:
    """Writes ownership, share and tag rows; knows each table's resource type string."""

    def __init__(self, sink: Sink, graph: SchemaGraph, accounts: Sequence[Tenant],
                 rng: random.Random, ids: Ids) -> None:
        self.sink = sink
        self.accounts = tuple(accounts)
        self._uuids = [a.uuid for a in self.accounts]
        self._choice = Weighted(self._uuids, [a.weight for a in self.accounts])
        self._rng = rng
        self._ids = ids
        self._tag_serial = 0
        # The compiler scopes a resource by ``tag_type or table``: use the same strings.
        self.owned_kinds: dict[str, str] = {}
        self.tag_kinds: dict[str, str] = {}
        for res in graph:
            if res.owned and graph.ownership is not None:
                self.owned_kinds.setdefault(res.table, res.tag_type or res.table)
            if res.tag_type and not res.row_filter:
                self.tag_kinds.setdefault(res.table, res.tag_type)
        for res in graph:
            if res.tag_type:
                self.tag_kinds.setdefault(res.table, res.tag_type)

    def pick(self) -> str:
        """An account uuid, by the accounts' weights."""
        return self._choice.pick(self._rng)

    def own(self, table: str, uuid: str, account: str, when: datetime) -> None:
        """Record *account* as the owner of row *uuid* of *table*; sometimes share it."""
        kind = self.owned_kinds.get(table)
        if kind is None:
            return
        self.sink.emit("AccountResourceRefVO", {
            "accountUuid": account, "ownerAccountUuid": account, "resourceUuid": uuid,
            "resourceType": kind, "concreteResourceType": f"org.zstack.{kind}",
            "createDate": when, "lastOpDate": when})
        roll = self._rng.random()
        if roll < _SHARE_WITH_ONE:
            others = [u for u in self._uuids if u != account]
            self.sink.emit("SharedResourceVO", {
                "ownerAccountUuid": account, "receiverAccountUuid": self._rng.choice(others),
                "toPublic": False, "resourceUuid": uuid, "resourceType": kind,
                "createDate": when, "lastOpDate": when})
        elif roll < _SHARE_WITH_ONE + _SHARE_PUBLIC:
            self.sink.emit("SharedResourceVO", {
                "ownerAccountUuid": account, "receiverAccountUuid": None, "toPublic": True,
                "resourceUuid": uuid, "resourceType": kind, "createDate": when,
                "lastOpDate": when})

    def system_tag(self, table: str, uuid: str, tag: str, when: datetime,
                   inherent: bool = False) -> None:
        self._tag("SystemTagVO", table, uuid, tag, when,
                  {"type": "System", "inherent": inherent})

    def user_tag(self, table: str, uuid: str, tag: str, when: datetime,
                 pattern: str | None = None) -> None:
        self._tag("UserTagVO", table, uuid, tag, when,
                  {"type": "User", "tagPatternUuid": pattern})

    def _tag(self, tag_table: str, table: str, uuid: str, tag: str, when: datetime,
             extra: dict[str, object]) -> None:
        kind = self.tag_kinds.get(table)
        if kind is None:
            return
        self._tag_serial += 1
        self.sink.emit(tag_table, {
            "uuid": self._ids.uuid(tag_table, self._tag_serial), "resourceUuid": uuid,
            "resourceType": kind, "tag": tag, "createDate": when, "lastOpDate": when,
            **extra})

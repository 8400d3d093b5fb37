"""The demo database: a realistic, deterministic ZStack estate at any scale.

:func:`build_demo` fills a database (SQLite file by default, PostgreSQL, MariaDB) with
zones, clusters, hosts, storage, L2/L3 networks with IP ranges, images, offerings, VMs with
NICs and root/data volumes, VIPs/EIPs, security groups, load balancers, tags and accounts
with owned and shared resources, plus a few rows in every other catalogue table. The same
seed and scale always give the same rows.

The demo accounts and the sessions a demo server maps to them are fixed:
:data:`DEMO_SESSIONS` (``admin-session``, ``alice-session``, ``bob-session``,
``carol-session``) and :data:`DEMO_ADMINS`.

>>> sorted(DEMO_SESSIONS)
['admin-session', 'alice-session', 'bob-session', 'carol-session']
>>> Sizes.for_scale(10_000).hosts
333
"""

from __future__ import annotations

from zquery.demo.build import (
    DEFAULT_SCALE,
    DEFAULT_SEED,
    DemoReport,
    Progress,
    build_demo,
    default_demo_path,
    default_demo_url,
    demo_exists,
)
from zquery.demo.owners import ACCOUNTS, ADMIN_ACCOUNT, DEMO_ADMINS, DEMO_SESSIONS
from zquery.demo.sizes import Sizes

__all__ = [
    "ACCOUNTS",
    "ADMIN_ACCOUNT",
    "DEFAULT_SCALE",
    "DEFAULT_SEED",
    "DEMO_ADMINS",
    "DEMO_SESSIONS",
    "DemoReport",
    "Progress",
    "Sizes",
    "build_demo",
    "default_demo_path",
    "default_demo_url",
    "demo_exists",
]

"""The load section's panel of the harness's PNG: requests per second, p99 written on top.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> from benchmarks.load.section import LoadRow
>>> from benchmarks.load.wrk import WrkOutcome
>>> figure, axes = plt.subplots()
>>> row = LoadRow("sqlite", "uuid", 16, WrkOutcome(300, 99.5, 9.8, 20.0, 0, 0))
>>> draw_load(axes, [row])
>>> [label.get_text() for label in axes.get_xticklabels()]
['uuid\\n16 clients']
>>> plt.close(figure)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.load.section import LoadRow

__all__ = ["draw_load"]


def draw_load(axes: Any, rows: Sequence[LoadRow]) -> None:
    """Grouped bars on the matplotlib *axes*: one group per request kind and client count,
    one bar per database, its p99 latency written above it."""
    groups = list(dict.fromkeys((row.kind, row.clients) for row in rows))
    databases = list(dict.fromkeys(row.database for row in rows))
    width = 0.8 / max(1, len(databases))
    for index, database in enumerate(databases):
        found = {(row.kind, row.clients): row.outcome for row in rows
                 if row.database == database}
        positions = [k + index * width - 0.4 + width / 2 for k in range(len(groups))]
        heights = [found[group].per_second if group in found else 0.0 for group in groups]
        bars = axes.bar(positions, heights, width, label=database)
        axes.bar_label(bars, labels=[f"{found[group].p99_ms:,.0f}" if group in found else ""
                                     for group in groups], fontsize=6)
    axes.set_xticks(range(len(groups)))
    axes.set_xticklabels([f"{kind}\n{clients} client{'s' * (clients != 1)}"
                        for kind, clients in groups], fontsize=7)
    axes.set_ylabel("requests / s", fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    axes.set_title("server load (wrk against one uvicorn process; label: p99 ms; wrk and the "
                   "server share the cores)", fontsize=9)
    axes.legend(fontsize=7)

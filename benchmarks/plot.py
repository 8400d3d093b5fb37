"""The run's ratios as one PNG (matplotlib, Agg backend: no display needed).

One panel per measured section, log-scaled ratios per corpus entry, the target drawn as a
dashed line: compile cost (zquery / floor, and how many times slower each peer is),
repeated shapes (zquery and ``parse`` alone / hand-building), execution (zquery / floor
and zquery / reference per database); then the panels plug-in sections add
(``Run.extra_panels``, e.g. the load section's requests per second).

>>> import tempfile, pathlib
>>> from benchmarks.report import Run, now
>>> path = pathlib.Path(tempfile.mkdtemp()) / "empty.png"
>>> plot(Run(now(), "", {}, {}), path)
>>> path.exists()
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from benchmarks.peers import PEER_NAMES
from benchmarks.report import TARGETS, Run

__all__ = ["plot"]


def _bars(axes: Axes, entries: Sequence[str], series: Mapping[str, Sequence[float]],
          title: str, target: float | None) -> None:
    width = 0.8 / max(1, len(series))
    for index, (label, values) in enumerate(series.items()):
        positions = [k + index * width - 0.4 + width / 2 for k in range(len(entries))]
        axes.bar(positions, [v if v == v else 0 for v in values], width, label=label)
    if target is not None:
        axes.axhline(target, linestyle="--", color="black", linewidth=1,
                     label=f"target {target:g}×")
    axes.axhline(1.0, color="grey", linewidth=0.5)
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}×"))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.tick_params(axis="y", which="both", labelsize=7)
    axes.set_xticks(range(len(entries)))
    axes.set_xticklabels(entries, rotation=45, ha="right", fontsize=7)
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7)


def plot(run: Run, path: Path) -> None:
    """Write the ratios of *run* to *path* (a PNG); a run with no section gives a note."""
    panels = []
    if run.compile is not None:
        rows = run.compile.rows
        entries = [row.entry for row in rows]
        panels.append((entries, {"zquery / floor": [row.ratio_to_floor for row in rows]},
                       "compile cost, cold: zquery / hand-built floor", TARGETS["cold"][1]))
        peers = {f"{peer} / zquery": [row.peer_ratio.get(peer, float("nan")) for row in rows]
                 for peer in PEER_NAMES}
        panels.append((entries, peers, "compile cost: peer time / zquery time (higher: "
                                       "zquery faster)", TARGETS["pyrsql"][1]))
    if run.repeat is not None:
        rows_r = run.repeat.rows
        panels.append(([row.entry for row in rows_r],
                       {"zquery / floor": [row.to_floor["zquery"] for row in rows_r],
                        "parse only / floor": [row.to_floor["parse"] for row in rows_r]},
                       "repeated shape: per-request overhead / hand-building",
                       TARGETS["repeat"][1]))
    if run.execution is not None:
        for database in dict.fromkeys(row.database for row in run.execution.rows):
            rows_e = [row for row in run.execution.rows if row.database == database]
            panels.append(([row.entry for row in rows_e],
                           {"zquery / floor": [row.to_floor for row in rows_e],
                            "zquery / reference": [row.to_reference or float("nan")
                                                   for row in rows_e]},
                           f"execution on {database}", TARGETS["exec_floor"][1]))
    count = max(1, len(panels) + len(run.extra_panels))
    figure, axes_list = plt.subplots(count, 1, figsize=(11, 3.2 * count), squeeze=False)
    if not panels and not run.extra_panels:
        axes_list[0][0].text(0.5, 0.5, "no section measured", ha="center")
    for axes, (entries, series, title, target) in zip(axes_list[:, 0], panels, strict=False):
        _bars(axes, entries, series, title, target)
    for axes, draw in zip(axes_list[len(panels):, 0], run.extra_panels, strict=False):
        draw(axes)  # a plug-in section's own panel (e.g. the load section's req/s)
    figure.suptitle(f"zquery benchmarks {run.started:%Y-%m-%d %H:%M} UTC", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)

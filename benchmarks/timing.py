"""Interleaved timing: every case once per round, rounds in a seeded shuffled order.

The machine is shared and noisy, so nothing is timed alone: each round runs every case once
(a batch of iterations, sized in the first warm-up round to take about ``target`` seconds),
and a comparison is the median over rounds of the ratio measured *in the same round*. The
cases compared with each other form a group (same key but the last part, e.g. one corpus
entry's contenders): groups run in an order shuffled per round, and the cases of a group
back to back, in an order shuffled too, so a ratio's two sides are timed seconds apart at
most, not a whole round apart. Inputs are prepared outside the timed region. The garbage
collector runs once and freezes what exists before the rounds (a full collection over a
large catalogue takes most of a second), and is off inside every timed batch.

>>> work = Case(("entry", "zquery"), lambda n: list(range(n)), lambda batch: {"stage": 0.0})
>>> samples = measure([work], rounds=3, warmup=1, target=0.001)
>>> sorted(samples[("entry", "zquery")]), len(samples[("entry", "zquery")]["total"])
(['stage', 'total'], 3)
>>> ratio_median([2.0, 4.0, 9.0], [1.0, 2.0, 3.0])
2.0
>>> spread([1.0, 2.0, 3.0, 4.0])  # (3 - 2) / 2.5
0.4
"""

from __future__ import annotations

import gc
import math
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Case", "Samples", "measure", "median", "ratio_median", "spread"]

#: Per case: stage name (``total`` always) → seconds per iteration, one value per round.
Samples = dict[str, list[float]]


@dataclass(frozen=True, slots=True)
class Case:
    """One thing to time. ``prepare(n)`` makes the input of a batch of *n* iterations
    (untimed); ``run(input)`` does them and may return seconds spent per stage."""

    key: tuple[str, ...]
    prepare: Callable[[int], Any]
    run: Callable[[Any], Mapping[str, float] | None]
    max_batch: int = 1000


def _timed(case: Case, n: int) -> tuple[float, Mapping[str, float]]:
    batch = case.prepare(n)
    gc.disable()
    try:
        start = time.perf_counter()
        stages = case.run(batch)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed, stages or {}


def measure(cases: Sequence[Case], *, rounds: int, warmup: int = 1, target: float = 0.02,
            seed: int = 20240601,
            progress: Callable[[str], None] | None = None) -> dict[tuple[str, ...], Samples]:
    """Time every case in *rounds* interleaved rounds after *warmup* rounds (at least one)."""
    gc.collect()
    gc.freeze()  # later collections skip everything that exists now
    try:
        return _rounds(cases, rounds, warmup, target, random.Random(seed), progress)
    finally:
        gc.unfreeze()


def _rounds(cases: Sequence[Case], rounds: int, warmup: int, target: float, rng: random.Random,
            progress: Callable[[str], None] | None) -> dict[tuple[str, ...], Samples]:
    sizes: dict[tuple[str, ...], int] = {}
    for case in cases:  # one iteration each, to size the batches
        elapsed, _ = _timed(case, 1)
        sizes[case.key] = max(1, min(case.max_batch, math.ceil(target / max(elapsed, 1e-9))))
    samples: dict[tuple[str, ...], Samples] = {case.key: {"total": []} for case in cases}
    groups: dict[tuple[str, ...], list[Case]] = {}
    for case in cases:
        groups.setdefault(case.key[:-1], []).append(case)
    batches = list(groups.values())
    for round_number in range(max(0, warmup - 1) + rounds):
        recording = round_number >= max(0, warmup - 1)
        rng.shuffle(batches)
        for group in batches:
            rng.shuffle(group)
        for case in (case for group in batches for case in group):
            n = sizes[case.key]
            elapsed, stages = _timed(case, n)
            if recording:
                found = samples[case.key]
                found["total"].append(elapsed / n)
                for stage, seconds in stages.items():
                    found.setdefault(stage, []).append(seconds / n)
        if progress is not None:
            progress(f"round {round_number + 1}/{max(0, warmup - 1) + rounds}")
    return samples


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def ratio_median(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """The median over rounds of ``numerator[r] / denominator[r]`` (same-round ratios)."""
    ratios = [a / b for a, b in zip(numerator, denominator, strict=True) if b > 0]
    return median(ratios)


def spread(values: Sequence[float]) -> float:
    """Run-to-run spread: (second highest − second lowest) / median (0 with < 4 values)."""
    if len(values) < 4:
        return 0.0
    ordered = sorted(values)
    return (ordered[-2] - ordered[1]) / statistics.median(ordered)

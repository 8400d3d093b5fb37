"""zquery's benchmark harness: compile cost, repeated shapes and execution, side by side.

Run it with ``python -m benchmarks`` (see ``docs/benchmarks.md``). Every figure is a median
of interleaved rounds, and every comparison is a ratio measured in the same round, because
the machine is shared and noisy.

>>> from benchmarks.corpus import ENTRIES
>>> len(ENTRIES) >= 12
True
"""

from __future__ import annotations

__all__: list[str] = []

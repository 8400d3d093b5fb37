"""Configurable limits of a request (contract section 7).

>>> Limits().max_depth
8
>>> Limits(max_conditions=5).max_conditions
5
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds checked while parsing and resolving; each has its own error.

    ``max_limit`` is None by default (compat: ZStack sets no maximum).
    """

    max_conditions: int = 100
    max_depth: int = 8
    max_list_elements: int = 10_000
    max_value_length: int = 64 * 1024
    max_limit: int | None = None

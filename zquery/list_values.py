"""Splitting a ``?=``/``!?=`` value into its elements (``\\,`` is a comma, ``\\\\`` a backslash).

:func:`split_list_value` also gives where each element starts (for error spans);
:func:`split_list_items` gives the elements alone, faster (the parser's hot path). Both are
re-exported by :mod:`zquery.parse`.

>>> split_list_items(r"a,b\\,c"), split_list_value("a,b")[1]
(('a', 'b,c'), (0, 2))
"""

from __future__ import annotations

import re

__all__ = ["split_list_items", "split_list_value"]


def split_list_value(value: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Split a ``?=`` value on commas: ``\\,`` is a comma, ``\\\\`` a backslash.

    Returns the elements and the offset in *value* where each one starts. Any other backslash
    is kept literally; elements are not trimmed; an empty value is one empty element.

    >>> split_list_value(r"a\\,b,c\\\\,d\\x")
    (('a,b', 'c\\\\', 'd\\\\x'), (0, 5, 9))
    >>> split_list_value("")
    (('',), (0,))
    """
    if "\\" not in value:
        parts = value.split(",")
        starts, offset = [], 0
        for part in parts:
            starts.append(offset)
            offset += len(part) + 1
        return tuple(parts), tuple(starts)
    items: list[str] = []
    item_starts = [0]
    current: list[str] = []
    index, size = 0, len(value)
    while index < size:
        char = value[index]
        if char == "\\" and index + 1 < size and value[index + 1] in ",\\":
            current.append(value[index + 1])
            index += 2
            continue
        if char == ",":
            items.append("".join(current))
            current = []
            item_starts.append(index + 1)
        else:
            current.append(char)
        index += 1
    items.append("".join(current))
    return tuple(items), tuple(item_starts)


# One piece of a ``?=`` value: an escape, a comma, a run of plain characters, a lone backslash.
_LIST_PIECE = re.compile(r"\\[,\\]|,|[^,\\]+|\\")


def split_list_items(value: str) -> tuple[str, ...]:
    """The elements of :func:`split_list_value` alone, read by runs instead of by character.

    >>> split_list_items(r"a\\,b,c\\\\,d\\x")
    ('a,b', 'c\\\\', 'd\\\\x')
    """
    if "\\" not in value:
        return tuple(value.split(","))
    items: list[str] = []
    current: list[str] = []
    for match in _LIST_PIECE.finditer(value):
        piece = match.group()
        if piece == ",":
            items.append("".join(current))
            current = []
        elif len(piece) == 2 and piece[0] == "\\":  # only an escape starts with a backslash
            current.append(piece[1])
        else:
            current.append(piece)
    items.append("".join(current))
    return tuple(items)

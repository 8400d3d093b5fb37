"""The manual's examples: the reply JSON of a Query API and the query conditions it prints.

The reply example (``"inventories": [ {…} ]``) is a code box; the conversion keeps its lines in
order but interleaves other boxes and wraps long string values. Only lines that look like JSON
are read, so the keys of one inventory (and of the objects nested in it) come out in order.

>>> lines = ['{', '"inventories": [', '{', '"uuid": "u1",', '"vmNics": [', '{',
...          '"ip": "10.0.0.1"', '}', '],', '"cpuNum": 1.0', '}', ']', '}']
>>> example = reply_example(lines, 0, len(lines))
>>> sorted(example.keys)
['cpuNum', 'uuid', 'vmNics']
>>> sorted(example.nested["vmNics"].keys)
['ip']
>>> example.keys["cpuNum"]
'1.0'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["CHAPTER_TWO", "ReplyExample", "chapter_two_queries", "reply_example"]

#: Chapter 2 (API usage), where the query language and its examples are.
CHAPTER_TWO = (22, 1351)

_KEY = re.compile(r'^"(?P<key>[A-Za-z_][A-Za-z0-9_]*)"\s*:\s*(?P<rest>.*)$')
_GET_EXAMPLE = re.compile(r"GET\s+(?:/?zstack)?/v1(?P<path>/[^?\s]*)\?(?P<query>\S+)")


@dataclass
class ReplyExample:
    """Keys of one inventory object with their sample text, and the objects nested in it."""

    keys: dict[str, str] = field(default_factory=dict)
    nested: dict[str, ReplyExample] = field(default_factory=dict)
    line: int = 0


def reply_example(lines: list[str], start: int, stop: int) -> ReplyExample | None:
    """The first inventory object after an ``"inventories": [`` line in ``lines[start:stop]``."""
    for index in range(start, stop):
        if re.match(r'^\s*"inventories"\s*:\s*\[', lines[index]):
            example = ReplyExample(line=index + 1)
            _read_object(lines, index + 1, stop, example)
            return example if example.keys else None
    return None


def _json_lines(lines: list[str], start: int, stop: int) -> list[str]:
    return [text for text in (line.strip() for line in lines[start:stop])
            if text and text[0] in '{}[]"']


def _read_object(lines: list[str], start: int, stop: int, into: ReplyExample) -> None:
    """Fill *into* with the elements of the list opened just before ``lines[start]``.

    Every element of a list of objects is merged into one :class:`ReplyExample`.
    """
    # (bracket, the object its keys go to: for "[" the element object, if any)
    stack: list[tuple[str, ReplyExample | None]] = [("[", into)]
    pending: str | None = None
    for text in _json_lines(lines, start, stop):
        match = _KEY.match(text)
        if match is not None:
            key, rest = match.group("key"), match.group("rest").rstrip(",").strip()
            owner = stack[-1][1] if stack[-1][0] == "{" else None
            if owner is not None:
                owner.keys.setdefault(key, rest if rest[:1] not in ("{", "[") else rest[:1])
            if rest[:1] not in ("{", "[", ""):
                continue  # a scalar value (brackets inside it are text)
            pending, text = key, rest
        for char in _structure(text):
            top_kind, top_obj = stack[-1]
            if char in "{[":
                child: ReplyExample | None = None
                if top_kind == "[":
                    child = top_obj if char == "{" else None
                elif pending is not None and top_obj is not None:
                    child = top_obj.nested.setdefault(pending, ReplyExample())
                stack.append((char, child))
                pending = None
            else:
                stack.pop()
                pending = None
                if not stack:
                    return


def _structure(text: str) -> list[str]:
    """The brackets of a JSON line outside string literals."""
    out: list[str] = []
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{}[]":
            out.append(char)
    return out


def chapter_two_queries(lines: list[str]) -> list[tuple[int, str, list[str]]]:
    """The ``GET …?q=…`` examples of chapter 2: ``(line, rest path, [q values])``."""
    found: list[tuple[int, str, list[str]]] = []
    first, last = CHAPTER_TWO
    for index in range(first, min(last, len(lines))):
        for match in _GET_EXAMPLE.finditer(lines[index]):
            values = [part.split("=", 1)[1] for part in match.group("query").split("&")
                      if part.startswith(("q=", "condition=")) and "=" in part]
            if values:
                found.append((index + 1, match.group("path"), values))
    return found

"""Parse the manual's reply tables (``名字 类型 描述 起始版本``) despite the PDF artefacts.

A table row is either on one line (``zoneUuid String 区域UUID 0.6``) or spread over several,
one cell after another (name, type, description lines, since-version). The conversion also

* repeats the column header at the top of every page (dropped),
* drops code-box lines (JSON, curl, SDK snippets) in the middle of a table (dropped),
* wraps long names and types (``availableMemor`` / ``yCapacity``, ``AutoScalingRul`` /
  ``eStatus``): joined,
* pushes the tail of a wrapped description after the since-version (``详情参考matchedPciDeviceOffe``
  … ``2.1`` … ``ringRef``): glued back to that row.

>>> lines = ["#inventories", "名字 类型 描述 起始版本", "uuid", "String", "资源的UUID", "0.6",
...          "zoneUuid String 区域UUID 0.6", "state", "String", "状态，包括：", "• Enabled",
...          "• Disabled", "0.6"]
>>> tables, problems = parse_tables(lines, 0, len(lines))
>>> [(r.name, r.type, r.since) for r in tables["inventories"]]
[('uuid', 'String', '0.6'), ('zoneUuid', 'String', '0.6'), ('state', 'String', '0.6')]
>>> bullet_values(tables["inventories"][2].description)
['Enabled', 'Disabled']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["ROOT", "Row", "bullet_values", "parse_tables", "referenced_table"]

#: The key of the rows before the first ``#name`` header (the reply's top level).
ROOT = ""

_SINCE = re.compile(r"^\d+\.\d+(?:\.\d+)?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:<[A-Za-z0-9_<>, ]+>)?$")
_FULL = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*) (?P<type>[A-Za-z][A-Za-z0-9_]*(?:<\S+>)?)"
                   r"(?: (?P<desc>.*?))? ?(?P<since>\d+\.\d+(?:\.\d+)?)$")
_NAME_TYPE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*) (?P<type>[A-Z][A-Za-z0-9_]*)"
                        r"(?: (?P<desc>.*))?$")
_HEADER = re.compile(r"^#(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")
_TABLE_HEAD = "名字 类型 描述 起始版本"
_UUID_LIKE = re.compile(r"^[0-9a-f]{16,}\S*$")
_BULLET = re.compile(r"•\s*([A-Za-z][A-Za-z0-9_.\-]*)\s*(?=•|$)")
_REFERENCE = re.compile(r"详情参考([A-Za-z_][A-Za-z0-9_]*)")
#: Types that are complete words: a lower-case line after one of them is not its tail.
_WHOLE_TYPES = frozenset({
    "String", "Long", "Integer", "Boolean", "Timestamp", "List", "Map", "Double", "Float",
    "LinkedHashMap", "Set", "Short", "Date", "int", "long", "boolean", "double", "float",
})
_SDK_LINE = re.compile(r"Action(?:\(\)|\.Result| action\b)|^action\.")
_NAME_TAIL = re.compile(r"(?:Uuid|Uuids|Path|Refs|Ref)$")
_JAVA_PRIMITIVES = frozenset({"int", "long", "boolean", "double", "float", "short"})
_MAX_ROW_LINES = 40


@dataclass
class Row:
    """One table row; ``line`` is the 1-based manual line where it starts."""

    name: str
    type: str
    description: str
    since: str
    line: int
    notes: list[str] = field(default_factory=list)


def _is_noise(text: str) -> bool:
    """Lines that cannot belong to a table: page headers and code-box debris."""
    return (
        text == _TABLE_HEAD
        or text[0] in '{}[]"'
        or text.startswith(("curl ", "-H ", "-X ", "GET ", "POST ", "PUT ", "DELETE ", "http",
                            "Authorization:", "action.", "q=", "condition="))
        or bool(_SDK_LINE.search(text))
        or bool(_UUID_LIKE.match(text))
        or text.endswith('",') or text.endswith('"')
        or text.startswith(("开发手册 /", "文档版本："))
    )


def _is_type(text: str) -> bool:
    return bool(_TYPE.match(text)) and (text[0].isupper() or text in _JAVA_PRIMITIVES)


def parse_tables(lines: list[str], start: int, end: int,
                 problems: list[str] | None = None) -> tuple[dict[str, list[Row]], list[str]]:
    """Tables between lines ``start`` and ``end``: ``{"": top rows, "inventories": […], …}``.

    Rows are collected from the ``API返回`` label on (or from the first ``#header`` when there
    is no label); lines that fit no row are returned as problems (``"line: text"``).
    """
    found = problems if problems is not None else []
    items = _clean(lines, start, end)
    tables: dict[str, list[Row]] = {}
    rows: list[Row] | None = None
    current: Row | None = None  # the last complete row, for wrapped-off tails
    in_note = False  # inside a note under a table: lines that are no row are its text
    index = 0
    while index < len(items):
        number, text = items[index]
        header = _HEADER.match(text)
        if header is not None:
            rows = tables.setdefault(header.group("name"), [])
            current, in_note = None, False
            index += 1
            continue
        if text.startswith("API返回"):
            rows = tables.setdefault(ROOT, [])
            current, in_note = None, True  # code debris may precede the first row
            index += 1
            continue
        if rows is None:
            index += 1
            continue
        if text.startswith(("SDK示例", "注:", "注：", "说明")):
            current, in_note = None, True  # a note's text is no row's description
            rows = None if text.startswith("SDK示例") else rows
            index += 1
            continue
        if current is not None and _is_reference_tail(current, text):
            current.description = current.description.replace(" ", "") + text
            index += 1
            continue
        row, used = _row_at(items, index)
        if row is not None:
            rows.append(row)
            current, in_note = row, False
            index += used
            continue
        if current is not None:
            _continue_row(current, text)
        elif not in_note:
            found.append(f"{number}: {text}")
        index += 1
    return tables, found


def _clean(lines: list[str], start: int, end: int) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    for index in range(start, end):
        text = lines[index].strip()
        if text and not _is_noise(text):
            items.append((index + 1, text))
    return items


def _row_at(items: list[tuple[int, str]], index: int) -> tuple[Row | None, int]:
    """The row starting at ``items[index]`` and how many items it used, or ``(None, 0)``."""
    number, text = items[index]
    full = _FULL.match(text)
    if full is not None and _is_type(full.group("type")):
        return Row(full.group("name"), full.group("type"), (full.group("desc") or "").strip(),
                   full.group("since"), number), 1
    pair = _NAME_TYPE.match(text)
    if pair is not None and _is_type(pair.group("type")) and not _SINCE.match(text):
        name, type_name, desc = pair.group("name"), pair.group("type"), pair.group("desc") or ""
        follow = index + 1
        parts = [desc] if desc else []
    elif _NAME.match(text):
        name, follow = text, index + 1
        # a wrapped name: lower-case tails until the type line
        while follow < len(items) and _NAME.match(items[follow][1]) and \
                not _is_type(items[follow][1]) and not _HEADER.match(items[follow][1]):
            name += items[follow][1]
            follow += 1
        while follow + 1 < len(items) and _is_name_tail(items[follow][1], items[follow + 1][1]):
            name += items[follow][1]  # a name wrapped before a capital: l3 / NetworkUuid
            follow += 1
        if follow >= len(items):
            return None, 0
        type_text = items[follow][1]
        head, _, rest = type_text.partition(" ")
        if not _is_type(head) or _SINCE.match(type_text):
            return None, 0
        type_name, parts, follow = head, ([rest] if rest else []), follow + 1
        while not parts and type_name not in _WHOLE_TYPES and follow < len(items) and \
                _is_type_tail(type_name, items[follow][1]):
            type_name += items[follow][1]  # a wrapped type: AutoScalingRul / eStatus
            follow += 1
    else:
        return None, 0
    while follow < len(items) and follow - index < _MAX_ROW_LINES:
        cell = items[follow][1]
        if _SINCE.match(cell):
            return Row(name, type_name, _join(parts), cell, number), follow - index + 1
        if _HEADER.match(cell) or (_FULL.match(cell) and _is_type(_FULL.match(cell)
                                                                  .group("type"))):  # type: ignore[union-attr]
            break
        parts.append(cell)
        follow += 1
    # no since-version: keep the row (the manual left the cell empty)
    return Row(name, type_name, _join(parts), "", number), follow - index


def _is_type_tail(head: str, candidate: str) -> bool:
    """``AutoScalingRul`` + ``eStatus``; ``SNSApplication`` + ``EndpointInventory``."""
    return bool(_NAME.match(candidate)) and (
        candidate[0].islower() or (candidate.endswith("Inventory") and head[0].isupper()))


def _is_name_tail(candidate: str, after: str) -> bool:
    """Whether a capitalised line after a name is the name's tail rather than its type."""
    if not _NAME.match(candidate) or candidate in _WHOLE_TYPES:
        return False
    if _NAME_TAIL.search(candidate) or candidate.isupper():
        return True
    return after.split(" ", 1)[0] in _WHOLE_TYPES


def _is_reference_tail(row: Row, text: str) -> bool:
    """``详情参考matchedPciDeviceOffe`` + ``ringRef`` completes the row's own name."""
    ref = re.search(r"详情参考([A-Za-z0-9_]*)$", row.description.replace(" ", ""))
    return (ref is not None and bool(_NAME.match(text)) and ref.group(1) != row.name
            and row.name.startswith(ref.group(1) + text))


def _continue_row(row: Row, text: str) -> None:
    """A line after a complete row: more of its description (a bullet after a page break)."""
    row.notes.append(text)
    row.description = _join([row.description, text])


def _join(parts: list[str]) -> str:
    return " ".join(p for p in (part.strip() for part in parts) if p)


def bullet_values(description: str) -> list[str]:
    """The ``• Value`` items of a description, when each item is a single word."""
    return _BULLET.findall(description)


def referenced_table(description: str) -> str | None:
    """``详情参考vmNics`` → ``vmNics`` (spaces the conversion inserted are ignored)."""
    match = _REFERENCE.search(description.replace(" ", ""))
    return match.group(1) if match else None

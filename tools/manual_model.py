"""Everything the manual says about its Query APIs, gathered into plain records.

:func:`read_manual` walks the whole manual once: every numbered section's reply tables (so an
inventory documented by a Create/Update API can fill a Query API whose own table is missing),
and for each Query API its REST paths, tables, reply example and curl examples.

>>> lines = ["5.1.1 创建区域(CreateZone)", "API返回",
...          "inventory ZoneInventory 详情参考inventory 0.6",
...          "#inventory", "uuid String 资源的UUID 0.6", "name String 资源名称 0.6",
...          "5.1.2 查询区域(QueryZone)", "URLs", "GET zstack/v1/zones", "API返回",
...          "inventories List 详情参考inventories 0.6", "#inventories", "uuid String UUID 0.6"]
>>> manual = read_manual(lines)
>>> [api.api for api in manual.apis], manual.apis[0].rest_paths
(['QueryZone'], ['/zones'])
>>> [row.name for row in manual.inventory_tables["ZoneInventory"].rows]
['uuid', 'name']
"""

from __future__ import annotations

from dataclasses import dataclass, field

from manual_examples import ReplyExample, reply_example
from manual_tables import ROOT, Row, parse_tables, referenced_table
from manual_text import CODE_SPILL, curl_queries, find_headings, find_query_sections, rest_paths

__all__ = ["InventoryTable", "Manual", "ManualApi", "read_manual"]

_EMPTY_REPLY = "返回一个空的JSON结构"


@dataclass
class InventoryTable:
    """A table the manual names with an inventory class (``inventory VmNicInventory``)."""

    inventory: str
    section: str
    rows: list[Row]
    tables: dict[str, list[Row]]  # the whole section's tables, for the nested structures


@dataclass
class ManualApi:
    """One Query API section of the manual."""

    api: str
    number: str
    title: str
    start: int
    end: int
    rest_paths: list[str]
    tables: dict[str, list[Row]]
    example: ReplyExample | None
    curl: list[tuple[int, str, list[str]]]
    empty_reply: bool
    problems: list[str] = field(default_factory=list)

    @property
    def inventory_rows(self) -> list[Row]:
        """The rows of its own ``#inventories`` table (empty when the manual has none)."""
        for name in ("inventories", "inventory"):
            if self.tables.get(name):
                return self.tables[name]
        return []


@dataclass
class Manual:
    """The Query APIs in manual order and the inventory tables by class name."""

    apis: list[ManualApi]
    inventory_tables: dict[str, InventoryTable]
    lines: list[str]
    section_tables: dict[str, dict[str, list[Row]]] = field(default_factory=dict)


def read_manual(lines: list[str]) -> Manual:
    """Parse every section once; see the module docstring."""
    headings = find_headings(lines)
    named: dict[str, InventoryTable] = {}
    by_section: dict[str, dict[str, list[Row]]] = {}
    for position, heading in enumerate(headings):
        end = headings[position + 1].line if position + 1 < len(headings) else len(lines)
        tables, _ = parse_tables(lines, heading.line, end)
        by_section[heading.number] = tables
        for table_rows in tables.values():
            for row in table_rows:
                _index_named_table(named, row, tables, heading.number)
    apis: list[ManualApi] = []
    for section in find_query_sections(lines):
        problems: list[str] = []
        tables, _ = parse_tables(lines, section.start, section.end, problems)
        paths, _ = rest_paths(lines, section)
        stop = min(len(lines), section.end + CODE_SPILL)
        empty = any(_EMPTY_REPLY in lines[i] for i in range(section.start, section.end))
        apis.append(ManualApi(
            api=section.api, number=section.number, title=section.title, start=section.start,
            end=section.end, rest_paths=paths, tables=tables,
            example=reply_example(lines, section.start, stop),
            curl=curl_queries(lines, section), empty_reply=empty, problems=problems))
    return Manual(apis, named, lines, by_section)


def _index_named_table(named: dict[str, InventoryTable], row: Row,
                       tables: dict[str, list[Row]], number: str) -> None:
    """Remember ``#inventory`` under ``ZoneInventory`` when a row says so; first one wins,
    unless a later one is longer (a reply that lists more of the same inventory)."""
    if not row.type.endswith("Inventory") or row.type == "Inventory":
        return
    ref = referenced_table(row.description) or row.name
    rows = tables.get(ref)
    if not rows or ref == ROOT:
        return
    known = named.get(row.type)
    if known is None or len(rows) > len(known.rows):
        named[row.type] = InventoryTable(row.type, number, rows, tables)

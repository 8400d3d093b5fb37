"""Resources and their scalar fields: one per Query API, typed from the manual's tables.

For each Query API: its inventory class (the reference's, else the class the manual names for
the same table, else ``<Api>Inventory``), its rows (its own ``#inventories`` table, else a
documented stand-in, see :data:`catalogue_policy.FILLS`), the reference's extra fields and
mapped values, and the keys of the reply example the table forgot.

>>> row_choices("state", "String", "状态，包括： • Enabled • Disabled", {})
['Enabled', 'Disabled']
>>> row_choices("type", "String", "类型，包括： • UserVm • ApplianceVm", {})
[]
"""

from __future__ import annotations

import re
from typing import Any

from catalogue_draft import Draft, DraftField, DraftResource, field_type
from catalogue_policy import FILL_EXTRAS, FILLS
from manual_model import Manual, ManualApi
from manual_tables import Row, bullet_values, referenced_table
from reference_model import Reference, RefInventory, short

__all__ = ["StructuredRow", "add_reference_fields", "build_api_resources", "ensure_key",
           "fields_from_rows", "helper_from_reference", "mapped_spec", "row_choices",
           "sample_type"]

#: Fields whose bullet lists are complete enumerations; ``type`` lists are open (plugins).
_ENUM_NAMES = re.compile(r"(?:^|[a-z])(?:[Ss]tate|[Ss]tatus)$")
_DATE_SAMPLE = re.compile(r'^"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M"$')
_JACCARD_MATCH = 0.9


class StructuredRow:
    """A row that is no scalar (a list, a map, a nested inventory): a relation candidate."""

    def __init__(self, row: Row, tables: dict[str, list[Row]]) -> None:
        self.row = row
        ref = referenced_table(row.description) or row.name
        self.nested: list[Row] = list(tables.get(ref, [])) if ref != "inventories" else []


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def row_choices(name: str, type_name: str, description: str,
                tables: dict[str, list[Row]]) -> list[str]:
    """The values of an enum field, when the manual lists them reliably.

    An enum table (``#state`` with one row per value and the enum type, at least two) counts;
    bullets in the description count for state/status fields and enum-typed fields.
    """
    ref = referenced_table(description)
    if ref and ref in tables and type_name not in ("String", "List"):
        values = [r.name for r in tables[ref] if r.type == type_name]
        if len(values) > 1:  # a one-value "enum" is a fragment, not the list
            return values
    bullets = bullet_values(description)
    if bullets and (type_name != "String" or _ENUM_NAMES.search(name)):
        return list(dict.fromkeys(bullets))
    return []


def sample_type(sample: str) -> str:
    """The field type a reply example's value suggests (a reply date → Timestamp, …)."""
    text = sample.strip()
    if _DATE_SAMPLE.match(text):
        return "Timestamp"
    if text in ("true", "false"):
        return "Boolean"
    if re.fullmatch(r"-?\d+", text):
        return "Long"
    if re.fullmatch(r"-?\d+\.\d+(?:E\d+)?", text):
        return "Long" if text.endswith(".0") or "E" in text else "Double"
    return "String"


def fields_from_rows(rows: list[Row], tables: dict[str, list[Row]], origin: str,
                      ) -> tuple[dict[str, DraftField], list[StructuredRow]]:
    fields: dict[str, DraftField] = {}
    structured: list[StructuredRow] = []
    for row in rows:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", row.name) or row.name in fields:
            continue
        ftype = field_type(row.type)
        if ftype is None:
            structured.append(StructuredRow(row, tables))
            continue
        fields[row.name] = DraftField(
            row.name, ftype, description=_clean(row.description), since=row.since,
            choices=row_choices(row.name, row.type, row.description, tables), origin=origin)
    return fields, structured


def _inventory_class(api: ManualApi, manual: Manual, ref: Reference, claimed: set[str]) -> str:
    if api.api in ref.api_inventory:
        return ref.api_inventory[api.api]
    default = f"{api.api[5:]}Inventory"
    own = {row.name for row in api.inventory_rows}
    if default in manual.inventory_tables or not own:
        return default
    best, best_score = default, 0.0
    for name, table in sorted(manual.inventory_tables.items()):
        if name in claimed:
            continue
        other = {row.name for row in table.rows}
        score = len(own & other) / len(own | other)
        if score > best_score:
            best, best_score = name, score
    return best if best_score >= _JACCARD_MATCH else default


def build_api_resources(manual: Manual, ref: Reference, draft: Draft,
                        ) -> dict[str, list[StructuredRow]]:
    """One resource per Query API, with its manual fields; returns the structured rows."""
    claimed = {f"{api.api[5:]}Inventory" for api in manual.apis}
    structured: dict[str, list[StructuredRow]] = {}
    by_api = {api.api: api for api in manual.apis}
    deferred: list[tuple[DraftResource, str]] = []
    for api in manual.apis:
        inventory = _inventory_class(api, manual, ref, claimed - {f"{api.api[5:]}Inventory"})
        name = short(inventory)
        if name in draft.resources:
            name = api.api[5:]
        res = draft.add_resource(DraftResource(
            name, f"{name}VO", "uuid", api_name=api.api, rest_paths=list(api.rest_paths),
            inventory=inventory, title=api.title, section=api.number))
        ref_inv = ref.inventories.get(inventory)
        if ref_inv is not None:
            res.table, res.primary_key = ref_inv.table, ref_inv.primary_key
        rows, tables, source = _rows_for(api, manual, ref_inv, by_api, draft, res)
        if source == "parent":
            deferred.append((res, str(FILLS[api.api][1])))
            structured[name] = []
            continue
        res.source = source
        res.fields, structured[name] = fields_from_rows(rows, tables, "manual")
        for extra, ftype, why in FILL_EXTRAS.get(api.api, []):
            res.fields[extra] = DraftField(extra, ftype, origin="fill")
            draft.note("fill", api.api, f"field {extra}: {why}")
        if not rows and ref_inv is not None:
            res.source = "the reference (the manual documents no fields)"
            draft.note("gap", api.api, "no reply table anywhere in the manual: fields from the "
                       "open-source server's inventory")
    for res, parent in deferred:
        res.fields = {n: DraftField(**vars(f)) for n, f in draft.resources[parent].fields.items()}
        res.source = f"the fields of {parent}"
    return structured


def _rows_for(api: ManualApi, manual: Manual, ref_inv: RefInventory | None,
              by_api: dict[str, ManualApi], draft: Draft, res: DraftResource,
              ) -> tuple[list[Row], dict[str, list[Row]], str]:
    if api.inventory_rows:
        return api.inventory_rows, api.tables, f"its reply table ({api.number})"
    why_empty = ("the reply is documented as {}" if api.empty_reply
                 else "the reply has an example but no field table")
    fill = FILLS.get(api.api)
    if fill is not None:
        kind, argument, why = fill
        draft.note("gap", api.api, f"filled: {why}")
        if kind == "section":
            tables = manual.section_tables.get(str(argument), {})
            if not tables.get("inventory"):
                raise ValueError(f"{api.api}: no #inventory table in section {argument}")
            return tables["inventory"], tables, f"section {argument}'s table"
        if kind == "api":
            other = by_api[str(argument)]
            return other.inventory_rows, other.tables, f"{argument}'s table"
        if kind == "fields":
            rows = [Row(n, t, "", "", 0) for n, t in argument]  # type: ignore[attr-defined]
            return rows, {}, "fields chosen from its curl example"
        return [], {}, "parent"
    table = manual.inventory_tables.get(res.inventory or "")
    if table is not None:
        draft.note("gap", api.api, f"{why_empty}; filled from the {res.inventory} table of "
                   f"section {table.section}")
        return table.rows, table.tables, f"the {res.inventory} table of {table.section}"
    if ref_inv is not None:
        return [], {}, "reference"
    if api.example is not None:
        rows = [Row(key, sample_type(value) if value[:1] not in "[{" else "List", "", "", 0)
                for key, value in api.example.keys.items()]
        draft.note("gap", api.api, f"{why_empty}; filled from the keys of its reply example")
        return rows, {}, "its reply example"
    raise ValueError(f"{api.api}: no fields anywhere and no fill declared")


def helper_from_reference(inv: RefInventory, draft: Draft) -> DraftResource:
    """A resource without a Query API, for a relation target only the reference knows."""
    name = short(inv.name)
    if name in draft.resources:
        name = f"{name}Ref" if not name.endswith("Ref") else f"{name}Item"
    res = draft.add_resource(DraftResource(name, inv.table, inv.primary_key, inventory=inv.name,
                                           source="the reference"))
    add_reference_fields(res, inv, draft, everything=True)
    return res


def add_reference_fields(res: DraftResource, inv: RefInventory, draft: Draft,
                         everything: bool = False) -> None:
    """The reference's queryable columns the manual does not list (all of them for a helper)."""
    for rfield in inv.fields.values():
        if rfield.name in res.fields or rfield.mapping is not None or not rfield.queryable:
            continue
        ftype = field_type(rfield.java_type)
        if ftype is None or not rfield.on_vo:
            continue
        res.fields[rfield.name] = DraftField(
            rfield.name, ftype, origin="reference",
            description="" if everything else "from the open-source server; not in the manual")
        if not everything:
            draft.note("reference-field", res.name, rfield.name)
    ensure_key(res, res.primary_key, draft, "primary key")


def ensure_key(res: DraftResource, column: str, draft: Draft, why: str) -> None:
    """Make *column* a field of *res* (a join key or primary key the inventory does not show)."""
    if column in res.fields:
        if res.fields[column].mapped is not None:
            raise ValueError(f"{res.name}.{column}: a key cannot be a mapped value")
        return
    ftype = "Long" if column == "id" else "String"
    text = why if "manual" in why else f"{why}; not shown by the manual"
    res.fields[column] = DraftField(column, ftype, origin="key", description=text)
    draft.note("key", res.name, f"{column} ({why})")


def mapped_spec(table: str, owner_key: str, join_column: str, value_column: str,
                many: bool) -> dict[str, Any]:
    return {"table": table, "owner_key": owner_key, "join_column": join_column,
            "value_column": value_column, "many": many}

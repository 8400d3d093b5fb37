"""Build the catalogue dict from the manual and the reference, in a fixed order of steps.

1. one resource per Query API with the manual's fields (:mod:`catalogue_fields`);
2. primary keys, the reference's extra fields and values stored elsewhere;
3. typed children share their root's table (:mod:`catalogue_children`);
4. the reply examples' keys that the tables forgot;
5. relations: reference, nested structures, inferred keys; children inherit; aliases checked;
6. tags and ownership.

>>> from manual_model import Manual
>>> from reference_model import Reference
>>> draft = build_draft(Manual([], {}, []), Reference.empty())
>>> draft.to_dict()["resources"]
{}
"""

from __future__ import annotations

from catalogue_children import inherit_relations, set_up_children
from catalogue_draft import Draft, DraftField, DraftResource
from catalogue_fields import add_reference_fields, build_api_resources, ensure_key, sample_type
from catalogue_keys import add_inferred_relations
from catalogue_policy import is_owned
from catalogue_relations import (
    add_nested_relations,
    add_reference_mapped,
    add_reference_relations,
    check_aliases,
)
from manual_model import Manual, ManualApi
from reference_model import Reference

__all__ = ["build_draft"]


def build_draft(manual: Manual, ref: Reference) -> Draft:
    """Every step above; the result is deterministic for the same inputs."""
    draft = Draft()
    structured = build_api_resources(manual, ref, draft)
    covered = {res.name for res in draft.resources.values() if res.inventory in ref.inventories}
    for res in list(draft.resources.values()):
        inv = ref.inventories.get(res.inventory or "")
        if inv is not None:
            add_reference_fields(res, inv, draft)  # the reference names the key column
        else:
            _primary_key(res, draft)
    add_reference_mapped(draft, ref)
    set_up_children(draft, ref)
    by_api = {api.api: api for api in manual.apis}
    for res in draft.resources.values():
        if res.api_name in by_api:
            _example_keys(draft, res, by_api[res.api_name], ref)
    add_reference_relations(draft, ref)
    set_up_children(draft, ref)  # typed children met as relation targets (helpers)
    inherit_relations(draft)  # before nested: a child's nested list may be inherited
    add_nested_relations(draft, structured, covered, ref)
    add_inferred_relations(draft, covered | {r.name for r in draft.resources.values()
                                             if r.api_name is None and r.inventory
                                             in ref.inventories})
    inherit_relations(draft)
    check_aliases(draft)
    _tags_and_ownership(draft)
    return draft


def _primary_key(res: DraftResource, draft: Draft) -> None:
    if res.primary_key in res.fields:
        return
    if res.primary_key == "uuid" and "id" in res.fields:
        res.primary_key = "id"
        return
    why = "primary key"
    if res.primary_key == "uuid":
        res.primary_key, why = "id", "a surrogate primary key: the manual shows no uuid"
    ensure_key(res, res.primary_key, draft, why)


def _example_keys(draft: Draft, res: DraftResource, api: ManualApi, ref: Reference) -> None:
    """Keys of the reply example that the field table does not list."""
    if api.example is None or not api.inventory_rows:
        return
    listed = {row.name for row in api.inventory_rows}
    inv = ref.inventories.get(res.inventory or "")
    children = [child for child in draft.resources.values() if child.parent == res.name]
    for key, sample in api.example.keys.items():
        if key in listed or key in res.fields or sample[:1] in "[{":
            continue
        where = f"{api.api}: example key {key}"
        owner = next((c.name for c in children if key in c.fields), None)
        if owner is not None:
            draft.note("example", where, f"belongs to the typed child {owner}: not added")
            continue
        rfield = inv.fields.get(key) if inv is not None else None
        if rfield is not None and not rfield.queryable:
            draft.note("example", where, "not queryable on the ZStack server: not added")
            continue
        res.fields[key] = DraftField(key, sample_type(sample), origin="example",
                                     description="in the manual's reply example only")
        draft.note("example", where, f"added as {res.fields[key].type} (typed by its sample "
                   f"{sample[:30]})")


def _tags_and_ownership(draft: Draft) -> None:
    """Tag type = the table's VO name (shared by a typed family); ownership by section."""
    roots: dict[str, DraftResource] = {}
    for res in draft.resources.values():
        root = res
        while root.parent is not None:
            root = draft.resources[root.parent]
        roots[res.name] = root
    for res in draft.resources.values():
        root = roots[res.name]
        if res.api_name is None:
            continue  # helper resources: no tags, no scoping of their own
        res.tag_type = root.table
        res.owned = is_owned(root.name, root.section)

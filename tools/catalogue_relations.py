"""Relations from the reference's declarations and from the manual's nested structures.

* ``reference`` — the open-source server's expanded queries, collections, aliases and mapped
  values, for the inventories it knows (broken declarations left out or corrected, see
  :data:`reference_model.CORRECTIONS`); a target without a Query API becomes a helper resource;
* ``manual`` — a list or object in an inventory table with its own ``#name`` table, joined on
  the nested rows' key back to the owner (``#ruleTriggers`` … ``ruleUuid``).

Relations inferred from key names are in :mod:`catalogue_keys`.

>>> Draft().resources == {}
True
"""

from __future__ import annotations

from catalogue_draft import Draft, DraftField, DraftRelation, DraftResource, field_type
from catalogue_fields import (
    StructuredRow,
    ensure_key,
    fields_from_rows,
    helper_from_reference,
    mapped_spec,
)
from catalogue_keys import owner_key, words
from reference_model import Reference, RefRelation, short

__all__ = ["add_nested_relations", "add_reference_mapped", "add_reference_relations",
           "check_aliases"]

_COLLECTIONS = ("List", "Set", "Map", "LinkedHashMap")
_NESTED_MATCH = 0.85


def _cardinality(target: DraftResource, remote_key: str) -> str:
    """To-one when the join lands on the target's own key (``uuid``/``id``), else to-many.

    A primary key named ``…Uuid`` (``LocalStorageHostRefVO.hostUuid``) is one column of a
    composite key in ZStack: many rows can share it.
    """
    unique = remote_key == target.primary_key and not remote_key.endswith("Uuid")
    return "one" if unique else "many"


def _target_for(draft: Draft, ref: Reference, inventory: str) -> DraftResource | None:
    found = draft.by_inventory(inventory)
    if found is not None:
        return found
    inv = ref.inventories.get(inventory)
    return helper_from_reference(inv, draft) if inv is not None else None


def add_reference_mapped(draft: Draft, ref: Reference) -> None:
    """The reference's values stored in other tables, for the API resources it covers."""
    for _, res in sorted(draft.resources.items()):
        if res.inventory not in ref.inventories:
            continue
        for rel in ref.relations_of(res.inventory or ""):
            if rel.kind == "queryable_mapped_field":
                _add_mapped(draft, ref, res, rel)


def add_reference_relations(draft: Draft, ref: Reference) -> None:
    """Every relation and alias the reference declares for the inventories in the catalogue."""
    done: set[str] = set()
    while True:
        pending = [res for name, res in sorted(draft.resources.items())
                   if name not in done and res.inventory in ref.inventories]
        if not pending:
            return
        for res in pending:
            done.add(res.name)
            for rel in ref.relations_of(res.inventory or ""):
                if rel.kind == "queryable_mapped_field":
                    if res.api_name is None:  # helpers: their mapped values too
                        _add_mapped(draft, ref, res, rel)
                    continue
                _add_reference_relation(draft, ref, res, rel)


def _add_reference_relation(draft: Draft, ref: Reference, res: DraftResource,
                            rel: RefRelation) -> None:
    where = f"{res.name}.{rel.name}"
    if rel.broken and not rel.corrected:
        draft.note("broken", where, f"left out: {rel.broken}")
        return
    if rel.corrected:
        draft.note("corrected", where, rel.corrected)
    if rel.kind == "alias":
        if not res.taken(rel.name):
            res.aliases[rel.name] = rel.alias_path or ""
        return
    target = _target_for(draft, ref, rel.target or "")
    if target is None or rel.foreign_key is None or rel.target_key is None:
        draft.note("broken", where, f"target {rel.target} unknown: left out")
        return
    if rel.name in res.fields:
        draft.note("clash", where, "a field of the same name exists: the relation is left out")
        return
    if rel.name in res.relations:
        return
    ensure_key(res, rel.foreign_key, draft, f"join key of {rel.name}")
    ensure_key(target, rel.target_key, draft, f"join key of {res.name}.{rel.name}")
    inv = ref.inventories.get(res.inventory or "")
    in_inventory = inv is not None and rel.name in inv.fields
    res.relations[rel.name] = DraftRelation(
        rel.name, target.name, _cardinality(target, rel.target_key), rel.foreign_key,
        rel.target_key, origin="reference", nested=in_inventory, hidden=rel.hidden)


def _add_mapped(draft: Draft, ref: Reference, res: DraftResource, rel: RefRelation) -> None:
    """A value stored in another table (``Host.availableCpuCapacity`` in ``HostCapacityVO``)."""
    where = f"{res.name}.{rel.name}"
    java = rel.java_type or "String"
    many = java.startswith(("List", "Set"))
    inner = java[java.find("<") + 1:-1] if "<" in java else java
    ftype = field_type(inner)
    mapping = ref.inventories.get(rel.target or "")
    if ftype is None or mapping is None or rel.value_column is None or rel.foreign_key is None \
            or rel.target_key is None:
        draft.note("mapped", where, f"{java} in {rel.target}: no scalar value, left out")
        return
    spec = mapped_spec(mapping.table, rel.foreign_key, rel.target_key, rel.value_column, many)
    existing = res.fields.get(rel.name)
    if existing is not None:
        existing.mapped, existing.type = spec, ftype
    else:
        res.fields[rel.name] = DraftField(rel.name, ftype, mapped=spec, origin="reference")
    ensure_key(res, rel.foreign_key, draft, f"owner key of {rel.name}")
    columns = draft.link_tables.setdefault(mapping.table, {})
    for column in (rel.target_key, mapping.primary_key):
        known = mapping.fields.get(column)
        columns.setdefault(column, "Long" if column == "id" else
                           field_type(known.java_type) or "String" if known else "String")
    columns.setdefault(rel.value_column, ftype)
    draft.link_keys.setdefault(mapping.table, [mapping.primary_key])


def add_nested_relations(draft: Draft, structured: dict[str, list[StructuredRow]],
                         covered: set[str], ref: Reference) -> None:
    """The manual's nested lists/objects that are no relation yet.

    For a resource the reference covers, such a list is not queryable on a ZStack server; it
    still becomes a *hidden* relation (not offered by completion) so that replies can carry it.
    """
    for name in sorted(structured):
        res = draft.resources[name]
        for item in structured[name]:
            row = item.row
            where = f"{name}.{row.name}"
            if res.taken(row.name):
                continue
            if not item.nested:
                draft.note("nested", where, f"a {row.type} without a table of its own: "
                           "not queryable")
                continue
            target = _nested_target(draft, ref, res, row.name, row.type, item)
            if target is None:
                draft.note("nested", where, f"#{row.name} has no key back to {name}: "
                           "not queryable")
                continue
            relation = _nested_relation(draft, res, row.name, row.type, target)
            if relation is None:
                draft.note("nested", where, f"#{row.name} has no key back to {name}: "
                           "not queryable")
                continue
            relation.hidden = name in covered
            res.relations[row.name] = relation
            if relation.hidden:
                draft.note("nested", where, "not declared by the reference: a hidden relation "
                           "(replies carry it; completion does not offer it)")


def _nested_target(draft: Draft, ref: Reference, owner: DraftResource, name: str,
                   type_name: str, item: StructuredRow) -> DraftResource | None:
    """The resource the nested rows are: named by type, matched by fields, or a new helper.

    Only rows that hold a key back to the owner (or an object the owner holds a key to) can
    be joined; a matching resource must have that key column too.
    """
    declared = _declared_type(ref, owner, name) or type_name
    if declared.endswith("Inventory"):
        found = draft.by_inventory(declared)
        if found is not None:
            return found
    fields, _ = fields_from_rows(item.nested, {}, "manual")
    names = set(fields)
    single = not type_name.startswith(_COLLECTIONS)
    key = f"{name}Uuid" if single and f"{name}Uuid" in owner.fields else None
    back = None if key else owner_key(draft, owner, sorted(names))
    if key is None and back is None:
        return None
    best, best_score = None, (0.0, 0.0)
    for candidate in sorted(draft.resources.values(), key=lambda r: (r.api_name is None, r.name)):
        other = set(candidate.fields)
        if candidate is owner or not other or (back is not None and back not in other):
            continue
        common = len(names & other)
        jaccard = common / len(names | other)
        contained = common / len(names) if len(names) >= 4 else jaccard
        if (contained, jaccard) > best_score:
            best, best_score = candidate, (contained, jaccard)
    if best is not None and best_score[0] >= _NESTED_MATCH:
        return best
    helper_name = _helper_name(draft, owner, name, type_name)
    pk = "uuid" if "uuid" in fields else "id"
    helper = draft.add_resource(DraftResource(helper_name, f"{helper_name}VO", pk, fields=fields,
                                              source=f"{owner.name}'s #{name} table"))
    ensure_key(helper, pk, draft, "primary key")
    draft.note("helper", helper_name, f"resource for {owner.name}.{name} (#{name} table)")
    return helper


def _declared_type(ref: Reference, owner: DraftResource, name: str) -> str | None:
    """``List<VmNicInventory>`` in the reference's inventory → ``VmNicInventory``."""
    inv = ref.inventories.get(owner.inventory or "")
    rfield = inv.fields.get(name) if inv is not None else None
    if rfield is None or "<" not in rfield.java_type:
        return None
    return rfield.java_type[rfield.java_type.find("<") + 1:-1]


def _helper_name(draft: Draft, owner: DraftResource, name: str, type_name: str) -> str:
    """``BareMetal2Chassis`` + ``chassisNics`` → ``BareMetal2ChassisNic``; ``IscsiServer`` +
    ``iscsiTargets`` → ``IscsiTarget`` (same first word: no prefix)."""
    if type_name.endswith("Inventory") and short(type_name) not in draft.resources:
        return short(type_name)
    base = name[:1].upper() + name[1:]
    if base.endswith("s") and len(base) > 3 and not base.endswith(("ss", "us", "Dns")):
        base = base[:-1]
    if words(base)[0] == words(owner.name)[0]:
        candidate = base
    else:
        overlap = next((size for size in range(min(len(owner.name), len(base)), 0, -1)
                        if owner.name.endswith(base[:size])), 0)
        candidate = owner.name + base[overlap:]
    return candidate if candidate not in draft.resources else f"{owner.name}{base}"


def _nested_relation(draft: Draft, owner: DraftResource, name: str, type_name: str,
                     target: DraftResource) -> DraftRelation | None:
    single = not type_name.startswith(_COLLECTIONS)
    if single and f"{name}Uuid" in owner.fields:
        return DraftRelation(name, target.name, "one", f"{name}Uuid", target.primary_key,
                             origin="manual", nested=True)
    key = owner_key(draft, owner, sorted(target.fields))
    if key is None:
        return None
    return DraftRelation(name, target.name, "many", owner.primary_key, key, origin="manual",
                         nested=True)


def check_aliases(draft: Draft) -> None:
    """Drop an alias whose path does not walk relations (noted); the rest stay."""
    for res in draft.resources.values():
        for alias, path in sorted(res.aliases.items()):
            current = res
            ok = bool(path)
            for segment in path.split("."):
                rel = current.relations.get(segment)
                if rel is None:
                    ok = False
                    break
                current = draft.resources[rel.target]
            if not ok:
                del res.aliases[alias]
                draft.note("alias", f"{res.name}.{alias}", f"path {path} does not resolve: "
                           "left out")

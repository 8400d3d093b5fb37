"""Typed children (ApplianceVm under VmInstance, CephPrimaryStorage under PrimaryStorage, …).

Decision: a typed child shares its root ancestor's table and is told apart by a row filter on
the type columns (single-table inheritance). Each API then sees the rows it would see on a
ZStack server, which queries a class together with its subclasses: ``QueryVmInstance``
returns appliance VMs too, ``QueryApplianceVm`` only those, ``QueryVirtualRouterVm`` virtual
routers and VPC routers. A filter value list therefore holds the child's own type value and
those of all its descendants on the same column. A child has every field of its parent (same
type, same mapped value), its tag type is the root's (a VM's tags are one set whatever API
reads them) and so is its ownership.

>>> merge_filters({"type": ["ApplianceVm"], "applianceVmType": ["VirtualRouter", "vrouter"]},
...               {"applianceVmType": ["vrouter"]})
{'type': ['ApplianceVm'], 'applianceVmType': ['vrouter']}
"""

from __future__ import annotations

from catalogue_draft import Draft, DraftField
from catalogue_policy import CHILDREN
from reference_model import Reference

__all__ = ["inherit_relations", "merge_filters", "set_up_children"]


def merge_filters(parent: dict[str, list[str]], child: dict[str, list[str]],
                  ) -> dict[str, list[str]]:
    """The parent's filter narrowed by the child's (the child's values win on a column)."""
    out = {col: list(vals) for col, vals in parent.items()}
    out.update({col: list(vals) for col, vals in child.items()})
    return out


def _own_filters(draft: Draft, ref: Reference) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """child → (parent, the filter that picks the child among the parent's rows)."""
    out: dict[str, tuple[str, dict[str, list[str]]]] = {}
    for res in draft.resources.values():
        inv = ref.inventories.get(res.inventory or "")
        if inv is None or not inv.extends:
            continue
        parent = draft.by_inventory(inv.extends)
        parent_inv = ref.inventories.get(inv.extends)
        if parent is None or parent_inv is None:
            continue
        if inv.discriminator and parent_inv.type_field:
            out[res.name] = (parent.name, {parent_inv.type_field: [inv.discriminator]})
        elif res.name in CHILDREN:
            out[res.name] = (parent.name, dict(CHILDREN[res.name][1]))
            draft.note("child", res.name, CHILDREN[res.name][2])
    for name, (parent_name, row_filter, why) in CHILDREN.items():
        if name in draft.resources and name not in out:
            out[name] = (parent_name, dict(row_filter))
            draft.note("child", name, f"typed child of {parent_name}: {why}")
    # descendants the reference knows but the catalogue has no resource for (their rows
    # must still be counted as the parent's): add their type values to the parent's filter
    for res_name, (parent_name, row_filter) in list(out.items()):
        inv = ref.inventories.get(draft.resources[res_name].inventory or "")
        if inv is None or not inv.type_field:
            continue
        for child_inv in _reference_descendants(ref, inv.name):
            child = ref.inventories[child_inv]
            if draft.by_inventory(child_inv) is None and child.discriminator:
                column = ref.inventories[child.extends or ""].type_field or ""
                if column in row_filter:
                    row_filter[column] = list(dict.fromkeys(row_filter[column]
                                                            + [child.discriminator]))
        out[res_name] = (parent_name, row_filter)
    return out


def _reference_descendants(ref: Reference, inventory: str) -> list[str]:
    found: list[str] = []
    for name, inv in sorted(ref.inventories.items()):
        if inv.extends == inventory:
            found.append(name)
            found.extend(_reference_descendants(ref, name))
    return found


def set_up_children(draft: Draft, ref: Reference) -> None:
    """Give every typed child its parent's table, fields, filter, tag type and ownership."""
    own = _own_filters(draft, ref)
    done = {name for name in own if draft.resources[name].parent is not None}
    for name, (parent, _) in own.items():
        draft.resources[name].parent = parent

    def depth(name: str) -> int:
        parent = draft.resources[name].parent
        return 0 if parent is None else 1 + depth(parent)

    # a descendant's value on a column its ancestor filters on widens the ancestor's filter
    widened = {name: dict(flt) for name, (_, flt) in own.items()}
    for name in sorted(own, key=depth, reverse=True):
        parent = own[name][0]
        while parent in widened:
            for col, vals in own[name][1].items():
                if col in widened[parent]:
                    widened[parent][col] = list(dict.fromkeys(widened[parent][col] + vals))
            parent = draft.resources[parent].parent or ""
    for name in sorted(own, key=depth):
        if name in done:
            continue  # set up by an earlier call (children met later, e.g. helpers, come next)
        child = draft.resources[name]
        parent_res = draft.resources[own[name][0]]
        child.row_filter = merge_filters(parent_res.row_filter, widened[name])
        child.table, child.primary_key = parent_res.table, parent_res.primary_key
        for fname, pfield in parent_res.fields.items():
            mine = child.fields.get(fname)
            if mine is None:
                child.fields[fname] = DraftField(**vars(pfield))
                continue
            if mine.type != pfield.type:
                draft.note("child", name, f"{fname}: {mine.type} in the manual, "
                           f"{pfield.type} as in {parent_res.name} (one column, one type)")
            if mine.mapped != pfield.mapped and pfield.mapped is not None:
                draft.note("child", name, f"{fname}: stored in {pfield.mapped['table']}, as "
                           f"in {parent_res.name}")
            mine.type, mine.mapped = pfield.type, pfield.mapped
            if not mine.choices and pfield.choices:
                mine.choices = list(pfield.choices)
        for col in child.row_filter:
            if col not in child.fields:
                child.fields[col] = DraftField(col, "String", origin="key",
                                               description="type column of the shared table")


def inherit_relations(draft: Draft) -> None:
    """A child gets its ancestors' relations and aliases; its own of the same name win.

    (In the reference an ancestor's relation overrides the child's own: a defect.)
    """
    def depth(name: str) -> int:
        parent = draft.resources[name].parent
        return 0 if parent is None else 1 + depth(parent)

    for name in sorted(draft.resources, key=depth):
        child = draft.resources[name]
        if child.parent is None:
            continue
        parent = draft.resources[child.parent]
        for rname, rel in sorted(parent.relations.items()):
            if not child.taken(rname):
                child.relations[rname] = rel
        for aname, path in sorted(parent.aliases.items()):
            if not child.taken(aname):
                child.aliases[aname] = path

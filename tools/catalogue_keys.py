"""Relations inferred from key names, for the resources the reference does not know.

Every ``xxxUuid`` field whose name (or :data:`catalogue_policy.FK_TARGETS`) names a resource
is a to-one relation ``xxx`` (origin ``inferred``), with the to-many reverse ``<source>`` on the
target when the name is the target's own; a link resource (``…Ref`` with two keys) gets
ZStack-style aliases across it. The same name matching finds the key by which a nested
table's rows point back to their owner.

>>> word_tail_match("currentFlow", ["TicketFlow", "Ticket"])
['TicketFlow']
>>> word_tail_match("ruleSet", ["PolicyRouteRuleSet", "VpcFirewallRuleSet", "Rule"])
['PolicyRouteRuleSet', 'VpcFirewallRuleSet']
"""

from __future__ import annotations

import re

from catalogue_draft import Draft, DraftRelation, DraftResource, lower_first
from catalogue_policy import FK_TARGETS

__all__ = ["add_inferred_relations", "family", "owner_key", "resolve_stem", "word_tail_match",
           "words"]

_WORD = re.compile(r"[A-Z0-9]+(?![a-z])|[A-Z]?[a-z0-9]+")


def words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def word_tail_match(stem: str, candidates: list[str]) -> list[str]:
    """Candidates whose name ends with the longest possible tail of *stem*'s words."""
    split = words(stem)
    for size in range(len(split), 0, -1):
        tail = split[-size:]
        found = [c for c in candidates if words(c)[-size:] == tail]
        if found:
            return found
    return []


def owner_key(draft: Draft, owner: DraftResource, columns: list[str]) -> str | None:
    """The column of the nested rows that holds the owner's key (``ruleUuid`` for a rule).

    The stem is resolved as if the rows were the owner's own (:func:`_resolve_stem`), and
    must land on the owner or one of its ancestors.
    """
    members = family(draft, owner)
    for column in columns:
        if column.endswith("Uuid") and column != "uuid" and \
                resolve_stem(draft, owner, column[:-4], allow_self=True) in members:
            return column
    return None


def family(draft: Draft, res: DraftResource) -> set[str]:
    names = {res.name}
    parent = res.parent
    while parent is not None:
        names.add(parent)
        parent = draft.resources[parent].parent
    return names


def resolve_stem(draft: Draft, source: DraftResource, stem: str,
                  allow_self: bool = False) -> str | None:
    """The resource an ``<stem>Uuid`` field of *source* points to, or None.

    In order: :data:`FK_TARGETS` (where ``None`` means "points to anything": polymorphic);
    a resource or Query API spelled like the stem; the resources whose names end with the
    longest tail of the stem's words. A one-word tail (``lastHost`` → ``Host``) must be a
    whole resource name, or share its first word with *source* (``chassis`` of a
    ``BaremetalInstance`` → ``BaremetalChassis``); ties go to a name *source* contains, the
    longest common prefix, a root resource, the shortest name.
    """
    for key in ((source.name, stem), ("*", stem)):
        if key in FK_TARGETS:
            target = FK_TARGETS[key]
            return target if target in draft.resources else None
    aliases = {res.name: res for res in draft.resources.values()}
    for res in draft.resources.values():
        if res.api_name:
            aliases.setdefault(res.api_name[5:], res)
    exact = [n for n in aliases if n.lower() == stem.lower()]
    if exact:
        return aliases[exact[0]].name
    found = [n for n in word_tail_match(stem, sorted(aliases))
             if allow_self or aliases[n] is not source]
    if not found:
        return None
    tail = _tail_size(stem, found[0])
    if tail == 1:
        first = words(source.name)[0]
        found = [n for n in found if len(words(n)) == 1 or n in source.name
                 or words(n)[0] == first]
        if not found:
            return None

    def score(candidate: str) -> tuple[bool, int, bool, int]:
        target = aliases[candidate]
        prefix = len(_common_prefix(source.name, candidate))
        return (candidate in source.name, prefix, target.parent is None, -len(candidate))

    return aliases[max(found, key=score)].name


def _tail_size(stem: str, candidate: str) -> int:
    mine, other = words(stem), words(candidate)
    size = 0
    while size < min(len(mine), len(other)) and mine[-size - 1] == other[-size - 1]:
        size += 1
    return size


def _common_prefix(first: str, second: str) -> str:
    size = 0
    while size < min(len(first), len(second)) and first[size] == second[size]:
        size += 1
    return first[:size]


def add_inferred_relations(draft: Draft, covered: set[str]) -> None:
    """``xxxUuid`` → relation ``xxx`` (and the reverse) for resources the reference lacks."""
    for name in sorted(draft.resources):
        res = draft.resources[name]
        if name in covered:
            continue
        for fname in sorted(res.fields):
            field = res.fields[fname]
            if not fname.endswith("Uuid") or fname == "uuid" or field.mapped is not None:
                continue
            stem = fname[:-4]
            relation_name = lower_first(stem)
            target_name = resolve_stem(draft, res, stem)
            if target_name is None or res.taken(relation_name):
                continue
            target = draft.resources[target_name]
            if fname == res.primary_key and target_name == name:
                continue
            res.relations[relation_name] = DraftRelation(
                relation_name, target_name, "one", fname, target.primary_key, origin="inferred")
            reverse = lower_first(name)
            # a link's keys always get their reverse; others only when the key names the target
            direct = name.endswith("Ref") or stem.lower() in (
                target_name.lower(), (target.api_name or "")[5:].lower())
            if direct and not target.taken(reverse) and not _already_linked(target, name, fname):
                target.relations[reverse] = DraftRelation(
                    reverse, name, "many", target.primary_key, fname, origin="inferred")
        _link_aliases(draft, res)


def _already_linked(target: DraftResource, source: str, key: str) -> bool:
    return any(rel.target == source and rel.remote_key == key
               for rel in target.relations.values())


def _link_aliases(draft: Draft, link: DraftResource) -> None:
    """``A ← Ref → B``: ``A.b`` = ``ref.b`` and ``B.a`` = ``ref.a`` (ZStack's alias style),
    each alias named after the resource it reaches (``L3Network.policyRouteRuleSet``)."""
    if not link.name.endswith("Ref"):
        return
    hops = [rel for rel in link.relations.values()
            if rel.origin == "inferred" and rel.cardinality == "one"]
    if len(hops) != 2:
        return
    for near, far in (hops, hops[::-1]):
        owner = draft.resources[near.target]
        back = next((r for r in owner.relations.values()
                     if r.target == link.name and r.remote_key == near.local_key), None)
        alias = lower_first(far.target)
        if back is None or owner.taken(alias):
            continue
        owner.aliases[alias] = f"{back.name}.{far.name}"

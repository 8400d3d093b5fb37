"""Bound parameters and binary expressions, built from templates.

``sa.bindparam(key, value, unique=True, type_=t)`` and ``BinaryExpression(left, right,
op, …)`` work out the same attributes for every value: the anonymous key's text, the
type, the operator's flags, the grouped left side. That work was most of a compiled
comparison's cost (bind 4.8 and binary 2.5 of 9 µs, measured on Python 3.11 with
SQLAlchemy 2.1). A template works it out once, for one key and type (:func:`bind_template`)
or one left side and operator (:func:`binary_template`), and gives each new element a
copy of those attributes with only what differs set: the value, the right side, and the
names SQLAlchemy derives from the new object's ``id()``. Callers keep the templates
(per column, in :mod:`zquery.operators`).

A template builds what SQLAlchemy's constructor builds, attribute for attribute, and
that is checked against SQLAlchemy itself: each new template builds one element both
ways, on a probe other than the one it was made from, and compares every attribute
(slots of string subclasses included). Where the installed SQLAlchemy builds them
differently (a new release, an unusual column), the check fails and the template
calls SQLAlchemy's constructor instead, so a mismatch costs speed, never correctness;
:func:`template_mismatch` says what differed. ``tests/test_elements.py`` compares the
SQL, the parameters and the compiled-cache keys too.

>>> import sqlalchemy as sa
>>> from sqlalchemy.sql import operators
>>> name = sa.column("name", sa.String())
>>> equals = binary_template(name, operators.eq, operators.ne)
>>> test = equals.build(bind_template("name", name.type).build("vm1"))
>>> str(test), test.compile().params, str(~test), template_mismatch()
('name = :name_1', {'name_1': 'vm1'}, 'name != :name_1', None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    ClauseElement,
    ColumnElement,
)
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.sql.selectable import Select
from sqlalchemy.sql.type_api import BOOLEANTYPE, TypeEngine

__all__ = ["BinaryTemplate", "BindTemplate", "binary_template", "bind_template",
           "template_mismatch", "where"]

Predicate = ColumnElement[bool]

_new_bind = BindParameter.__new__
_new_binary = BinaryExpression.__new__
_new_str = str.__new__
_PROBE = "zquery probe"
#: What a binary expression derives from its right side (set per element, as its
#: ``__init__`` sets it); everything else comes from the template.
_PER_RIGHT = frozenset(("_orig", "_propagate_attrs", "right", "modifiers"))


class BindTemplate(Protocol):
    def build(self, value: Any) -> BindParameter[Any]: ...


class BinaryTemplate(Protocol):
    def build(self, right: ColumnElement[Any]) -> Predicate: ...


class _Mismatch:
    """The last template that did not build what SQLAlchemy builds, and why."""

    reason: str | None = None


def template_mismatch() -> str | None:
    """None while every template has built what SQLAlchemy builds; else the last
    difference found (those templates call SQLAlchemy's constructors)."""
    return _Mismatch.reason


# -- bound parameters -------------------------------------------------------------------

def bind_template(key: str | None, type_: TypeEngine[Any], *,
                  expanding: bool = False) -> BindTemplate:
    """What builds ``sa.bindparam(key, value, type_=type_, unique=True,
    expanding=expanding)`` for any *value*."""
    def genuine(value: Any) -> BindParameter[Any]:
        return BindParameter(key, value, type_=type_, unique=True, expanding=expanding)

    template = _CopiedBind(genuine(None))
    probe = [_PROBE] if expanding else _PROBE
    if _agrees(genuine(probe), template.build(probe)):
        return template
    return _Constructed(genuine)


class _CopiedBind:
    """A bind's attributes, and the ones derived from its id: (names sharing the value,
    its string class, the slots to set on it, the text before and after the id)."""

    __slots__ = ("derived", "state")

    def __init__(self, made: BindParameter[Any]) -> None:
        seed = str(id(made))
        self.state = dict(made.__dict__)
        derived: dict[int, tuple[list[str], type[str], dict[str, Any], str, str]] = {}
        for name, value in made.__dict__.items():
            if isinstance(value, str) and seed in value:
                if id(value) not in derived:  # SQLAlchemy shares one label for key names
                    before, after = value.split(seed, 1)
                    derived[id(value)] = ([], type(value), _set_slots(value), before, after)
                derived[id(value)][0].append(name)
        self.derived = tuple((tuple(names), kind, tuple(slots.items()), before, after)
                             for names, kind, slots, before, after in derived.values())

    def build(self, value: Any) -> BindParameter[Any]:
        bind = _new_bind(BindParameter)
        state = self.state.copy()
        seed = str(id(bind))
        for names, kind, slots, before, after in self.derived:
            text = _new_str(kind, before + seed + after)
            for slot, slot_value in slots:  # what the label's __new__ sets (quote)
                setattr(text, slot, slot_value)
            for name in names:
                state[name] = text
        state["value"] = value
        bind.__dict__ = state
        return bind


# -- binary expressions -----------------------------------------------------------------

def binary_template(left: ColumnElement[Any], operator: OperatorType, negate: OperatorType,
                    modifiers: Mapping[str, Any] | None = None, *,
                    probe: ColumnElement[Any] | None = None) -> BinaryTemplate:
    """What builds ``BinaryExpression(left, right, operator, type_=BOOLEANTYPE,
    negate=negate, modifiers=modifiers)`` for any *right* like *probe* (a bound
    parameter unless given)."""
    def genuine(right: ColumnElement[Any]) -> BinaryExpression[Any]:
        return BinaryExpression(left, right, operator, type_=BOOLEANTYPE, negate=negate,
                                modifiers=dict(modifiers) if modifiers else None)

    example = probe if probe is not None else BindParameter(None, _PROBE, unique=True)
    template = _CopiedBinary(genuine(example), left, operator)
    other = example._clone()  # anything else derived from the right side would differ
    if _agrees(genuine(other), template.build(other)):
        return template
    return _Constructed(genuine)


class _CopiedBinary:
    __slots__ = ("left", "left_hash", "modifiers", "operator", "state")

    def __init__(self, made: BinaryExpression[Any], left: ColumnElement[Any],
                 operator: OperatorType) -> None:
        self.state = {name: value for name, value in made.__dict__.items()
                      if name not in _PER_RIGHT}
        self.left = left
        self.left_hash = left.__hash__()
        self.operator = operator
        self.modifiers = made.modifiers

    def build(self, right: ColumnElement[Any]) -> Predicate:
        expression = _new_binary(BinaryExpression)
        state = self.state.copy()
        state["_orig"] = (self.left_hash, right.__hash__())
        state["_propagate_attrs"] = self.left._propagate_attrs or right._propagate_attrs
        state["right"] = right.self_group(against=self.operator)
        state["modifiers"] = dict(self.modifiers) if self.modifiers else {}
        expression.__dict__ = state
        return expression


class _Constructed:
    """A template whose copies would differ from SQLAlchemy's: it calls the constructor."""

    __slots__ = ("build",)

    def __init__(self, genuine: Any) -> None:
        self.build = genuine


# -- WHERE ------------------------------------------------------------------------------

#: Criterion class → whether ``Select.where()`` keeps it as it is (seen the first time).
_KEPT_BY_WHERE: dict[type, bool] = {}


def where(statement: Select[Any], criteria: Sequence[ColumnElement[Any]]) -> Select[Any]:
    """``statement.where(*criteria)`` for tests the compiler built: SQLAlchemy's own copy
    of the statement (``_generate``) with the criteria appended, without passing each
    through the coercion ``where()`` applies (2.4 rather than 0.5 µs a call). Each
    criterion class is checked the first time it is seen: ``where()`` must keep it as it
    is and build nothing else; otherwise, and for ORM criteria, ``where()`` runs."""
    for criterion in criteria:
        kept = _KEPT_BY_WHERE.get(criterion.__class__)
        if kept is None:
            kept = _KEPT_BY_WHERE[criterion.__class__] = _where_keeps(statement, criterion)
        if not kept or criterion._propagate_attrs:
            return statement.where(*criteria)
    copy = statement._generate()
    copy._where_criteria = (*statement._where_criteria, *criteria)
    return copy


def _where_keeps(statement: Select[Any], criterion: ColumnElement[Any]) -> bool:
    genuine = statement.where(criterion)
    ours = statement._generate()
    ours._where_criteria = (*statement._where_criteria, criterion)
    theirs, mine = genuine.__dict__, ours.__dict__
    if theirs.keys() == mine.keys() and all(
            value is mine[name] for name, value in theirs.items()
            if name != "_where_criteria") and len(genuine._where_criteria) == len(
            ours._where_criteria) and all(a is b for a, b in zip(
                genuine._where_criteria, ours._where_criteria, strict=True)):
        return True
    _Mismatch.reason = f"Select.where() changes a {type(criterion).__name__}"
    return False


# -- the check --------------------------------------------------------------------------

def _agrees(genuine: Any, ours: Any) -> bool:
    """True when *ours* has *genuine*'s attributes, names derived from each object's id
    aside; else the difference is recorded (:func:`template_mismatch`)."""
    theirs, mine = genuine.__dict__, ours.__dict__
    difference = None
    if theirs.keys() != mine.keys():
        difference = f"attributes {sorted(theirs.keys() ^ mine.keys())}"
    else:
        ids = (str(id(genuine)), str(id(ours)))
        difference = next((f"attribute {name!r}" for name, value in theirs.items()
                           if not _same(value, mine[name], ids)), None)
    if difference is None:
        return True
    _Mismatch.reason = f"{type(genuine).__name__} {difference} differs from SQLAlchemy's"
    return False


def _same(theirs: Any, mine: Any, ids: tuple[str, str]) -> bool:
    if type(theirs) is not type(mine):
        return False
    if isinstance(theirs, str):
        return (theirs.replace(ids[0], "<id>") == mine.replace(ids[1], "<id>")
                and _set_slots(theirs) == _set_slots(mine))
    if isinstance(theirs, dict):
        return theirs.keys() == mine.keys() and all(
            _same(value, mine[key], ids) for key, value in theirs.items())
    if isinstance(theirs, (list, tuple)):
        return len(theirs) == len(mine) and all(
            _same(a, b, ids) for a, b in zip(theirs, mine, strict=True))
    if isinstance(theirs, ClauseElement):  # e.g. a left side grouped anew per element
        return theirs is mine or bool(theirs.compare(mine))
    return theirs is mine or (type(theirs) in (int, float, bool) and theirs == mine)


def _set_slots(value: Any) -> dict[str, Any]:
    """The slots set on *value* (a string subclass's ``quote``), unset ones left out."""
    found: dict[str, Any] = {}
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ()) if cls is not str else ()
        for slot in (slots,) if isinstance(slots, str) else slots:
            try:
                found[slot] = cls.__dict__[slot].__get__(value, cls)
            except AttributeError:
                continue
    return found

"""The resolved plan: what the resolver hands the compiler (frozen dataclasses).

Every path is a tuple of :class:`Hop` over the schema graph; every value is
already coerced to the field's Python type. The compiler never looks at text.

>>> CyclePolicy("simplify") is CyclePolicy.SIMPLIFY
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from zquery.ast import Condition, Operator, Span
from zquery.frozen import quick_init
from zquery.schema.graph import Field, Relation, Resource

__all__ = [
    "CycleNote",
    "CyclePolicy",
    "Guard",
    "Hop",
    "QueryPlan",
    "ResolvedCondition",
    "ResolvedSort",
    "Scope",
    "TagKind",
    "TagTarget",
    "Value",
]

#: A coerced scalar value.
Scalar = str | int | float | bool | datetime
#: What a resolved condition compares with: a scalar, a tuple for ``?=``, None for null tests.
Value = Scalar | tuple[Scalar, ...] | None


class CyclePolicy(Enum):
    """What the resolver does with a path that visits a resource twice."""

    __hash__ = object.__hash__  # identity, as for Operator: part of every walker's key

    SIMPLIFY = "simplify"
    REJECT = "reject"
    ALLOW = "allow"


class TagKind(Enum):
    SYSTEM = "system"
    USER = "user"


@dataclass(frozen=True, slots=True)
class Hop:
    """One relation walked by a path; ``span`` is the segment that named it."""

    relation: Relation
    span: Span


@dataclass(frozen=True, slots=True)
class TagTarget:
    """A ``__systemTag__``/``__userTag__`` test on the resource at the end of the hops."""

    kind: TagKind
    resource_type: str


@dataclass(frozen=True, slots=True)
class Guard:
    """"The row reached after ``depth`` hops has at least one ``relation`` target".

    Left behind when a hop straight back onto the same row is simplified away:
    ``vmNics.vmInstance.name=x`` → ``name=x`` with a guard ``(0, vmNics)``.
    """

    depth: int
    relation: Relation


@quick_init
@dataclass(frozen=True, slots=True)
class ResolvedCondition:
    """One condition, resolved: hops, then a field (or tag) test with a typed value.

    ``resource`` is the resource the field or tag belongs to (the end of ``hops``).
    For LIKE operators ``value`` is the pattern text with zquery's escapes
    (``\\%``, ``\\_``, ``\\\\``) still in it.
    """

    condition: Condition
    hops: tuple[Hop, ...]
    resource: Resource
    field: Field | None
    tag: TagTarget | None
    op: Operator
    value: Value
    guards: tuple[Guard, ...] = ()

    @property
    def to_many(self) -> bool:
        for hop in self.hops:  # a loop, not any(): this runs for every condition compiled
            if hop.relation.to_many:
                return True
        return self.field is not None and self.field.mapped is not None and self.field.mapped.many


@dataclass(frozen=True, slots=True)
class ResolvedSort:
    """A sort key over to-one hops only; ``field`` None means the ``count`` of a groupBy."""

    hops: tuple[Hop, ...]
    field: Field | None
    descending: bool


@dataclass(frozen=True, slots=True)
class CycleNote:
    """A cycle the resolver found, e.g. ``VmInstance → VmNic → VmInstance``, and its fate."""

    param: str
    resources: tuple[str, ...]
    action: str  # "simplified" | "kept" | "allowed"

    @property
    def text(self) -> str:
        return " → ".join(self.resources)


@dataclass(frozen=True, slots=True)
class Scope:
    """Limit every resource the query touches to what ``account_uuid`` may see."""

    account_uuid: str


@quick_init
@dataclass(frozen=True, slots=True)
class QueryPlan:
    """A request resolved against one root resource, ready to compile."""

    resource: Resource
    conditions: tuple[ResolvedCondition, ...]
    sort: tuple[ResolvedSort, ...]
    fields: tuple[Field, ...]
    group_by: tuple[Field, ...]
    limit: int
    start: int
    count: bool
    reply_with_count: bool
    paged: bool
    cycles: tuple[CycleNote, ...] = ()
    warnings: tuple[str, ...] = ()
    scope: Scope | None = None

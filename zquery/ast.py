"""The parsed request: frozen dataclasses, every node with its source span.

A span is a half-open ``[start, end)`` range of characters inside the value of
the one parameter the node came from (``param``, e.g. ``q[2]``), so errors can
point at the exact spot.

>>> Operator.from_symbol("?=") is Operator.IN
True
>>> Operator.NOT_LIKE.negative
True
>>> Operator.IS_NULL.symbol
'is null'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from zquery.frozen import quick_init

__all__ = [
    "DEFAULT_LIMIT",
    "Condition",
    "FieldRef",
    "Operator",
    "Path",
    "QueryRequest",
    "SortKey",
    "Span",
]

#: ``limit`` when the request gives none (manual, chapter 2.9).
DEFAULT_LIMIT = 1000


@quick_init
@dataclass(frozen=True, slots=True)
class Span:
    """Half-open character range ``[start, end)`` inside one parameter value."""

    start: int
    end: int


class Operator(Enum):
    """The closed set of condition operators; the value is the canonical spelling."""

    # Members are singletons compared by identity: hash them so too (Enum's own hash
    # runs Python code, 0.2 µs for every table lookup by operator).
    __hash__ = object.__hash__

    EQ = "="
    NE = "!="
    GT = ">"
    LT = "<"
    GE = ">="
    LE = "<="
    IN = "?="
    NOT_IN = "!?="
    LIKE = "~="
    NOT_LIKE = "!~="
    IS_NULL = "is null"
    NOT_NULL = "not null"

    @property
    def symbol(self) -> str:
        return self.value

    @property
    def negative(self) -> bool:
        """True for the operators whose tag form means "has no matching tag"."""
        return self in (Operator.NE, Operator.NOT_IN, Operator.NOT_LIKE)

    @property
    def positive(self) -> Operator:
        """The positive form of a negative operator (``!=`` → ``=``), else itself."""
        return _POSITIVE.get(self, self)

    @property
    def is_null_test(self) -> bool:
        return self in (Operator.IS_NULL, Operator.NOT_NULL)

    @property
    def takes_list(self) -> bool:
        return self in (Operator.IN, Operator.NOT_IN)

    @property
    def is_like(self) -> bool:
        return self in (Operator.LIKE, Operator.NOT_LIKE)

    @property
    def is_ordering(self) -> bool:
        return self in (Operator.GT, Operator.LT, Operator.GE, Operator.LE)

    @classmethod
    def from_symbol(cls, symbol: str) -> Operator:
        return _BY_SYMBOL[symbol]


_POSITIVE = {
    Operator.NE: Operator.EQ,
    Operator.NOT_IN: Operator.IN,
    Operator.NOT_LIKE: Operator.LIKE,
}
_BY_SYMBOL = {op.value: op for op in Operator}


@quick_init
@dataclass(frozen=True, slots=True)
class Path:
    """A dotted path such as ``vmNics.l3Network.name``."""

    segments: tuple[str, ...]
    segment_spans: tuple[Span, ...]
    span: Span

    @property
    def dotted(self) -> str:
        return ".".join(self.segments)


@quick_init
@dataclass(frozen=True, slots=True)
class Condition:
    """One ``q`` value: ``path op value``.

    ``value`` is the verbatim text after the operator (None for the null
    tests). ``items`` is the unescaped element list of ``?=``/``!?=`` (None
    otherwise). LIKE escapes (``\\%``, ``\\_``, ``\\\\``) are left in ``value``
    for the compiler, which owns the LIKE mapping.
    """

    path: Path
    op: Operator
    value: str | None
    items: tuple[str, ...] | None
    op_span: Span
    value_span: Span | None
    span: Span
    param: str
    text: str


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field named by ``fields``, ``groupBy`` or ``sort``; a path for ``sort``."""

    path: Path
    param: str
    text: str


@dataclass(frozen=True, slots=True)
class SortKey:
    """One sort key: a (to-one) path and a direction."""

    field: FieldRef
    descending: bool


@quick_init
@dataclass(frozen=True, slots=True)
class QueryRequest:
    """Everything a query request says, parsed but not yet checked against a schema."""

    conditions: tuple[Condition, ...] = ()
    limit: int = DEFAULT_LIMIT
    limit_given: bool = False
    start: int = 0
    start_given: bool = False
    count: bool = False
    reply_with_count: bool = False
    sort: tuple[SortKey, ...] = ()
    fields: tuple[FieldRef, ...] = ()
    group_by: tuple[FieldRef, ...] = ()

    @property
    def paged(self) -> bool:
        """True when ``limit`` or ``start`` was given: the primary key breaks sort ties."""
        return self.limit_given or self.start_given

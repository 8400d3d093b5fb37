"""The zquery error family: every failure is data.

Each stage has its own family (:class:`RequestError` for parsing,
:class:`ResolveError` for the resolver, :class:`LimitError` for the limits,
:class:`ExecuteError` for the database) under one root, :class:`ZQueryError`.
Every error carries a stable ``code``, the parameter it came from (``q[2]``),
the span inside that parameter's value, a hint and the expected tokens, and
renders itself as the manual's error JSON with :meth:`ZQueryError.to_dict`.

>>> err = UnknownField("no field 'nmae' on VmInstance", param="q[0]",
...                    value="nmae=vm1", start=0, end=4, hint="did you mean 'name'?")
>>> print(err)
no field 'nmae' on VmInstance (q[0])
  nmae=vm1
  ^^^^
hint: did you mean 'name'?
>>> err.to_dict()["error"]["opaque"]["zquery"]["code"]
'resolve.unknown_field'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, ClassVar

__all__ = [
    "AmbiguousSort",
    "BadOperator",
    "BadParameter",
    "BadValue",
    "CycleRejected",
    "DatabaseUnavailable",
    "DuplicateParameter",
    "ExecuteError",
    "FieldInPath",
    "InvalidSession",
    "LimitError",
    "LimitTooLarge",
    "MethodNotAllowed",
    "NotAllowedHere",
    "PathEndsOnRelation",
    "PatternTooLong",
    "QueryTimeout",
    "RequestError",
    "ResolveError",
    "SchemaError",
    "SyntaxProblem",
    "ToManyNotAllowed",
    "TooDeep",
    "TooLong",
    "TooManyConditions",
    "TooManyListElements",
    "UnknownField",
    "UnknownParameter",
    "UnknownResource",
    "UnsupportedDialect",
    "ZQueryError",
    "did_you_mean",
]

#: The manual's code for "One or more API argument is invalid".
INVALID_ARGUMENT = "SYS.1007"
#: The manual's code for an operation timeout.
TIMEOUT_CODE = "SYS.1001"


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.75) -> str | None:
    """Return ``"did you mean 'x'?"`` when a candidate is close to *word*, else None.

    >>> did_you_mean("vmNic", ["vmNics", "zone", "host"])
    "did you mean 'vmNics'?"
    >>> did_you_mean("zzz", ["vmNics", "zone"]) is None
    True
    """
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f"did you mean '{lowered[word.lower()]}'?"
    close = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    return f"did you mean '{close[0]}'?" if close else None


class ZQueryError(Exception):
    """Root of every error zquery raises for bad input or a failing database."""

    code: ClassVar[str] = "zquery.error"
    api_code: ClassVar[str] = INVALID_ARGUMENT
    description: ClassVar[str] = "One or more API argument is invalid"
    http_status: ClassVar[int] = 400

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        value: str | None = None,
        start: int | None = None,
        end: int | None = None,
        hint: str | None = None,
        expected: Iterable[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.value = value
        self.start = start
        self.end = end
        self.hint = hint
        self.expected = tuple(expected)
        self.extra = dict(extra or {})

    def __str__(self) -> str:
        head = f"{self.message} ({self.param})" if self.param else self.message
        lines = [head]
        if self.value is not None and self.start is not None:
            shown = self.value.replace("\n", " ").replace("\t", " ")
            end = self.end if self.end is not None and self.end > self.start else self.start + 1
            lines.append(f"  {shown}")
            lines.append("  " + " " * self.start + "^" * max(1, end - self.start))
        if self.expected:
            lines.append("expected: " + ", ".join(self.expected))
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The manual's error JSON, with zquery's structured data under ``opaque``."""
        detail: dict[str, Any] = {"code": self.code}
        for key in ("param", "start", "end", "hint"):
            val = getattr(self, key)
            if val is not None:
                detail[key] = val
        if self.expected:
            detail["expected"] = list(self.expected)
        detail.update(self.extra)
        return {
            "error": {
                "code": self.api_code,
                "description": self.description,
                "details": self.message,
                "opaque": {"zquery": detail},
            }
        }


class SchemaError(ZQueryError):
    """The schema graph given to zquery is inconsistent (a programming error)."""

    code = "schema.invalid"


class UnsupportedDialect(ZQueryError):
    """A database zquery cannot compile for (a programming error, like a bad schema)."""

    code = "compile.dialect"


# -- request parsing ---------------------------------------------------------------------


class RequestError(ZQueryError):
    """The request text or its parameters cannot be parsed."""

    code = "request.invalid"


class SyntaxProblem(RequestError):
    """A condition does not follow the grammar."""

    code = "request.syntax"


class UnknownParameter(RequestError):
    """A query parameter zquery does not know."""

    code = "request.unknown_parameter"


class DuplicateParameter(RequestError):
    """A single-valued parameter was given more than once."""

    code = "request.duplicate_parameter"


class BadParameter(RequestError):
    """A parameter has a value of the wrong form (``limit=-1``, ``count=maybe``)."""

    code = "request.bad_parameter"


class MethodNotAllowed(RequestError):
    """An HTTP method other than GET on a query endpoint (the query API is read-only)."""

    code = "request.method_not_allowed"
    http_status = 405


class InvalidSession(RequestError):
    """The ``Authorization: OAuth <session>`` header is missing (on a closed server),
    malformed, or names a session the server does not know."""

    code = "request.invalid_session"
    api_code = "ID.1001"
    description = "Invalid session or session expired"
    http_status = 401


class AmbiguousSort(RequestError):
    """``sort`` and ``sortBy`` given together, or ``sortDirection`` alone."""

    code = "request.ambiguous_sort"


# -- resolving -------------------------------------------------------------------------


class ResolveError(ZQueryError):
    """A parsed request does not fit the schema."""

    code = "resolve.invalid"


class UnknownResource(ResolveError):
    """No resource, Query API or REST path of that name."""

    code = "resolve.unknown_resource"
    http_status = 404


class UnknownField(ResolveError):
    """A path segment is neither a field, a relation nor an alias."""

    code = "resolve.unknown_field"


class PathEndsOnRelation(ResolveError):
    """A condition path stops on a relation instead of a field."""

    code = "resolve.path_ends_on_relation"


class BadValue(ResolveError):
    """A value that does not fit the field's type or enum."""

    code = "resolve.bad_value"


class BadOperator(ResolveError):
    """An operator that makes no sense for the field's type."""

    code = "resolve.bad_operator"


class FieldInPath(ResolveError):
    """A field or tag pseudo-field followed by more segments (``name.x``)."""

    code = "resolve.field_in_path"


class NotAllowedHere(ResolveError):
    """A name this parameter does not take: a tag or path in ``fields``/``groupBy``/``sort``,
    a mapped field in ``groupBy``, a non-group sort key, or ``fields`` with ``groupBy``."""

    code = "resolve.not_allowed"


class ToManyNotAllowed(ResolveError):
    """Sorting, grouping or selecting through a to-many path."""

    code = "resolve.to_many_not_allowed"


class CycleRejected(ResolveError):
    """A path visits a resource twice under the ``reject`` cycle policy."""

    code = "resolve.cycle"


# -- limits ----------------------------------------------------------------------------


class LimitError(ZQueryError):
    """A request goes past one of the configured limits."""

    code = "limit.exceeded"


class TooManyConditions(LimitError):
    code = "limit.conditions"


class TooDeep(LimitError):
    code = "limit.depth"


class TooManyListElements(LimitError):
    code = "limit.list_elements"


class TooLong(LimitError):
    code = "limit.value_length"


class LimitTooLarge(LimitError):
    code = "limit.max_limit"


class PatternTooLong(LimitError):
    """A ``~=``/``!~=`` value within zquery's limits but past the database's own limit on
    LIKE patterns (SQLite: 50,000 bytes, fixed when SQLite is built)."""

    code = "limit.pattern_length"


# -- execution -------------------------------------------------------------------------


class ExecuteError(ZQueryError):
    """The database failed while running a valid query."""

    code = "execute.failed"
    api_code = "SYS.1000"
    description = "An internal error happened"
    http_status = 503


class QueryTimeout(ExecuteError):
    """The statement ran past its timeout."""

    code = "execute.timeout"
    api_code = TIMEOUT_CODE
    description = "Operation timeout"
    http_status = 503


class DatabaseUnavailable(ExecuteError):
    """The database could not be reached."""

    code = "execute.unavailable"
    http_status = 503

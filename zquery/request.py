"""Parse a whole query request (``q=...&limit=...&sort=...``) into a :class:`QueryRequest`.

The query comes as a raw query string (form-decoded here: ``%xx`` escapes, ``+`` is a space),
a mapping of name → value or list of values, or a sequence of (name, value) pairs (e.g.
starlette's ``request.query_params``, used through its ``multi_items()``). Every failure is a
:class:`~zquery.errors.ZQueryError` naming the parameter (``limit``, ``q[2]``, ``sort``) and
the span inside that parameter's value.

>>> req = parse_request("q=name=vm1&q=vmNics.ip=10.0.0.1&limit=10&sort=-createDate")
>>> [c.param for c in req.conditions], req.limit, req.limit_given
(['q[0]', 'q[1]'], 10, True)
>>> [(k.field.path.dotted, k.descending) for k in req.sort]
[('createDate', True)]
>>> parse_request({"fields": ["uuid,name", "state"], "replyWithCount": "TRUE"}).reply_with_count
True
>>> print(parse_request_error("q=name=vm1&limt=5"))
unknown parameter 'limt' (limt)
  limt
  ^^^^
expected: q, condition, limit, start, count, replyWithCount, sort, sortBy, sortDirection, \
groupBy, fields, timeout
hint: did you mean 'limit'?
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from zquery.ast import DEFAULT_LIMIT, Condition, FieldRef, Path, QueryRequest, SortKey, Span
from zquery.errors import (
    AmbiguousSort,
    BadParameter,
    DuplicateParameter,
    LimitTooLarge,
    TooManyConditions,
    UnknownParameter,
    ZQueryError,
    did_you_mean,
)
from zquery.limits import Limits
from zquery.parse import DEFAULT_LIMITS, MODES, SEGMENT_RE, parse_condition
from zquery.parse_errors import too_long

__all__ = [
    "CONDITION_PARAMETERS",
    "KNOWN_PARAMETERS",
    "TOLERATED_PARAMETERS",
    "parse_request",
    "parse_request_error",
]

#: Names of the repeatable condition parameter (``condition`` is the manual's synonym of ``q``).
CONDITION_PARAMETERS = ("q", "condition")
#: Accepted and ignored, for compatibility (the CLI sends them).
TOLERATED_PARAMETERS = ("timeout",)
_SINGLE_VALUED = ("limit", "start", "count", "replyWithCount", "sort", "sortBy", "sortDirection",
                  "groupBy")
#: Every parameter name :func:`parse_request` knows.
KNOWN_PARAMETERS = (*CONDITION_PARAMETERS, *_SINGLE_VALUED, "fields", *TOLERATED_PARAMETERS)

_DIGITS = re.compile(r"[0-9]+")
# limit/start end up as SQL LIMIT/OFFSET: a signed 64-bit integer on every database.
_MAX_INTEGER = 2**63 - 1
_NAME_HINT = "a field name starts with a letter or '_' and has only letters, digits and '_'"
_LONGEST_NAME_SHOWN = 64
# sort/fields/groupBy values up to this length have their parse cached (see _sort_keys_of);
# longer ones are parsed every time, so the caches' memory stays bounded.
_CACHED_NAMES_LENGTH = 512
_NAMES_CACHE_SIZE = 1024


def parse_request(
    query: object, *, mode: str = "strict", limits: Limits = DEFAULT_LIMITS, lenient: bool = False
) -> QueryRequest:
    """Parse every parameter of a query request; see the module docstring for *query*.

    *mode* is passed to :func:`~zquery.parse.parse_condition`; *lenient* ignores unknown
    parameter names instead of refusing them.

    >>> parse_request("q=name+is+null&sort=+name,-zone.name&start=20").start
    20
    """
    if mode not in MODES:
        raise BadParameter(f"unknown parse mode {mode!r}", param="mode", value=str(mode),
                           hint="use 'strict' or 'compat'", expected=MODES)
    pairs = _pairs(query)
    conditions: list[Condition] = []
    singles: dict[str, str] = {}
    fields: list[str] = []
    for name, value in pairs:
        if name in CONDITION_PARAMETERS:
            param = f"q[{len(conditions)}]"
            if len(conditions) == limits.max_conditions:
                total = sum(1 for name, _ in pairs if name in CONDITION_PARAMETERS)
                raise _too_many_conditions(param, value, total, limits.max_conditions)
            conditions.append(parse_condition(value, param=param, mode=mode, limits=limits))
            continue
        if name not in KNOWN_PARAMETERS:
            if lenient:
                continue
            raise _unknown_parameter(name)
        if len(value) > limits.max_value_length:
            raise too_long(value, name, limits.max_value_length, f"value of '{name}'")
        if name == "fields":
            fields.append(value)
        elif name in _SINGLE_VALUED:
            if name in singles:
                raise DuplicateParameter(
                    f"'{name}' is given more than once", param=name, value=value, start=0,
                    end=len(value), hint=f"give '{name}' once (first value: {singles[name]!r})")
            singles[name] = value
    return _build(tuple(conditions), singles, fields, limits)


def parse_request_error(query: object, **options: Any) -> ZQueryError:
    """The error :func:`parse_request` raises for *query* (a convenience for docs and tests).

    Raises :class:`~zquery.errors.BadParameter` when *query* parses without error.

    >>> parse_request_error("count=yes").expected
    ('true', 'false')
    """
    try:
        parse_request(query, **options)
    except ZQueryError as exc:
        return exc
    raise BadParameter("the request parsed without error", param="query")


# -- the three input forms -----------------------------------------------------------------


def _pairs(query: object) -> list[tuple[str, str]]:
    """(name, value) pairs, in order, from any of the accepted input forms."""
    if isinstance(query, str):
        return _form_decode(query)
    if type(query) is list or type(query) is tuple:  # before the ABC checks, which cost µs
        return _checked_pairs(query)
    multi_items = getattr(query, "multi_items", None)
    if callable(multi_items):  # starlette QueryParams / FormData: keep repeated names
        return _checked_pairs(multi_items())
    if isinstance(query, Mapping):
        pairs: list[tuple[object, object]] = []
        for name, values in query.items():
            if isinstance(values, (list, tuple)):
                pairs.extend((name, value) for value in values)
            else:
                pairs.append((name, values))
        return _checked_pairs(pairs)
    if isinstance(query, Iterable) and not isinstance(query, (bytes, bytearray)):
        return _checked_pairs(query)
    hint = ("decode bytes to str first" if isinstance(query, (bytes, bytearray))
            else "pass e.g. 'q=name=vm1&limit=10' or {'q': ['name=vm1']}")
    raise BadParameter(
        f"a query must be a query string, a mapping or (name, value) pairs, not "
        f"{type(query).__name__}", param="query", hint=hint)


def _form_decode(query: str) -> list[tuple[str, str]]:
    """Split on ``&``, then on the first ``=``, then percent-decode with ``+`` as a space.

    Undecodable ``%xx`` bytes become U+FFFD, as browsers and starlette do.
    """
    pairs = []
    for part in query.removeprefix("?").split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote_plus(name, errors="replace"),
                          unquote_plus(value, errors="replace")))
    return pairs


def _checked_pairs(items: Iterable[object]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise BadParameter(f"expected a (name, value) pair, got {type(item).__name__}",
                               param="query", hint="give pairs such as ('q', 'name=vm1')")
        name, value = item
        if not isinstance(name, str):
            raise BadParameter(f"a parameter name must be text, not {type(name).__name__}",
                               param="query", hint="decode names to str first")
        if not isinstance(value, str):
            raise BadParameter(f"the value of '{_shown(name)}' must be text, not "
                               f"{type(value).__name__}", param=_shown(name),
                               hint="give each value as a str, or a list of str")
        pairs.append((name, value))
    return pairs


def _shown(name: str) -> str:
    return name if len(name) <= _LONGEST_NAME_SHOWN else name[:_LONGEST_NAME_SHOWN] + "..."


def _unknown_parameter(name: str) -> UnknownParameter:
    shown = _shown(name)
    suggestion = did_you_mean(name, KNOWN_PARAMETERS) if len(name) <= 64 else None
    hint = suggestion or "check the name against the known parameters listed as expected"
    return UnknownParameter(f"unknown parameter '{shown}'", param=shown, value=shown, start=0,
                            end=len(shown), hint=hint, expected=KNOWN_PARAMETERS)


def _too_many_conditions(param: str, value: str, total: int, limit: int) -> TooManyConditions:
    return TooManyConditions(
        f"the request has {total} conditions, more than max_conditions={limit}", param=param,
        value=value, start=0, end=len(value),
        hint=f"narrow the query with fewer conditions or raise Limits.max_conditions "
             f"(now {limit})", extra={"limit": "max_conditions", "max": limit, "actual": total})


# -- the single-valued parameters ----------------------------------------------------------


def _build(conditions: tuple[Condition, ...], singles: dict[str, str], fields: list[str],
           limits: Limits) -> QueryRequest:
    if not singles and not fields:  # conditions only: every other parameter at its default
        return QueryRequest(conditions=conditions)
    limit = DEFAULT_LIMIT
    if "limit" in singles:
        limit = _non_negative("limit", singles["limit"])
        if limits.max_limit is not None and limit > limits.max_limit:
            raise LimitTooLarge(
                f"limit={limit} is more than the server's maximum {limits.max_limit}",
                param="limit", value=singles["limit"], start=0, end=len(singles["limit"]),
                hint=f"ask for at most {limits.max_limit} rows and page with 'start'",
                extra={"limit": "max_limit", "max": limits.max_limit, "actual": limit})
    start = _non_negative("start", singles["start"]) if "start" in singles else 0
    return QueryRequest(
        conditions=conditions,
        limit=limit,
        limit_given="limit" in singles,
        start=start,
        start_given="start" in singles,
        count=_boolean("count", singles.get("count")),
        reply_with_count=_boolean("replyWithCount", singles.get("replyWithCount")),
        sort=_sort(singles),
        fields=_fields(fields),
        group_by=_names_of(singles["groupBy"], "groupBy") if "groupBy" in singles else (),
    )


def _non_negative(name: str, value: str) -> int:
    """``limit``/``start``: plain ASCII digits only (``20.0``, ``+5``, ``-1`` are refused)."""
    if not _DIGITS.fullmatch(value):
        bad = next((i for i, char in enumerate(value) if not "0" <= char <= "9"), 0)
        hint = f"write plain digits, e.g. {name}=100"
        if value.startswith(" "):  # what form decoding makes of "+5"
            hint += " (a '+' in a query string is a space, and no sign is allowed)"
        raise BadParameter(
            f"'{name}' must be a non-negative integer, got {value!r}", param=name, value=value,
            start=bad, end=min(bad + 1, len(value)), hint=hint)
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(_MAX_INTEGER)) or int(digits) > _MAX_INTEGER:
        raise BadParameter(f"'{name}' is too large (at most {_MAX_INTEGER})", param=name,
                           value=value, start=0, end=len(value),
                           hint=f"use a value up to {_MAX_INTEGER}")
    return int(digits)


def _boolean(name: str, value: str | None) -> bool:
    if value is None:
        return False
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise BadParameter(f"'{name}' must be true or false, got {value!r}", param=name,
                           value=value, start=0, end=len(value), expected=("true", "false"),
                           hint=f"write {name}=true or {name}=false")
    return lowered == "true"


def _sort(singles: dict[str, str]) -> tuple[SortKey, ...]:
    if "sort" in singles and "sortBy" in singles:
        value = singles["sortBy"]
        raise AmbiguousSort("both 'sort' and 'sortBy' are given", param="sortBy", value=value,
                            start=0, end=len(value),
                            hint="use either sort=-name or sortBy=name&sortDirection=desc")
    if "sortDirection" in singles and "sortBy" not in singles:
        value = singles["sortDirection"]
        raise AmbiguousSort("'sortDirection' is given without 'sortBy'", param="sortDirection",
                            value=value, start=0, end=len(value),
                            hint="add sortBy=<field>, or use sort=-<field>")
    if "sort" in singles:
        return _sort_keys_of(singles["sort"])
    if "sortBy" not in singles:
        return ()
    value = singles["sortBy"]
    path = _field_path(value, 0, len(value), "sortBy", dotted=True)
    direction = singles.get("sortDirection", "asc")
    if direction.lower() not in ("asc", "desc"):
        raise BadParameter(f"'sortDirection' must be asc or desc, got {direction!r}",
                           param="sortDirection", value=direction, start=0, end=len(direction),
                           expected=("asc", "desc"), hint="write sortDirection=desc")
    return (SortKey(FieldRef(path, "sortBy", value), direction.lower() == "desc"),)


def _sort_keys_of(value: str) -> tuple[SortKey, ...]:
    """:func:`_sort_keys`, from a bounded cache when *value* is short (:func:`_short`)."""
    return (_sort_keys_cached if _short(value) else _sort_keys)(value)


def _names_of(value: str, param: str) -> tuple[FieldRef, ...]:
    """:func:`_names`, from a bounded cache when *value* is short (:func:`_short`)."""
    return (_names_cached if _short(value) else _names)(value, param)


def _short(value: str) -> bool:
    """Whether a ``sort``/``fields``/``groupBy`` value's parse may be cached.

    They name fields, never values, so a server sees few distinct ones. A cached result is
    a tuple of frozen nodes that every request may share; errors are raised afresh each
    time (``lru_cache`` never stores an exception).
    """
    return len(value) <= _CACHED_NAMES_LENGTH


def _sort_keys(value: str) -> tuple[SortKey, ...]:
    """``+a``, ``-a``, ``a`` (a leading space is a form-decoded ``+``), comma-separated."""
    keys = []
    offset = 0
    for part in value.split(","):
        start, offset = offset, offset + len(part) + 1
        sign = part[:1]
        begin = start + 1 if sign in ("+", "-", " ") else start
        path = _field_path(value, begin, start + len(part), "sort", dotted=True)
        keys.append(SortKey(FieldRef(path, "sort", value), sign == "-"))
    return tuple(keys)


def _fields(values: list[str]) -> tuple[FieldRef, ...]:
    """``fields`` given once is param ``fields``; given n times, ``fields[0]`` … ``fields[n-1]``."""
    if not values:
        return ()
    if len(values) == 1:
        return _names_of(values[0], "fields")
    return tuple(ref for i, value in enumerate(values)
                 for ref in _names_of(value, f"fields[{i}]"))


def _names(value: str, param: str) -> tuple[FieldRef, ...]:
    """Comma-separated native field names (``fields``, ``groupBy``)."""
    refs = []
    offset = 0
    for part in value.split(","):
        start, offset = offset, offset + len(part) + 1
        path = _field_path(value, start, start + len(part), param, dotted=False)
        refs.append(FieldRef(path, param, value))
    return tuple(refs)


_sort_keys_cached = functools.lru_cache(maxsize=_NAMES_CACHE_SIZE)(_sort_keys)
_names_cached = functools.lru_cache(maxsize=_NAMES_CACHE_SIZE)(_names)


def _field_path(text: str, start: int, end: int, param: str, *, dotted: bool) -> Path:
    """Check ``text[start:end]`` is a (dotted, when allowed) field path and build its Path."""
    if start == end:
        raise BadParameter(f"empty field name in '{param}'", param=param, value=text,
                           start=start, end=end, hint=_NAME_HINT, expected=("field name",))
    segments: list[str] = []
    spans: list[Span] = []
    position = start
    while True:
        match = SEGMENT_RE.match(text, position, end)
        if match is None:
            found = repr(text[position]) if position < end else "the end"
            raise BadParameter(f"expected a field name in '{param}', found {found}",
                               param=param, value=text, start=position,
                               end=min(position + 1, end), hint=_NAME_HINT,
                               expected=("field name",))
        segments.append(match.group())
        spans.append(Span(position, match.end()))
        position = match.end()
        if position == end:
            return Path(tuple(segments), tuple(spans), Span(start, end))
        if text[position] != ".":
            raise BadParameter(f"unexpected {text[position]!r} in a field name in '{param}'",
                               param=param, value=text, start=position, end=position + 1,
                               hint=_NAME_HINT)
        if not dotted:
            raise BadParameter(
                f"'{param}' takes native fields only, not the path "
                f"'{text[start:end]}'", param=param, value=text, start=start, end=end,
                hint=f"only native fields of the queried resource can be given in '{param}'")
        position += 1

"""Parse one query condition (the value of one ``q`` parameter) into a :class:`Condition`.

Lark parses the whole text with the grammar in ``grammar/zquery.lark``; a Transformer turns the
tree into the frozen AST, and the checks (spaces per mode, limits) run afterwards, outside it.

>>> cond = parse_condition("vmNics.ip?=10.0.0.1,10.0.0.2", param="q[1]")
>>> cond.path.segments, cond.op.symbol, cond.items, cond.param
(('vmNics', 'ip'), '?=', ('10.0.0.1', '10.0.0.2'), 'q[1]')
>>> parse_condition("name=a!=b").value
'a!=b'
>>> parse_condition("name=null").op, parse_condition("name is not null").op
(<Operator.IS_NULL: 'is null'>, <Operator.NOT_NULL: 'not null'>)
>>> parse_condition("uuid = x", mode="compat").value
' x'
>>> print(str(parse_condition_error("uuid = x")))
spaces around the operator '=' (q[0])
  uuid = x
      ^^^
hint: remove the spaces around '='
"""

from __future__ import annotations

import functools
import re
from typing import Any, NamedTuple, cast

from lark import Token, Transformer
from lark.exceptions import LarkError

from zquery.ast import Condition, Operator, Path, Span
from zquery.caches import bounded
from zquery.errors import BadParameter, SyntaxProblem, TooManyListElements, ZQueryError
from zquery.grammar import build_parser
from zquery.limits import Limits
from zquery.list_values import split_list_items, split_list_value
from zquery.parse_errors import syntax_problem, too_long

__all__ = [
    "DEFAULT_LIMITS",
    "MODES",
    "SEGMENT_RE",
    "parse_condition",
    "parse_condition_error",
    "split_list_items",
    "split_list_value",
]

#: ``strict`` refuses spaces around operators (the manual's rule); ``compat`` trims the path.
MODES = ("strict", "compat")
#: The limits used when none are given (a shared frozen instance).
DEFAULT_LIMITS = Limits()

# Texts up to this length have their Lark parse cached: conditions repeat a lot in practice,
# and a cached hit costs about a microsecond instead of tens. Longer texts are not cached so the
# cache's memory stays bounded (4096 entries x 512 characters).
_CACHED_TEXT_LENGTH = 512
_CACHE_SIZE = 4096
# A lone surrogate is a str no driver can encode (UTF-8 has no form for it): refuse it here,
# or it would escape from the database driver as a UnicodeEncodeError.
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Parsed(NamedTuple):
    """What Lark read, independent of ``param`` and ``mode`` (so it can be cached).

    A NamedTuple, not a frozen dataclass: it is built once per parse, and a frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field) costs several µs here.
    """

    path: Path
    op: Operator
    value: str | None
    items: tuple[str, ...] | None
    op_span: Span
    value_span: Span | None
    span: Span
    lead: Span | None  # spaces before the path
    gap: Span | None  # spaces between the path and the operator or null words
    inner: tuple[Span, ...]  # spaces between the null words
    trail: Span | None  # spaces after a null test
    null_words: bool  # written as words (``is null``), not as ``=null``


def _span(token: Token) -> Span:
    return Span(token.start_pos or 0, token.end_pos or 0)


class _ConditionBuilder(Transformer[Token, Any]):
    """Runs inside the LALR parse (inline transformer) and builds a :class:`_Parsed`.

    It only builds; every judgement (spaces, limits) happens in :func:`parse_condition`.
    """

    def path(self, children: list[Any]) -> Path:
        # ``path: SEGMENT | path DOT SEGMENT``: extend the path built so far.
        segment = children[-1]
        span = _span(segment)
        if len(children) == 1:
            return Path((str(segment),), (span,), span)
        head: Path = children[0]
        return Path((*head.segments, str(segment)), (*head.segment_spans, span),
                    Span(head.span.start, span.end))

    # One method per operator alias of the grammar: (operator, its token).
    def eq(self, c: list[Token]) -> tuple[Operator, Token]:
        return Operator.EQ, c[0]

    def ne(self, c: list[Token]) -> tuple[Operator, Token]:
        return Operator.NE, c[0]

    def gt(self, c: list[Token]) -> tuple[Operator, Token]:
        return Operator.GT, c[0]

    def lt(self, c: list[Token]) -> tuple[Operator, Token]:
        return Operator.LT, c[0]

    def ge(self, c: list[Token]) -> tuple[Operator, Token]:
        return Operator.GE, c[0]

    def le(self, c: list[Token]) -> tuple[Operator, Token]:
        return Operator.LE, c[0]

    def in_(self, c: list[Token]) -> tuple[Operator, Token]:
        return Operator.IN, c[0]

    def not_in(self, c: list[Token]) -> tuple[Operator, Token]:
        return Operator.NOT_IN, c[0]

    def like(self, c: list[Token]) -> tuple[Operator, Token]:
        return Operator.LIKE, c[0]

    def not_like(self, c: list[Token]) -> tuple[Operator, Token]:
        return Operator.NOT_LIKE, c[0]

    # The null words: (operator, their tokens, spaces included).
    def is_null(self, c: list[Token]) -> tuple[Operator, list[Token]]:
        return Operator.IS_NULL, c

    def not_null(self, c: list[Token]) -> tuple[Operator, list[Token]]:
        return Operator.NOT_NULL, c

    def is_not_null(self, c: list[Token]) -> tuple[Operator, list[Token]]:
        return Operator.NOT_NULL, c

    def comparison(self, children: list[Any]) -> tuple[Operator, Token, Token | None]:
        op, op_token = children[0]
        return op, op_token, (children[1] if len(children) > 1 else None)

    def binary(self, children: list[Any]) -> _Parsed:
        lead, path, gap, rest = _around_path(children)
        op, op_token, value_token = rest[0]
        op_span = _span(op_token)
        if value_token is None:
            value, value_span = "", Span(op_span.end, op_span.end)
        else:
            value, value_span = str(value_token), _span(value_token)
        items = split_list_items(value) if op.takes_list else None
        span = Span(path.span.start, value_span.end)
        return _Parsed(path, op, value, items, op_span, value_span, span, lead, gap, (), None,
                       False)

    def eq_null(self, children: list[Any]) -> _Parsed:
        return self._printed_null(children, Operator.IS_NULL)

    def ne_null(self, children: list[Any]) -> _Parsed:
        return self._printed_null(children, Operator.NOT_NULL)

    def _printed_null(self, children: list[Any], op: Operator) -> _Parsed:
        lead, path, gap, (op_token, null_token) = _around_path(children)
        op_span = Span(_span(op_token).start, _span(null_token).end)
        span = Span(path.span.start, op_span.end)
        return _Parsed(path, op, None, None, op_span, None, span, lead, gap, (), None, False)

    def null_test(self, children: list[Any]) -> _Parsed:
        lead, path, gap, rest = _around_path(children)
        op, words = rest[0]
        trail = _span(rest[1]) if len(rest) > 1 else None
        inner = tuple(_span(t) for t in words if t.type == "SPACES")
        op_span = Span(_span(words[0]).start, _span(words[-1]).end)
        span = Span(path.span.start, op_span.end)
        return _Parsed(path, op, None, None, op_span, None, span, lead, gap, inner, trail,
                       True)


def _around_path(children: list[Any]) -> tuple[Span | None, Path, Span | None, list[Any]]:
    """Split ``SPACES? path SPACES? rest...`` into its parts."""
    index = 0
    lead = None
    if isinstance(children[0], Token):
        lead, index = _span(children[0]), 1
    path: Path = children[index]
    index += 1
    gap = None
    if isinstance(children[index], Token) and children[index].type == "SPACES":
        gap, index = _span(children[index]), index + 1
    return lead, path, gap, children[index:]


#: THE condition parser: Lark with the builder inline, built once at import (about 30 ms).
_PARSER = build_parser(_ConditionBuilder(visit_tokens=False))

#: The grammar's SEGMENT terminal (one path segment), for ``sort``/``fields`` names: taken
#: from the parser so that it can never disagree with the grammar.
SEGMENT_RE: re.Pattern[str] = re.compile(_PARSER.get_terminal("SEGMENT").pattern.to_regexp())


def _parse_text(text: str) -> _Parsed:
    """Run Lark on *text*; Lark's own exceptions propagate to the caller."""
    # The inline transformer makes ``parse`` return the builder's result, not a tree.
    return cast(_Parsed, _PARSER.parse(text))



# The path and the operator of a spaceless binary condition, as the grammar reads them: a
# path starts at 0, and the operator is the longest operator string right after it (longer
# spellings first, as Lark's lexer orders string terminals). Everything after it is VALUE.
_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
                     r"(?:!\?=|!~=|\?=|~=|!=|>=|<=|=|>|<)")
# The operators whose value is a list (a tuple test: an Enum property costs more).
_LIST_OPERATORS = (Operator.IN, Operator.NOT_IN)
# Per path+operator prefix: a _Parsed that Lark produced for a text with that prefix.
_PREFIXES: dict[str, _Parsed] = {}


def _parse_prefixed(text: str) -> _Parsed:
    """Lark's parse of *text*, reusing a memoised Lark parse of the same path+operator.

    Exactly when *text* is ``<path><op><value>`` with no spaces before the value, Lark's
    tokens up to the value depend only on that prefix (SEGMENT stops at the operator's
    first character; the operator is the longest match) and VALUE takes the rest verbatim.
    The one exception, a value of exactly ``null`` after ``=``/``!=`` (the printed null
    tests), always goes to Lark. Entries come only from real Lark parses; a property test
    (tests/test_shapes.py) checks this against Lark on arbitrary texts.
    """
    match = _PREFIX.match(text)
    if match is None:
        return _lark(text)
    end = match.end()
    rest = text[end:]
    if rest == "null":
        return _lark(text)
    prefix = text[:end]
    known = _PREFIXES.get(prefix)
    if known is None:
        parsed = _lark(text)
        if parsed.op_span.end == end and not parsed.null_words:
            if len(_PREFIXES) >= _CACHE_SIZE:
                _PREFIXES.clear()  # bounded: a burst of new shapes starts it over
            _PREFIXES[prefix] = parsed
        return parsed
    size = len(text)
    items = split_list_items(rest) if known.op in _LIST_OPERATORS else None
    return _Parsed(known.path, known.op, rest, items, known.op_span, _span_of(end, size),
                   _span_of(0, size), None, None, (), None, False)


# Spans are frozen and a frozen dataclass costs about 1 µs to build: the fast path shares
# them (bounded: positions are at most _CACHED_TEXT_LENGTH apart in practice).
_SPANS: dict[tuple[int, int], Span] = {}


def _span_of(start: int, end: int) -> Span:
    """``Span(start, end)``, one shared instance per pair of positions."""
    return bounded(_SPANS, (start, end), _CACHE_SIZE, Span, start, end)


# Lark's parses of whole texts, for those the prefix path cannot take (spaces, ``null``
# words): a repeated one skips Lark. Only there: on the prefix path an LRU insertion
# would cost about as much as the parse it saves.
_lark_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_text)


def _lark(text: str) -> _Parsed:
    return _lark_cached(text) if len(text) <= _CACHED_TEXT_LENGTH else _parse_text(text)


def parse_condition(
    text: str, *, param: str = "q[0]", mode: str = "strict", limits: Limits = DEFAULT_LIMITS
) -> Condition:
    """Parse one condition; raise a :class:`~zquery.errors.RequestError` or ``LimitError``.

    >>> c = parse_condition("name~=IntelCore_7")
    >>> (c.path.dotted, c.op.symbol, c.value, c.value_span)
    ('name', '~=', 'IntelCore_7', Span(start=6, end=17))
    """
    if mode not in MODES:
        raise BadParameter(f"unknown parse mode {mode!r}", param="mode", value=str(mode),
                           hint="use 'strict' or 'compat'", expected=MODES)
    if not isinstance(text, str):
        raise BadParameter(f"a condition must be text, not {type(text).__name__}", param=param,
                           hint="pass the decoded value of the q parameter")
    if len(text) > limits.max_value_length:
        raise too_long(text, param, limits.max_value_length, "condition")
    # Strict UTF-8 encoding fails exactly on surrogates, and runs in C: search only then.
    surrogate = None if _encodes(text) else _SURROGATE.search(text)
    if surrogate is not None:
        raise BadParameter(
            f"U+{ord(surrogate.group()):04X} at {surrogate.start()} is a lone surrogate, not "
            f"text a database can store", param=param, value=text, start=surrogate.start(),
            end=surrogate.end(), hint="send valid UTF-8 text")
    try:
        parsed = _parse_prefixed(text)
    except LarkError as exc:
        raise syntax_problem(text, param, exc) from None
    # The common spaceless binary condition has nothing for the strict check to judge.
    if mode == "strict" and (parsed.lead is not None or parsed.gap is not None
                             or parsed.null_words):
        _check_strict_spaces(parsed, text, param)
    if parsed.items is not None and len(parsed.items) > limits.max_list_elements:
        raise _too_many_elements(parsed, text, param, limits.max_list_elements)
    return Condition(parsed.path, parsed.op, parsed.value, parsed.items, parsed.op_span,
                     parsed.value_span, parsed.span, param, text)


def _encodes(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_condition_error(text: str, **options: Any) -> ZQueryError:
    """The error :func:`parse_condition` raises for *text* (a convenience for docs and tests).

    Raises :class:`~zquery.errors.BadParameter` when *text* parses without error.

    >>> parse_condition_error("name").expected[:3]
    ('.', '=', '!=')
    """
    try:
        parse_condition(text, **options)
    except ZQueryError as exc:
        return exc
    raise BadParameter("the condition parsed without error", param="text", value=text)


def _check_strict_spaces(parsed: _Parsed, text: str, param: str) -> None:
    """The manual's rule: no spaces around binary operators; null tests use single spaces."""
    path = parsed.path.dotted
    if parsed.lead is not None:
        raise SyntaxProblem("spaces before the field name", param=param, value=text,
                            start=parsed.lead.start, end=parsed.lead.end,
                            hint=f"remove the spaces before '{path}'")
    if parsed.null_words:
        _check_null_test_spaces(parsed, text, param)
    elif parsed.gap is not None:
        # The span runs from the spaces before the operator to the spaces after it, if any
        # (``=null`` has its operator span over ``null`` too: stop after the sign).
        symbol = text[parsed.op_span.start:parsed.op_span.end].removesuffix("null")
        value = parsed.value or ""
        end = parsed.op_span.start + len(symbol) + len(value) - len(value.lstrip(" \t\r\n"))
        raise SyntaxProblem(f"spaces around the operator '{symbol}'", param=param, value=text,
                            start=parsed.gap.start, end=end,
                            hint=f"remove the spaces around '{symbol}'")


def _check_null_test_spaces(parsed: _Parsed, text: str, param: str) -> None:
    words = " ".join(text[parsed.op_span.start:parsed.op_span.end].split())
    canonical = f"'{parsed.path.dotted} {words}'"
    for spaces in (parsed.gap, *parsed.inner):
        if spaces is not None and text[spaces.start:spaces.end] != " ":
            raise SyntaxProblem("a null test takes single spaces between its words",
                                param=param, value=text, start=spaces.start, end=spaces.end,
                                hint=f"write {canonical}")
    if parsed.trail is not None:
        raise SyntaxProblem("spaces after the null test", param=param, value=text,
                            start=parsed.trail.start, end=parsed.trail.end,
                            hint=f"remove the trailing spaces: {canonical}")


def _too_many_elements(parsed: _Parsed, text: str, param: str, limit: int) -> ZQueryError:
    value_span = parsed.value_span or parsed.span
    starts = split_list_value(parsed.value or "")[1]
    count = len(starts)
    return TooManyListElements(
        f"the list has {count} elements, more than max_list_elements={limit}",
        param=param, value=text, start=value_span.start + starts[limit], end=value_span.end,
        hint=f"split the condition or raise Limits.max_list_elements (now {limit})",
        extra={"limit": "max_list_elements", "max": limit, "actual": count})

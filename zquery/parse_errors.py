"""Lark's parse failures → :class:`~zquery.errors.SyntaxProblem` with a span, names and a hint.

Lark reports where it stopped and which terminals it would have accepted there; the set of
accepted terminals tells which part of the condition was being read (the path, the operator,
a null test), and that picks the message and the hint.

>>> from lark.exceptions import UnexpectedInput
>>> from zquery.grammar import tree_parser
>>> try:
...     tree_parser().parse("vmNics.=x")
... except UnexpectedInput as exc:
...     err = syntax_problem("vmNics.=x", "q[0]", exc)
>>> (err.message, err.start, err.end, err.expected)
("expected a field name after 'vmNics.', found '='", 7, 8, ('field name',))
"""

from __future__ import annotations

import re

from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from zquery.errors import SyntaxProblem, TooLong
from zquery.grammar import OPERATOR_TERMINALS, describe_expected

__all__ = ["syntax_problem", "too_long"]

_NAME_HINT = "a field name starts with a letter or '_' and has only letters, digits and '_'"
_NULL_HINT = "a null test is written 'name is null', 'name is not null' or 'name not null'"
_OPERATOR_HINT = ("write the operator right after the field name: "
                  + " ".join(OPERATOR_TERMINALS.values()) + ", e.g. 'name=vm1'")
_WORD = re.compile(r"[A-Za-z0-9_]+")
_FIELD = ("field name",)
_OPERATORS = tuple(OPERATOR_TERMINALS.values())
_NULL_TESTS = ("is null", "is not null", "not null")


def _position_and_terminals(text: str, exc: LarkError) -> tuple[int, frozenset[str]]:
    if isinstance(exc, UnexpectedToken):
        # Lark's end token borrows the position of the token before it.
        at_end = exc.token.type == "$END"
        position = len(text) if at_end else (exc.token.start_pos or 0)
        return position, frozenset(exc.accepts or exc.expected)
    if isinstance(exc, UnexpectedCharacters):
        return exc.pos_in_stream or 0, frozenset(exc.allowed)
    if isinstance(exc, UnexpectedEOF):
        return len(text), frozenset(exc.expected)
    if isinstance(exc, UnexpectedInput):
        return exc.pos_in_stream or 0, frozenset()
    return 0, frozenset()


def _bad_end(text: str, position: int) -> int:
    """End of the offending part: the word starting at *position*, or one character."""
    if position >= len(text):
        return position
    word = _WORD.match(text, position)
    return word.end() if word else position + 1


def _path_before(text: str, position: int) -> str:
    return text[:position].strip()


def syntax_problem(text: str, param: str, exc: LarkError) -> SyntaxProblem:
    """Translate a Lark exception raised while parsing *text* into a SyntaxProblem."""
    position, terminals = _position_and_terminals(text, exc)
    end = _bad_end(text, position)
    found = "the end" if position >= len(text) else repr(text[position:end])
    message, hint, expected = _describe(text, position, terminals, found)
    if not text.strip():  # an empty or blank condition: point at all of it
        position, end = 0, len(text)
    return SyntaxProblem(message, param=param, value=text, start=position, end=end, hint=hint,
                         expected=expected)


def _describe(text: str, position: int, terminals: frozenset[str],
              found: str) -> tuple[str, str, tuple[str, ...]]:
    """(message, hint, expected) for a failure at *position*, where *terminals* were allowed."""
    path = _path_before(text, position)
    if "SEGMENT" in terminals and not path:  # nothing read yet but spaces
        if not text.strip():
            return "empty condition", "write a condition such as 'name=vm1'", _FIELD
        return f"a condition starts with a field name, found {found}", _NAME_HINT, _FIELD
    if "SEGMENT" in terminals:  # right after a dot
        return f"expected a field name after '{path}', found {found}", _NAME_HINT, _FIELD
    if "DOT" in terminals:  # right after a path segment
        expected = (".", *_OPERATORS, *_NULL_TESTS)
        if position >= len(text):
            return (f"missing operator after '{path}'",
                    f"{_OPERATOR_HINT}, or a null test such as '{path} is null'", expected)
        if _WORD.match(text[position]) or text[position] in "-$@:/[]":
            return f"unexpected {found} in the field name '{path}'", _NAME_HINT, expected
        return f"expected an operator after '{path}', found {found}", _OPERATOR_HINT, expected
    if "IS" in terminals:  # after the path and spaces: an operator or a null test
        return (f"expected an operator or a null test after '{path}', found {found}",
                f"{_NULL_HINT}; comparisons take no spaces: '{path}=value'",
                (*_OPERATORS, *_NULL_TESTS))
    if terminals & {"$END", "<END-OF-FILE>"}:  # after a complete null test
        return (f"unexpected {found} after the null test",
                "nothing may follow a null test; to compare with a text use '=', "
                "e.g. 'name=value'", ("end of condition",))
    if terminals & {"NULL_WORD", "NOT", "SPACES"}:  # inside the null test's words
        return f"incomplete null test, found {found}", _NULL_HINT, describe_expected(terminals)
    # No other parser state can fail (after an operator, anything is a value).
    return f"unexpected {found}", _OPERATOR_HINT, describe_expected(terminals)


def too_long(text: str, param: str, limit: int, what: str) -> TooLong:
    """The error for a parameter value longer than ``Limits.max_value_length``.

    >>> too_long("abcdef", "q[0]", 4, "condition").start
    4
    """
    return TooLong(
        f"the {what} is {len(text)} characters long, more than max_value_length={limit}",
        param=param, value=text, start=limit, end=len(text),
        hint=f"shorten it or raise Limits.max_value_length (now {limit})",
        extra={"limit": "max_value_length", "max": limit, "actual": len(text)})

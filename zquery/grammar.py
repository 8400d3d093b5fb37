"""The condition grammar (``grammar/zquery.lark``) and the Lark parsers built from it.

The grammar ships inside the wheel as ``zquery/grammar/zquery.lark``. A source checkout (an
editable install) reads the repository's ``grammar/zquery.lark`` first: hatch's editable install
copies force-included files into site-packages once, at install time, so that copy goes stale
as soon as the grammar is edited.

:func:`build_parser` makes the LALR parser (contextual lexer), about 30 ms. ``zquery.parse``
builds it once with its transformer attached (the transformer then runs inside the parse, with
no tree built); :func:`tree_parser` is the plain tree-building one, for tools and exploring.
Lark's ``cache=True`` would cut the build to about 3 ms, but it unpickles a file from the shared
temporary directory, which another local user could plant, so it is not used.

>>> tree = tree_parser().parse("vmNics.ip=10.0.0.1")
>>> tree.data, [str(t) for t in tree.scan_values(lambda v: True)]
('binary', ['vmNics', '.', 'ip', '=', '10.0.0.1'])
>>> describe_expected({"SEGMENT", "DOT", "GE"})
('field name', '.', '>=')
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Transformer

__all__ = [
    "GRAMMAR_FILE",
    "OPERATOR_TERMINALS",
    "build_parser",
    "describe_expected",
    "grammar_text",
    "tree_parser",
]

#: Where the grammar lives inside the installed package (and, minus ``zquery/``, in the repo).
GRAMMAR_FILE = "grammar/zquery.lark"

#: Operator terminals of the grammar → their spelling, in the order errors list them.
OPERATOR_TERMINALS: dict[str, str] = {
    "EQ": "=",
    "NE": "!=",
    "GT": ">",
    "LT": "<",
    "GE": ">=",
    "LE": "<=",
    "IN": "?=",
    "NOT_IN": "!?=",
    "LIKE": "~=",
    "NOT_LIKE": "!~=",
}

_OTHER_TERMINALS: dict[str, str] = {
    "SEGMENT": "field name",
    "DOT": ".",
    "SPACES": "space",
    "IS": "is",
    "NOT": "not",
    "NULL_WORD": "null",
    "VALUE": "value",
    "$END": "end of condition",
    "<END-OF-FILE>": "end of condition",
}
_ORDER: tuple[str, ...] = (
    "field name", ".", *OPERATOR_TERMINALS.values(), "space", "is", "not", "null", "value",
    "end of condition",
)


def grammar_text() -> str:
    """The grammar source: the checkout's ``grammar/`` if this is one, else the shipped copy."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / GRAMMAR_FILE).is_file():
        return (checkout / GRAMMAR_FILE).read_text(encoding="utf-8")
    return resources.files("zquery").joinpath(GRAMMAR_FILE).read_text(encoding="utf-8")


def build_parser(transformer: Transformer[Any, Any] | None = None) -> Lark:
    """A new LALR parser for one condition; with *transformer*, ``parse`` returns its result."""
    return Lark(grammar_text(), parser="lalr", lexer="contextual", maybe_placeholders=False,
                transformer=transformer)


@functools.cache
def tree_parser() -> Lark:
    """The tree-building parser, built on first use (zquery itself parses via ``zquery.parse``)."""
    return build_parser()


def describe_expected(terminals: Iterable[str]) -> tuple[str, ...]:
    """Readable names for Lark terminal names, deduplicated, in a stable order."""
    names = {OPERATOR_TERMINALS.get(t) or _OTHER_TERMINALS.get(t, t) for t in terminals}
    return tuple(name for name in _ORDER if name in names)

"""Turn a :class:`~zquery.ast.Condition` back into condition text (the inverse of parsing).

``parse_condition(render_condition(c))`` equals ``c`` except for the spans, ``param`` and
``text``. Null tests come out as ``path is null`` / ``path not null``. ``?=`` lists are
re-escaped from ``items`` (``\\,`` for a comma, ``\\\\`` for a backslash) unless ``value``
already spells exactly those items, in which case ``value`` is kept as written.

One value cannot be written with ``=`` or ``!=``: the text ``null``, because ``name=null`` is
the manual's null test. ``name`` equal to the string ``null`` is rendered as the equivalent
one-element list ``name?=null`` (and ``!=`` as ``!?=``). Two conditions cannot be written at
all, and the parser never makes them: ``>`` or ``<`` with a value starting with ``=`` (the
text would read as ``>=``/``<=``), and path segments that are not field names. Rendering them
raises :class:`~zquery.errors.BadParameter` instead of returning text meaning something else.

>>> from zquery.parse import parse_condition
>>> render_condition(parse_condition("vmNics.ip!?=10.0.0.1,a\\\\,b"))
'vmNics.ip!?=10.0.0.1,a\\\\,b'
>>> render_condition(parse_condition("name=null")), render_condition(parse_condition("x!=null"))
('name is null', 'x not null')
>>> escape_list_items(["a,b", "c\\\\"])
'a\\\\,b,c\\\\\\\\'
"""

from __future__ import annotations

from collections.abc import Iterable

from zquery.ast import Condition, Operator
from zquery.errors import BadParameter
from zquery.parse import SEGMENT_RE, split_list_value

__all__ = ["escape_list_items", "render_condition"]

# ``=null`` / ``!=null`` are null tests, so these say "equals the text null" another way.
_NULL_TEXT_OPERATORS = {Operator.EQ: Operator.IN, Operator.NE: Operator.NOT_IN}


def escape_list_items(items: Iterable[str]) -> str:
    """Join ``?=`` elements with commas, escaping backslashes and commas inside them."""
    return ",".join(item.replace("\\", "\\\\").replace(",", "\\,") for item in items)


def render_condition(cond: Condition) -> str:
    """Condition text that parses back to *cond* (spans, ``param`` and ``text`` aside)."""
    for segment in cond.path.segments:
        if SEGMENT_RE.fullmatch(segment) is None:
            raise BadParameter(f"cannot render the path segment {segment!r}", param=cond.param,
                               hint="path segments are letters, digits and '_'")
    path = cond.path.dotted
    if cond.op is Operator.IS_NULL:
        return f"{path} is null"
    if cond.op is Operator.NOT_NULL:
        return f"{path} not null"
    if cond.op.takes_list:
        return f"{path}{cond.op.symbol}{_list_value(cond)}"
    value = cond.value or ""
    if value.startswith("=") and cond.op in (Operator.GT, Operator.LT):
        raise BadParameter(
            f"'{cond.op.symbol}' with a value starting with '=' cannot be written",
            param=cond.param, value=value,
            hint=f"'{path}{cond.op.symbol}{value}' would read as '{cond.op.symbol}=' "
                 f"with the value {value[1:]!r}")
    if value == "null" and cond.op in _NULL_TEXT_OPERATORS:
        return f"{path}{_NULL_TEXT_OPERATORS[cond.op].symbol}null"
    return f"{path}{cond.op.symbol}{value}"


def _list_value(cond: Condition) -> str:
    items = cond.items if cond.items is not None else (cond.value or "",)
    if cond.value is not None and split_list_value(cond.value)[0] == tuple(items):
        return cond.value
    return escape_list_items(items)

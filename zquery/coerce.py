"""Value coercion: a condition's text becomes the Python value its field's type calls for.

One function per type, each raising :class:`~zquery.errors.BadValue` (with a hint giving
the expected form) for text that does not fit; :func:`coerce_value` picks the function
for a field and puts the error's position inside the parameter value. The decisions the
contract leaves open (section 2):

* integers are ASCII digits with an optional ``-`` (``+5``, ``1.5``, ``1e3``, ``1_000``
  and spaces are refused: a form-decoded ``+`` is a space, so ``+`` is never meant);
  Short/Integer/Long must fit 16/32/64 signed bits, so the database never overflows;
* floats are decimal or scientific notation with an optional ``-``; ``nan``/``inf`` and
  values past the type's range (Float: 32 bits, Double: 64 bits) are refused;
* timestamps (naive UTC, microseconds kept, longer fractions truncated) accept
  ``YYYY-MM-DD`` (midnight), ``YYYY-MM-DD hh:mm`` and ``YYYY-MM-DD hh:mm:ss[.fff]``,
  ISO 8601 with ``T`` and a zone (``Z``, ``+08:00``, ``+0800``, ``+08``; a space before
  a trailing ``hh:mm`` zone is read as a form-decoded ``+``), epoch milliseconds (all
  digits, UTC) and the reply format ``May 11, 2017 1:23:02 PM`` (English month names or
  abbreviations, any case, optional comma after the year, as newer Java prints it);
* fields with ``choices`` take one of them, exact case.

>>> from zquery.schema.graph import Field, FieldType
>>> coerce_value(Field("cpuNum", FieldType.INTEGER), "42")
42
>>> coerce_timestamp("2017-05-11T21:23:02+08:00")
datetime.datetime(2017, 5, 11, 13, 23, 2)
>>> coerce_timestamp("May 11, 2017 1:23:02 PM")
datetime.datetime(2017, 5, 11, 13, 23, 2)
>>> coerce_value(Field("cpuNum", FieldType.INTEGER), "1.5", param="q[0]", value="cpuNum=1.5",
...              start=7, end=10)
Traceback (most recent call last):
zquery.errors.BadValue: '1.5' is not an integer (q[0])
  cpuNum=1.5
         ^^^
hint: an integer such as 42 (Integer: -2147483648..2147483647)
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from zquery.ast import Operator
from zquery.errors import BadValue, did_you_mean
from zquery.plan import Scalar
from zquery.schema.graph import Field, FieldType

__all__ = [
    "INTEGER_RANGES",
    "TAG_RULE",
    "Coercer",
    "FieldRule",
    "coerce_boolean",
    "coerce_choice",
    "coerce_float",
    "coerce_integer",
    "coerce_string",
    "coerce_timestamp",
    "coerce_value",
    "field_rule",
    "list_element_spans",
]

#: The signed range each integer type stores.
INTEGER_RANGES: Final[dict[FieldType, tuple[int, int]]] = {
    FieldType.SHORT: (-(2**15), 2**15 - 1),
    FieldType.INTEGER: (-(2**31), 2**31 - 1),
    FieldType.LONG: (-(2**63), 2**63 - 1),
}
_FLOAT32_MAX: Final = 3.4028234663852886e38
# re.ASCII: ``\d`` must not match other scripts' digits, which int() would accept.
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_FLOAT_TEXT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_EPOCH_MS = re.compile(r"[0-9]+")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?| \d{2}:\d{2})?)?",
    re.ASCII,
)
_REPLY = re.compile(
    r"([A-Za-z]+)\.? (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})[ \u00a0\u202f]?([AaPp][Mm])",
    re.ASCII,
)
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")
_MONTHS: Final[dict[str, int]] = {
    **{name: i for i, name in enumerate(_MONTH_NAMES, 1)},
    **{name[:3]: i for i, name in enumerate(_MONTH_NAMES, 1)},
    "sept": 9,
}
_EPOCH: Final = datetime(1970, 1, 1)
_FLOAT_FORM: Final = "a number such as 2.5, -0.75 or 1e-3"
_TIMESTAMP_HINT: Final = ("a time such as '2017-05-11 13:23:02', '2017-05-11T13:23:02Z', "
                          "'2017-05-11T21:23:02+08:00', 1494508982000 (epoch milliseconds) "
                          "or 'May 11, 2017 1:23:02 PM'")


def coerce_integer(text: str, field_type: FieldType = FieldType.INTEGER) -> int:
    """An Integer/Long/Short value: ASCII digits with an optional ``-``, inside the type's range.

    >>> coerce_integer("-7"), coerce_integer("007")
    (-7, 7)
    >>> coerce_integer("40000", FieldType.SHORT)
    Traceback (most recent call last):
    zquery.errors.BadValue: 40000 is out of range for a Short
    hint: an integer such as 42 (Short: -32768..32767)
    """
    low, high = INTEGER_RANGES[field_type]
    return _integer(text, low, high, field_type.value)


def _integer(text: str, low: int, high: int, type_name: str) -> int:
    if _INTEGER_TEXT.fullmatch(text) is not None:
        # Never feed int() huge strings: past 20 significant digits it is out of range.
        digits = text if len(text) <= 21 else text.lstrip("-").lstrip("0") or "0"
        if len(digits) <= 21:
            number = int(digits) if digits is text or text[0] != "-" else -int(digits)
            if low <= number <= high:
                return number
        shown = text if len(text) <= 24 else text[:20] + "..."
        raise BadValue(f"{shown} is out of range for a {type_name}",
                       hint=_integer_form(low, high, type_name))
    form = _integer_form(low, high, type_name)
    if text.startswith("+"):
        form = f"write the number without '+' ({form})"
    elif text != text.strip():
        form = f"remove the spaces ({form})"
    raise BadValue(f"'{text}' is not an integer", hint=form)


def _integer_form(low: int, high: int, type_name: str) -> str:
    return f"an integer such as 42 ({type_name}: {low}..{high})"


def coerce_float(text: str, field_type: FieldType = FieldType.DOUBLE) -> float:
    """A Float/Double value: decimal or scientific notation, finite, inside the type's range.

    >>> coerce_float("2.5e3"), coerce_float("-.5"), coerce_float("7")
    (2500.0, -0.5, 7.0)
    >>> coerce_float("nan")
    Traceback (most recent call last):
    zquery.errors.BadValue: 'nan' is not a number
    hint: a number such as 2.5, -0.75 or 1e-3
    """
    return _float(text, _FLOAT32_MAX if field_type is FieldType.FLOAT else math.inf,
                  field_type.value)


def _float(text: str, limit: float, type_name: str) -> float:
    if _FLOAT_TEXT.fullmatch(text) is not None:
        number = float(text)
        if -limit <= number <= limit and number - number == 0.0:  # finite and in range
            return number
        shown = text if len(text) <= 24 else text[:20] + "..."
        raise BadValue(f"{shown} is out of range for a {type_name}", hint=_FLOAT_FORM)
    hint = f"write the number without '+' ({_FLOAT_FORM})" if text.startswith("+") else _FLOAT_FORM
    raise BadValue(f"'{text}' is not a number", hint=hint)


def coerce_boolean(text: str) -> bool:
    """A Boolean value: ``true`` or ``false`` in any case.

    >>> coerce_boolean("TRUE"), coerce_boolean("false")
    (True, False)
    """
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise BadValue(f"'{text}' is not a Boolean", hint="true or false", expected=("true", "false"))


def coerce_timestamp(text: str) -> datetime:
    """A Timestamp value as naive UTC; see the module docstring for the accepted forms.

    >>> coerce_timestamp("2017-05-11 13:23")
    datetime.datetime(2017, 5, 11, 13, 23)
    >>> coerce_timestamp("1494508982000")
    datetime.datetime(2017, 5, 11, 13, 23, 2)
    """
    if _EPOCH_MS.fullmatch(text):
        return _from_epoch_ms(text)
    iso = _ISO.fullmatch(text)
    if iso is not None:
        return _from_iso(text, iso)
    reply = _REPLY.fullmatch(text)
    if reply is not None:
        return _from_reply(text, reply)
    raise BadValue(f"'{text}' is not a time", hint=_TIMESTAMP_HINT)


def _from_epoch_ms(text: str) -> datetime:
    # 15 digits already reach past the year 9999; never feed int() huge strings.
    try:
        if len(text) <= 15:
            return _EPOCH + timedelta(milliseconds=int(text))
    except OverflowError:
        pass
    raise BadValue(f"{text[:20]} epoch milliseconds is out of range for a Timestamp",
                   hint="a time between the years 1970 and 9999")


def _from_iso(text: str, match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second, fraction = match.groups()[:7]
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    moment = _build(text, int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                    int(second or 0), micro)
    zone = match.group("zone")
    if zone is None or zone in "Zz":
        return moment
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise BadValue(f"'{zone.strip()}' is not a time zone offset in '{text}'",
                       hint="an offset such as +08:00, -05:30 or Z")
    try:
        return moment - sign * timedelta(hours=hours, minutes=minutes)
    except OverflowError:
        raise BadValue(f"'{text}' is out of range for a Timestamp",
                       hint="a time between the years 1 and 9999") from None


def _from_reply(text: str, match: re.Match[str]) -> datetime:
    month_name, day, year, hour, minute, second, half = match.groups()
    month = _MONTHS.get(month_name.lower())
    if month is None:
        raise BadValue(f"'{month_name}' is not an English month name in '{text}'",
                       hint="a month such as Jan, Feb, ..., Dec")
    clock = int(hour)
    if not 1 <= clock <= 12:
        raise BadValue(f"'{hour}' is not an hour of a 12-hour clock in '{text}'",
                       hint="an hour from 1 to 12 followed by AM or PM")
    clock = clock % 12 + (12 if half.upper() == "PM" else 0)
    return _build(text, int(year), month, int(day), clock, int(minute), int(second), 0)


def _build(text: str, year: int, month: int, day: int, hour: int, minute: int, second: int,
           micro: int) -> datetime:
    try:
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        raise BadValue(f"'{text}' is not a valid date and time", hint=_TIMESTAMP_HINT) from None


# Parsing a time costs microseconds and the same times recur across requests; failures
# raise and are not cached, so the cache holds only valid times (bounded).
_cached_timestamp = functools.lru_cache(maxsize=1024)(coerce_timestamp)


def coerce_choice(text: str, choices: tuple[str, ...]) -> str:
    """One of an enum field's values, exact case.

    >>> coerce_choice("Running", ("Running", "Stopped"))
    'Running'
    >>> coerce_choice("running", ("Running", "Stopped"))
    Traceback (most recent call last):
    zquery.errors.BadValue: 'running' is not one of Running, Stopped
    expected: Running, Stopped
    hint: did you mean 'Running'?
    """
    if text in choices:
        return text
    raise BadValue(f"'{text}' is not one of {', '.join(choices)}",
                   hint=did_you_mean(text, choices), expected=choices)


def coerce_string(text: str) -> str:
    """A String value: verbatim.

    >>> coerce_string(" a b ")
    ' a b '
    """
    return text


#: A function from a value's text to its typed value (raises :class:`BadValue`).
Coercer = Callable[[str], Scalar]

_NOT_LIKE = tuple(op for op in Operator if op not in (Operator.LIKE, Operator.NOT_LIKE))
_ORDERING = (Operator.GT, Operator.LT, Operator.GE, Operator.LE)


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How conditions on one field are typed: the operators it takes and its coercer.

    ``coerce`` is None when the text is the value (String without choices, tags).
    Built once per field by :func:`field_rule`, so the resolver's hot path does no
    type dispatch.
    """

    type_name: str
    allowed: tuple[Operator, ...]
    coerce: Coercer | None


#: Tags: text compared as text, no ordering.
TAG_RULE: Final = FieldRule("tag", tuple(op for op in Operator if op not in _ORDERING), None)


def field_rule(field: Field) -> FieldRule:
    """The :class:`FieldRule` of *field*.

    >>> rule = field_rule(Field("cpuNum", FieldType.INTEGER))
    >>> Operator.LIKE in rule.allowed, rule.coerce("7")
    (False, 7)
    """
    kind = field.type
    coerce: Coercer | None
    if kind is FieldType.STRING:
        coerce = functools.partial(coerce_choice, choices=field.choices) if field.choices else None
        return FieldRule(kind.value, tuple(Operator), coerce)
    if kind is FieldType.BOOLEAN:
        allowed = tuple(op for op in _NOT_LIKE if op not in _ORDERING)
        return FieldRule(kind.value, allowed, coerce_boolean)
    if kind.is_integer:
        low, high = INTEGER_RANGES[kind]
        coerce = functools.partial(_integer, low=low, high=high, type_name=kind.value)
    elif kind.is_number:
        limit = _FLOAT32_MAX if kind is FieldType.FLOAT else math.inf
        coerce = functools.partial(_float, limit=limit, type_name=kind.value)
    else:
        coerce = _cached_timestamp
    return FieldRule(kind.value, _NOT_LIKE, coerce)


def coerce_value(
    field: Field,
    text: str,
    *,
    param: str | None = None,
    value: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> Scalar:
    """*text* typed by *field*; a :class:`BadValue` carries ``param``/``value``/``start``/``end``.

    >>> coerce_value(Field("system", FieldType.BOOLEAN), "True")
    True
    """
    coerce = field_rule(field).coerce
    if coerce is None:
        return text
    try:
        return coerce(text)
    except BadValue as err:
        err.param, err.value, err.start, err.end = param, value, start, end
        raise


def list_element_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """The ``[start, end)`` span of each element of a ``?=`` list, shifted by *offset*.

    Elements split at commas; ``\\,`` and ``\\\\`` are escapes inside an element.

    >>> list_element_spans(r"a,b\\,c,", 10)
    [(10, 11), (12, 16), (17, 17)]
    """
    spans: list[tuple[int, int]] = []
    begin = index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in ",\\":
            index += 2
            continue
        if char == ",":
            spans.append((offset + begin, offset + index))
            begin = index + 1
        index += 1
    spans.append((offset + begin, offset + len(text)))
    return spans

"""Reply formatting: database values → the JSON values of a ZStack inventory.

Inventories are JSON objects keyed by field name (not column name); null fields
are omitted (compat); Timestamps use Java's ``MMM d, yyyy h:mm:ss a`` with
English month names whatever the locale, or ISO 8601 on request; fractions of a
second are dropped; Booleans are JSON booleans and numbers JSON numbers.

>>> from datetime import datetime
>>> format_timestamp(datetime(2017, 5, 11, 13, 23, 2, 999))
'May 11, 2017 1:23:02 PM'
>>> format_timestamp(datetime(2017, 1, 6, 0, 5, 9), iso=True)
'2017-01-06T00:05:09Z'
>>> from zquery.schema.graph import Field, FieldType
>>> fields = (Field("name", FieldType.STRING), Field("cpuNum", FieldType.INTEGER),
...           Field("system", FieldType.BOOLEAN))
>>> inventory(fields, ("vm1", None, 1))
{'name': 'vm1', 'system': True}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timezone
from typing import Any

from zquery.schema.graph import Field, FieldType

__all__ = [
    "JsonValue",
    "converter",
    "format_timestamp",
    "format_value",
    "inventory",
    "row_formatter",
]

#: What one inventory value becomes in the reply.
JsonValue = Any

# Java's MMM is locale dependent; the reference runs with an English locale, so the names
# are fixed here instead of asking strftime (which follows the process locale).
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_timestamp(value: datetime, *, iso: bool = False) -> str:
    """Format a naive-UTC timestamp as the reference does, or as ISO 8601 with ``Z``.

    An aware value is converted to UTC first; fractions of a second are dropped.

    >>> format_timestamp(datetime(2020, 12, 31, 0, 0, 0))
    'Dec 31, 2020 12:00:00 AM'
    >>> format_timestamp(datetime(2020, 12, 31, 12, 30, 0))
    'Dec 31, 2020 12:30:00 PM'
    """
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    value = value.replace(microsecond=0)
    if iso:
        return value.isoformat() + "Z"
    hour12 = value.hour % 12 or 12
    half = "AM" if value.hour < 12 else "PM"
    return (f"{_MONTHS[value.month - 1]} {value.day}, {value.year} "
            f"{hour12}:{value.minute:02d}:{value.second:02d} {half}")


def _as_datetime(value: object) -> datetime:
    """Accept what drivers return for a timestamp column (datetime, date or ISO text)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    return datetime.fromisoformat(str(value))


def _timestamp(iso: bool) -> Callable[[object], JsonValue]:
    return lambda value: format_timestamp(_as_datetime(value), iso=iso)


def _integer(value: object) -> JsonValue:
    return int(value)  # type: ignore[call-overload]


def _number(value: object) -> JsonValue:
    return float(value)  # type: ignore[arg-type]


# One converter per field type, chosen once per column list rather than per value:
# replies of 1,000 rows × 20 fields spent most of their time re-deciding the type.
_CONVERTERS: dict[FieldType, Callable[[object], JsonValue]] = {
    FieldType.BOOLEAN: bool,  # SQLite and MariaDB hand back 0/1 when the type is not applied
    FieldType.INTEGER: _integer,
    FieldType.LONG: _integer,
    FieldType.SHORT: _integer,
    FieldType.FLOAT: _number,
    FieldType.DOUBLE: _number,
    FieldType.STRING: str,
}
_TIMESTAMP = {False: _timestamp(False), True: _timestamp(True)}


def converter(field: Field, *, iso_dates: bool = False) -> Callable[[object], JsonValue]:
    """The function turning a non-null database value of *field* into its JSON form."""
    if field.type is FieldType.TIMESTAMP:
        return _TIMESTAMP[iso_dates]
    return _CONVERTERS[field.type]


def format_value(field: Field, value: object, *, iso_dates: bool = False) -> JsonValue:
    """Turn one database value of *field* into its JSON form (None stays None).

    >>> from decimal import Decimal
    >>> format_value(Field("cpuUsage", FieldType.DOUBLE), Decimal("0.25"))
    0.25
    >>> format_value(Field("totalCpu", FieldType.LONG), 8.0)
    8
    """
    if value is None:
        return None
    return converter(field, iso_dates=iso_dates)(value)


def row_formatter(
    fields: Sequence[Field], *, iso_dates: bool = False
) -> Callable[[Sequence[object]], dict[str, JsonValue]]:
    """A function building one inventory per row; the per-field work is done once here.

    >>> fmt = row_formatter((Field("name", FieldType.STRING), Field("n", FieldType.LONG)))
    >>> fmt(("vm1", 2.0)), fmt((None, None))
    ({'name': 'vm1', 'n': 2}, {})
    """
    plan = [(at, f.name, converter(f, iso_dates=iso_dates)) for at, f in enumerate(fields)]

    def build(row: Sequence[object]) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {}
        for at, name, convert in plan:
            raw = row[at]
            if raw is not None:
                out[name] = convert(raw)
        return out

    return build


def inventory(
    fields: Sequence[Field], row: Sequence[object], *, iso_dates: bool = False
) -> dict[str, JsonValue]:
    """One inventory object from a row whose values follow *fields*; nulls are omitted.

    Values past the last field (keys selected for other purposes) are ignored.
    """
    return row_formatter(fields, iso_dates=iso_dates)(row)

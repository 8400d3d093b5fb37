"""The value table: every type's accepted and refused forms (zquery.coerce)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zquery.coerce import (
    INTEGER_RANGES,
    coerce_boolean,
    coerce_choice,
    coerce_float,
    coerce_integer,
    coerce_string,
    coerce_timestamp,
    coerce_value,
    list_element_spans,
)
from zquery.errors import BadValue
from zquery.schema.graph import Field, FieldType

INT, L, S = FieldType.INTEGER, FieldType.LONG, FieldType.SHORT
F, D = FieldType.FLOAT, FieldType.DOUBLE

INTEGERS_OK = [
    ("0", INT, 0), ("-0", INT, 0), ("007", INT, 7), ("42", L, 42), ("-42", S, -42),
    ("2147483647", INT, 2**31 - 1), ("-2147483648", INT, -(2**31)),
    ("32767", S, 32767), ("-32768", S, -32768),
    ("9223372036854775807", L, 2**63 - 1), ("-9223372036854775808", L, -(2**63)),
    ("0000000000000000000000000001", L, 1),
]
INTEGERS_BAD = [
    ("abc", INT, "an integer"), ("1.5", INT, "an integer"), ("1.0", INT, "an integer"),
    ("+5", INT, "without '+'"), (" 5", INT, "remove the spaces"), ("5 ", INT, "remove the spaces"),
    ("1e3", INT, "an integer"), ("1_000", INT, "an integer"), ("\u0663", INT, "an integer"),
    ("", INT, "an integer"), ("0x10", INT, "an integer"), ("--1", INT, "an integer"),
    ("2147483648", INT, "-2147483648..2147483647"), ("-2147483649", INT, "-2147483648..2147483647"),
    ("32768", S, "-32768..32767"), ("9223372036854775808", L, "9223372036854775807"),
    ("1" + "0" * 5000, L, "9223372036854775807"),
]


@pytest.mark.parametrize(("text", "kind", "expected"), INTEGERS_OK)
def test_integer_accepts(text: str, kind: FieldType, expected: int) -> None:
    assert coerce_integer(text, kind) == expected


@pytest.mark.parametrize(("text", "kind", "hint_part"), INTEGERS_BAD)
def test_integer_refuses(text: str, kind: FieldType, hint_part: str) -> None:
    with pytest.raises(BadValue) as caught:
        coerce_integer(text, kind)
    assert caught.value.hint is not None and hint_part in caught.value.hint
    assert caught.value.code == "resolve.bad_value"


FLOATS_OK = [
    ("1.5", D, 1.5), ("-2", D, -2.0), ("1e3", D, 1000.0), ("1E-3", D, 0.001), (".5", D, 0.5),
    ("1.", D, 1.0), ("2.5e+2", F, 250.0), ("1e308", D, 1e308), ("3.4e38", F, 3.4e38),
    ("-0.0", D, 0.0),
]
FLOATS_BAD = [
    ("nan", D, "not a number"), ("NaN", D, "not a number"), ("inf", D, "not a number"),
    ("-inf", D, "not a number"), ("Infinity", D, "not a number"), ("abc", D, "not a number"),
    ("", D, "not a number"), ("1,5", D, "not a number"), ("0x10", D, "not a number"),
    ("+1.5", D, "not a number"), ("1e", D, "not a number"), (" 1", D, "not a number"),
    ("1e309", D, "out of range for a Double"), ("-1e309", D, "out of range for a Double"),
    ("1e39", F, "out of range for a Float"),
]


@pytest.mark.parametrize(("text", "kind", "expected"), FLOATS_OK)
def test_float_accepts(text: str, kind: FieldType, expected: float) -> None:
    assert coerce_float(text, kind) == expected


@pytest.mark.parametrize(("text", "kind", "message_part"), FLOATS_BAD)
def test_float_refuses(text: str, kind: FieldType, message_part: str) -> None:
    with pytest.raises(BadValue, match=message_part) as caught:
        coerce_float(text, kind)
    assert caught.value.hint is not None


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("TRUE", True), ("tRuE", True), ("false", False), ("False", False),
])
def test_boolean_accepts(text: str, expected: bool) -> None:
    assert coerce_boolean(text) is expected


@pytest.mark.parametrize("text", ["1", "0", "yes", "no", "", " true", "true ", "t", "truee"])
def test_boolean_refuses(text: str) -> None:
    with pytest.raises(BadValue) as caught:
        coerce_boolean(text)
    assert caught.value.expected == ("true", "false")


def at(*parts: int) -> datetime:
    return datetime(*parts)  # type: ignore[arg-type]


TIMESTAMPS_OK = [
    # the SDK format, with and without seconds, and a bare date
    ("2017-05-11 13:23:02", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11 13:23", at(2017, 5, 11, 13, 23)),
    ("2017-05-11", at(2017, 5, 11)),
    ("2017-05-11 13:23:02.250", at(2017, 5, 11, 13, 23, 2, 250000)),
    # ISO 8601
    ("2017-05-11T13:23:02", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11T13:23", at(2017, 5, 11, 13, 23)),
    ("2017-05-11T13:23:02Z", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11t13:23:02z", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11T13:23:02.5Z", at(2017, 5, 11, 13, 23, 2, 500000)),
    ("2017-05-11T13:23:02,25Z", at(2017, 5, 11, 13, 23, 2, 250000)),
    ("2017-05-11T13:23:02.123456789Z", at(2017, 5, 11, 13, 23, 2, 123456)),
    ("2017-05-11T21:23:02+08:00", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11T21:23:02+0800", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11T21:23:02+08", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11T08:23:02-05:00", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11T18:53:02+05:30", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11T13:23:02+00:00", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11T13:23:02-00:00", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11 21:23:02+08:00", at(2017, 5, 11, 13, 23, 2)),
    ("2017-05-11T21:23:02 08:00", at(2017, 5, 11, 13, 23, 2)),  # form-decoded '+'
    ("2017-05-11T21:23:02.75+08:00", at(2017, 5, 11, 13, 23, 2, 750000)),
    ("2017-05-11T00:30:00+08:00", at(2017, 5, 10, 16, 30)),
    ("2017-12-31T22:00:00-03:00", at(2018, 1, 1, 1, 0)),
    ("2016-02-29T00:00:00", at(2016, 2, 29)),
    # epoch milliseconds (UTC)
    ("1494508982000", at(2017, 5, 11, 13, 23, 2)),
    ("1494508982123", at(2017, 5, 11, 13, 23, 2, 123000)),
    ("0", at(1970, 1, 1)),
    ("2017", at(1970, 1, 1, 0, 0, 2, 17000)),
    # the reply format
    ("May 11, 2017 1:23:02 PM", at(2017, 5, 11, 13, 23, 2)),
    ("May 11, 2017 1:23:02 AM", at(2017, 5, 11, 1, 23, 2)),
    ("Jan 1, 2017 9:31:07 AM", at(2017, 1, 1, 9, 31, 7)),
    ("Dec 31, 2017 12:00:00 AM", at(2017, 12, 31, 0, 0)),
    ("Dec 31, 2017 12:59:59 PM", at(2017, 12, 31, 12, 59, 59)),
    ("may 11, 2017 1:23:02 pm", at(2017, 5, 11, 13, 23, 2)),
    ("Sep 1, 2017, 9:05:00 AM", at(2017, 9, 1, 9, 5)),
    ("Sept 1, 2017 9:05:00 AM", at(2017, 9, 1, 9, 5)),
    ("September 1, 2017 9:05:00 AM", at(2017, 9, 1, 9, 5)),
    ("Oct 09, 2017 11:05:00 PM", at(2017, 10, 9, 23, 5)),
    ("May 11, 2017 1:23:02\u202fPM", at(2017, 5, 11, 13, 23, 2)),
    ("May 11, 2017 1:23:02\u00a0PM", at(2017, 5, 11, 13, 23, 2)),
    ("May 11, 2017 1:23:02PM", at(2017, 5, 11, 13, 23, 2)),
]
TIMESTAMPS_BAD = [
    ("yesterday", "is not a time"), ("", "is not a time"), ("2017/05/11", "is not a time"),
    ("2017-5-11", "is not a time"), ("-1000", "is not a time"), ("1e12", "is not a time"),
    ("2017-05-11T13:23:02+8", "is not a time"), ("2017-05-11Z", "is not a time"),
    (" 2017-05-11", "is not a time"), ("2017-05-11 13", "is not a time"),
    ("2017-13-01", "not a valid date and time"), ("2017-02-30 00:00:00", "not a valid date"),
    ("2017-02-29", "not a valid date"), ("2017-05-11 24:00:00", "not a valid date"),
    ("2017-05-11 13:60:00", "not a valid date"), ("2017-05-11 13:23:60", "not a valid date"),
    ("0000-01-01", "not a valid date"),
    ("2017-05-11T13:23:02+24:00", "not a time zone offset"),
    ("2017-05-11T13:23:02+08:60", "not a time zone offset"),
    ("0001-01-01T00:00:00+01:00", "out of range"),
    ("9999-12-31T23:30:00-01:00", "out of range"),
    ("99999999999999999999", "out of range"), ("999999999999999", "out of range"),
    ("May 11, 2017 13:23:02 PM", "12-hour clock"), ("May 11, 2017 0:23:02 AM", "12-hour"),
    ("Foo 11, 2017 1:23:02 PM", "English month"), ("Mayo 11, 2017 1:23:02 PM", "English month"),
    ("May 32, 2017 1:23:02 PM", "not a valid date"), ("May 11, 2017 1:23 PM", "is not a time"),
    ("May 11 2017 1:23:02 PM", "is not a time"),
]


@pytest.mark.parametrize(("text", "expected"), TIMESTAMPS_OK)
def test_timestamp_accepts(text: str, expected: datetime) -> None:
    value = coerce_timestamp(text)
    assert value == expected and value.tzinfo is None


@pytest.mark.parametrize(("text", "message_part"), TIMESTAMPS_BAD)
def test_timestamp_refuses(text: str, message_part: str) -> None:
    with pytest.raises(BadValue, match=message_part) as caught:
        coerce_timestamp(text)
    assert caught.value.hint


CHOICES = ("Created", "Running", "Stopped")


@pytest.mark.parametrize(("text", "hint"), [
    ("running", "did you mean 'Running'?"), ("Runing", "did you mean 'Running'?"),
    ("RUNNING", "did you mean 'Running'?"), ("Running ", "did you mean 'Running'?"),
    ("zzz", None), ("", None),
])
def test_choice_refuses_with_list(text: str, hint: str | None) -> None:
    with pytest.raises(BadValue) as caught:
        coerce_choice(text, CHOICES)
    assert caught.value.hint == hint
    assert caught.value.expected == CHOICES
    assert "Created, Running, Stopped" in caught.value.message


@pytest.mark.parametrize("text", CHOICES)
def test_choice_accepts_exact_case(text: str) -> None:
    assert coerce_choice(text, CHOICES) == text


@pytest.mark.parametrize("text", ["", " a ", "a!=b", "%_\\", "名字", "null"])
def test_string_is_verbatim(text: str) -> None:
    assert coerce_string(text) == text
    assert coerce_value(Field("name", FieldType.STRING), text) == text


@pytest.mark.parametrize(("field", "text", "expected"), [
    (Field("n", INT), "5", 5), (Field("n", L), "-5", -5), (Field("n", S), "5", 5),
    (Field("n", F), "5", 5.0), (Field("n", D), "0.5", 0.5),
    (Field("b", FieldType.BOOLEAN), "FALSE", False),
    (Field("t", FieldType.TIMESTAMP), "2017-05-11", at(2017, 5, 11)),
    (Field("s", FieldType.STRING, choices=CHOICES), "Stopped", "Stopped"),
    (Field("s", FieldType.STRING), "stopped", "stopped"),
])
def test_coerce_value_dispatches_on_type(field: Field, text: str, expected: object) -> None:
    value = coerce_value(field, text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("field", "text"), [
    (Field("n", INT), "x"), (Field("n", D), "x"), (Field("b", FieldType.BOOLEAN), "x"),
    (Field("t", FieldType.TIMESTAMP), "x"),
    (Field("s", FieldType.STRING, choices=CHOICES), "x"),
])
def test_coerce_value_locates_the_error(field: Field, text: str) -> None:
    with pytest.raises(BadValue) as caught:
        coerce_value(field, text, param="q[3]", value=f"f={text}", start=2, end=3)
    err = caught.value
    assert (err.param, err.value, err.start, err.end) == ("q[3]", f"f={text}", 2, 3)
    assert err.to_dict()["error"]["opaque"]["zquery"]["param"] == "q[3]"


@pytest.mark.parametrize(("text", "offset", "spans"), [
    ("", 0, [(0, 0)]), ("a", 5, [(5, 6)]), ("a,b", 0, [(0, 1), (2, 3)]),
    (",", 0, [(0, 0), (1, 1)]), ("a\\,b,c", 0, [(0, 4), (5, 6)]),
    ("a\\\\,b", 0, [(0, 3), (4, 5)]), ("a\\x,b", 0, [(0, 3), (4, 5)]),
    ("a\\", 0, [(0, 2)]), ("ab,,cd", 10, [(10, 12), (13, 13), (14, 16)]),
])
def test_list_element_spans(text: str, offset: int, spans: list[tuple[int, int]]) -> None:
    assert list_element_spans(text, offset) == spans


# -- properties ---------------------------------------------------------------------------


@given(st.sampled_from([S, INT, L]), st.data())
def test_every_integer_in_range_round_trips(kind: FieldType, data: st.DataObject) -> None:
    low, high = INTEGER_RANGES[kind]
    number = data.draw(st.integers(low, high))
    assert coerce_integer(str(number), kind) == number


@given(st.sampled_from([S, INT, L]), st.integers(1, 2**70), st.booleans())
def test_every_integer_out_of_range_is_refused(kind: FieldType, past: int, low: bool) -> None:
    bound_low, bound_high = INTEGER_RANGES[kind]
    number = bound_low - past if low else bound_high + past
    with pytest.raises(BadValue, match="out of range"):
        coerce_integer(str(number), kind)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_double_round_trips(number: float) -> None:
    assert coerce_float(repr(number), D) == number


MOMENTS = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30))
OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timedelta(minutes=m))


@given(MOMENTS, OFFSETS)
def test_iso_with_any_offset_is_converted_to_utc(moment: datetime, offset: timedelta) -> None:
    local = (moment + offset).replace(tzinfo=timezone(offset))
    assert coerce_timestamp(local.isoformat()) == moment
    assert coerce_timestamp(local.isoformat(sep=" ")) == moment


@given(MOMENTS)
def test_every_format_reads_the_same_moment(moment: datetime) -> None:
    whole = moment.replace(microsecond=0)
    hour = whole.hour % 12 or 12
    reply = (f"{whole:%b} {whole.day}, {whole.year:04d} {hour}:{whole:%M:%S} "
             f"{'PM' if whole.hour >= 12 else 'AM'}")
    millis = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    epoch = (millis - datetime(1970, 1, 1)) // timedelta(milliseconds=1)
    assert coerce_timestamp(f"{whole.year:04d}-{whole:%m-%d %H:%M:%S}") == whole
    assert coerce_timestamp(reply) == whole
    assert coerce_timestamp(str(epoch)) == millis
    assert coerce_timestamp(moment.isoformat() + "Z") == moment

"""Request parsing: every parameter, every error code with its param and span, every input form."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import QueryParams

from zquery.ast import DEFAULT_LIMIT, Operator, QueryRequest, Span
from zquery.errors import (
    AmbiguousSort,
    BadParameter,
    DuplicateParameter,
    LimitTooLarge,
    SyntaxProblem,
    TooLong,
    TooManyConditions,
    TooManyListElements,
    UnknownParameter,
    ZQueryError,
)
from zquery.limits import Limits
from zquery.request import KNOWN_PARAMETERS, parse_request, parse_request_error


def conditions(req: QueryRequest) -> list[tuple[str, str, str, str | None]]:
    return [(c.param, c.path.dotted, c.op.symbol, c.value) for c in req.conditions]


def sort_keys(req: QueryRequest) -> list[tuple[str, bool, str]]:
    return [(k.field.path.dotted, k.descending, k.field.param) for k in req.sort]


def names(refs: Any) -> list[tuple[str, str]]:
    return [(ref.path.dotted, ref.param) for ref in refs]


# -- conditions and form decoding: (query, [(param, path, op, value)]) -----------------------

CONDITION_CASES: list[tuple[Any, list[tuple[str, str, str, str | None]]]] = [
    ("q=name=vm1&q=state=Running",
     [("q[0]", "name", "=", "vm1"), ("q[1]", "state", "=", "Running")]),
    ("?q=name=vm1", [("q[0]", "name", "=", "vm1")]),
    ("q=a=1&condition=b=2&q=c=3",
     [("q[0]", "a", "=", "1"), ("q[1]", "b", "=", "2"), ("q[2]", "c", "=", "3")]),
    ("q=name%3Dvm%201", [("q[0]", "name", "=", "vm 1")]),
    ("q=name=a+b", [("q[0]", "name", "=", "a b")]),
    ("q=name=a%2Bb", [("q[0]", "name", "=", "a+b")]),
    ("q=name=%E8%99%9A%E6%8B%9F%E6%9C%BA", [("q[0]", "name", "=", "虚拟机")]),
    ("q=name=%zz%", [("q[0]", "name", "=", "%zz%")]),
    ("q=name=%ff", [("q[0]", "name", "=", "\ufffd")]),
    ("q=name=%00", [("q[0]", "name", "=", "\x00")]),
    ("q=name~=vm%25", [("q[0]", "name", "~=", "vm%")]),
    ("q=name+is+null", [("q[0]", "name", "is null", None)]),
    ("q=name=null&q=x!=null", [("q[0]", "name", "is null", None),
                               ("q[1]", "x", "not null", None)]),
    ("q=a=b=c&q=d!=e", [("q[0]", "a", "=", "b=c"), ("q[1]", "d", "!=", "e")]),
    ("&&q=a=1&", [("q[0]", "a", "=", "1")]),
    ("", []),
    ({"q": ["a=1", "b=2"], "condition": "c=3"},
     [("q[0]", "a", "=", "1"), ("q[1]", "b", "=", "2"), ("q[2]", "c", "=", "3")]),
    ({"q": "a=1"}, [("q[0]", "a", "=", "1")]),
    ({"q": ("a=1",)}, [("q[0]", "a", "=", "1")]),
    ({"q": []}, []),
    ([("q", "a=1"), ("limit", "5"), ("q", "b=c+d")],
     [("q[0]", "a", "=", "1"), ("q[1]", "b", "=", "c+d")]),
    ((("q", "a=1"), ["q", "b=2"]), [("q[0]", "a", "=", "1"), ("q[1]", "b", "=", "2")]),
    (QueryParams("q=a=1&q=b=2"), [("q[0]", "a", "=", "1"), ("q[1]", "b", "=", "2")]),
]


@pytest.mark.parametrize(("query", "expected"), CONDITION_CASES)
def test_conditions_and_decoding(query: Any, expected: list[Any]) -> None:
    assert conditions(parse_request(query)) == expected


def test_pairs_are_not_form_decoded() -> None:
    # Pairs and mappings are already decoded: a '+' stays a plus.
    err = parse_request_error([("q", "a=1"), ("limit", "5"), ("q", "b+c=d")])
    assert isinstance(err, SyntaxProblem)
    assert (err.param, err.start, err.end) == ("q[1]", 1, 2)
    assert conditions(parse_request([("q", "name=a+b")])) == [("q[0]", "name", "=", "a+b")]


def test_modes_reach_the_conditions() -> None:
    err = parse_request_error("q=uuid+=+x")
    assert isinstance(err, SyntaxProblem)
    assert (err.param, err.start, err.end, err.hint) == (
        "q[0]", 4, 7, "remove the spaces around '='")
    assert conditions(parse_request("q=uuid+=+x", mode="compat")) == [
        ("q[0]", "uuid", "=", " x")]


def test_condition_spans_are_inside_the_decoded_value() -> None:
    (cond,) = parse_request("q=vmNics.ip%3F%3D1,2").conditions
    assert (cond.op, cond.items, cond.text) == (Operator.IN, ("1", "2"), "vmNics.ip?=1,2")
    assert cond.op_span == Span(9, 11)


# -- paging and counting: (query, limit, limit_given, start, start_given, count, with count) --

PAGING_CASES: list[tuple[Any, int, bool, int, bool, bool, bool]] = [
    ("", DEFAULT_LIMIT, False, 0, False, False, False),
    ("limit=10", 10, True, 0, False, False, False),
    ("limit=0", 0, True, 0, False, False, False),
    ("limit=00020&start=007", 20, True, 7, True, False, False),
    ("start=0", DEFAULT_LIMIT, False, 0, True, False, False),
    ("limit=9223372036854775807", 2**63 - 1, True, 0, False, False, False),
    ("count=true", DEFAULT_LIMIT, False, 0, False, True, False),
    ("count=TRUE&replyWithCount=True", DEFAULT_LIMIT, False, 0, False, True, True),
    ("count=false&replyWithCount=fAlSe", DEFAULT_LIMIT, False, 0, False, False, False),
    ("start=0&limit=100&replyWithCount=true", 100, True, 0, True, False, True),
    ({"limit": "3", "start": ["4"]}, 3, True, 4, True, False, False),
]


@pytest.mark.parametrize(
    ("query", "limit", "limit_given", "start", "start_given", "count", "reply_with_count"),
    PAGING_CASES)
def test_paging_and_counting(query: Any, limit: int, limit_given: bool, start: int,
                             start_given: bool, count: bool, reply_with_count: bool) -> None:
    req = parse_request(query)
    assert (req.limit, req.limit_given, req.start, req.start_given, req.count,
            req.reply_with_count) == (limit, limit_given, start, start_given, count,
                                      reply_with_count)
    assert req.paged == (limit_given or start_given)


# -- sorting: (query, [(path, descending, param)]) ------------------------------------------

SORT_CASES: list[tuple[Any, list[tuple[str, bool, str]]]] = [
    ("sort=name", [("name", False, "sort")]),
    ("sort=-name", [("name", True, "sort")]),
    ("sort=%2Bname", [("name", False, "sort")]),
    ("sort=+name", [("name", False, "sort")]),  # form decoding: "+" → " " → ascending
    ({"sort": " name"}, [("name", False, "sort")]),
    ({"sort": "+name"}, [("name", False, "sort")]),
    ("sort=-createDate,name,+zone.name",
     [("createDate", True, "sort"), ("name", False, "sort"), ("zone.name", False, "sort")]),
    ("sortBy=name", [("name", False, "sortBy")]),
    ("sortBy=zone.name&sortDirection=DESC", [("zone.name", True, "sortBy")]),
    ("sortDirection=asc&sortBy=name", [("name", False, "sortBy")]),
    ("", []),
]


@pytest.mark.parametrize(("query", "expected"), SORT_CASES)
def test_sort(query: Any, expected: list[tuple[str, bool, str]]) -> None:
    assert sort_keys(parse_request(query)) == expected


def test_sort_key_spans_point_into_the_value() -> None:
    req = parse_request({"sort": "-a,zone.name"})
    first, second = req.sort
    assert first.field.path.span == Span(1, 2)
    assert second.field.path.segment_spans == (Span(3, 7), Span(8, 12))
    assert first.field.text == second.field.text == "-a,zone.name"


# -- fields and groupBy: (query, fields, groupBy) --------------------------------------------

FIELD_CASES: list[tuple[Any, list[tuple[str, str]], list[tuple[str, str]]]] = [
    ("fields=uuid", [("uuid", "fields")], []),
    ("fields=uuid,name", [("uuid", "fields"), ("name", "fields")], []),
    ("fields=uuid&fields=name,state",
     [("uuid", "fields[0]"), ("name", "fields[1]"), ("state", "fields[1]")], []),
    ({"fields": ["uuid", "name"]}, [("uuid", "fields[0]"), ("name", "fields[1]")], []),
    ("groupBy=state", [], [("state", "groupBy")]),
    ("groupBy=state,zoneUuid", [], [("state", "groupBy"), ("zoneUuid", "groupBy")]),
    ("fields=__systemTag__", [("__systemTag__", "fields")], []),
    ("timeout=30&fields=uuid", [("uuid", "fields")], []),
]


@pytest.mark.parametrize(("query", "fields", "group_by"), FIELD_CASES)
def test_fields_and_group_by(query: Any, fields: list[tuple[str, str]],
                             group_by: list[tuple[str, str]]) -> None:
    req = parse_request(query)
    assert (names(req.fields), names(req.group_by)) == (fields, group_by)


# -- leniency ---------------------------------------------------------------------------------

LENIENT_CASES = [
    "foo=1&q=a=1",
    "q=a=1&Limit=5",
    "q=a=1&=x",
]


@pytest.mark.parametrize("query", LENIENT_CASES)
def test_lenient_ignores_unknown_names(query: str) -> None:
    assert conditions(parse_request(query, lenient=True)) == [("q[0]", "a", "=", "1")]
    assert isinstance(parse_request_error(query), UnknownParameter)


# -- errors: (query, options, class, param, start, end, message part, hint part) -------------

ERROR_CASES: list[tuple[Any, dict[str, Any], type[ZQueryError], str, int | None, int | None,
                        str, str]] = [
    # request.syntax
    ("q=a=1&q=name", {}, SyntaxProblem, "q[1]", 4, 4, "missing operator", "name is null"),
    ("q=", {}, SyntaxProblem, "q[0]", 0, 0, "empty condition", "name=vm1"),
    ("condition=1a=b", {}, SyntaxProblem, "q[0]", 0, 2, "field name", "letter"),
    # request.unknown_parameter
    ("limt=5", {}, UnknownParameter, "limt", 0, 4, "unknown parameter 'limt'",
     "did you mean 'limit'?"),
    ("LIMIT=5", {}, UnknownParameter, "LIMIT", 0, 5, "unknown", "did you mean 'limit'?"),
    ("sortby=name", {}, UnknownParameter, "sortby", 0, 6, "unknown", "'sortBy'"),
    ("replywithcount=true", {}, UnknownParameter, "replywithcount", 0, 14, "unknown",
     "'replyWithCount'"),
    ("zzz=1", {}, UnknownParameter, "zzz", 0, 3, "unknown parameter 'zzz'", "known parameters"),
    ("=x", {}, UnknownParameter, "", 0, 0, "unknown parameter ''", "known parameters"),
    # request.duplicate_parameter
    ("limit=1&limit=2", {}, DuplicateParameter, "limit", 0, 1, "more than once", "'1'"),
    ({"start": ["1", "2"]}, {}, DuplicateParameter, "start", 0, 1, "'start'", "once"),
    ("sort=a&sort=b", {}, DuplicateParameter, "sort", 0, 1, "'sort'", "once"),
    ("groupBy=a&groupBy=b", {}, DuplicateParameter, "groupBy", 0, 1, "'groupBy'", "once"),
    ("count=true&count=true", {}, DuplicateParameter, "count", 0, 4, "'count'", "once"),
    # request.bad_parameter
    ("limit=-1", {}, BadParameter, "limit", 0, 1, "non-negative integer", "plain digits"),
    ("limit=20.0", {}, BadParameter, "limit", 2, 3, "'20.0'", "plain digits"),
    ("limit=+5", {}, BadParameter, "limit", 0, 1, "' 5'", "'+' in a query string"),
    ("limit=", {}, BadParameter, "limit", 0, 0, "non-negative integer", "limit=100"),
    ("start=abc", {}, BadParameter, "start", 0, 1, "'start'", "start=100"),
    ("start=١٢", {}, BadParameter, "start", 0, 1, "'start'", "plain digits"),
    ("limit=9223372036854775808", {}, BadParameter, "limit", 0, 19, "too large",
     "9223372036854775807"),
    ("limit=" + "9" * 5000, {}, BadParameter, "limit", 0, 5000, "too large", "up to"),
    ("count=yes", {}, BadParameter, "count", 0, 3, "true or false", "count=true"),
    ("replyWithCount=1", {}, BadParameter, "replyWithCount", 0, 1, "true or false",
     "replyWithCount=false"),
    ("sortBy=a&sortDirection=up", {}, BadParameter, "sortDirection", 0, 2, "asc or desc",
     "desc"),
    ("sort=", {}, BadParameter, "sort", 0, 0, "empty field name", "letter"),
    ("sort=-", {}, BadParameter, "sort", 1, 1, "empty field name", "letter"),
    ("sort=a,,b", {}, BadParameter, "sort", 2, 2, "empty field name", "letter"),
    ("sort=na%20me", {}, BadParameter, "sort", 2, 3, "unexpected ' '", "letter"),
    ("sort=--a", {}, BadParameter, "sort", 1, 2, "found '-'", "letter"),
    ("sort=a.", {}, BadParameter, "sort", 2, 2, "found the end", "letter"),
    ("sort=a..b", {}, BadParameter, "sort", 2, 3, "found '.'", "letter"),
    ("sortBy=", {}, BadParameter, "sortBy", 0, 0, "empty field name", "letter"),
    ("sortBy=-name", {}, BadParameter, "sortBy", 0, 1, "found '-'", "letter"),
    ("fields=vmNics.ip", {}, BadParameter, "fields", 0, 9, "native fields only",
     "only native fields"),
    ("fields=uuid&fields=a,zone.name", {}, BadParameter, "fields[1]", 2, 11, "native fields",
     "only native fields"),
    ("fields=a,,b", {}, BadParameter, "fields", 2, 2, "empty field name", "letter"),
    ("fields=", {}, BadParameter, "fields", 0, 0, "empty field name", "letter"),
    ("fields=1a", {}, BadParameter, "fields", 0, 1, "found '1'", "letter"),
    ("fields=a%20b", {}, BadParameter, "fields", 1, 2, "unexpected ' '", "letter"),
    ("groupBy=a.b", {}, BadParameter, "groupBy", 0, 3, "native fields only", "native"),
    ("groupBy=a,", {}, BadParameter, "groupBy", 2, 2, "empty field name", "letter"),
    (5, {}, BadParameter, "query", None, None, "not int", "q=name=vm1"),
    (None, {}, BadParameter, "query", None, None, "not NoneType", "q=name=vm1"),
    (b"q=a=1", {}, BadParameter, "query", None, None, "not bytes", "decode bytes"),
    ([("q",)], {}, BadParameter, "query", None, None, "(name, value) pair", "('q', "),
    (["q=a"], {}, BadParameter, "query", None, None, "(name, value) pair", "pairs"),
    ({"q": 5}, {}, BadParameter, "q", None, None, "must be text, not int", "list of str"),
    ({"q": [None]}, {}, BadParameter, "q", None, None, "not NoneType", "str"),
    ({3: "x"}, {}, BadParameter, "query", None, None, "name must be text", "decode"),
    ("q=a=1", {"mode": "lax"}, BadParameter, "mode", None, None, "unknown parse mode",
     "'compat'"),
    # request.ambiguous_sort
    ("sort=a&sortBy=b", {}, AmbiguousSort, "sortBy", 0, 1, "both", "either"),
    ("sortDirection=desc", {}, AmbiguousSort, "sortDirection", 0, 4, "without 'sortBy'",
     "sortBy=<field>"),
    ("sort=a&sortDirection=desc", {}, AmbiguousSort, "sortDirection", 0, 4, "without",
     "sort=-<field>"),
    # limit.*
    ("q=a=1&q=b=2&q=c=3", {"limits": Limits(max_conditions=2)}, TooManyConditions, "q[2]",
     0, 3, "3 conditions, more than max_conditions=2", "max_conditions"),
    ("q=a?=1,2,3", {"limits": Limits(max_list_elements=2)}, TooManyListElements, "q[0]", 7, 8,
     "max_list_elements=2", "max_list_elements"),
    ("q=a=" + "x" * 70_000, {}, TooLong, "q[0]", 65_536, 70_002, "max_value_length=65536",
     "max_value_length"),
    ("sort=" + "a" * 20, {"limits": Limits(max_value_length=10)}, TooLong, "sort", 10, 20,
     "value of 'sort'", "max_value_length"),
    ("fields=abcdef", {"limits": Limits(max_value_length=5)}, TooLong, "fields", 5, 6,
     "value of 'fields'", "(now 5)"),
    ("limit=11", {"limits": Limits(max_limit=10)}, LimitTooLarge, "limit", 0, 2,
     "maximum 10", "page with 'start'"),
]


@pytest.mark.parametrize(("query", "options", "error", "param", "start", "end", "message",
                          "hint"), ERROR_CASES)
def test_errors(query: Any, options: dict[str, Any], error: type[ZQueryError], param: str,
                start: int | None, end: int | None, message: str, hint: str) -> None:
    err = parse_request_error(query, **options)
    assert type(err) is error
    assert (err.param, err.start, err.end) == (param, start, end)
    assert message in err.message
    assert err.hint is not None
    assert hint in err.hint
    body = err.to_dict()["error"]
    assert body["code"] == "SYS.1007"
    assert body["opaque"]["zquery"]["code"] == error.code


def test_limit_at_the_maximum_is_fine() -> None:
    assert parse_request("limit=10", limits=Limits(max_limit=10)).limit == 10
    assert len(parse_request("q=a=1&q=b=2", limits=Limits(max_conditions=2)).conditions) == 2


def test_unknown_parameter_lists_the_known_ones() -> None:
    err = parse_request_error("bogus=1")
    assert err.expected == KNOWN_PARAMETERS
    assert "timeout" in err.expected


def test_very_long_unknown_name_is_shortened() -> None:
    err = parse_request_error("x" * 10_000 + "=1")
    assert isinstance(err, UnknownParameter)
    assert err.param is not None
    assert len(err.param) == 67
    assert err.param.endswith("...")


def test_parse_request_error_refuses_valid_query() -> None:
    with pytest.raises(BadParameter, match="without error"):
        parse_request_error("q=a=1")

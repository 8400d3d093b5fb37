"""Condition parsing: every operator, null form, escape, space rule, syntax error and limit."""

from __future__ import annotations

from typing import Any

import pytest

from zquery.ast import Operator, Span
from zquery.errors import BadParameter, SyntaxProblem, TooLong, TooManyListElements
from zquery.grammar import GRAMMAR_FILE, build_parser, grammar_text, tree_parser
from zquery.limits import Limits
from zquery.parse import SEGMENT_RE, parse_condition, parse_condition_error, split_list_value

OPS = ("=", "!=", ">", "<", ">=", "<=", "?=", "!?=", "~=", "!~=")
AFTER_SEGMENT = (".", *OPS, "is null", "is not null", "not null")
AFTER_SPACES = (*OPS, "is null", "is not null", "not null")

# -- every operator: (symbol, operator, value, items) on "name<op>v1" ------------------------

OPERATOR_CASES = [
    ("=", Operator.EQ, None),
    ("!=", Operator.NE, None),
    (">", Operator.GT, None),
    ("<", Operator.LT, None),
    (">=", Operator.GE, None),
    ("<=", Operator.LE, None),
    ("?=", Operator.IN, ("v1",)),
    ("!?=", Operator.NOT_IN, ("v1",)),
    ("~=", Operator.LIKE, None),
    ("!~=", Operator.NOT_LIKE, None),
]


@pytest.mark.parametrize(("symbol", "op", "items"), OPERATOR_CASES)
def test_every_operator(symbol: str, op: Operator, items: tuple[str, ...] | None) -> None:
    text = f"name{symbol}v1"
    cond = parse_condition(text, param="q[3]")
    end_op = 4 + len(symbol)
    assert (cond.path.segments, cond.op, cond.value, cond.items) == (("name",), op, "v1", items)
    assert cond.op_span == Span(4, end_op)
    assert cond.value_span == Span(end_op, end_op + 2)
    assert cond.span == Span(0, len(text))
    assert (cond.param, cond.text) == ("q[3]", text)


# -- null tests: (text, operator, op_span, end of the path) ----------------------------------

NULL_CASES = [
    ("name is null", Operator.IS_NULL, Span(5, 12), 4),
    ("name not null", Operator.NOT_NULL, Span(5, 13), 4),
    ("name is not null", Operator.NOT_NULL, Span(5, 16), 4),
    ("name=null", Operator.IS_NULL, Span(4, 9), 4),
    ("name!=null", Operator.NOT_NULL, Span(4, 10), 4),
    ("vmNics.l3Network.name is null", Operator.IS_NULL, Span(22, 29), 21),
    ("__systemTag__ not null", Operator.NOT_NULL, Span(14, 22), 13),
    ("zone.uuid!=null", Operator.NOT_NULL, Span(9, 15), 9),
]


@pytest.mark.parametrize(("text", "op", "op_span", "path_end"), NULL_CASES)
def test_null_forms(text: str, op: Operator, op_span: Span, path_end: int) -> None:
    cond = parse_condition(text)
    assert (cond.op, cond.value, cond.items, cond.value_span) == (op, None, None, None)
    assert cond.op_span == op_span
    assert cond.path.span == Span(0, path_end)
    assert cond.span == Span(0, len(text))


# -- what the value is: first operator wins, verbatim values, null only when exact -----------

VALUE_CASES = [
    ("name=a!=b", Operator.EQ, "a!=b"),
    ("a!=b=c", Operator.NE, "b=c"),
    ("x>=<", Operator.GE, "<"),
    ("x<=>", Operator.LE, ">"),
    ("x=>", Operator.EQ, ">"),
    ("x<>1", Operator.LT, ">1"),
    ("x~==", Operator.LIKE, "="),
    ("x!~=%a", Operator.NOT_LIKE, "%a"),
    ("x==", Operator.EQ, "="),
    ("x=nullx", Operator.EQ, "nullx"),
    ("x=null ", Operator.EQ, "null "),
    ("x= null", Operator.EQ, " null"),
    ("x=NULL", Operator.EQ, "NULL"),
    ("x!=Null", Operator.NE, "Null"),
    ("x>null", Operator.GT, "null"),
    ("x~=null", Operator.LIKE, "null"),
    ("name=", Operator.EQ, ""),
    ("name!=", Operator.NE, ""),
    ("name~=", Operator.LIKE, ""),
    ("name>", Operator.GT, ""),
    ("name=虚拟机-1", Operator.EQ, "虚拟机-1"),
    ("name=😀 x=y", Operator.EQ, "😀 x=y"),
    ("name=a\nb\r\n", Operator.EQ, "a\nb\r\n"),
    ("name=\x00\x01", Operator.EQ, "\x00\x01"),
    ("name= x", Operator.EQ, " x"),
    ("name=a b  ", Operator.EQ, "a b  "),
    (r"name~=50\%", Operator.LIKE, r"50\%"),
    (r"name!~=a\_b\\c\d", Operator.NOT_LIKE, r"a\_b\\c\d"),
    ("x?=a,b=c", Operator.IN, "a,b=c"),
    ("createDate>=2017-05-11 13:23:02", Operator.GE, "2017-05-11 13:23:02"),
]


@pytest.mark.parametrize(("text", "op", "value"), VALUE_CASES)
def test_value_is_everything_after_the_first_operator(text: str, op: Operator,
                                                      value: str) -> None:
    cond = parse_condition(text)
    assert (cond.op, cond.value) == (op, value)
    assert cond.value_span is not None
    assert text[cond.value_span.start:cond.value_span.end] == value
    assert cond.value_span.end == len(text)


# -- ?= / !?= element lists ----------------------------------------------------------------

LIST_CASES = [
    ("x?=a,b", ("a", "b")),
    ("x!?=VM1,VM2", ("VM1", "VM2")),
    (r"x?=a\,b", ("a,b",)),
    (r"x?=a\\,b", ("a\\", "b")),
    (r"x?=a\\\,b", ("a\\,b",)),
    (r"x?=a\b", ("a\\b",)),
    ("x?=a\\", ("a\\",)),
    (r"x?=\\\\", ("\\\\",)),
    ("x?=", ("",)),
    ("x?=,", ("", "")),
    ("x?= a , b ", (" a ", " b ")),
    ("x?=null", ("null",)),
    ("x?=,,a,", ("", "", "a", "")),
    ("x?=甲,乙", ("甲", "乙")),
    (r"x?=%,\%", ("%", r"\%")),
]


@pytest.mark.parametrize(("text", "items"), LIST_CASES)
def test_list_elements(text: str, items: tuple[str, ...]) -> None:
    cond = parse_condition(text)
    assert cond.items == items
    assert cond.value == text[text.index("=") + 1:]


SPLIT_CASES = [
    ("", ("",), (0,)),
    ("a,bc,", ("a", "bc", ""), (0, 2, 5)),
    (r"a\,b,c", ("a,b", "c"), (0, 5)),
    (r"\\,x", ("\\", "x"), (0, 3)),
]


@pytest.mark.parametrize(("value", "items", "starts"), SPLIT_CASES)
def test_split_list_value_offsets(value: str, items: tuple[str, ...],
                                  starts: tuple[int, ...]) -> None:
    assert split_list_value(value) == (items, starts)


# -- the manual's printed examples (chapter 2.9) --------------------------------------------

MANUAL_CASES = [
    ("uuid=bfa67f956afb430890aa49db14b85153", "uuid", Operator.EQ,
     "bfa67f956afb430890aa49db14b85153", None),
    ("totalCapacity>2000", "totalCapacity", Operator.GT, "2000", None),
    ("vmInstanceUuid not null", "vmInstanceUuid", Operator.NOT_NULL, None, None),
    ("vmInstanceUuid=c4981689088b40f98d2ade2548c323da", "vmInstanceUuid", Operator.EQ,
     "c4981689088b40f98d2ade2548c323da", None),
    ("vmInstanceUuid!=c4981689088b40f98d2ade2548c323da", "vmInstanceUuid", Operator.NE,
     "c4981689088b40f98d2ade2548c323da", None),
    ("uuid?=25506342d1384c07b7342373a57475b9,bc58d68090ac42358c0cb0fe72e3287f", "uuid",
     Operator.IN, "25506342d1384c07b7342373a57475b9,bc58d68090ac42358c0cb0fe72e3287f",
     ("25506342d1384c07b7342373a57475b9", "bc58d68090ac42358c0cb0fe72e3287f")),
    ("name!?=VM1,VM2", "name", Operator.NOT_IN, "VM1,VM2", ("VM1", "VM2")),
    ("name~=IntelCore%", "name", Operator.LIKE, "IntelCore%", None),
    ("name~=IntelCore_7", "name", Operator.LIKE, "IntelCore_7", None),
    ("name=null", "name", Operator.IS_NULL, None, None),
    ("name!=null", "name", Operator.NOT_NULL, None, None),
    ("vmNics.eip.ip=192.168.0.100", "vmNics.eip.ip", Operator.EQ, "192.168.0.100", None),
    ("vmNics.ip=192.168.10.100", "vmNics.ip", Operator.EQ, "192.168.10.100", None),
    ("host.managementIp=10.10.20.3", "host.managementIp", Operator.EQ, "10.10.20.3", None),
    ("cpuNum>5", "cpuNum", Operator.GT, "5", None),
    ("state=Running", "state", Operator.EQ, "Running", None),
]


@pytest.mark.parametrize(("text", "path", "op", "value", "items"), MANUAL_CASES)
def test_manual_examples(text: str, path: str, op: Operator, value: str | None,
                         items: tuple[str, ...] | None) -> None:
    cond = parse_condition(text)
    assert (cond.path.dotted, cond.op, cond.value, cond.items) == (path, op, value, items)


def test_path_segment_spans() -> None:
    cond = parse_condition("vmNics.l3Network.__userTag__=x")
    assert cond.path.segments == ("vmNics", "l3Network", "__userTag__")
    assert cond.path.segment_spans == (Span(0, 6), Span(7, 16), Span(17, 28))
    assert cond.path.span == Span(0, 28)


# -- spaces: strict refuses them around operators, compat trims the path ---------------------

# (text, strict error span or None when strict accepts, compat (path, op, value))
SPACE_CASES: list[tuple[str, tuple[int, int] | None, tuple[str, Operator, str | None]]] = [
    ("uuid = x", (4, 7), ("uuid", Operator.EQ, " x")),
    ("uuid =x", (4, 6), ("uuid", Operator.EQ, "x")),
    ("uuid  !?=  a,b", (4, 11), ("uuid", Operator.NOT_IN, "  a,b")),
    ("uuid= x", None, ("uuid", Operator.EQ, " x")),
    (" uuid=x", (0, 1), ("uuid", Operator.EQ, "x")),
    ("\tuuid =x ", (0, 1), ("uuid", Operator.EQ, "x ")),
    ("name =null", (4, 6), ("name", Operator.IS_NULL, None)),
    ("name = null", (4, 7), ("name", Operator.EQ, " null")),
    ("name  is null", (4, 6), ("name", Operator.IS_NULL, None)),
    ("name is  null", (7, 9), ("name", Operator.IS_NULL, None)),
    ("name is not\tnull", (11, 12), ("name", Operator.NOT_NULL, None)),
    ("name\tnot null", (4, 5), ("name", Operator.NOT_NULL, None)),
    ("name is null ", (12, 13), ("name", Operator.IS_NULL, None)),
    ("  a.b  not   null  ", (0, 2), ("a.b", Operator.NOT_NULL, None)),
    ("name is null", None, ("name", Operator.IS_NULL, None)),
]


@pytest.mark.parametrize(("text", "strict_span", "compat"), SPACE_CASES)
def test_spaces_strict_and_compat(text: str, strict_span: tuple[int, int] | None,
                                  compat: tuple[str, Operator, str | None]) -> None:
    cond = parse_condition(text, mode="compat")
    assert (cond.path.dotted, cond.op, cond.value) == compat
    assert text[cond.path.span.start:cond.path.span.end] == compat[0]
    if strict_span is None:
        strict = parse_condition(text, mode="strict")
        assert (strict.path.dotted, strict.op, strict.value) == compat
        return
    err = parse_condition_error(text, mode="strict", param="q[1]")
    assert isinstance(err, SyntaxProblem)
    assert (err.param, err.value, err.start, err.end) == ("q[1]", text, *strict_span)
    assert err.hint is not None
    assert "remove" in err.hint or "write" in err.hint


SPACE_HINTS = [
    ("uuid = x", "spaces around the operator '='", "remove the spaces around '='"),
    ("uuid !?=x", "spaces around the operator '!?='", "remove the spaces around '!?='"),
    ("name  =null", "spaces around the operator '='", "remove the spaces around '='"),
    (" uuid=x", "spaces before the field name", "remove the spaces before 'uuid'"),
    ("a.b  is not null", "single spaces", "write 'a.b is not null'"),
    ("a not null  ", "spaces after the null test", "remove the trailing spaces: 'a not null'"),
]


@pytest.mark.parametrize(("text", "message", "hint"), SPACE_HINTS)
def test_space_messages(text: str, message: str, hint: str) -> None:
    err = parse_condition_error(text)
    assert message in err.message
    assert err.hint == hint


# -- syntax errors: exact span, expected names and hint -------------------------------------

NAME_HINT = "a field name starts with a letter or '_' and has only letters, digits and '_'"
NULL_HINT = "a null test is written 'name is null', 'name is not null' or 'name not null'"

# (text, start, end, expected, message fragment, hint fragment)
SYNTAX_CASES: list[tuple[str, int, int, tuple[str, ...], str, str]] = [
    ("", 0, 0, ("field name",), "empty condition", "name=vm1"),
    ("   ", 0, 3, ("field name",), "empty condition", "name=vm1"),
    ("name", 4, 4, AFTER_SEGMENT, "missing operator after 'name'", "'name is null'"),
    ("vmNics.ip", 9, 9, AFTER_SEGMENT, "missing operator after 'vmNics.ip'", "!~="),
    ("na-me=x", 2, 3, AFTER_SEGMENT, "unexpected '-' in the field name 'na'", NAME_HINT),
    ("name.=x", 5, 6, ("field name",), "expected a field name after 'name.'", NAME_HINT),
    ("a..b=c", 2, 3, ("field name",), "after 'a.', found '.'", NAME_HINT),
    ("a.b.", 4, 4, ("field name",), "after 'a.b.', found the end", NAME_HINT),
    (".a=b", 0, 1, ("field name",), "starts with a field name, found '.'", NAME_HINT),
    ("1a=b", 0, 2, ("field name",), "found '1a'", NAME_HINT),
    ("=x", 0, 1, ("field name",), "found '='", NAME_HINT),
    ("名=x", 0, 1, ("field name",), "found '名'", NAME_HINT),
    ("a\x00=b", 1, 2, AFTER_SEGMENT, "expected an operator after 'a', found '\\x00'", "!?="),
    ("name:=x", 4, 5, AFTER_SEGMENT, "unexpected ':' in the field name", NAME_HINT),
    ("name==", 6, 6, (), "", ""),  # valid: EQ with value "=" (checked below as no error)
    ("name foo", 5, 8, AFTER_SPACES, "expected an operator or a null test after 'name'",
     NULL_HINT),
    ("name ~ x", 5, 6, AFTER_SPACES, "found '~'", "comparisons take no spaces: 'name=value'"),
    ("a b=c", 2, 3, AFTER_SPACES, "after 'a', found 'b'", NULL_HINT),
    ("name is nul", 8, 11, ("not", "null"), "incomplete null test, found 'nul'", NULL_HINT),
    ("name is", 7, 7, ("space",), "incomplete null test, found the end", NULL_HINT),
    ("name isnull", 7, 11, ("space",), "incomplete null test", NULL_HINT),
    ("name not", 8, 8, ("space",), "incomplete null test", NULL_HINT),
    ("name is not nil", 12, 15, ("null",), "found 'nil'", NULL_HINT),
    ("name IS NULL", 5, 7, AFTER_SPACES, "found 'IS'", NULL_HINT),
    ("name is null x", 13, 14, ("end of condition",), "unexpected 'x' after the null test",
     "nothing may follow a null test"),
    ("name not null=1", 13, 14, ("end of condition",), "after the null test", "'='"),
]


@pytest.mark.parametrize(("text", "start", "end", "expected", "message", "hint"),
                         SYNTAX_CASES)
@pytest.mark.parametrize("mode", ["strict", "compat"])
def test_syntax_errors(text: str, start: int, end: int, expected: tuple[str, ...],
                       message: str, hint: str, mode: str) -> None:
    if not expected:
        assert parse_condition(text, mode=mode).value == "="
        return
    err = parse_condition_error(text, param="q[2]", mode=mode)
    assert type(err) is SyntaxProblem
    assert (err.param, err.value, err.start, err.end) == ("q[2]", text, start, end)
    assert err.expected == expected
    assert message in err.message
    assert err.hint is not None
    assert hint in err.hint
    assert err.to_dict()["error"]["opaque"]["zquery"]["code"] == "request.syntax"


CARET_CASES = [
    ("uuid = x", "spaces around the operator '=' (q[0])\n"
                 "  uuid = x\n"
                 "      ^^^\n"
                 "hint: remove the spaces around '='"),
    ("name.=x", "expected a field name after 'name.', found '=' (q[0])\n"
                "  name.=x\n"
                "       ^\n"
                "expected: field name\n"
                f"hint: {NAME_HINT}"),
    ("name", "missing operator after 'name' (q[0])\n"
             "  name\n"
             "      ^\n"
             "expected: ., =, !=, >, <, >=, <=, ?=, !?=, ~=, !~=, is null, is not null, "
             "not null\n"
             "hint: write the operator right after the field name: = != > < >= <= ?= !?= ~= "
             "!~=, e.g. 'name=vm1', or a null test such as 'name is null'"),
    ("name is nul", "incomplete null test, found 'nul' (q[0])\n"
                    "  name is nul\n"
                    "          ^^^\n"
                    "expected: not, null\n"
                    f"hint: {NULL_HINT}"),
]


@pytest.mark.parametrize(("text", "rendered"), CARET_CASES)
def test_error_text_has_a_caret_line(text: str, rendered: str) -> None:
    assert str(parse_condition_error(text)) == rendered


# -- limits ---------------------------------------------------------------------------------

# (text, limits, error class or None, start, end)
LIMIT_CASES: list[tuple[str, Limits, type[Exception] | None, int, int]] = [
    ("name=12345", Limits(max_value_length=10), None, 0, 0),
    ("name=123456", Limits(max_value_length=10), TooLong, 10, 11),
    ("n" * 70_000 + "=x", Limits(), TooLong, 65_536, 70_002),
    ("x?=a,b", Limits(max_list_elements=2), None, 0, 0),
    ("x?=a,b,c", Limits(max_list_elements=2), TooManyListElements, 7, 8),
    ("x!?=aa,bb,cc,dd", Limits(max_list_elements=2), TooManyListElements, 10, 15),
    (r"x?=a\,b,c", Limits(max_list_elements=2), None, 0, 0),
    (r"x?=a\,b,c\,d,e", Limits(max_list_elements=2), TooManyListElements, 13, 14),
    ("x=a,b,c", Limits(max_list_elements=2), None, 0, 0),
]


@pytest.mark.parametrize(("text", "limits", "error", "start", "end"), LIMIT_CASES)
def test_limits(text: str, limits: Limits, error: type[Exception] | None, start: int,
                end: int) -> None:
    if error is None:
        assert parse_condition(text, limits=limits).text == text
        return
    err = parse_condition_error(text, limits=limits, param="q[4]")
    assert type(err) is error
    assert (err.param, err.start, err.end) == ("q[4]", start, end)
    limit_name = "max_value_length" if error is TooLong else "max_list_elements"
    assert limit_name in err.message
    assert err.extra["limit"] == limit_name


# -- API details: modes, non-text input, caching, long texts, the grammar file --------------

BAD_CALLS: list[tuple[Any, dict[str, Any], str]] = [
    ("a=b", {"mode": "loose"}, "mode"),
    (None, {}, "q[0]"),
    (b"a=b", {"param": "q[7]"}, "q[7]"),
]


@pytest.mark.parametrize(("text", "options", "param"), BAD_CALLS)
def test_bad_calls_are_bad_parameters(text: Any, options: dict[str, Any], param: str) -> None:
    err = parse_condition_error(text, **options)
    assert type(err) is BadParameter
    assert err.param == param


def test_parse_condition_error_refuses_valid_text() -> None:
    with pytest.raises(BadParameter, match="without error"):
        parse_condition_error("a=b")


@pytest.mark.parametrize("param", ["q[0]", "q[1]", "q[99]"])
def test_cached_parse_keeps_each_param(param: str) -> None:
    first = parse_condition("zone.name=z1", param="q[5]")
    again = parse_condition("zone.name=z1", param=param)
    assert (again.param, first.param) == (param, "q[5]")
    assert (again.path, again.op, again.value, again.span) == (
        first.path, first.op, first.value, first.span)


@pytest.mark.parametrize("size", [511, 512, 513, 5000])
def test_long_values_parse_the_same(size: int) -> None:
    value = ("ab," * size)[:size]
    cond = parse_condition("name?=" + value)
    assert cond.value == value
    assert cond.items == tuple(value.split(","))


def test_grammar_is_the_checkout_file() -> None:
    from pathlib import Path

    repo_file = Path(__file__).resolve().parent.parent / GRAMMAR_FILE
    assert grammar_text() == repo_file.read_text(encoding="utf-8")
    assert tree_parser() is tree_parser()
    assert build_parser().parse("a=b").data == "binary"


SEGMENT_CASES = [
    ("name", True), ("_x9", True), ("__systemTag__", True), ("9a", False), ("a-b", False),
    ("", False), ("名", False), ("a.b", False),
]


@pytest.mark.parametrize(("word", "ok"), SEGMENT_CASES)
def test_segment_pattern_comes_from_the_grammar(word: str, ok: bool) -> None:
    assert (SEGMENT_RE.fullmatch(word) is not None) == ok

"""Fuzzing the library: whole requests, valid, near-valid and garbage, through
parse → resolve → compile (SQLite, PostgreSQL, MariaDB) → execute (SQLite).

The property: zquery raises nothing but the :class:`~zquery.errors.ZQueryError` family,
every error renders as the manual's JSON with a position inside the value it came from,
and a request that resolves compiles for every dialect and runs on SQLite.

The strategies (:func:`requests`, also used by ``test_fuzz_server.py`` and the atheris
harness in ``fuzz/``) draw paths that walk the schema graph (to-one, to-many, aliases,
cycles, up to twice the depth limit), every operator and null form, values from the
hostile corpus, random Unicode (lone surrogates and NUL included), typed values at and
past their ranges, then mutate the text: an operator glued anywhere, characters dropped,
doubled or swapped for control characters. Requests mix known, misspelt and garbage
parameter names, repeat a parameter up to thousands of times, and carry values past the
64 KiB limit; some arrive as a raw query string with broken percent escapes.

CI runs 200 examples per property; ``ZQUERY_FUZZ_EXAMPLES=100000`` is the long run
(``fuzz/long_run.sh``, results in ``docs/reliability.md``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from estate import ACCOUNTS, ADMIN, generate, load
from hostile_values import CORPUS
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from zstack_like import GRAPH

from zquery.api import ZQuery
from zquery.compile import compile_plan
from zquery.errors import ZQueryError
from zquery.execute import execute
from zquery.schema.graph import Resource

T = TypeVar("T")

#: Examples per property: a few hundred in CI, ``ZQUERY_FUZZ_EXAMPLES`` for the long run.
EXAMPLES = int(os.environ.get("ZQUERY_FUZZ_EXAMPLES", "200"))
LONG_RUN = EXAMPLES > 1000
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.large_base_example],
)

OPERATORS = ("!?=", "!~=", "?=", "~=", "!=", ">=", "<=", "=", ">", "<")
NULL_FORMS = (" is null", " not null", " is not null", "=null", "!=null", " IS NULL",
              "  is null", " is  null", " null")
TAGS = ("__systemTag__", "__userTag__", "systemTag", "userTag")
PARAMETERS = ("q", "condition", "limit", "start", "count", "replyWithCount", "sort", "sortBy",
              "sortDirection", "groupBy", "fields", "timeout")
NEAR_NAMES = ("Q", "q ", " q", "limt", "Limit", "sortby", "field", "replywithcount", "q[]",
              "q[0]", "", "=", "&", "condition ", "startt", "groupby", "%71")
ROOTS = tuple(r.name for r in GRAPH)
RESOURCE_NAMES = (*ROOTS, *(p.strip("/") for r in GRAPH for p in r.rest_paths),
                  *(r.api_name for r in GRAPH if r.api_name), "VmInstances", "vm-instance",
                  "", "/", "../zones", "QueryVmInstanceMsg", "zones/", "ZONE")

# Text of any code point: lone surrogates and NUL included (the library takes any str).
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
# Text that could arrive over HTTP: valid Unicode only.
http_text = st.text(st.characters(codec="utf-8"), max_size=40)
any_char = st.characters(codec=None, exclude_categories=())
identifier = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
index = st.integers(0, 2**16)
glue = st.sampled_from((*OPERATORS, *NULL_FORMS, ".", ",", "\\", "\\,", "%", "_", "&", "=",
                        "\x00", "\n", " ", "\t", "\u202e", "+", "'", '"', ";", "--", "/*"))


def pick(draw: st.DrawFn, choices: Sequence[T]) -> T:
    """One of *choices* (a shared strategy: building one per draw costs more than the test)."""
    return choices[draw(index) % len(choices)]


@st.composite
def paths(draw: st.DrawFn, root: Resource) -> str:
    """A dotted path from *root*: relations and aliases (cycles allowed), then a field or a
    tag; sometimes a misspelt or invented segment, sometimes a relation at the end."""
    segments: list[str] = []
    here = root
    for _ in range(draw(st.integers(0, 17))):
        choices = [*here.relations, *here.aliases]
        if not choices or draw(st.integers(0, 9)) == 0:
            break
        name = pick(draw, choices)
        segments.append(name)
        steps = here.aliases[name].path if name in here.aliases else (name,)
        for step in steps:
            here = GRAPH.resources[here.relations[step].target]
    ending = draw(st.integers(0, 12))
    if ending == 0:
        pass  # a path that stops on a relation (or is empty)
    elif ending == 1:
        segments.append(pick(draw, TAGS))
    elif ending == 2:
        segments.append(draw(identifier))
    elif ending == 3:
        segments.append(draw(http_text))
    else:
        segments.append(pick(draw, tuple(here.fields)))
    return ".".join(segments)


typed_values = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(("true", "FALSE", "True", "1", "0", "yes", "")),
    st.tuples(st.datetimes(), st.sampled_from((" ", "T"))).map(lambda t: t[0].isoformat(t[1])),
    st.datetimes().map(lambda d: d.strftime("%b %d, %Y %I:%M:%S %p")),
    st.integers(-(2**64), 2**64).map(str),
    st.sampled_from(("Running", "Stopped", "running", "Enabled", "Disabled")),
)
values = st.one_of(
    st.sampled_from(CORPUS), any_text, http_text, typed_values,
    st.lists(st.one_of(st.sampled_from(CORPUS[:120]), http_text), max_size=6).map(",".join),
    st.integers(1, 20_000).map(lambda n: ",".join(["x"] * n)),
    st.sampled_from(("a" * 70_000, "%" * 65_530, "," * 12_000, "\\," * 11_000)),
)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """*text* with up to three edits: glue inserted, a character dropped or replaced."""
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.integers(0, 2))
        if edit == 0:
            text = text[:at] + draw(glue) + text[at:]
        elif edit == 1:
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + draw(any_char) + text[at + 1:]
    return text


@st.composite
def conditions(draw: st.DrawFn, root: Resource) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(any_text)
    path = draw(paths(root))
    if kind == 1:
        text = path + pick(draw, NULL_FORMS)
    else:
        text = path + pick(draw, OPERATORS) + draw(values)
    return draw(mutated(text)) if kind <= 3 else text


@st.composite
def sort_values(draw: st.DrawFn, root: Resource) -> str:
    keys = [pick(draw, ("", "+", "-", " ")) + draw(paths(root))
            for _ in range(draw(st.integers(0, 4)))]
    return draw(mutated(",".join(keys)))


@st.composite
def parameter(draw: st.DrawFn, root: Resource) -> tuple[str, str]:
    roll = draw(st.integers(0, 19))
    if roll == 0:
        return draw(http_text), draw(values)
    if roll == 1:
        return pick(draw, NEAR_NAMES), draw(conditions(root))
    name = pick(draw, PARAMETERS) if roll > 9 else "q"
    if name in ("q", "condition"):
        return name, draw(conditions(root))
    if name in ("limit", "start"):
        return name, draw(st.one_of(st.integers(0, 2**64).map(str), typed_values, http_text))
    if name in ("count", "replyWithCount"):
        return name, pick(draw, ("true", "false", "TRUE", "tRuE", "1", "", "yes"))
    if name in ("sort", "sortBy", "groupBy"):
        return name, draw(sort_values(root))
    if name == "sortDirection":
        return name, pick(draw, ("asc", "desc", "ASC", "up", ""))
    if name == "fields":
        return name, draw(sort_values(root))
    return name, draw(values)


@st.composite
def requests(draw: st.DrawFn, *, http: bool = False) -> tuple[str, Any, str | None]:
    """(resource, query, account): the query as (name, value) pairs or a raw query string.

    ``http=True`` keeps to what can arrive over HTTP (valid Unicode after decoding).
    """
    root = GRAPH.resources[pick(draw, ROOTS)]
    resource = pick(draw, RESOURCE_NAMES if draw(st.booleans()) else
                    tuple(p.strip("/") for p in root.rest_paths))
    pairs = draw(st.lists(parameter(root), max_size=8))
    if draw(st.integers(0, 9)) == 0:  # thousands of parameters
        pairs = pairs + [draw(parameter(root))] * draw(st.integers(90, 3000))
    account = pick(draw, (None, None, ADMIN, *ACCOUNTS, "", "x' OR '1'='1"))
    if http:
        pairs = [(n.encode("utf-8", "replace").decode(), v.encode("utf-8", "replace").decode())
                 for n, v in pairs]
    if draw(st.booleans()):
        return resource, pairs, account
    raw = "&".join(f"{quote(n, safe='')}={quote(v, safe='=,')}" if n or v else ""
                   for n, v in (_encodable(p) for p in pairs))
    return resource, draw(mutated(raw)) if not http else raw, account


def _encodable(pair: tuple[str, str]) -> tuple[str, str]:
    name, value = pair
    return (name.encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
            value.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))


# -- the property ----------------------------------------------------------------------------

ZQ = ZQuery(GRAPH)


@pytest.fixture(scope="module")
def estate_db() -> Iterator[sa.Engine]:
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    load(engine, generate(seed=11, size=1))
    yield engine
    engine.dispose()


def check_error(error: ZQueryError, query: Any) -> None:
    """A refusal is data: JSON in the manual's shape, a 4xx status, a sane position."""
    body = json.dumps(error.to_dict())
    assert '"code"' in body and error.http_status in (400, 404), body
    str(error)
    if error.start is not None and error.value is not None:
        end = error.end if error.end is not None else error.start
        assert 0 <= error.start <= end <= len(error.value), (error.start, error.end)


def run_one(engine: sa.Engine, resource: str, query: Any, account: str | None) -> None:
    """The library property for one request (raises AssertionError or a non-zquery error)."""
    try:
        plan = ZQ.plan(resource, query, account=account)
    except ZQueryError as error:
        check_error(error, query)
        return
    for dialect in ("postgresql", "mysql"):
        compile_plan(plan, GRAPH, dialect=dialect)
    compiled = compile_plan(plan, GRAPH, dialect="sqlite")
    with engine.connect() as conn:
        reply = execute(conn, plan, compiled, GRAPH)
    assert set(reply) <= {"inventories", "total"}
    json.dumps(reply)


@FUZZ_SETTINGS
@given(requests())
def test_library_raises_only_zquery_errors(estate_db: sa.Engine,
                                           request_: tuple[str, Any, str | None]) -> None:
    resource, query, account = request_
    note(f"resource={resource!a} account={account!a} query={query!a}"[:4000])
    run_one(estate_db, resource, query, account)


CORNERS = [
    ("vm-instances", "q=" + "vmNics.vmInstance." * 20 + "name=x", None),
    ("vm-instances", [("q", "name=x")] * 5000, None),
    ("vm-instances", [("fields", "uuid")] * 5000, None),
    ("vm-instances", [("timeout", "1")] * 5000, None),
    ("vm-instances", "q=name?=" + ",".join(["x"] * 10_001), None),
    ("vm-instances", "q=name=" + "a" * 70_000, None),
    ("vm-instances", "q=name%3D%ff%fe%00&sort=%zz", None),
    ("vm-instances", [("q", "name=\ud800")], None),
    ("vm-instances", [("q", "name~=\udfff%")], ACCOUNTS[0]),
    ("vm-instances", [("q", "__userTag__?=\ud83d,x")], None),
    ("vm-instances", [("q", "name=x")], "\ud800"),
    ("vm-instances", [("q\ud800", "name=x")], None),
    ("vm-instances", [("sort", "\ud800name")], None),
    ("zones", "q=name!~=%\x00%&q=uuid>\x00&replyWithCount=true", ACCOUNTS[1]),
    ("nics", "q=vmInstance.zone.vmInstance.host.zone.cluster.host.vmInstance.name~=%", None),
]


@pytest.mark.parametrize(("resource", "query", "account"), CORNERS,
                         ids=[f"corner-{i}" for i in range(len(CORNERS))])
def test_corner_requests(estate_db: sa.Engine, resource: str, query: Any,
                         account: str | None) -> None:
    run_one(estate_db, resource, query, account)

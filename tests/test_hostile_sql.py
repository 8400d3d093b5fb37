"""Hostile values never reach SQL text: every corpus value, every operator, paths, tags and
typed fields, compiled for SQLite, PostgreSQL and MariaDB.

Each statement is compiled the way the driver will see it (``render_postcompile``: list
parameters expanded, any ``literal_execute`` value rendered) and searched for the value,
also in its quote-doubled and backslash-doubled spellings. A value that also shows up in
the same request compiled with a neutral value (``,`` or ``name``) is part of the SQL's
own text, not a leak. A value a field cannot take must fail with a zquery error, never
with anything else.
"""

from __future__ import annotations

import functools

import pytest
import sqlalchemy as sa
from hostile_values import CORPUS, FAMILIES, like_literal, list_element, meaningful
from sqlalchemy.dialects import mysql, postgresql, sqlite
from zstack_like import GRAPH

from zquery.api import ZQuery
from zquery.compile import CompiledQuery
from zquery.errors import ZQueryError

ZQ = ZQuery(GRAPH)
DIALECTS: dict[str, sa.engine.Dialect] = {
    "sqlite": sqlite.dialect(), "postgresql": postgresql.psycopg.dialect(),  # type: ignore[no-untyped-call]
    "mysql": mysql.pymysql.dialect()}
NEUTRAL = "zqneutral"

#: Forms valid for any string value: every operator, to-one and to-many paths, an alias,
#: a cycle, and both tag kinds at the root and at the end of a path.
STRING_FORMS = (
    "name={v}", "name!={v}", "name>{v}", "name<{v}", "name>={v}", "name<={v}",
    "name?={e},x", "name!?={e}", "name~={v}", "name!~={v}", "description~=%{lit}%",
    "zone.name={v}", "l3Network.name~={v}", "vmNics.vmInstance.description!={v}",
    "cluster.host.managementIp<{v}", "__userTag__={v}", "__userTag__!={v}",
    "__systemTag__~={v}", "__systemTag__?={e}", "zone.__systemTag__!~={v}",
    "vmNics.l3Network.__userTag__!?={e}",
)
#: Forms on typed fields: most hostile values are refused there, with a zquery error.
TYPED_FORMS = (
    "cpuNum={v}", "memorySize>{v}", "createDate<{v}", "state={v}", "state?={e}",
    "host.cpuUsage>={v}", "zone.isDefault={v}", "cpuNum~={v}", "vmNics.deviceId!?={e}",
    "host.availableCpuCapacity<={v}", "lastOpDate!={v}",
)

FAMILY_OF = {value: name for name, values in reversed(FAMILIES.items()) for value in values}


def fill(form: str, value: str) -> str:
    return form.format(v=value, e=list_element(value), lit=like_literal(value))


def statements(compiled: CompiledQuery, dialect: str) -> str:
    parts = [s for s in (compiled.rows, compiled.count) if s is not None]
    return "\n".join(str(s.compile(dialect=DIALECTS[dialect],
                                   compile_kwargs={"render_postcompile": True}))
                     for s in parts)


def spellings(value: str) -> set[str]:
    """How a value pasted into SQL could look: as is, quotes doubled, backslashes doubled."""
    return {value, value.replace("'", "''"), value.replace("\\", "\\\\"),
            value.replace("\\", "\\\\").replace("'", "\\'")}


def sql_of(forms: tuple[str, ...], value: str, dialect: str) -> str:
    query = [("q", fill(form, value)) for form in forms]
    return statements(ZQ.compile("VmInstance", query, dialect=dialect), dialect)


@functools.cache
def baseline(forms: tuple[str, ...], dialect: str) -> str:
    """The SQL of the same forms with a neutral value: the SQL's own text."""
    return sql_of(forms, NEUTRAL, dialect)


def leaks(value: str, forms: tuple[str, ...], dialect: str) -> list[str]:
    """The spellings of *value* found in the SQL but not in the neutral request's SQL."""
    sql = sql_of(forms, value, dialect)
    if not meaningful(value):
        return []
    return [s for s in spellings(value) if s in sql and s not in baseline(forms, dialect)]


def case_id(index: int) -> str:
    return f"{FAMILY_OF[CORPUS[index]]}-{index}"


@pytest.mark.parametrize("index", range(len(CORPUS)), ids=case_id)
def test_string_forms_bind_every_value(index: int) -> None:
    value = CORPUS[index]
    for dialect in DIALECTS:
        assert leaks(value, STRING_FORMS, dialect) == [], (dialect, value)


@pytest.mark.parametrize("index", range(len(CORPUS)), ids=case_id)
def test_typed_forms_bind_or_refuse(index: int) -> None:
    value = CORPUS[index]
    for form in TYPED_FORMS:
        condition = fill(form, value)
        try:
            ZQ.plan("VmInstance", [("q", condition)])
        except ZQueryError as error:
            # The refusal points inside the one parameter value it came from.
            assert error.param == "q[0]" and error.start is not None
            assert 0 <= error.start <= (error.end or error.start) <= len(condition)
            continue
        for dialect in DIALECTS:
            assert leaks(value, (form,), dialect) == [], (dialect, condition)


def test_corpus_size_and_leak_detector() -> None:
    """The corpus is big enough, and the detector does find a value pasted as a literal."""
    assert len(CORPUS) >= 200
    pasted: sa.Select[tuple[int]] = sa.select(sa.literal_column("1")).where(
        sa.literal_column("name") == sa.literal("O'Brien; --", literal_execute=True))
    sql = str(pasted.compile(dialect=DIALECTS["postgresql"],
                             compile_kwargs={"render_postcompile": True}))
    assert any(s in sql for s in spellings("O'Brien; --"))

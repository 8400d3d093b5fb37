"""``quick_init``: the per-request dataclasses keep every dataclass behaviour."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from zquery.ast import Condition, Path, QueryRequest, Span
from zquery.compile import CompiledQuery
from zquery.frozen import quick_init
from zquery.plan import QueryPlan, ResolvedCondition
from zquery.request import parse_request

QUICK = [Span, Path, Condition, QueryRequest, ResolvedCondition, QueryPlan, CompiledQuery]


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: c.__name__)
def test_the_quick_init_has_the_dataclass_signature(cls: type) -> None:
    expected = [(f.name, f.default) for f in dataclasses.fields(cls)]
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [(p.name, dataclasses.MISSING if p.default is p.empty else p.default)
            for p in params] == expected


def test_built_objects_are_frozen_equal_and_replaceable() -> None:
    request = parse_request("q=name=vm1&limit=5")
    again = parse_request("q=name=vm1&limit=5")
    assert request == again and hash(request) == hash(again)
    assert request.limit == 5 and request.sort == () and request.limit_given
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.limit = 6  # type: ignore[misc]
    assert dataclasses.replace(request, limit=6).limit == 6
    assert QueryRequest() == QueryRequest(conditions=(), limit=1000)  # the defaults


@dataclasses.dataclass(frozen=True)
class _NoSlots:
    x: int


@dataclasses.dataclass(slots=True)
class _NotFrozen:
    x: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Factory:
    x: list[int] = dataclasses.field(default_factory=list)


@pytest.mark.parametrize("cls", [_NoSlots, _NotFrozen, _Factory, int],
                         ids=lambda c: c.__name__)
def test_quick_init_refuses_what_it_cannot_rebuild(cls: type) -> None:
    with pytest.raises(TypeError):
        quick_init(cls)

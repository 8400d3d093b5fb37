"""Every query condition the manual prints validates against the catalogue, except the
listed handful the manual itself gets wrong, each of which really fails (so the list cannot
go stale)."""

from __future__ import annotations

from typing import Any

import pytest

from zquery.catalogue import load_catalogue, load_examples
from zquery.errors import ZQueryError
from zquery.request import parse_request
from zquery.resolve import resolve

EXAMPLES = load_examples()
GOOD = [(e, c) for e in EXAMPLES if not e.get("erratum") for c in e["conditions"]]
WRONG = [e for e in EXAMPLES if e.get("erratum")]


def _id(example: dict[str, Any], condition: str = "") -> str:
    return f"{example['api']}@{example['line']}:{condition or '&'.join(example['conditions'])}"


def test_the_examples_cover_the_manual() -> None:
    assert len(GOOD) >= 120
    assert {e["source"] for e in EXAMPLES} == {"curl", "chapter 2"}
    assert len(WRONG) <= 16


@pytest.mark.parametrize(("example", "condition"), GOOD, ids=[_id(e, c) for e, c in GOOD])
def test_a_manual_example_validates(example: dict[str, Any], condition: str) -> None:
    plan = resolve(parse_request([("q", condition)]), load_catalogue(), example["api"])
    assert len(plan.conditions) == 1


@pytest.mark.parametrize("example", WRONG, ids=[_id(e) for e in WRONG])
def test_a_manual_erratum_does_fail(example: dict[str, Any]) -> None:
    query = [("q", condition) for condition in example["conditions"]]
    with pytest.raises(ZQueryError):
        resolve(parse_request(query), load_catalogue(), example["api"])


def test_each_example_calls_its_apis_rest_path() -> None:
    graph = load_catalogue()
    for example in EXAMPLES:
        assert graph.resource(example["rest_path"]).api_name == example["api"]


@pytest.mark.parametrize("query", [
    "q=name!=web-vm&q=cluster.name=cluster1",  # 2.2, as "condition=" there
    "q=vmNics.ip=192.168.10.100&q=host.managementIp=10.10.20.3",
    "q=name=vm1&q=state=Running",
    "q=cpuNum>5",
])
def test_chapter_two_conditions_combine(query: str) -> None:
    plan = resolve(parse_request(query), load_catalogue(), "vm-instances")
    assert len(plan.conditions) == query.count("q=")

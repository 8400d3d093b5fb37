"""Introspection: completion as the ZStack CLI shows it, fields and relations at the end of a
path, and the acyclic condition paths, enumerated and counted."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zstack_like import GRAPH

from zquery.catalogue import load_catalogue
from zquery.errors import UnknownField
from zquery.introspect import (
    complete,
    count_paths,
    fields_of,
    paths,
    relations_of,
    resource_at,
)
from zquery.plan import CyclePolicy
from zquery.request import parse_request
from zquery.resolve import ResolveOptions, resolve
from zquery.schema.graph import FieldType

COMPLETIONS = [
    ("QueryVmInstance", "", ["cluster.", "host.", "l3Network.", "vmNics.", "zone.",
                             "__systemTag__=", "__userTag__=", "clusterUuid=", "cpuNum="]),
    ("QueryVmInstance", "vmNics.", ["vmNics.eip.", "vmNics.l3Network.", "vmNics.vmInstance.",
                                    "vmNics.__systemTag__=", "vmNics.ip=", "vmNics.mac="]),
    ("vm-instances", "l3Network.l2", ["l3Network.l2Network.", "l3Network.l2NetworkUuid="]),
    ("Host", "availableC", ["availableCpuCapacity="]),  # a mapped value is a field
    ("Zone", "cluster.l2Network.cluster.zone.na", ["cluster.l2Network.cluster.zone.name="]),
]


@pytest.mark.parametrize(("resource", "prefix", "expected"), COMPLETIONS)
def test_completion_offers_relations_then_tags_then_fields(resource: str, prefix: str,
                                                           expected: list[str]) -> None:
    offered = complete(GRAPH, resource, prefix)
    assert set(expected) <= set(offered)
    kinds = ["." if item.endswith(".") else "tag" if "__" in item else "=" for item in offered]
    assert kinds == sorted(kinds, key=[".", "tag", "="].index)


def test_completion_of_the_catalogue_hides_hidden_relations_and_follows_aliases() -> None:
    graph = load_catalogue()
    offered = complete(graph, "QueryVmNic", "")
    assert "securityGroup." in offered  # an alias, shown as a relation
    assert "securityGroupRef." not in offered  # hidden
    assert "securityGroup.name=" in complete(graph, "QueryVmNic", "securityGroup.")
    assert complete(graph, "QueryVmInstance", "vmNics.zz") == []


@pytest.mark.parametrize(("prefix", "message", "start", "end", "hint"), [
    ("vmNic.", "no relation 'vmNic' on VmInstance", 0, 5, "did you mean 'vmNics'?"),
    ("vmNics.ip.", "'ip' is a field of VmNic, not a relation", 7, 9, None),
    ("zone.clustr.", "no relation 'clustr' on Zone", 5, 11, "did you mean 'cluster'?"),
])
def test_a_bad_prefix_is_pointed_at(prefix: str, message: str, start: int, end: int,
                                    hint: str | None) -> None:
    with pytest.raises(UnknownField) as caught:
        complete(GRAPH, "QueryVmInstance", prefix)
    error = caught.value
    assert message in error.message
    assert (error.param, error.value, error.start, error.end, error.hint) == \
        ("prefix", prefix, start, end, hint)


def test_fields_and_relations_at_the_end_of_a_path() -> None:
    assert resource_at(GRAPH, "QueryVmInstance", "vmNics.eip").name == "Eip"
    assert resource_at(GRAPH, "QueryVmInstance", "l3Network").name == "L3Network"  # alias
    assert [f.name for f in fields_of(GRAPH, "Vip")] == sorted(GRAPH.resource("Vip").fields)
    links = {link.name: link for link in relations_of(GRAPH, "QueryVmInstance")}
    assert links["l3Network"].alias_of == ("vmNics", "l3Network")
    assert links["l3Network"].to_many and links["vmNics"].to_many
    assert not links["zone"].to_many
    hidden = relations_of(load_catalogue(), "Cluster", hidden=True)
    assert "l2NetworkRef" in {link.name for link in hidden}


def test_paths_visit_no_resource_twice() -> None:
    found = list(paths(GRAPH, "VmInstance", 3))
    assert len(found) == len(set(found))
    assert "vmNics.eip.vip.ip" in found
    assert "vmNics.vmInstance.name" not in found  # back to a VM: a cycle
    assert "zone.cluster.l2Network.name" in found
    assert all(p.count(".") <= 3 for p in found)


def test_tags_are_counted_on_request() -> None:
    plain = count_paths(GRAPH, "Zone", 1)
    tagged = count_paths(GRAPH, "Zone", 1, tags=True)
    assert tagged - plain == 2 * (1 + len(GRAPH.resource("Zone").relations))
    assert "cluster.__userTag__" in set(paths(GRAPH, "Zone", 1, tags=True))


@settings(max_examples=40, deadline=None)
@given(resource=st.sampled_from(sorted(GRAPH.resources)), depth=st.integers(0, 4),
       tags=st.booleans())
def test_counting_agrees_with_enumerating(resource: str, depth: int, tags: bool) -> None:
    assert count_paths(GRAPH, resource, depth, tags=tags) == \
        len(list(paths(GRAPH, resource, depth, tags=tags)))


CATALOGUE_NAMES = sorted(res.name for res in load_catalogue() if res.api_name)


@settings(max_examples=25, deadline=None)
@given(resource=st.sampled_from(CATALOGUE_NAMES), depth=st.integers(0, 2),
       pick=st.integers(0, 10_000))
def test_every_catalogue_path_resolves(resource: str, depth: int, pick: int) -> None:
    graph = load_catalogue()
    found = list(paths(graph, resource, depth))
    assert count_paths(graph, resource, depth) == len(found)
    path = found[pick % len(found)]
    field = resource_at(graph, resource, path.rpartition(".")[0]).field(path.rpartition(".")[2])
    operator = ">" if field.type.is_number else "="
    value = {FieldType.TIMESTAMP: "2017-05-11 13:23:02", FieldType.BOOLEAN: "true"}.get(
        field.type, (field.choices or ("1",))[0])
    options = ResolveOptions(cycle_policy=CyclePolicy.REJECT)  # acyclic paths pass even this
    plan = resolve(parse_request([("q", f"{path}{operator}{value}")]), graph, resource,
                   options=options)
    assert len(plan.conditions) == 1


def test_the_catalogue_is_counted_quickly() -> None:
    graph = load_catalogue()
    apis = [res for res in graph if res.api_name]
    assert count_paths(graph, apis, 4) > 1_000_000
    assert count_paths(graph, None, 0) == sum(len(res.fields) for res in graph)

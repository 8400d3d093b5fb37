"""The schema doors: dict/JSON, MetaData and ORM models, and every SchemaError."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from zstack_like import GRAPH

from zquery.errors import SchemaError
from zquery.schema.build import build_schema
from zquery.schema.graph import (
    Alias,
    Cardinality,
    Field,
    FieldType,
    OwnershipConfig,
    Relation,
    Resource,
    SchemaGraph,
    TagConfig,
)
from zquery.schema.serialize import graph_from_dict, graph_to_dict

ONE, MANY = Cardinality.ONE, Cardinality.MANY
_RESOURCE_ATTRS = ("name", "table", "primary_key", "tag_type", "owned", "row_filter", "api_name",
                   "rest_paths", "inventory", "title", "section")


def assert_same_graph(got: SchemaGraph, want: SchemaGraph) -> None:
    """Field by field, relation by relation (Resource and SchemaGraph compare by identity)."""
    assert list(got.resources) == list(want.resources)
    for name, res in want.resources.items():
        other = got.resources[name]
        for attr in _RESOURCE_ATTRS:
            assert getattr(other, attr) == getattr(res, attr), (name, attr)
        assert dict(other.fields) == dict(res.fields), name
        assert dict(other.relations) == dict(res.relations), name
        assert dict(other.aliases) == dict(res.aliases), name
    assert dict(got.link_tables) == dict(want.link_tables)
    assert got.tags == want.tags
    assert got.ownership == want.ownership


# -- the dict door -----------------------------------------------------------------------------

GRAPH_DICT = graph_to_dict(GRAPH)
GRAPH_JSON = json.dumps(GRAPH_DICT, ensure_ascii=False, indent=1)


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "schema.json"
    path.write_text(GRAPH_JSON, encoding="utf-8")
    return path


SOURCES: list[tuple[str, Callable[[Path], Any]]] = [
    ("dict", lambda _: copy.deepcopy(GRAPH_DICT)),
    ("json text", lambda _: GRAPH_JSON),
    ("json bytes", lambda _: GRAPH_JSON.encode()),
    ("Path", _write),
    ("str path", lambda tmp: str(_write(tmp))),
]


@pytest.mark.parametrize(("label", "make"), SOURCES, ids=[s[0] for s in SOURCES])
def test_dict_door_rebuilds_the_test_graph(label: str, make: Callable[[Path], Any],
                                           tmp_path: Path) -> None:
    assert_same_graph(build_schema(make(tmp_path)), GRAPH)


def test_graph_door_returns_the_graph_itself() -> None:
    assert build_schema(GRAPH) is GRAPH


FULL = {
    "resources": {
        "VmInstance": {
            "table": "VmInstanceVO", "primary_key": "uuid",
            "fields": {
                "uuid": {"type": "String", "nullable": False},
                "type": "String",
                "state": {"type": "String", "choices": ["Running", "Stopped"], "column": "st",
                          "description": "状态", "since": "0.6"},
                "cpu": {"type": "Long", "mapped": {"table": "CapVO", "owner_key": "uuid",
                                                   "join_column": "uuid",
                                                   "value_column": "cpu", "many": False}},
            },
            "relations": {
                "vmNics": {"target": "VmNic", "cardinality": "many", "local_key": "uuid",
                           "remote_key": "vmUuid", "nested": True, "hidden": True,
                           "origin": "reference"},
                "peer": {"target": "VmInstance", "cardinality": "many", "local_key": "uuid",
                         "remote_key": "uuid", "through": {"table": "PeerVO", "source_column": "a",
                                                           "target_column": "b"}},
            },
            "aliases": {"peerNic": "peer.vmNics"},
            "tag_type": "VmInstanceVO", "owned": True, "row_filter": {"type": ["UserVm"]},
            "api_name": "QueryVmInstance", "rest_paths": ["/vm-instances"],
            "inventory": "VmInstanceInventory", "title": "查询云主机", "section": "5.1.8",
        },
        "VmNic": {"table": "VmNicVO", "primary_key": "uuid",
                  "fields": {"uuid": "String", "vmUuid": "String"}},
    },
    "link_tables": {"PeerVO": {"columns": {"id": "Long", "a": "String", "b": "String"},
                               "primary_key": ["id"]},
                    "CapVO": {"columns": {"uuid": "String", "cpu": "Long"}}},
    "tags": {"system_table": "SysTag"},
    "ownership": {},
}
MINIMAL = {"resources": {"Zone": {"table": "ZoneVO", "primary_key": "uuid",
                                  "fields": {"uuid": "String"}}}}


@pytest.mark.parametrize("data", [FULL, MINIMAL, GRAPH_DICT], ids=["full", "minimal", "zstack"])
def test_graph_to_dict_inverts_graph_from_dict(data: dict[str, Any]) -> None:
    assert graph_to_dict(graph_from_dict(data)) == data


CONFIGS: list[tuple[Any, TagConfig | None, OwnershipConfig | None]] = [
    (None, None, None),
    ({}, TagConfig(), OwnershipConfig()),
    ({"tag": "text"}, TagConfig(tag="text"), None),
    ({"ref_table": "R"}, None, OwnershipConfig(ref_table="R")),
]


@pytest.mark.parametrize(("config", "tags", "ownership"), CONFIGS)
def test_tags_and_ownership_null_empty_or_set(config: Any, tags: TagConfig | None,
                                              ownership: OwnershipConfig | None) -> None:
    key = "ownership" if ownership is not None and tags is None else "tags"
    both = config == {} or config is None
    data = copy.deepcopy(MINIMAL) | ({"tags": config, "ownership": config} if both
                                     else {key: config})
    graph = graph_from_dict(data)
    assert (graph.tags, graph.ownership) == (tags, ownership)


def test_tags_and_ownership_absent() -> None:
    graph = graph_from_dict(MINIMAL)
    assert (graph.tags, graph.ownership) == (None, None)


def test_full_dict_values() -> None:
    vm = graph_from_dict(FULL).resource("vm-instances")
    assert vm.field("state") == Field("state", FieldType.STRING, column="st",
                                      choices=("Running", "Stopped"), description="状态",
                                      since="0.6")
    assert vm.field("uuid").nullable is False
    assert vm.relations["vmNics"].origin == "reference"
    assert vm.relations["peer"].origin == "dict"
    assert vm.aliases["peerNic"] == Alias("peerNic", ("peer", "vmNics"))
    assert vm.row_filter == (("type", ("UserVm",)),)


# -- every SchemaError ---------------------------------------------------------------------------


def _edit(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of FULL with the value at a dotted path replaced (``...`` deletes it)."""
    data = copy.deepcopy(base or FULL)
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return data


VM = "resources.VmInstance"
# (case id, schema dict, message fragment, param, hint fragment or None)
DICT_ERRORS: list[tuple[str, Any, str, str | None, str | None]] = [
    ("not an object", [1], "expected an object", "schema", None),
    ("no resources", {}, "missing required key 'resources'", "schema.resources", None),
    ("top-level typo", _edit("resource", {}), "unknown key 'resource'", "schema.resource",
     "did you mean 'resources'?"),
    ("no table", _edit(f"{VM}.table", ...), "missing required key 'table'", f"{VM}.table", None),
    ("resource key typo", _edit(f"{VM}.primary_keys", "uuid"), "unknown key 'primary_keys'",
     f"{VM}.primary_keys", "did you mean 'primary_key'?"),
    ("table not a string", _edit(f"{VM}.table", 3), "expected str, got int", f"{VM}.table",
     None),
    ("owned not a bool", _edit(f"{VM}.owned", 1), "expected bool, got int", f"{VM}.owned", None),
    ("rest_paths a string", _edit(f"{VM}.rest_paths", "/vms"), "expected a list of strings",
     f"{VM}.rest_paths", None),
    ("choice not a string", _edit(f"{VM}.fields.state.choices", ["a", 2]), "expected str",
     f"{VM}.fields.state.choices[1]", None),
    ("unknown type", _edit(f"{VM}.fields.type", "string"), "unknown type 'string'",
     f"{VM}.fields.type", "did you mean 'String'?"),
    ("field not a type", _edit(f"{VM}.fields.type", 5), "expected an object",
     f"{VM}.fields.type", None),
    ("field without type", _edit(f"{VM}.fields.state.type", ...), "missing required key 'type'",
     f"{VM}.fields.state.type", None),
    ("mapped without column", _edit(f"{VM}.fields.cpu.mapped.value_column", ...),
     "missing required key 'value_column'", f"{VM}.fields.cpu.mapped.value_column", None),
    ("bad cardinality", _edit(f"{VM}.relations.peer.cardinality", "several"),
     "cardinality must be 'one' or 'many'", f"{VM}.relations.peer.cardinality", None),
    ("relation without key", _edit(f"{VM}.relations.peer.remote_key", ...),
     "missing required key 'remote_key'", f"{VM}.relations.peer.remote_key", None),
    ("through typo", _edit(f"{VM}.relations.peer.through.source", "a"), "unknown key 'source'",
     f"{VM}.relations.peer.through.source", "did you mean 'source_column'?"),
    ("link column type", _edit("link_tables.PeerVO.columns.a", "Text"), "unknown type 'Text'",
     "link_tables.PeerVO.columns.a", None),
    ("tag config typo", _edit("tags.system", "T"), "unknown key 'system'", "tags.system",
     "did you mean 'system_table'?"),
    ("ownership not object", _edit("ownership", "yes"), "expected an object", "ownership", None),
    # -- SchemaGraph.check ------------------------------------------------------------------
    ("primary key not a column", _edit(f"{VM}.primary_key", "id"),
     "VmInstance: primary key 'id' is not a column", "VmInstance.primary_key", None),
    ("primary key is mapped", _edit(f"{VM}.primary_key", "cpu"),
     "primary key 'cpu' is not a column", "VmInstance.primary_key", None),
    ("target missing", _edit(f"{VM}.relations.vmNics.target", "VmNics"),
     "VmInstance.vmNics: target resource 'VmNics' does not exist", "VmInstance.vmNics",
     "did you mean 'VmNic'?"),
    ("local key missing", _edit(f"{VM}.relations.vmNics.local_key", "uuidd"),
     "VmInstance.vmNics: key column 'uuidd' is not a column of VmInstance", "VmInstance.vmNics",
     "did you mean 'uuid'?"),
    ("remote key missing", _edit(f"{VM}.relations.vmNics.remote_key", "vmInstanceUuid"),
     "key column 'vmInstanceUuid' is not a column of VmNic", "VmInstance.vmNics", None),
    ("local key is a field name, not its column", _edit(f"{VM}.relations.vmNics.local_key",
                                                        "state"),
     "key column 'state' is not a column of VmInstance", "VmInstance.vmNics", None),
    ("through table undeclared", _edit(f"{VM}.relations.peer.through.table", "PeersVO"),
     "link table 'PeersVO' is not declared", "VmInstance", "did you mean 'PeerVO'?"),
    ("through column missing", _edit(f"{VM}.relations.peer.through.target_column", "c"),
     "'c' is not a column of link table PeerVO", "VmInstance", None),
    ("mapped table undeclared", _edit(f"{VM}.fields.cpu.mapped.table", "Cap"),
     "link table 'Cap' is not declared", "VmInstance", None),
    ("mapped value column missing", _edit(f"{VM}.fields.cpu.mapped.value_column", "cpus"),
     "'cpus' is not a column of link table CapVO", "VmInstance", "did you mean 'cpu'?"),
    ("mapped owner key missing", _edit(f"{VM}.fields.cpu.mapped.owner_key", "id"),
     "VmInstance.cpu: key column 'id' is not a column of VmInstance", "VmInstance.cpu", None),
    ("field and relation", _edit(f"{VM}.fields.peer", "String"),
     "['peer'] used for two of field, relation, alias", "VmInstance.peer", None),
    ("relation and alias", _edit(f"{VM}.aliases.peer", "vmNics"),
     "['peer'] used for two of field, relation, alias", "VmInstance.peer", None),
    ("empty alias", _edit(f"{VM}.aliases.peerNic", ""), "VmInstance.peerNic: empty alias",
     "VmInstance.peerNic", None),
    ("alias through a field", _edit(f"{VM}.aliases.peerNic", "state.vmNics"),
     "'state' in alias path 'state.vmNics' is not a relation of VmInstance",
     "VmInstance.peerNic", None),
    ("alias second hop wrong", _edit(f"{VM}.aliases.peerNic", "peer.vmNic"),
     "'vmNic' in alias path 'peer.vmNic' is not a relation of VmInstance",
     "VmInstance.peerNic", "did you mean 'vmNics'?"),
    ("alias past a leaf", _edit(f"{VM}.aliases.peerNic", "vmNics.vmInstance"),
     "'vmInstance' in alias path 'vmNics.vmInstance' is not a relation of VmNic",
     "VmInstance.peerNic", None),
    ("row filter column", _edit(f"{VM}.row_filter", {"kind": ["UserVm"]}),
     "VmInstance.row_filter: key column 'kind' is not a column", "VmInstance.row_filter", None),
    ("shared table, other key", _edit("resources.VmNic.table", "VmInstanceVO",
                                      _edit("resources.VmNic.primary_key", "vmUuid")),
     "table VmInstanceVO has primary key 'uuid' in VmInstance but 'vmUuid' here",
     "VmNic.primary_key", None),
    ("shared table, other type", _edit("resources.VmNic.table", "VmInstanceVO",
                                       _edit("resources.VmNic.fields.type", "Integer")),
     "table VmInstanceVO: column 'type' is String in VmInstance but Integer in VmNic",
     "VmInstanceVO.type", None),
    ("link table clashes with a resource table",
     _edit("link_tables.VmNicVO", {"columns": {"uuid": "Long"}}),
     "table VmNicVO: column 'uuid' is String in VmNic but Long in link table VmNicVO",
     "VmNicVO.uuid", None),
    ("tag table is a link table", _edit("tags.user_table", "CapVO"),
     "table CapVO is a tag/ownership table", "CapVO", None),
    ("ownership table is a link table", _edit("ownership.shared_table", "PeerVO"),
     "table PeerVO is a tag/ownership table", "PeerVO", None),
]


@pytest.mark.parametrize(("data", "message", "param", "hint"), [c[1:] for c in DICT_ERRORS],
                         ids=[c[0] for c in DICT_ERRORS])
def test_schema_errors(data: Any, message: str, param: str | None, hint: str | None) -> None:
    with pytest.raises(SchemaError) as caught:
        graph_from_dict(data)
    assert message in caught.value.message
    assert caught.value.param == param
    if hint is not None:
        assert caught.value.hint == hint
    assert caught.value.code == "schema.invalid"


def _zone(**changes: Any) -> Resource:
    fields = {"uuid": Field("uuid", FieldType.STRING)}
    return Resource(**({"name": "Zone", "table": "ZoneVO", "primary_key": "uuid",
                        "fields": fields} | changes))


GRAPH_ERRORS: list[tuple[str, Callable[[], SchemaGraph], str, str]] = [
    ("resource key", lambda: SchemaGraph({"Zones": _zone()}),
     "resources['Zones'] holds the resource named 'Zone'", "Zones"),
    ("field key", lambda: SchemaGraph({"Zone": _zone(fields={
        "uuid": Field("uuid", FieldType.STRING), "n": Field("name", FieldType.STRING)})}),
     "Zone: field 'n' is named 'name'", "Zone.n"),
    ("relation key", lambda: SchemaGraph({"Zone": _zone(relations={"z": Relation(
        "zone", "Zone", "Zone", ONE, "uuid", "uuid")})}), "Zone: relation 'z' is named 'zone'",
     "Zone.z"),
    ("relation source", lambda: SchemaGraph({"Zone": _zone(relations={"z": Relation(
        "z", "Cluster", "Zone", ONE, "uuid", "uuid")})}),
     "Zone.z: relation source is 'Cluster'", "Zone.z"),
    ("alias key", lambda: SchemaGraph({"Zone": _zone(aliases={"a": Alias("b", ("z",))})}),
     "Zone: alias 'a' is named 'b'", "Zone.a"),
]


@pytest.mark.parametrize(("make", "message", "param"), [c[1:] for c in GRAPH_ERRORS],
                         ids=[c[0] for c in GRAPH_ERRORS])
def test_graph_check_errors(make: Callable[[], SchemaGraph], message: str, param: str) -> None:
    with pytest.raises(SchemaError) as caught:
        make()
    assert message in caught.value.message
    assert caught.value.param == param


SOURCE_ERRORS: list[tuple[str, Callable[[Path], Any], dict[str, Any], str, str]] = [
    ("bad json", lambda _: '{"resources": {"Zone": [}}', {}, "invalid JSON at line 1 column 25",
     "json"),
    ("missing file", lambda tmp: tmp / "nope.json", {}, "cannot read schema file", "path"),
    ("not a schema", lambda _: 42, {}, "cannot build a schema from int", "source"),
    ("empty list", lambda _: [], {}, "cannot build a schema from a list of nothing", "source"),
    ("mixed list", lambda _: [sa.Table("T", sa.MetaData()), 3], {},
     "cannot build a schema from a list of Table, int", "source"),
    ("options with a graph", lambda _: GRAPH, {"tags": TagConfig()},
     "do not apply to a SchemaGraph", "build_schema"),
    ("options with a dict", lambda _: MINIMAL, {"exclude": ["ZoneVO"]},
     "do not apply to a schema dict", "build_schema"),
    ("options with json", lambda _: json.dumps(MINIMAL), {"name": str.lower},
     "do not apply to JSON", "build_schema"),
]


@pytest.mark.parametrize(("make", "kwargs", "message", "param"),
                         [c[1:] for c in SOURCE_ERRORS], ids=[c[0] for c in SOURCE_ERRORS])
def test_source_errors(make: Callable[[Path], Any], kwargs: dict[str, Any], message: str,
                       param: str, tmp_path: Path) -> None:
    with pytest.raises(SchemaError) as caught:
        build_schema(make(tmp_path), **kwargs)
    assert message in caught.value.message
    assert caught.value.param == param


def test_bad_json_points_at_the_error() -> None:
    with pytest.raises(SchemaError) as caught:
        build_schema('{\n  "resources": {,}\n}')
    err = caught.value
    assert (err.value, err.start, err.end) == ('  "resources": {,}', 16, 17)
    assert err.value is not None and err.start is not None and err.value[err.start] == ","


def test_meta_is_free_form_and_ignored() -> None:
    data = copy.deepcopy(MINIMAL) | {"meta": {"source": "manual 4.1.3", "count": 1}}
    assert graph_to_dict(graph_from_dict(data)) == MINIMAL

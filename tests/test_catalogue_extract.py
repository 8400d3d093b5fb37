"""The extractor (``tools/``): its readers survive the PDF artefacts, and re-running it on the
manual reproduces the shipped catalogue byte for byte."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from catalogue_draft import field_type, lower_first  # noqa: E402
from catalogue_fields import row_choices, sample_type  # noqa: E402
from catalogue_keys import word_tail_match  # noqa: E402
from catalogue_policy import is_owned  # noqa: E402
from extract_catalogue import default_paths, render_outputs  # noqa: E402
from manual_examples import reply_example  # noqa: E402
from manual_tables import parse_tables  # noqa: E402
from manual_text import curl_queries, find_query_sections, rest_paths  # noqa: E402

PATHS = default_paths(ROOT)
HAVE_SOURCES = PATHS["manual"].exists() and PATHS["reference"].exists()

# (lines of a reply table region, the rows as name:type@since)
TABLES = [
    (["#inventories", "uuid String UUID 0.6", "name String  0.6"],
     ["uuid:String@0.6", "name:String@0.6"]),
    # a row spread over cells, with the page header repeated in between
    (["#inventories", "uuid", "名字 类型 描述 起始版本", "String", "资源的UUID，唯一标", "示该资源",
      "0.6"],
     ["uuid:String@0.6"]),
    # a wrapped name, then a type sharing its line with the description
    (["#inventories", "activityActionResultM", "essage", "String 伸缩活动执行结果", "3.1.0"],
     ["activityActionResultMessage:String@3.1.0"]),
    # a name wrapped before a capital, and a wrapped enum type
    (["#inventories", "primaryStorageInstall", "Path", "String", "0.6",
      "#status", "Created", "AutoScalingRul", "eStatus", "已创建", "3.1.0"],
     ["primaryStorageInstallPath:String@0.6", "Created:AutoScalingRuleStatus@3.1.0"]),
    # the tail of a wrapped reference pushed after the since-version, then the next row
    (["#inventories", "matchedPciDevi", "ceOfferingRef", "List", "详情参",
      "考matchedPciDeviceOffe", "2.1", "ringRef", "mdevSpecRefs", "List", "详情参", "3.5.0"],
     ["matchedPciDeviceOfferingRef:List@2.1", "mdevSpecRefs:List@3.5.0"]),
    # code-box debris inside a table, and a page footer
    (["#inventories", '"uuid": "abc",', "} ]", "开发手册 / 5 云资源池", "cpuNum Integer  0.6",
      "QueryVmNicAction action = new QueryVmNicAction();"], ["cpuNum:Integer@0.6"]),
    # a Java primitive and an all-capitals enum value wrapped over two lines
    (["#inventories", "id long  2.1", "#virtStatus", "SRIOV_VIRTUALI", "ZABLE",
      "PciDeviceVirtStatus", "3.5.0"],
     ["id:long@2.1", "SRIOV_VIRTUALIZABLE:PciDeviceVirtStatus@3.5.0"]),
]


@pytest.mark.parametrize(("lines", "rows"), TABLES)
def test_reply_tables_survive_the_conversion(lines: list[str], rows: list[str]) -> None:
    tables, problems = parse_tables(lines, 0, len(lines))
    found = [f"{r.name}:{r.type}@{r.since}" for t in tables.values() for r in t]
    assert found == rows
    assert problems == []


def test_a_bullet_after_a_page_break_still_belongs_to_its_row() -> None:
    lines = ["#inventories", "state", "String", "状态，包括：", "• Created", "0.6",
             "名字 类型 描述 起始版本", "• Unknown", "vmNics List 详情参考vmNics 0.6"]
    tables, _ = parse_tables(lines, 0, len(lines))
    state = tables["inventories"][0]
    assert row_choices(state.name, state.type, state.description, tables) == \
        ["Created", "Unknown"]
    assert [r.name for r in tables["inventories"]] == ["state", "vmNics"]


HEADINGS = [
    (["5.1.8 查询云主机(QueryVmInstance) "], "QueryVmInstance", "查询云主机"),
    (["10.1.1.4.3 查询事件订阅 （QueryEventSubscription）"], "QueryEventSubscription",
     "查询事件订阅"),
    (["5.7.23 查询弹性伸缩组内云主机列 ", "", "表(QueryAutoScalingGroupInstance) "],
     "QueryAutoScalingGroupInstance", "查询弹性伸缩组内云主机列表"),
    (["14.31 查询弹性裸金属实例(QueryBareMetal2Instance)"], "QueryBareMetal2Instance",
     "查询弹性裸金属实例"),
]


@pytest.mark.parametrize(("lines", "api", "title"), HEADINGS)
def test_query_headings_are_found(lines: list[str], api: str, title: str) -> None:
    sections = find_query_sections([*lines, "", "99.1 下一节(CreateThing)"])
    assert [(s.api, s.title) for s in sections] == [(api, title)]


def test_rest_paths_and_curl_examples_are_the_sections_own() -> None:
    lines = ["5.1.8 查询云主机(QueryVmInstance)", "URLs",
             "PUT zstack/v1/vm-instances/{uuid}/actions",  # the previous section's box
             "GET zstack/v1/vm-instances", "GET zstack/v1/vm-instances/{uuid}",
             '-X GET http://localhost:8080/zstack/v1/vm-instances?', "q=name=vm1&q=state=Running",
             "-X GET http://localhost:8080/zstack/v1/zones?q=name=z",  # not its path
             "5.1.9 启动云主机(StartVmInstance)"]
    section = find_query_sections(lines)[0]
    assert rest_paths(lines, section)[0] == ["/vm-instances"]
    assert curl_queries(lines, section) == [(6, "/vm-instances", ["name=vm1", "state=Running"])]


def test_the_reply_example_keeps_nested_keys_apart() -> None:
    lines = ["{", '"inventories": [', "{", '"uuid": "u1",', "SDK示例", '"vmNics": [', "{",
             '"ip": "10.0.0.1",', '"deviceId": 0.0', "}", "],", '"createDate": "May 11, 2017 '
             '1:23:02 PM"', "}", "]", "}", '"other": 1']
    example = reply_example(lines, 0, len(lines))
    assert example is not None
    assert list(example.keys) == ["uuid", "vmNics", "createDate"]
    assert list(example.nested["vmNics"].keys) == ["ip", "deviceId"]
    assert sample_type(example.keys["createDate"]) == "Timestamp"


@pytest.mark.parametrize(("text", "expected"), [
    ("String", "String"), ("long", "Long"), ("int", "Integer"), ("boolean", "Boolean"),
    ("Timestamp", "Timestamp"), ("Double", "Double"), ("VmInstanceState", "String"),
    ("List", None), ("LinkedHashMap", None), ("VmNicInventory", None), ("List<String>", None),
])
def test_manual_types_map_to_field_types(text: str, expected: str | None) -> None:
    assert field_type(text) == expected


@pytest.mark.parametrize(("sample", "expected"), [
    ('"May 11, 2017 1:23:02 PM"', "Timestamp"), ("true", "Boolean"), ("8.589934592E9", "Long"),
    ("1.0", "Long"), ("0.25", "Double"), ('"vm1"', "String"), ("42", "Long")])
def test_example_values_suggest_a_type(sample: str, expected: str) -> None:
    assert sample_type(sample) == expected


@pytest.mark.parametrize(("stem", "candidates", "expected"), [
    ("currentFlow", ["TicketFlow", "Ticket"], ["TicketFlow"]),
    ("defaultL3Network", ["L3Network", "L2Network"], ["L3Network"]),
    ("ruleSet", ["PolicyRouteRuleSet", "VpcFirewallRuleSet", "Rule"],
     ["PolicyRouteRuleSet", "VpcFirewallRuleSet"]),
    ("parent", ["Zone", "Host"], []),
])
def test_key_names_match_resources_by_their_last_words(stem: str, candidates: list[str],
                                                       expected: list[str]) -> None:
    assert word_tail_match(stem, candidates) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("VmInstance", "vmInstance"), ("IAM2Project", "iam2Project"), ("SNSTopic", "snsTopic"),
    ("VRouterRouteTable", "vRouterRouteTable"), ("L3Network", "l3Network")])
def test_relation_names_are_field_style(name: str, expected: str) -> None:
    assert lower_first(name) == expected


@pytest.mark.parametrize(("resource", "section", "owned"), [
    ("VmInstance", "5.1.8", True), ("L3Network", "7.3.3", True), ("L2Network", "7.2.9", False),
    ("Eip", "8.1.9.3", True), ("VmNicSecurityGroupRef", "8.1.7.11", False),
    ("AlarmRecord", "10.1.1.3.15", False), ("Account", "11.1.3", False),
    ("TagPattern", "18.2.8", True), ("SystemTag", "18.2.2", False)])
def test_ownership_rule(resource: str, section: str, owned: bool) -> None:
    assert is_owned(resource, section) is owned


@pytest.mark.skipif(not HAVE_SOURCES, reason="the manual or the reference is not in ../shared")
def test_rerunning_the_extractor_reproduces_the_shipped_files() -> None:
    outputs, diagnostics = render_outputs(PATHS["manual"], PATHS["reference"])
    for key, text in outputs.items():
        assert PATHS[key].read_text(encoding="utf-8") == text, f"{PATHS[key]} is out of date"
    assert diagnostics[0].startswith("query APIs: 186;")

"""``docs/catalogue.md``: the generated tables, the counts, the gaps and the decisions.

>>> print(_table(["a", "b"], [["1", "x|y"]]))
| a | b |
|---|---|
| 1 | x\\|y |
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from zquery.introspect import count_paths
from zquery.schema.graph import SchemaGraph
from zquery.schema.serialize import graph_from_dict

__all__ = ["DECISIONS", "render_docs"]

MAX_DEPTH = 4

DECISIONS = """\
* **One resource per Query API** (186). Its name is the inventory class without `Inventory`
  (`VmInstance`, `UsedIp` for `QueryIpAddress`); the class is the reference server's, else
  the one the manual names for the same field table in another section (`RouterArea` for
  `QueryVRouterOspfArea`, `VpcRouterVm` for `QueryVpcRouter`), else `<Api>Inventory`.
  `api_name` is the manual's API, `rest_paths` the base paths of its `GET` URL box (the
  `{uuid}` form only contributes its base), `title`/`section` the heading.
* **Fields** come from the API's `#inventories` table; the manual's type maps to the field
  type (`int`/`Integer` → Integer, `long`/`Long` → Long, `boolean` → Boolean, enum types such
  as `VmInstanceState` → String). Lists, maps and nested inventories are not fields: they are
  relations when they have a table and a key (below), else not queryable (listed below).
  For the APIs the reference covers, its queryable columns the 4.1.3 manual lacks are added
  (newer releases have them; a 4.1.3 client never sends them, so they only widen what is
  accepted) and values stored in another table (`Host.availableCpuCapacity` in
  `HostCapacityVO`) are mapped values, not columns.
* **Enum values** (`choices`) only when the manual lists them reliably: an enum table
  (`#state` with one row per value) or the bullet list of a `state`/`status` field or of an
  enum-typed field. `type` lists (`UserVm`, `ApplianceVm`) are open-ended (plugins add
  types) and give no choices.
* **Relations** record their `origin`. `reference`: the open-source server's expanded
  queries, collections and aliases for the 80 inventories it knows (a target without a Query
  API becomes a resource without `api_name`); its broken declarations are left out or
  corrected (below); a child's own relation wins over an inherited one of the same name.
  `manual`: a list with its own `#table` whose rows hold a key back to the owner
  (`#ruleTriggers` … `ruleUuid`), `nested` (replies carry it); for a resource the reference
  covers such a list is `hidden` (not offered by completion, since the server does not
  declare it). `inferred`: for the resources the reference does not know, every `xxxUuid`
  field naming a resource (`lastHostUuid` → `Host`, `ruleSetUuid` of a policy-route rule →
  `PolicyRouteRuleSet`) is a to-one relation `xxx`, with a to-many reverse on the target when
  the name is the target's own (`Host.pciDevice`); a `…Ref` resource with two keys gets
  ZStack-style aliases across it, named after the resource they reach
  (`PolicyRouteRuleSet.l3Network` = `policyRouteRuleSetL3Ref.l3Network`,
  `L3Network.policyRouteRuleSet` = `policyRouteRuleSetL3Ref.ruleSet`). Polymorphic keys
  (`resourceUuid`) are no relation.
* **Many-to-many** follows the server: a hidden relation to the link resource plus an alias
  across it (`Cluster.l2Network` = `l2NetworkRef.l2Network` over `L2NetworkClusterRefVO`).
* **Typed children share their root's table** with a row filter on the type columns
  (single-table inheritance): `QueryVmInstance` returns appliance VMs too, `QueryApplianceVm`
  only them, `QueryVirtualRouterVm` virtual routers and VPC routers (a filter lists the
  child's own type value and its descendants'). A child has all its parent's fields and
  relations, and its parent's column types. Type values come from the reference's
  discriminators, else the manual's reply examples, else ZStack's type constants.
* **Primary keys**: the reference's, else `uuid`, else `id`; a resource without either (a
  link such as `QueryVmInstancePciDeviceSpecRef`) gets a surrogate `id` column.
* **Tags and ownership**: every Query API resource has the tag type of its table's VO class
  (one for a typed family: a VM's tags are the same whatever API reads them); helpers carry
  no tags. A resource is **owned** (account scoping applies) when it is a tenant resource:
  its section is one of 5 (云资源池), 7.3–7.8 (L3 networks, VPC, routing), 8 (网络服务),
  10 (alarms, SNS, resource stacks), 11.3 (scheduler), 13.1 (bare metal), 15 (backup),
  18.2.8 (tag patterns), it is no link or record (`…Ref`, `…Record`, `…History`,
  `…Activity`) and no admin object (network service providers, bare-metal hardware); a typed
  child follows its root.
"""


def _table(head: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(part) for part in section.split(".") if part.isdigit())


def _counts(graph: SchemaGraph) -> list[list[str]]:
    apis = [res for res in graph if res.api_name]
    walks: dict[tuple[str, int], int] = {}

    def walk(name: str, left: int) -> int:
        """Conditions when a path may come back to a resource (as a CLI would accept)."""
        key = (name, left)
        if key not in walks:
            res = graph.resources[name]
            walks[key] = len(res.fields) + (sum(walk(rel.target, left - 1)
                                               for rel in res.relations.values()) if left else 0)
        return walks[key]

    rows = []
    for depth in range(MAX_DEPTH + 1):
        rows.append([
            str(depth), f"{count_paths(graph, apis, depth):,}",
            f"{count_paths(graph, apis, depth, tags=True):,}",
            f"{count_paths(graph, None, depth):,}",
            f"{sum(walk(res.name, depth) for res in apis):,}"])
    return rows


def render_docs(schema: dict[str, Any], examples: dict[str, Any]) -> str:
    """The whole of ``docs/catalogue.md``."""
    graph = graph_from_dict(schema)
    resources = schema["resources"]
    apis = sorted((res for res in resources.values() if res.get("api_name")),
                  key=lambda res: _section_key(res["section"]))
    helpers = sorted((name, res) for name, res in resources.items() if not res.get("api_name"))
    by_name = {res["api_name"]: name for name, res in resources.items() if res.get("api_name")}
    notes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for kind, where, text in schema["meta"]["notes"]:
        notes[kind].append((where, text))
    origins = Counter(rel["origin"] for res in resources.values()
                      for rel in res.get("relations", {}).values())
    out = [
        "# The ZStack Cloud 4.1.3 catalogue",
        "",
        "Generated by `tools/extract_catalogue.py` from the API manual "
        "(`../shared/spec/zstack-cloud-4.1.3-api-manual.txt`) and the open-source server's "
        "declarations (`../shared/reference/`). Do not edit: change the extractor and re-run "
        "it (`python tools/extract_catalogue.py`; `--check` tells whether the shipped files "
        "are current). Load it with `zquery.catalogue.load_catalogue()`.",
        "",
        "## Summary",
        "",
        f"* {len(apis)} Query APIs, {len(resources)} resources ({len(helpers)} without a "
        "Query API: relation targets only the reference or a nested table knows), "
        f"{len(schema['link_tables'])} link/mapped-value tables.",
        f"* {sum(len(r['fields']) for r in resources.values()):,} fields; relations by origin: "
        + ", ".join(f"{o} {c}" for o, c in sorted(origins.items()))
        + f"; {sum(len(r.get('aliases', {})) for r in resources.values())} aliases.",
        f"* {sum(len(e['conditions']) for e in examples['examples'])} example conditions "
        f"printed by the manual, {sum(1 for e in examples['examples'] if e.get('erratum'))} "
        "of them wrong in the manual itself (listed below).",
        "",
        "## Decisions",
        "",
        DECISIONS,
        "## How many conditions",
        "",
        "Distinct conditions = acyclic relation path (no resource visited twice, hidden "
        "relations included, aliases not counted again) + a field at its end, counted by "
        "`zquery.introspect.count_paths` from the Query API resources:",
        "",
        _table(["hops ≤", "conditions", "with the two tag fields", "from all resources",
                "if paths may revisit a resource"], _counts(graph)),
        "",
        _claim(graph),
        "",
        "## Query APIs",
        "",
        "Fields include mapped values; relations count the offered ones (hidden in "
        "parentheses), aliases are separate.",
        "",
        _table(["§", "API", "resource", "REST path", "fields", "relations", "aliases",
                "fields from"],
               [[res["section"], res["api_name"], by_name[res["api_name"]],
                 ", ".join(res.get("rest_paths", [])), str(len(res["fields"])),
                 _relation_count(res), str(len(res.get("aliases", {}))),
                 _source(res, schema["meta"]["field_sources"], notes)] for res in apis]),
        "",
        "## Typed children",
        "",
        _table(["resource", "table", "row filter"],
               [[name, res["table"], "; ".join(f"{c} ∈ {{{', '.join(v)}}}"
                                                for c, v in res["row_filter"].items())]
                for name, res in sorted(resources.items()) if res.get("row_filter")]),
        "",
        "## Resources without a Query API",
        "",
        _table(["resource", "table", "fields", "relations"],
               [[name, res["table"], str(len(res["fields"])), _relation_count(res)]
                for name, res in helpers]),
        "",
    ]
    out += _notes_sections(notes, examples, schema["meta"]["parse_problems"])
    return "\n".join(out).rstrip() + "\n"


def _claim(graph: SchemaGraph) -> str:
    """How the catalogue compares with the manual's "over 4 million" (numbers computed)."""
    apis = [res for res in graph if res.api_name]
    four = count_paths(graph, apis, MAX_DEPTH)
    five = count_paths(graph, apis, MAX_DEPTH + 1)
    return (
        "The manual claims \"over 4 million single query conditions\" (2.9). From the Query "
        f"APIs the catalogue has {four:,} acyclic conditions within {MAX_DEPTH} hops and "
        f"{five:,} within {MAX_DEPTH + 1}. The manual does not say how it counts: its figure "
        "needs paths that come back to a resource (the last column), paths longer than 4 "
        "hops, or more relations than this catalogue has (the commercial server's plugins "
        "declare relations that are only inferred here, or unknown). A path that revisits a "
        "resource says nothing a shorter one cannot, which is why the resolver simplifies "
        "the direct cycles and the count here leaves them out.")


def _relation_count(res: dict[str, Any]) -> str:
    rels = res.get("relations", {}).values()
    hidden = sum(1 for rel in rels if rel.get("hidden"))
    shown = len(res.get("relations", {})) - hidden
    return f"{shown} ({hidden})" if hidden else str(shown)


def _source(res: dict[str, Any], sources: dict[str, str],
            notes: dict[str, list[tuple[str, str]]]) -> str:
    api = res["api_name"]
    gap = " (a gap, below)" if any(where == api for where, _ in notes["gap"]) else ""
    return f"{sources.get(api, '')}{gap}"


_SECTIONS = [
    ("gap", "Gaps in the manual and how they are filled",
     "Query APIs whose reply is documented as `{}`, or whose example belongs to another API."),
    ("fill", "Fields added to a fill", ""),
    ("example", "Reply-example keys missing from the field tables", ""),
    ("child", "Typed children and their type columns", ""),
    ("key", "Key columns the manual does not show", ""),
    ("corrected", "Reference declarations corrected", ""),
    ("broken", "Reference declarations left out", ""),
    ("alias", "Aliases left out", ""),
    ("clash", "Relations left out for a name clash", ""),
    ("mapped", "Mapped values left out", ""),
    ("nested", "Nested structures", "Lists and objects in the field tables that are no "
     "relation, or only a hidden one."),
    ("helper", "Resources made from a nested table", ""),
    ("reference-field", "Fields only the reference lists",
     "Queryable columns of the open-source server missing from the 4.1.3 manual."),
]


def _notes_sections(notes: dict[str, list[tuple[str, str]]], examples: dict[str, Any],
                    problems: list[str]) -> list[str]:
    out: list[str] = []
    for kind, title, intro in _SECTIONS:
        entries = notes.get(kind, [])
        if not entries:
            continue
        out += [f"## {title}", ""] + ([intro, ""] if intro else [])
        if kind == "reference-field":
            grouped: dict[str, list[str]] = defaultdict(list)
            for where, text in entries:
                grouped[where].append(text)
            out += [f"* {where}: {', '.join(names)}" for where, names in sorted(grouped.items())]
        else:
            out += [f"* {where}: {text}" for where, text in entries]
        out.append("")
    errata = [e for e in examples["examples"] if e.get("erratum")]
    out += ["## Example conditions the manual gets wrong", "",
            "Every other condition the manual prints validates against the catalogue "
            "(`tests/test_catalogue_examples.py`).", ""]
    out += [f"* {e['api']} (line {e['line']}): `{'&'.join('q=' + c for c in e['conditions'])}`"
            f" — {e['erratum']}" for e in errata]
    out += ["", "## Extraction diagnostics", "",
            f"Lines inside reply tables that no row could use: {len(problems)}.", ""]
    out += [f"* {problem}" for problem in problems]
    return out

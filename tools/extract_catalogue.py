"""Extract the ZStack Cloud 4.1.3 catalogue from the API manual (and the reference server facts).

Writes, byte for byte the same on every run with the same inputs:

* ``zquery/catalogue/zstack-4.1.3.json`` — the schema dict (``graph_from_dict`` format) with
  a ``meta`` block: sources, counts and every decision/gap note;
* ``zquery/catalogue/zstack-4.1.3-examples.json`` — the query conditions the manual prints
  (curl examples of each Query API, chapter 2), with the manual's own errata marked;
* ``docs/catalogue.md`` — the generated table, the gaps and the decisions.

Usage (from the repository root)::

    python tools/extract_catalogue.py            # write the three files, print diagnostics
    python tools/extract_catalogue.py --check    # exit 1 if a shipped file would change

>>> sorted(default_paths(Path("/repo")))
['docs', 'examples', 'manual', 'reference', 'schema']
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalogue_build import build_draft
from catalogue_docs import render_docs
from catalogue_examples import collect_examples
from manual_model import read_manual
from manual_text import load_lines
from reference_model import Reference

__all__ = ["default_paths", "main", "render_outputs"]

MANUAL_NAME = "zstack-cloud-4.1.3-api-manual.txt"


def default_paths(root: Path) -> dict[str, Path]:
    """Where the inputs are read and the outputs written, relative to the repository root."""
    shared = root.parent / "shared"
    return {
        "manual": shared / "spec" / MANUAL_NAME,
        "reference": shared / "reference",
        "schema": root / "zquery" / "catalogue" / "zstack-4.1.3.json",
        "examples": root / "zquery" / "catalogue" / "zstack-4.1.3-examples.json",
        "docs": root / "docs" / "catalogue.md",
    }


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def render_outputs(manual_path: Path, reference_dir: Path) -> tuple[dict[str, str], list[str]]:
    """The text of the three outputs (keyed ``schema``/``examples``/``docs``) and diagnostics."""
    lines = load_lines(manual_path)
    manual = read_manual(lines)
    ref = Reference.load(reference_dir)
    draft = build_draft(manual, ref)
    schema = draft.to_dict()
    problems = [f"{api.api}: {problem}" for api in manual.apis for problem in api.problems]
    schema["meta"] = {
        "source": f"ZStack Cloud 4.1.3 API manual ({MANUAL_NAME}) and the open-source server's "
                  "declarations (../shared/reference)",
        "generator": "tools/extract_catalogue.py",
        "query_apis": sum(1 for res in schema["resources"].values() if res.get("api_name")),
        "notes": [list(note) for note in draft.notes],
        "field_sources": {res.api_name: res.source for res in draft.resources.values()
                          if res.api_name},
        "parse_problems": problems,
    }
    examples = collect_examples(manual, lines, schema)
    outputs = {"schema": _dump(schema), "examples": _dump(examples)}
    outputs["docs"] = render_docs(schema, examples)
    diagnostics = _diagnostics(schema, examples, draft.notes, problems)
    return outputs, diagnostics


def _diagnostics(schema: dict[str, Any], examples: dict[str, Any],
                 notes: list[tuple[str, str, str]], problems: list[str]) -> list[str]:
    resources = schema["resources"]
    apis = [res for res in resources.values() if res.get("api_name")]
    relations = Counter(rel["origin"] for res in resources.values()
                        for rel in res.get("relations", {}).values())
    kinds = Counter(kind for kind, _, _ in notes)
    return [
        f"query APIs: {len(apis)}; resources: {len(resources)} "
        f"({len(resources) - len(apis)} helpers without an API)",
        f"fields: {sum(len(res['fields']) for res in resources.values())}; relations: "
        + ", ".join(f"{origin} {count}" for origin, count in sorted(relations.items()))
        + f"; aliases: {sum(len(res.get('aliases', {})) for res in resources.values())}",
        f"link tables: {len(schema['link_tables'])}",
        "notes: " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())),
        f"example conditions: {sum(len(e['conditions']) for e in examples['examples'])} in "
        f"{len(examples['examples'])} examples; errata: "
        f"{sum(1 for e in examples['examples'] if e.get('erratum'))}",
        f"lines no table row could use: {len(problems)}",
        *(f"  {problem}" for problem in problems),
    ]


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parent.parent
    paths = default_paths(root)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manual", type=Path, default=paths["manual"])
    parser.add_argument("--reference", type=Path, default=paths["reference"])
    parser.add_argument("--check", action="store_true",
                        help="compare with the shipped files instead of writing them")
    args = parser.parse_args(argv)
    outputs, diagnostics = render_outputs(args.manual, args.reference)
    for line in diagnostics:
        print(line)
    stale = []
    for key, text in outputs.items():
        target = paths[key]
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if args.check:
            if current != text:
                stale.append(str(target.relative_to(root)))
        elif current != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(root)}")
    if stale:
        print("out of date: " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The query conditions the manual prints, for the catalogue's example file.

Each Query API's curl examples (only those calling its own REST path) and chapter 2's
``GET …?q=`` lines, with their manual line. A condition the manual itself gets wrong is kept
and marked with the reason from :data:`catalogue_policy.EXAMPLE_ERRATA`, so the test can check
both that every other example validates and that every erratum really fails.

>>> from manual_model import Manual
>>> collect_examples(Manual([], {}, []), [], {"resources": {}})
{'examples': []}
"""

from __future__ import annotations

from typing import Any

from catalogue_policy import EXAMPLE_ERRATA
from manual_examples import chapter_two_queries
from manual_model import Manual

__all__ = ["collect_examples"]


def collect_examples(manual: Manual, lines: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    """``{"examples": [{"api", "rest_path", "line", "source", "conditions", "erratum"?}]}``."""
    examples: list[dict[str, Any]] = []
    for api in manual.apis:
        for line, path, conditions in api.curl:
            if conditions:
                examples.append(_example(api.api, path, line, "curl", conditions))
    by_path = {path: res["api_name"] for res in schema["resources"].values()
               for path in res.get("rest_paths", []) if res.get("api_name")}
    for line, path, conditions in chapter_two_queries(lines):
        api_name = by_path.get(path)
        if api_name is not None:
            examples.append(_example(api_name, path, line, "chapter 2", conditions))
    unused = set(EXAMPLE_ERRATA) - {(e["api"], c) for e in examples for c in e["conditions"]}
    if lines and unused:
        raise ValueError(f"errata for conditions the manual does not print: {sorted(unused)}")
    return {"examples": examples}


def _example(api: str, path: str, line: int, source: str, conditions: list[str],
             ) -> dict[str, Any]:
    out: dict[str, Any] = {"api": api, "rest_path": path, "line": line, "source": source,
                           "conditions": conditions}
    reasons = [EXAMPLE_ERRATA[(api, cond)] for cond in conditions if (api, cond) in EXAMPLE_ERRATA]
    if reasons:
        out["erratum"] = "; ".join(dict.fromkeys(reasons))
    return out

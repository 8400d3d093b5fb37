"""Which schema graph the harness measures on: the shipped catalogue when it serves the corpus,
else the ZStack-like test graph (``tests/zstack_like.py``).

The corpus and the hand-built statements name ZStack's tables and relations (``VmNicVO``,
``vmNics.l3Network``); :func:`compile_graph` takes the catalogue only when every corpus
request resolves on it and every hand-built statement finds its tables, and says why not
otherwise. Execution always uses the test graph, which the bench data generator fills.

>>> graph = test_graph()
>>> sorted(graph.resources)[:3]
['Cluster', 'Eip', 'Host']
>>> usable(graph) is None
True
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.corpus import ENTRIES, RESOURCE
from benchmarks.handwritten import hand_tables
from benchmarks.values import Values
from zquery.compile import compile_plan
from zquery.errors import ZQueryError
from zquery.request import parse_request
from zquery.resolve import resolve
from zquery.schema.graph import SchemaGraph

__all__ = ["GraphChoice", "compile_graph", "test_graph", "usable"]

_TESTS = Path(__file__).resolve().parent.parent / "tests"

GraphChoice = tuple[SchemaGraph, str]


def test_graph() -> SchemaGraph:
    """The 9-resource ZStack-like graph the tests share."""
    if str(_TESTS) not in sys.path:
        sys.path.insert(0, str(_TESTS))
    from zstack_like import GRAPH  # type: ignore[import-not-found,unused-ignore]

    graph: SchemaGraph = GRAPH
    return graph


def usable(graph: SchemaGraph) -> str | None:
    """None when the whole corpus resolves, compiles and hand-builds on *graph*; else why not."""
    sample = Values.variant(0)
    for entry in ENTRIES:
        try:
            plan = resolve(parse_request(entry.request(sample)), graph, RESOURCE)
            compile_plan(plan, graph)
        except ZQueryError as error:
            return f"{entry.name}: {error}"
        try:
            entry.floor(hand_tables(graph), sample, "sqlite")
        except KeyError as error:
            return f"{entry.name}: the hand-built statement needs table or column {error}"
    return None


def compile_graph(choice: str = "auto") -> GraphChoice:
    """The graph to measure compile cost on, and a line saying which and why.

    *choice*: ``catalogue``, ``test`` or ``auto`` (the catalogue if it serves the corpus).
    """
    if choice == "test":
        return test_graph(), "test graph (tests/zstack_like.py), as asked"
    try:
        from zquery.catalogue import load_catalogue

        catalogue: SchemaGraph = load_catalogue()
    except ImportError as error:
        reason = f"no catalogue yet ({error})"
    else:
        problem = usable(catalogue)
        if problem is None:
            return catalogue, "shipped catalogue (zquery.catalogue.load_catalogue())"
        reason = f"the catalogue does not serve the corpus: {problem}"
    if choice == "catalogue":
        raise SystemExit(f"--schema catalogue: {reason}")
    return test_graph(), f"test graph (tests/zstack_like.py): {reason}"

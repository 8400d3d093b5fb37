"""zquery: ZStack Cloud REST query conditions compiled to SQL with SQLAlchemy.

parse → resolve → compile → execute; the :class:`ZQuery` facade runs them all.
Attributes load lazily, so importing one stage does not import the others.

>>> import zquery
>>> zquery.Operator("?=").name
'IN'
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "ZQuery": "zquery.api",
    "ZQueryConfig": "zquery.api",
    "parse_condition": "zquery.parse",
    "parse_request": "zquery.request",
    "render_condition": "zquery.render",
    "resolve": "zquery.resolve",
    "ResolveOptions": "zquery.resolve",
    "compile_plan": "zquery.compile",
    "CompiledQuery": "zquery.compile",
    "execute": "zquery.execute",
    "build_schema": "zquery.schema.build",
    "build_metadata": "zquery.schema.tables",
    "load_catalogue": "zquery.catalogue",
    "SchemaGraph": "zquery.schema.graph",
    "Limits": "zquery.limits",
    "CyclePolicy": "zquery.plan",
    "QueryPlan": "zquery.plan",
    "QueryRequest": "zquery.ast",
    "Condition": "zquery.ast",
    "Operator": "zquery.ast",
    "ZQueryError": "zquery.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zquery' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

"""Text and JSON forms of what the CLI shows: request lines, errors with a caret, plans.

>>> from zquery.errors import UnknownField
>>> err = UnknownField("no field 'ipp' on VmNic", param="q[0]", value="vmNics.ipp=1",
...                    start=7, end=10, hint="did you mean 'ip'?")
>>> print(error_text(err))
error: no field 'ipp' on VmNic
  q[0]: vmNics.ipp=1
               ^^^
  hint: did you mean 'ip'?
>>> jsonable((1, "a"))
[1, 'a']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zquery.api import ZQuery
from zquery.compile import CompiledQuery
from zquery.errors import ExecuteError, UnsupportedDialect, ZQueryError
from zquery.plan import Hop, QueryPlan, ResolvedCondition
from zquery.server_routes import Match, Router, split_request_line, with_conditions

__all__ = ["DATABASE", "INVALID", "RequestLine", "error_text", "explain_lines", "fail",
           "jsonable", "plan_dict", "sa_dialect"]

#: Exit codes besides 0 (success) and 2 (usage error, Click's own).
INVALID, DATABASE = 1, 3


@dataclass(frozen=True)
class RequestLine:
    """A request line split and routed: the resource match and the full query string."""

    path: str
    match: Match
    query: str

    @classmethod
    def parse(cls, zq: ZQuery, line: str) -> RequestLine:
        """Raises :class:`~zquery.errors.UnknownResource` for a path no API serves."""
        path, raw_query = split_request_line(line)
        match = Router(zq.graph).resolve(path)
        return cls(path, match, with_conditions(raw_query, match.conditions))

    @property
    def resource(self) -> str:
        return self.match.resource.name


def error_text(error: ZQueryError) -> str:
    """The error, the parameter value with a caret under the bad span, the hint."""
    lines = [f"error: {error.message}"]
    if error.value is not None:
        label = f"{error.param}: " if error.param else ""
        shown = error.value.replace("\n", " ").replace("\t", " ")
        lines.append(f"  {label}{shown}")
        if error.start is not None:
            end = error.end if error.end is not None and error.end > error.start else \
                error.start + 1
            lines.append("  " + " " * (len(label) + error.start) + "^" * (end - error.start))
    elif error.param:
        lines.append(f"  in: {error.param}")
    if error.expected:
        lines.append("  expected: " + ", ".join(error.expected))
    if error.hint:
        lines.append(f"  hint: {error.hint}")
    return "\n".join(lines)


def fail(error: ZQueryError, *, as_json: bool = False, to_stderr: bool = True) -> Exception:
    """Show *error* (caret and hint, or its JSON on stdout) and return the exit to raise."""
    import typer

    text = json.dumps(error.to_dict(), ensure_ascii=False, indent=2) if as_json \
        else error_text(error)
    typer.echo(text, err=to_stderr and not as_json)
    return typer.Exit(DATABASE if isinstance(error, ExecuteError) else INVALID)


def sa_dialect(name: str) -> Any:
    """The SQLAlchemy dialect object of ``sqlite``, ``postgresql`` or ``mysql``/``mariadb``."""
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    modules = {"sqlite": sqlite, "postgresql": postgresql, "mysql": mysql, "mariadb": mysql}
    if name not in modules:
        raise UnsupportedDialect(f"unknown dialect '{name}'", param="dialect", value=name,
                                 expected=sorted(modules))
    return modules[name].dialect()


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [jsonable(item) for item in value]
    return value


def _hop(hop: Hop) -> dict[str, Any]:
    rel = hop.relation
    out: dict[str, Any] = {"relation": rel.name, "from": rel.source, "to": rel.target,
                           "cardinality": rel.cardinality.value}
    if rel.through is not None:
        out["through"] = rel.through.table
    return out


def _condition(cond: ResolvedCondition) -> dict[str, Any]:
    out: dict[str, Any] = {
        "param": cond.condition.param, "text": cond.condition.text,
        "hops": [_hop(h) for h in cond.hops], "resource": cond.resource.name,
        "operator": cond.op.symbol, "value": jsonable(cond.value), "to_many": cond.to_many}
    if cond.field is not None:
        out["field"] = cond.field.name
        out["type"] = cond.field.type.value
    if cond.tag is not None:
        out["tag"] = {"kind": cond.tag.kind.value, "resource_type": cond.tag.resource_type}
    if cond.guards:
        out["guards"] = [{"depth": g.depth, "relation": g.relation.name} for g in cond.guards]
    return out


def plan_dict(plan: QueryPlan, compiled: CompiledQuery | None = None) -> dict[str, Any]:
    """The resolved plan as JSON-ready data (what ``check --json`` and ``explain --json`` print)."""
    res = plan.resource
    out: dict[str, Any] = {
        "api": res.api_name, "resource": res.name, "table": res.table,
        "conditions": [_condition(c) for c in plan.conditions],
        "sort": [{"path": ".".join([*(h.relation.name for h in s.hops),
                                    s.field.name if s.field else "count"]),
                  "descending": s.descending} for s in plan.sort],
        "fields": [f.name for f in plan.fields], "groupBy": [f.name for f in plan.group_by],
        "limit": plan.limit, "start": plan.start, "count": plan.count,
        "replyWithCount": plan.reply_with_count, "paged": plan.paged,
        "cycles": [{"param": c.param, "path": c.text, "action": c.action} for c in plan.cycles],
        "warnings": list(plan.warnings),
        "scope": plan.scope.account_uuid if plan.scope else None,
    }
    if compiled is not None:
        out["sql_shapes"] = list(compiled.shapes)
    return out


def explain_lines(plan: QueryPlan, compiled: CompiledQuery) -> list[str]:
    """The plan for people: each condition's hops and cardinalities, cycles, warnings, page."""
    res = plan.resource
    lines = [f"{res.api_name or res.name}: resource {res.name}, table {res.table}"]
    if res.row_filter:
        lines.append("  rows: " + ", ".join(f"{c} in {list(v)}" for c, v in res.row_filter))
    lines.append("conditions:" if plan.conditions else "conditions: none (every row)")
    for cond in plan.conditions:
        lines.append(f"  {cond.condition.param}: {cond.condition.text}")
        walk = res.name
        for hop in cond.hops:
            rel = hop.relation
            via = f" via {rel.through.table}" if rel.through else ""
            walk += f" -{rel.name} ({rel.cardinality.value}{via})-> {rel.target}"
        target = cond.field.name if cond.field else f"__{cond.tag.kind.value}Tag__" \
            if cond.tag else "?"
        lines.append(f"    path: {walk} . {target}")
        value = "" if cond.op.is_null_test else f" {jsonable(cond.value)!r}"
        lines.append(f"    test: {cond.op.symbol}{value}"
                     + (" (existential: some related row matches)" if cond.to_many else ""))
        for guard in cond.guards:
            lines.append(f"    guard: hop {guard.depth} must have a {guard.relation.name}")
    if compiled.shapes:
        lines.append("sql shapes:")
        lines.extend(f"  {shape}" for shape in compiled.shapes)
    lines.append("cycles:" if plan.cycles else "cycles: none")
    lines.extend(f"  {c.param}: {c.text} ({c.action})" for c in plan.cycles)
    if plan.warnings:
        lines.append("warnings:")
        lines.extend(f"  {w}" for w in plan.warnings)
    if plan.sort:
        lines.append("sort: " + ", ".join(
            ("-" if s.descending else "+") + ".".join(
                [*(h.relation.name for h in s.hops), s.field.name if s.field else "count"])
            for s in plan.sort))
    if plan.fields:
        lines.append("fields: " + ", ".join(f.name for f in plan.fields))
    if plan.group_by:
        lines.append("groupBy: " + ", ".join(f.name for f in plan.group_by))
    if plan.count:
        lines.append("reply: count only")
    else:
        tie = " (primary key breaks ties)" if plan.paged else ""
        lines.append(f"page: start {plan.start}, limit {plan.limit}{tie}"
                     + ("; with total" if plan.reply_with_count else ""))
    if plan.scope is not None:
        lines.append(f"scope: account {plan.scope.account_uuid}")
    return lines

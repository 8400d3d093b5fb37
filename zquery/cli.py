"""The ``zquery`` command (also ``python -m zquery``): validate, explain and run queries,
browse the catalogue, build the demo database and serve it.

Exit codes: 0 success (``check``: the request is valid), 1 the request is invalid (or the
server answered 4xx for ``run``), 2 usage error, 3 a database error.

>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["check", "zstack/v1/vm-instances?q=name=vm1"])
>>> result.exit_code, result.output.split(":")[0]
(0, 'valid')
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from zquery.api import ZQuery, ZQueryConfig
from zquery.cli_render import RequestLine, explain_lines, fail, plan_dict, sa_dialect
from zquery.cli_serve import register
from zquery.errors import ZQueryError
from zquery.introspect import complete, count_paths, fields_of, paths, relations_of

__all__ = ["app", "main"]

app = typer.Typer(name="zquery", no_args_is_help=True, add_completion=False,
                  help="ZStack Cloud query conditions: check, explain, run and serve them.")

_DIALECTS = ("sqlite", "postgresql", "mysql")

Request = Annotated[str, typer.Argument(
    help="The request line as the manual prints it, e.g. "
         "'GET zstack/v1/vm-instances?q=name=vm1&limit=10'.", metavar="REQUEST",
    show_default=False)]
Strict = Annotated[bool, typer.Option(
    "--strict/--compat", help="strict: spaces around operators are errors; compat: trimmed.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Api = Annotated[str, typer.Argument(help="A Query API (QueryVmInstance), resource name or "
                                         "REST path (vm-instances).", show_default=False)]


def _zq(strict: bool = True) -> ZQuery:
    return ZQuery(config=ZQueryConfig(mode="strict" if strict else "compat"))


def _dialect(value: str) -> str:
    if value not in _DIALECTS:
        raise typer.BadParameter(f"choose one of {', '.join(_DIALECTS)}")
    return value


@app.command()
def check(request: Request, as_json: AsJson = False, strict: Strict = True) -> None:
    """Validate a request against the catalogue: exit 0 when valid, 1 when not."""
    zq = _zq(strict)
    try:
        line = RequestLine.parse(zq, request)
        plan = zq.plan(line.resource, line.query)
    except ZQueryError as error:
        raise fail(error, as_json=as_json, to_stderr=False) from None
    if as_json:
        typer.echo(json.dumps(plan_dict(plan), ensure_ascii=False, indent=2))
        return
    res = plan.resource
    many = sum(1 for c in plan.conditions if c.to_many)
    typer.echo(f"valid: {res.api_name or res.name} ({res.name}), "
               f"{len(plan.conditions)} condition(s), {many} across to-many relations")
    for note in (*(f"cycle {c.param}: {c.text} ({c.action})" for c in plan.cycles),
                 *plan.warnings):
        typer.echo(f"  note: {note}")


@app.command()
def sql(request: Request,
        dialect: Annotated[str, typer.Option(help="sqlite, postgresql or mysql.",
                                             callback=_dialect)] = "sqlite",
        strict: Strict = True) -> None:
    """Print the SQL of a request (values shown inline, for reading only)."""
    zq = _zq(strict)
    try:
        line = RequestLine.parse(zq, request)
        compiled = zq.compile(line.resource, line.query, dialect=dialect)
    except ZQueryError as error:
        raise fail(error) from None
    for label, statement in (("rows", compiled.rows), ("count", compiled.count)):
        if statement is None:
            continue
        if compiled.rows is not None and compiled.count is not None:
            typer.echo(f"-- {label}")
        typer.echo(_statement_text(statement, sa_dialect(dialect)) + ";")


def _statement_text(statement: Any, dialect: Any) -> str:
    try:
        return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    except Exception:  # a value type without a literal form: show bound parameters instead
        compiled = statement.compile(dialect=dialect)
        return f"{compiled}\n-- parameters: {compiled.params!r}"


@app.command()
def explain(request: Request,
            dialect: Annotated[str, typer.Option(help="sqlite, postgresql or mysql.",
                                                 callback=_dialect)] = "sqlite",
            as_json: AsJson = False, strict: Strict = True) -> None:
    """Show the plan: hops and cardinalities, SQL shapes, cycles and what was done, warnings."""
    zq = _zq(strict)
    try:
        line = RequestLine.parse(zq, request)
        plan = zq.plan(line.resource, line.query)
        from zquery.compile import compile_plan

        compiled = compile_plan(plan, zq.graph, dialect=dialect)
    except ZQueryError as error:
        raise fail(error, as_json=as_json) from None
    if as_json:
        typer.echo(json.dumps(plan_dict(plan, compiled), ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(explain_lines(plan, compiled)))


@app.command("complete")
def complete_command(api: Api, prefix: Annotated[str, typer.Argument(
        help="What is typed so far, e.g. 'vmNics.' or 'vmNics.l3'.")] = "") -> None:
    """List what may follow PREFIX in a condition, like the ZStack CLI's Tab."""
    zq = ZQuery()
    try:
        items = complete(zq.graph, api, prefix)
    except ZQueryError as error:
        raise fail(error) from None
    for item in items:
        typer.echo(item)


@app.command()
def fields(api: Api, path: Annotated[str, typer.Argument(
        help="A relation path from the resource, e.g. 'vmNics.l3Network'.")] = "",
        as_json: AsJson = False) -> None:
    """The queryable fields and relations of a resource (or of the one at PATH)."""
    zq = ZQuery()
    try:
        found = fields_of(zq.graph, api, path)
        links = relations_of(zq.graph, api, path)
    except ZQueryError as error:
        raise fail(error) from None
    if as_json:
        typer.echo(json.dumps({
            "fields": [{"name": f.name, "type": f.type.value, "choices": list(f.choices),
                        "description": f.description} for f in found],
            "relations": [{"name": r.name, "target": r.target, "to_many": r.to_many,
                           "alias_of": ".".join(r.alias_of) or None} for r in links]},
            ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("field", "type", "values / description", title="fields")
    for f in found:
        table.add_row(f.name, f.type.value, ", ".join(f.choices) or f.description)
    links_table = Table("relation", "target", "cardinality", title="relations")
    for link in links:
        alias = f" (alias of {'.'.join(link.alias_of)})" if link.alias_of else ""
        links_table.add_row(link.name + alias, link.target, "many" if link.to_many else "one")
    console = Console(width=max(100, Console().width))
    console.print(table)
    console.print(links_table)


@app.command("paths")
def paths_command(api: Api, depth: Annotated[int, typer.Option(min=0, max=8)] = 2,
                  count: Annotated[bool, typer.Option("--count", help="Only count them.")
                                   ] = False,
                  tags: Annotated[bool, typer.Option("--tags", help="Include tag fields.")
                                  ] = False) -> None:
    """Every condition path of at most DEPTH hops that visits no resource twice."""
    zq = ZQuery()
    try:
        if count:
            typer.echo(str(count_paths(zq.graph, api, depth, tags=tags)))
            return
        for item in paths(zq.graph, api, depth, tags=tags):
            typer.echo(item)
    except ZQueryError as error:
        raise fail(error) from None


register(app)


def main() -> None:
    """The console-script entry point."""
    app(prog_name="zquery")


if __name__ == "__main__":  # python -m zquery.cli
    main()

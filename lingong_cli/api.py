"""``lingong api list`` and ``lingong api show APICODE``: the typed catalogue of the OpenAPI 2.0 surface."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="The platform's operations and their typed models.", no_args_is_help=True)


@app.command("list")
def list_operations() -> None:
    """Print every apiCode of the menu: group, read or write, whether offered, title and service method."""
    from lingong_core.models.catalogue import CATALOGUE, MARKETING_CATALOGUE
    from lingong_core.models.docgen import service_methods

    methods = service_methods()
    rows = []
    for entry in [*CATALOGUE.values(), *MARKETING_CATALOGUE.values()]:
        op = entry.operation
        kind = ("write" if op.writes else "read") + ("" if op.offered else " 待开发")
        group = "marketing" if entry.marketing else op.group.value
        rows.append((op.api_code, group, kind, entry.title, methods.get((op.api_code, entry.marketing), "")))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for code, group, kind, title, method in rows:
        typer.echo(f"{code:<{widths[0]}}  {group:<{widths[1]}}  {kind:<{widths[2]}}  {title}  [{method}]")


@app.command("show")
def show(
    api_code: Annotated[str, typer.Argument(help="The apiCode, e.g. SFT0404.")],
    marketing: Annotated[
        bool, typer.Option("--marketing", help="The marketing-fund form of SFT0502/0503/0504/0510.")
    ] = False,
) -> None:
    """Print one apiCode's request and response fields and an example bizModel."""
    from lingong_core.models.catalogue import spec
    from lingong_core.models.docgen import render_spec

    try:
        entry = spec(api_code, marketing=marketing)
    except KeyError:
        hint = " (only SFT0502, SFT0503, SFT0504 and SFT0510 have a marketing form)" if marketing else ""
        typer.echo(f"error: no apiCode {api_code.strip().upper()} in the platform's menu{hint}", err=True)
        raise typer.Exit(2) from None
    typer.echo("\n".join(render_spec(entry, level=1)).rstrip("\n"))

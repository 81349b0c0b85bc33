"""Turn `notices serials` and `notices inserters` into what the serial ledger and the inserter profiles hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..errors import NoticesError
from ..workspace import home_from
from .shared import app, fail, home_option, shown

serials_app = typer.Typer(no_args_is_help=True, help="Show the barcode serial ledger: which runs hold which serials.")
app.add_typer(serials_app, name="serials")
inserters_app = typer.Typer(no_args_is_help=True, help="List inserter profiles and show their OMR marks on the page.")
app.add_typer(inserters_app, name="inserters")


@serials_app.command("list")
def serials_list(
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="DIR", help="The output folder whose ledger to show, when there is no workspace."),
    as_json: bool = typer.Option(False, "--json", help="Print the ledger as JSON."),
    home: Optional[Path] = home_option(),
) -> None:
    """List the ledger's reservations: run, dates, serials, collector, mailing (the workspace's, else OUT's)."""
    from ..postal import serials

    workspace = home_from(home)
    if workspace is None and out is None:
        raise typer.BadParameter("give --home (or set NOTICES_HOME), or --out for an output folder's own ledger")
    path = serials.ledger_path(workspace, out or Path("."))
    try:
        entries = serials.read(path)
    except NoticesError as exc:
        fail(exc, as_json)
    if as_json:
        typer.echo(json.dumps({"ledger": str(path), "reservations": [e.to_dict() for e in entries]}, indent=1))
        return
    typer.echo(f"ledger: {path} ({len(entries)} reservations)")
    for e in entries:
        end = e.block.serial(e.count)
        typer.echo(f"  {e.mailer_id} {e.first}..{end} ({e.count}) reserved {e.reserved} used {e.used} "
                   f"{e.collector} {e.mailing} {e.notice_date} run {e.key[:12]}")


@inserters_app.command("list")
def inserters_list() -> None:
    """List the inserter profiles a profile's [print] inserter or --inserter may name."""
    from ..postal import omr

    for inserter_id in omr.ids():
        found = omr.inserter(inserter_id)
        typer.echo(f"{inserter_id:16} {found.title} ({len(found.code)} marks, {found.pages} page)")


@inserters_app.command("show")
def inserters_show(
    inserter_id: str = typer.Argument(..., metavar="ID", help="An inserter profile id (notices inserters list)."),
    as_json: bool = typer.Option(False, "--json", help="Print the profile as JSON."),
) -> None:
    """Show an inserter's code, mark geometry and clear zone, in inches from the sheet's top-left corner."""
    from ..postal import omr

    data = shown(lambda: omr.inserter(inserter_id).to_dict(), as_json)
    if data is None:
        return
    typer.echo(f"  marks on: {data['pages']} page(s); parity {data['parity']}")
    for index, role in enumerate(data["code"]):
        typer.echo(f"  {data['top'] + index * data['pitch']:.3f} in  {role}")
    typer.echo(f"  mark: {data['length']} in long at {data['left']} in from the left, {data['weight_pt']} pt thick")
    typer.echo(f"  clear zone: {data['clear_zone']}")

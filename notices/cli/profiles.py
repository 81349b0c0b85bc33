"""Turn `notices blocks`, `init`, `collectors` and `envelopes` into what the law, the profiles and the stocks hold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import typer

from ..collectors import available, load_collector
from ..errors import NoticesError
from ..model import Collector
from ..resolve import plan
from ..workspace import home_from
from .shared import (
    EXIT_USAGE,
    app,
    collectors_app,
    envelopes_app,
    fail,
    guard,
    home_option,
    parse_date,
    shown,
)


@app.command()
def blocks(
    collector: str = typer.Option(..., "--collector", "-c"),
    mailing: str = typer.Option("final-notice", "--mailing", "-m"),
    date: str = typer.Option(..., "--date", "-d"),
    as_json: bool = typer.Option(False, "--json"),
    home: Optional[Path] = home_option(),
) -> None:
    """List the mandated blocks a mailing carries on a date, in order, with citations."""
    try:
        the_plan = plan(load_collector(collector, home=home_from(home)), mailing, parse_date(date))
    except NoticesError as exc:
        fail(exc, as_json)
    if as_json:
        data = {
            "mailing": the_plan.mailing.id, "date": the_plan.day.isoformat(), "edition": the_plan.edition.id,
            "skipped": list(the_plan.skipped),
            "documents": [{"id": p.document.id, "blocks": [
                {"id": b.id, "citation": b.citation, "kind": b.kind, "title": b.title, "text": b.text,
                 "in_force_from": b.in_force_from.isoformat(),
                 "in_force_until": b.in_force_until.isoformat() if b.in_force_until else None} for b in p.blocks]}
                for p in the_plan.parts],
        }
        typer.echo(json.dumps(data, indent=1))
        return
    typer.echo(f"{the_plan.mailing.title} ({the_plan.mailing.citation}) on {the_plan.day.isoformat()}")
    typer.echo(f"law: {the_plan.edition.label}")
    for part in the_plan.parts:
        typer.echo(f"\n{part.document.title}  [{part.document.id}]")
        for b in part.blocks:
            typer.echo(f"  {b.id:<24} {b.kind:<9} {b.citation:<34} {b.title}")
    for skipped in the_plan.skipped:
        typer.echo(f"\n{skipped}: not required on this date")


def _profiles(ids: list[str], home: Optional[Path], broken: str) -> Iterator[Collector]:
    """Load each profile, printing a broken one as ``<id> <broken>: <error>``; exit 2 at the end if any was."""
    failed = 0
    for cid in ids:
        try:
            yield load_collector(cid, home=home)
        except NoticesError as exc:
            failed += 1
            typer.secho(f"{cid:<20} {broken}: {exc}", fg=typer.colors.RED)
    if failed:
        raise typer.Exit(EXIT_USAGE)


@collectors_app.command("list")
def collectors_list(home: Optional[Path] = home_option()) -> None:
    """List the collector profiles, the workspace's and the shipped ones (a broken one is listed with its error; exit 2)."""
    where = home_from(home)
    for c in _profiles(available(home=where), where, "BROKEN"):
        typer.echo(f"{c.id:<20} {c.name:<22} {len(c.confirmed):>3} confirmed {len(c.placeholders):>3} placeholders")


@collectors_app.command("check")
def collectors_check(collector: Optional[str] = typer.Argument(None, help="A collector id; all collectors when left out."),
                     home: Optional[Path] = home_option()) -> None:
    """Check profiles against the profile schema and list what is still a placeholder (exit 2 if any is invalid)."""
    where = home_from(home)
    for c in _profiles([collector] if collector else available(home=where), where, "INVALID"):
        typer.echo(f"{c.id}: valid ({c.profile_file}); {len(c.confirmed)} confirmed, {len(c.placeholders)} placeholders")
        for p in c.placeholders:
            typer.echo(f"  - placeholder: {p}")


@collectors_app.command("show")
def collectors_show(collector: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json"),
                    home: Optional[Path] = home_option()) -> None:
    """Show a collector profile, marking every value that is a placeholder."""
    try:
        c = load_collector(collector, home=home_from(home))
    except NoticesError as exc:
        fail(exc, as_json)
    if as_json:
        typer.echo(json.dumps({"id": c.id, "facts": c.facts, "placeholders": list(c.placeholders)}, indent=1, default=str))
        return
    flagged = {p.split(" (")[0] for p in c.placeholders}

    def show(node: Any, path: str, indent: int) -> None:
        for key, value in node.items():
            dotted = f"{path}.{key}" if path else key
            mark = "  [PLACEHOLDER]" if dotted in flagged else ""
            if isinstance(value, dict):
                typer.echo(" " * indent + f"{key}:{mark}")
                show(value, dotted, indent + 2)
            else:
                typer.echo(" " * indent + f"{key}: {value}{mark}")

    typer.echo(f"{c.name} ({c.id}), profile {c.sources[-1]}")
    show(c.facts, "", 2)
    if c.placeholders:
        typer.secho(f"\n{len(c.placeholders)} placeholder values (unconfirmed: confirm before mailing):", fg=typer.colors.YELLOW)
        for p in c.placeholders:
            typer.echo(f"  - {p}")


@app.command()
def init(
    home: Path = typer.Argument(..., metavar="DIR", help="The workspace folder to create (it may exist; no file in it is overwritten)."),
    collector: str = typer.Option(..., "--collector", "-c", help="Collector id, e.g. anne-arundel; an id notices does not ship starts from the statewide base."),
) -> None:
    """Create a collector's own workspace: its profile and a folder for template overrides, outside the package."""
    from ..workspace import init as init_workspace

    with guard(None, False):
        written = init_workspace(home, collector)
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"next: fill in the placeholders, then run `notices collectors check {collector} --home {home}`")




@envelopes_app.command("list")
def envelopes_list() -> None:
    """List the envelope stocks a profile or --envelope may name."""
    from ..postal import envelopes

    for stock_id in envelopes.stock_ids():
        stock = envelopes.stock(stock_id)
        typer.echo(f"{stock_id:22} {stock.title}; address up to {envelopes.address_layout(stock).max_lines} lines at "
                   f"{stock.address_pt:g} pt")


@envelopes_app.command("show")
def envelopes_show(
    stock_id: str = typer.Argument(..., metavar="ID", help="An envelope stock id (notices envelopes list)."),
    as_json: bool = typer.Option(False, "--json", help="Print the geometry as JSON."),
) -> None:
    """Show an envelope's windows in page coordinates of the letter's first panel, in inches and points."""
    from ..postal import envelopes

    data = shown(lambda: envelopes.stock(stock_id).to_dict(), as_json)
    if data is None:
        return
    fold = data["fold"]
    typer.echo(f"  fold: first panel {fold['panel_width']} x {fold['panel_height']} in, nominally at "
               f"({fold['insert_left']}, {fold['insert_top']}) in inside the envelope")
    typer.echo(f"  insert shift allowed: {data['shift']['x']} in across, {data['shift']['y']} in up/down "
               f"(a loose insert could move {data['loose_play']['x']} / {data['loose_play']['y']} in)")
    typer.echo(f"  clearance: {data['clearance']} in; address {data['address_pt']:g} pt, up to {data['max_lines']} lines")
    for name in ("return_window", "return_clear_area", "address_window", "clear_area", "barcode"):
        rect = data.get(name)
        if rect is None:
            continue
        i, p = rect["inches"], rect["points"]
        typer.echo(f"  {name:17} left {i['left']:.4f} in ({p['left']:.2f} pt)  top {i['top']:.4f} in ({p['top']:.2f} pt)  "
                   f"{i['width']:.4f} x {i['height']:.4f} in ({p['width']:.2f} x {p['height']:.2f} pt)")
    if data.get("statement_top") is not None:
        typer.echo(f"  the statement's text begins {data['statement_top']:.4f} in down the sheet, below every window's reach")


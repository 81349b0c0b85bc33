"""Turn command lines into library calls and results into text, JSON and exit codes.

The only module that prints or exits. Exit codes (also in the README):

    0  every record was rendered (or the checked PDFs are compliant)
    1  the run finished, but some records were rejected: see rejects.csv
    2  bad usage, configuration or input file: nothing was rendered
    3  a piece or insert failed the statute check: it was quarantined, not printed
    4  the output folder is held by another run, or a resume found its inputs changed
    5  internal error: records in did not equal rendered + rejected + quarantined
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from . import __version__
from .errors import BatchError, ComplianceError, NoticesError

EXIT_OK, EXIT_REJECTS, EXIT_USAGE, EXIT_COMPLIANCE, EXIT_LOCKED, EXIT_INTERNAL = 0, 1, 2, 3, 4, 5

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Maryland property-tax notices and bill inserts as print-ready PDFs.")
collectors_app = typer.Typer(no_args_is_help=True, help="List collector profiles and show what they hold.")
app.add_typer(collectors_app, name="collectors")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None


def _fail(exc: NoticesError, as_json: bool) -> None:
    code = EXIT_LOCKED if isinstance(exc, BatchError) else EXIT_COMPLIANCE if isinstance(exc, ComplianceError) else EXIT_USAGE
    if as_json:
        typer.echo(json.dumps({"ok": False, "exit_code": code, **exc.to_dict()}, indent=1))
    else:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
def render(
    input: Path = typer.Argument(..., help="The roll export: .csv (one row per tax line) or .jsonl (one account per line)."),
    collector: str = typer.Option(..., "--collector", "-c", help="Collector profile id, e.g. baltimore-city."),
    mailing: str = typer.Option("final-notice", "--mailing", "-m", help="final-notice or post-sale-notice."),
    date: str = typer.Option(..., "--date", "-d", help="The notice date (YYYY-MM-DD); it selects the law in force."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: pieces/, print/, manifest.csv/.json, rejects.csv."),
    language: str = typer.Option("en", "--language", "-l", help="en or es."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Input encoding, e.g. cp1252 for an Excel export."),
    format: Optional[str] = typer.Option(None, "--format", help="csv or jsonl (default: from the file name)."),
    workers: int = typer.Option(0, "--workers", "-w", help="Worker processes (0: one per core)."),
    chunk: int = typer.Option(8, "--chunk", help="Pieces laid out per WeasyPrint call."),
    resume: bool = typer.Option(False, "--resume", help="Finish an interrupted run in the same folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (for pipelines)."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: on a terminal)."),
) -> None:
    """Render a mailing: one PDF per account, a combined print file in mailing order, a manifest."""
    from .batch import Options, run

    options = Options(input, out, collector, mailing, _date(date), language, encoding, format, workers, chunk, resume)
    show = progress if progress is not None else (sys.stderr.isatty() and not as_json)
    try:
        if show:
            with typer.progressbar(length=1, label="Rendering", file=sys.stderr) as bar:
                def hook(done: int, total: int) -> None:
                    bar.length = max(total, 1)
                    bar.update(done - bar.pos)
                summary = run(options, hook)
        else:
            summary = run(options)
    except NoticesError as exc:
        _fail(exc, as_json)
        return
    code = EXIT_OK
    if not summary.balanced:
        code = EXIT_INTERNAL
    elif summary.quarantined:
        code = EXIT_COMPLIANCE
    elif summary.rejected:
        code = EXIT_REJECTS
    if as_json:
        typer.echo(json.dumps({"ok": code == EXIT_OK, "exit_code": code, **summary.to_dict()}, indent=1))
    else:
        _print_summary(summary)
    raise typer.Exit(code)


def _print_summary(s: Any) -> None:
    typer.echo(f"{s.records_in} records in: {s.rendered} rendered, {s.rejected} rejected, {s.quarantined} quarantined"
               f" ({s.pages} pages, {s.seconds:.1f} s)")
    typer.echo(f"law: {s.edition_label}")
    if s.skipped_documents:
        typer.echo(f"not required on this date: {', '.join(s.skipped_documents)}")
    typer.echo(f"print file: {s.print_file}")
    typer.echo(f"manifest:   {s.manifest}")
    if s.rejected or s.quarantined:
        typer.secho(f"rejects:    {s.rejects}", fg=typer.colors.YELLOW)
    if s.placeholders:
        typer.secho(f"warning: the collector profile has {len(s.placeholders)} unconfirmed (placeholder) values; "
                    "see `notices collectors show`", fg=typer.colors.YELLOW, err=True)
    if not s.balanced:
        typer.secho("error: records in does not equal rendered + rejected + quarantined", fg=typer.colors.RED, err=True)


@app.command()
def blocks(
    collector: str = typer.Option(..., "--collector", "-c"),
    mailing: str = typer.Option("final-notice", "--mailing", "-m"),
    date: str = typer.Option(..., "--date", "-d"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the mandated blocks a mailing carries on a date, in order, with citations."""
    from .collectors import load_collector
    from .resolve import plan

    try:
        the_plan = plan(load_collector(collector), mailing, _date(date))
    except NoticesError as exc:
        _fail(exc, as_json)
        return
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


@collectors_app.command("list")
def collectors_list() -> None:
    """List the collector profiles shipped in templates/."""
    from .collectors import available, load_collector

    for cid in available():
        c = load_collector(cid)
        typer.echo(f"{cid:<20} {c.name}  ({len(c.placeholders)} placeholder values)")


@collectors_app.command("show")
def collectors_show(collector: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """Show a collector profile, marking every value that is a placeholder."""
    from .collectors import load_collector

    try:
        c = load_collector(collector)
    except NoticesError as exc:
        _fail(exc, as_json)
        return
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
def version() -> None:
    """Print the versions of notices and WeasyPrint."""
    from .render import WEASYPRINT_VERSION

    typer.echo(f"notices {__version__}, WeasyPrint {WEASYPRINT_VERSION}")


def main() -> None:
    app()

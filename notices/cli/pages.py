"""Turn `notices web`, `check`, `preview`, `proof` and `version` into website content, reports and the designers' tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from .._version import __version__
from ..collectors import available
from ..errors import BatchError, ConfigError, NoticesError
from ..workspace import home_from
from .shared import (
    EXIT_COMPLIANCE,
    EXIT_OK,
    EXIT_USAGE,
    app,
    fail,
    guard,
    home_option,
    json_ok,
    parse_date,
)


@app.command()
def web(
    collector: str = typer.Option(..., "--collector", "-c", help="Collector profile id, e.g. baltimore-city."),
    date: str = typer.Option(..., "--date", "-d", help="The date (YYYY-MM-DD); it selects the inserts and the law in force."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: <document>.fragment.html, index.html, manifest.json."),
    language: str = typer.Option("en", "--language", "-l", help="en or es."),
    force: bool = typer.Option(False, "--force", help="Write into a site folder that holds other files, leaving them as they are."),
    proof: bool = typer.Option(False, "--proof", help="Write although the profile's placeholder values would show, with a visible proof notice on every page."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    home: Optional[Path] = home_option(),
) -> None:
    """Write the bill inserts' words for a website (§§ 4-201.1(e), 4-201.2(c)) and the Ombudsman's page block (§ 2-112(d)(4))."""
    from ..web import run as run_web

    with guard(out, as_json):
        summary = run_web(collector, parse_date(date), out, language, force, home_from(home), proof=proof)
    if as_json:
        json_ok(summary)
    typer.echo(f"website content for {summary.collector} on {summary.date} ({summary.language}): {len(summary.files)} files in {summary.out}")
    typer.echo(f"law: {summary.edition_label}")
    for item in summary.files:
        typer.echo(f"  {item.file:<38} {item.kind:<9} {' '.join(item.blocks)}")
    for document_id, reason in summary.not_required.items():
        typer.echo(f"  {document_id:<38} {reason}")
    if summary.placeholders:
        typer.secho(f"warning: the collector profile has {len(summary.placeholders)} unconfirmed (placeholder) values; "
                    "see `notices collectors show`", fg=typer.colors.YELLOW, err=True)
    raise typer.Exit(EXIT_OK)




@app.command()
def check(
    pdfs: list[Path] = typer.Argument(..., help="PDF files: piece files or print files; with --document, a lone insert or "
                                      "statement, or a PDF made elsewhere."),
    collector: str = typer.Option(..., "--collector", "-c", help="Collector profile id, e.g. baltimore-city."),
    mailing: str = typer.Option("final-notice", "--mailing", "-m", help="The mailing the PDF belongs to, e.g. final-notice."),
    date: str = typer.Option(..., "--date", "-d", help="The notice date (YYYY-MM-DD); it selects the law in force."),
    document: Optional[str] = typer.Option(None, "--document", help="Check the whole PDF as this document (e.g. tax-sale-insert); "
                                           "comma-separated for several, in order. Default: each piece must hold every "
                                           "document of the mailing, whole and in order."),
    large_print: bool = typer.Option(False, "--large-print", help="The PDFs are large print: also check that every text run is at least 18 pt."),
    envelope: Optional[str] = typer.Option(None, "--envelope", metavar="ID", help="The envelope stock the pieces go in "
                                           "(notices envelopes list); default: the profile's [envelope]."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="The run's manifest.csv: each piece's barcode, pages "
                                            "and sheets must be what it records (matched by piece file name, or by page "
                                            "in the print file)."),
    as_json: bool = typer.Option(False, "--json", help="Print the reports as JSON."),
    home: Optional[Path] = home_option(),
) -> None:
    """Check finished PDFs against the statute, block by block with citations, and their print production: the envelope's
    windows, the barcode, the sheets (exit 0 only when all are compliant)."""
    from ..compliance import check_file, target_for
    from ..compliance.postal import check_postal, postal_target
    from ..conformance import check as check_standard
    from ..postal import envelopes

    try:
        target = target_for(collector, mailing, parse_date(date), home_from(home), large_print=large_print)
        stock = envelopes.stock(envelope) if envelope else envelopes.for_profile(target.collector.envelope)
        postal = postal_target(stock, target.collector, manifest)
    except NoticesError as exc:
        fail(exc, as_json)
    documents = [d.strip() for d in document.split(",") if d.strip()] if document else None
    reports: list[Any] = []
    standards: dict[str, Any] = {}  # file -> the PDF standard it declares and what our checks find
    failures: list[tuple[Path, NoticesError]] = []
    with guard(None, as_json):  # anything unexpected: exit 6 with a log, never a traceback
        for path in pdfs:
            try:
                report = check_file(str(path), target, documents)
                if documents is None:  # a lone document is no mailpiece: it has no envelope of its own
                    report.findings += check_postal(path.read_bytes(), report, postal)
                reports.append(report)
                standards[str(path)] = check_standard(path.read_bytes(), str(path), report.pages)
            except NoticesError as exc:
                failures.append((path, exc))
    # A file that declares a standard it does not meet is not fit to send, whatever its words.
    fit = all(r.ok for r in reports) and all(s.ok or s.declared == "print" for s in standards.values())
    code = EXIT_USAGE if failures else EXIT_OK if fit else EXIT_COMPLIANCE
    if as_json:
        files = [{**r.to_dict(), "standard": standards[str(r.file)].to_dict()} for r in reports]
        files += [{"file": str(p), "ok": False, **e.to_dict()} for p, e in failures]
        typer.echo(json.dumps({"ok": code == EXIT_OK, "exit_code": code, "collector": collector, "mailing": mailing,
                               "date": target.day.isoformat(), "edition": target.plan.edition.id, "files": files},
                              indent=1, ensure_ascii=False))
        raise typer.Exit(code)
    typer.echo(f"{target.plan.mailing.title} ({target.plan.mailing.citation}), {target.collector.name}, "
               f"{target.day.isoformat()}: {target.plan.edition.label}")
    for report in reports:
        _print_report(report)
        _print_standard(standards[str(report.file)])
    for _, failure in failures:
        typer.secho(f"\nerror: {failure}", fg=typer.colors.RED, err=True)
    bad = sum(not r.ok for r in reports)
    typer.echo(f"\n{len(reports)} checked: {len(reports) - bad} compliant, {bad} not compliant"
               + (f", {len(failures)} unreadable" if failures else ""))
    raise typer.Exit(code)


def _print_standard(result: Any) -> None:
    """The standard a file declares (print: none) and our structural checks of it (README: what they cover)."""
    if result.ok:
        typer.echo(f"  standard: {result.declared}; notices' structural checks pass (not a full ISO validation)")
        return
    fails = "" if result.declared == "print" else " (the file is not fit to send)"
    typer.secho(f"  standard: {result.declared}; notices' structural checks find{fails}:", fg=typer.colors.RED)
    for finding in result.findings:
        typer.secho(f"    - {finding}", fg=typer.colors.RED)


def _print_report(report: Any) -> None:
    parts = ", ".join(f"{d.part.document.id} p. {d.first_page + 1}" + (f"-{d.last_page + 1}" if d.last_page > d.first_page else "")
                      for d in report.documents)
    if len(report.documents) > 4:
        parts = f"{len(report.documents)} documents"
    verdict = "compliant" if report.ok else f"NOT COMPLIANT: {len(report.errors)} findings"
    typer.echo(f"\n{report.file} ({report.pages} pages{': ' + parts if parts else ''}): {verdict}")
    typer.echo(f"  {'status':<6}  {'block':<24} {'citation':<34} {'page':>4}  detail")
    for f in report.findings:
        status = {"ok": "ok", "note": "note", "error": "FAIL"}[f.status]
        line = f"  {status:<6}  {f.block:<24} {f.citation:<34} {f.page if f.page is not None else '-':>4}  {f.message}"
        if f.status == "error":
            typer.secho(line, fg=typer.colors.RED)
        else:
            typer.echo(line)




@app.command()
def preview(
    collector: Optional[str] = typer.Option(None, "--collector", "-c", help="The collector the page opens with (any can be picked)."),
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1; 0: any free port."),
    home: Optional[Path] = home_option(),
) -> None:
    """Serve the designers' preview on 127.0.0.1: pages as they will print, the statute check beside them, live."""
    try:
        from ..preview import Preview, address, bind, serve
    except ImportError as exc:
        typer.secho(f"error: the preview needs its extra: pip install -c constraints.txt -e '.[preview]' ({exc})", fg=typer.colors.RED, err=True)
        raise typer.Exit(EXIT_USAGE) from None

    where = home_from(home)
    with guard(None, False):
        if collector is not None and collector not in available(home=where):
            raise ConfigError("Unknown collector", field="collector", value=collector)
        try:
            sock = bind(port)
        except OSError as exc:
            typer.secho(f"error: cannot listen on 127.0.0.1:{port}: {exc.strerror}", fg=typer.colors.RED, err=True)
            raise typer.Exit(EXIT_USAGE) from None
        typer.echo(f"preview: {address(sock)}  (Ctrl-C stops it)", nl=True)
        sys.stdout.flush()
        serve(Preview(where, collector), sock)


def _unwritable(exc: OSError, target: Path) -> BatchError:
    return BatchError(f"Cannot write the proof pack: {exc.strerror or exc}", file=str(target), field="out",
                      hint="choose a folder this user can create and write to")


@app.command()
def proof(
    collector: str = typer.Option(..., "--collector", "-c", help="Collector profile id, e.g. baltimore-city."),
    date: str = typer.Option(..., "--date", "-d", help="The notice date (YYYY-MM-DD); it selects the law in force."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: proof-<collector>-<date>.pdf is written there."),
    home: Optional[Path] = home_option(),
) -> None:
    """Write a proof pack: every variant of the collector's final notice, each after a title page with its check result."""
    from ..proof import build

    with guard(out, False):
        target = out / f"proof-{collector}-{date}.pdf"
        refused = BatchError("The proof pack exists already; notices does not overwrite it", file=str(target),
                             hint="remove it or choose another folder")
        if target.exists():  # said before the pack is made (half a minute), and again if one appeared meanwhile
            raise refused
        try:
            out.mkdir(parents=True, exist_ok=True)  # before the pack is made: a folder that cannot be is said at once
        except OSError as exc:
            raise _unwritable(exc, target) from None
        pdf, results = build(collector, parse_date(date), home_from(home))
        try:
            with open(target, "xb") as written:
                written.write(pdf)
        except FileExistsError:
            raise refused from None
        except OSError as exc:
            raise _unwritable(exc, target) from None
    for result in results:
        verdict = "ok  " if result.ok else "FAIL"
        typer.echo(f"  {verdict} {result.variant.name:<22} {result.error}")
    typer.echo(f"proof pack: {target} ({len(results)} variants)")
    raise typer.Exit(EXIT_OK if all(r.ok for r in results) else EXIT_COMPLIANCE)


@app.command()
def version() -> None:
    """Print the versions of notices and WeasyPrint."""
    from ..render import WEASYPRINT_VERSION

    typer.echo(f"notices {__version__}, WeasyPrint {WEASYPRINT_VERSION}")



"""Turn command lines into library calls and results into text, JSON and exit codes.

The only module that prints or exits. Exit codes (also in the README):

    0  every record was rendered (or the checked PDFs are compliant)
    1  the run finished, but some records were rejected: see rejects.csv
    2  bad usage, configuration or input file: nothing was rendered
    3  a piece or insert failed the statute check: it was quarantined, not printed
    4  the output folder cannot be used: another run holds it, a resume found its inputs changed,
       or it holds files notices did not write (it never deletes or overwrites those); or the
       Dask cluster was lost mid-run (what is journaled is kept: --resume finishes the run)
    5  internal error: records in did not equal rendered + rejected + quarantined
    6  unexpected error (a bug or a broken installation): one line on stderr, the details in
       OUT/.notices/error.log (or in the temporary folder when there is no output folder)
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn, Optional, cast

import typer
from typer.exceptions import TyperException

from ._version import __version__
from .collectors import available, load_collector
from .errors import BatchError, ComplianceError, ConfigError, NoticesError
from .model import Collector
from .options import CHUNK, PIECE_MEMORY_MB, PIECE_TIMEOUT, Executor, Options
from .resolve import plan
from .statutes import load_registry
from .workspace import home_from

# The stages that render (batch, inserts, web, render) and check (compliance) are imported inside
# their commands: loading WeasyPrint and PDFium for `notices --help` would make every call slow.

EXIT_OK, EXIT_REJECTS, EXIT_USAGE, EXIT_COMPLIANCE, EXIT_LOCKED, EXIT_INTERNAL, EXIT_CRASH = 0, 1, 2, 3, 4, 5, 6
ERROR_LOG = "error.log"

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="Maryland property-tax notices and bill inserts as print-ready PDFs.")
collectors_app = typer.Typer(no_args_is_help=True, help="List collector profiles and show what they hold.")
app.add_typer(collectors_app, name="collectors")
envelopes_app = typer.Typer(no_args_is_help=True, help="List envelope stocks and show their windows on the page.")
app.add_typer(envelopes_app, name="envelopes")


HOME_HELP = "The collector's workspace folder (see `notices init`); default: $NOTICES_HOME. Its profiles and templates come first."


def _home() -> Any:
    """The --home option every command takes (a fresh OptionInfo per command)."""
    return typer.Option(None, "--home", metavar="DIR", help=HOME_HELP)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None


def _json_ok(summary: Any) -> None:
    """Print a successful run's summary for a pipeline and exit 0."""
    typer.echo(json.dumps({"ok": True, "exit_code": EXIT_OK, **summary.to_dict()}, indent=1))
    raise typer.Exit(EXIT_OK)


def _fail(exc: NoticesError, as_json: bool) -> NoReturn:
    code = EXIT_LOCKED if isinstance(exc, BatchError) else EXIT_COMPLIANCE if isinstance(exc, ComplianceError) else EXIT_USAGE
    if as_json:
        typer.echo(json.dumps({"ok": False, "exit_code": code, **exc.to_dict()}, indent=1))
    else:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@contextmanager
def _guard(out: Path | None, as_json: bool) -> Iterator[None]:
    """Turn the library's errors into their exit codes, and anything unexpected into exit 6 with a log, never a traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort, TyperException):  # usage errors and exits: Typer reports them
        raise
    except NoticesError as exc:
        _fail(exc, as_json)
    except Exception as exc:  # noqa: BLE001 - the edge of the program: whatever escaped the library is reported here
        log = _write_crash_log(out, exc)
        message = f"unexpected error ({type(exc).__name__}: {exc}); details in {log}"
        if as_json:
            typer.echo(json.dumps({"ok": False, "exit_code": EXIT_CRASH, "error": type(exc).__name__, "message": message,
                                   "log": str(log)}, indent=1))
        else:
            typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(EXIT_CRASH) from None


def _write_crash_log(out: Path | None, exc: BaseException) -> Path:
    """The traceback, with the versions that matter, in the output folder's state folder (else the temporary folder)."""
    text = f"notices {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n\n" + "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__))
    for folder in ([out / ".notices"] if out is not None else []) + [Path(tempfile.gettempdir())]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            log = folder / (ERROR_LOG if folder.name == ".notices" else f"notices-{ERROR_LOG}")
            log.write_text(text, encoding="utf-8")
            return log
        except OSError:
            continue
    return Path("(no writable folder for the log)")


@app.command()
def render(
    input: Optional[Path] = typer.Argument(None, metavar="INPUT", help="The roll export: .csv (one row per tax line) or .jsonl (one account per line); none for bill inserts."),
    collector: str = typer.Option(..., "--collector", "-c", help="Collector profile id, e.g. baltimore-city."),
    mailing: str = typer.Option("final-notice", "--mailing", "-m", help="final-notice, post-sale-notice; or bill-inserts, hpp-insert, installment-insert (no INPUT)."),
    date: str = typer.Option(..., "--date", "-d", help="The notice date (YYYY-MM-DD); it selects the law in force."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: pieces/, print/, manifest.csv/.json, rejects.csv (bill inserts: inserts/)."),
    language: str = typer.Option("en", "--language", "-l", help="en or es."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Input encoding, e.g. cp1252 for an Excel export."),
    format: Optional[str] = typer.Option(None, "--format", help="csv or jsonl (default: from the file name)."),
    workers: int = typer.Option(0, "--workers", "-w", help="Worker processes (0: one per core)."),
    chunk: int = typer.Option(CHUNK, "--chunk", help="Pieces laid out per WeasyPrint call."),
    resume: bool = typer.Option(False, "--resume", help="Finish an interrupted run in the same folder."),
    shard: Optional[str] = typer.Option(None, "--shard", metavar="I/N", help="Render only the pieces whose seq % N == I-1 (for batch schedulers)."),
    executor: str = typer.Option("local", "--executor", help="local (a process pool) or dask (needs --scheduler and the dask extra)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."),
    piece_timeout: float = typer.Option(PIECE_TIMEOUT, "--piece-timeout", help="Seconds one piece may take; past it the piece is quarantined and its worker replaced."),
    piece_memory: float = typer.Option(PIECE_MEMORY_MB, "--piece-memory", help="MB of memory a worker may reach while rendering; past it, the same."),
    force: bool = typer.Option(False, "--force", help="Write into a folder that holds files notices did not write, leaving them as they are."),
    envelope: Optional[str] = typer.Option(None, "--envelope", metavar="ID", help="An envelope stock (notices envelopes list) instead of the profile's [envelope]."),
    sort: str = typer.Option("input", "--sort", help="The print file's order: input (the export's) or zip (ZIP+4, then input order)."),
    control: Optional[Path] = typer.Option(None, "--control", metavar="FILE", help="The export's record count and control total (records=N and total=1234.56 on two lines, or JSON); the run is refused when the input does not match."),
    expect_records: Optional[int] = typer.Option(None, "--expect-records", metavar="N", help="Accounts the source system exported; the run is refused when the input holds another number."),
    expect_total: Optional[str] = typer.Option(None, "--expect-total", metavar="AMOUNT", help="The sum of every amount the source system exported (e.g. 25123.45); the run is refused when the input does not add up to it."),
    proof: bool = typer.Option(False, "--proof", help="Render although the profile's placeholder values would print: every page marked PROOF - NOT FOR MAILING, no print file."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (for pipelines)."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: on a terminal)."),
    home: Optional[Path] = _home(),
) -> None:
    """Render a mailing: one PDF per account, a combined print file in mailing order, a manifest."""
    from .batch import run

    if not _per_record(mailing, as_json):
        with _guard(out, as_json):
            _render_inserts(input, collector, mailing, _date(date), out, language, as_json, force, home_from(home), proof)
        return
    if input is None:
        raise typer.BadParameter(f"the {mailing} mailing is made from a roll export: give its file", param_hint="INPUT")
    options = Options(input, out, collector, mailing, _date(date), language=language, encoding=encoding, format=format,
                      workers=workers, chunk=chunk, resume=resume, shard=_shard(shard), executor=cast(Executor, executor),
                      scheduler=scheduler, piece_timeout=piece_timeout, piece_memory_mb=piece_memory, force=force,
                      control=control, expect_records=expect_records, expect_total=_amount(expect_total),
                      home=home_from(home), proof=proof, envelope=envelope, sort=sort)
    show = progress if progress is not None else (sys.stderr.isatty() and not as_json)
    with _guard(out, as_json):
        if show:
            with typer.progressbar(length=1, label="Rendering", file=sys.stderr) as bar:
                def hook(done: int, total: int) -> None:
                    bar.length = max(total, 1)
                    bar.update(done - bar.pos)
                summary = run(options, hook)
        else:
            summary = run(options)
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


def _amount(value: Optional[str]) -> Optional[Decimal]:
    """Parse ``--expect-total`` (dollars and cents, no $ or commas)."""
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or int(amount.as_tuple().exponent) < -2:  # finite, so the exponent is a number
        raise typer.BadParameter(f"{value!r} is not an amount: use dollars and cents, e.g. 25123.45", param_hint="--expect-total")
    return amount


def _shard(value: Optional[str]) -> Optional[tuple[int, int]]:
    """Parse ``--shard I/N`` (1 <= I <= N)."""
    if value is None:
        return None
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a shard: use I/N, e.g. 2/8", param_hint="--shard") from None
    if not 1 <= index <= count:
        raise typer.BadParameter(f"{value!r}: I must be between 1 and N", param_hint="--shard")
    return index, count


def _per_record(mailing: str, as_json: bool) -> bool:
    """Whether a mailing is made per record from a roll export (an unknown mailing is exit 2)."""
    try:
        return load_registry().mailing(mailing).per_record
    except NoticesError as exc:
        _fail(exc, as_json)
        raise  # not reached: _fail exits


def _render_inserts(input: Optional[Path], collector: str, mailing: str, day: dt.date, out: Path, language: str,
                    as_json: bool, force: bool, home: Optional[Path], proof: bool = False) -> None:
    """The bill inserts (§§ 4-201.1, 4-201.2): one PDF per insert in force, made once for every bill."""
    from .inserts import run as run_inserts

    if input is not None:
        raise typer.BadParameter(f"the {mailing} mailing is the same for every bill and takes no roll export", param_hint="INPUT")
    summary = run_inserts(collector, mailing, day, out, language, force, home, proof=proof)
    if as_json:
        _json_ok(summary)
    typer.echo(f"{summary.mailing_title} for {summary.collector} on {summary.date}: {len(summary.rendered)} inserts"
               f" ({summary.seconds:.1f} s)")
    typer.echo(f"law: {summary.edition_label}")
    for row in summary.inserts:
        if row.status == "rendered":
            typer.echo(f"  {row.document:<20} {row.file}  ({row.pages} p.; designed by {row.designer}, {row.designer_basis})")
        else:
            typer.echo(f"  {row.document:<20} {row.reason}")
    typer.echo(f"manifest: {summary.manifest}")
    if summary.proof:
        typer.secho("proof: every page is marked PROOF - NOT FOR MAILING (the profile has unconfirmed values)",
                    fg=typer.colors.YELLOW, err=True)
    if summary.placeholders:
        typer.secho(f"warning: the collector profile has {len(summary.placeholders)} unconfirmed (placeholder) values; "
                    "see `notices collectors show`", fg=typer.colors.YELLOW, err=True)
    raise typer.Exit(EXIT_OK)


def _print_summary(s: Any) -> None:
    rate = f", {s.rendered / s.seconds:.1f} pieces/s" if s.seconds and s.rendered else ""
    typer.echo(f"{s.records_in} records in: {s.rendered} rendered, {s.rejected} rejected, {s.quarantined} quarantined"
               f" ({s.pages} pages, {s.seconds:.1f} s{rate})")
    typer.echo(f"law: {s.edition_label}")
    if getattr(s, "shard", ""):
        typer.echo(f"shard: {s.shard} (the manifest and print file cover this shard's records only)")
    if s.skipped_documents:
        typer.echo(f"not required on this date: {', '.join(s.skipped_documents)}")
    if getattr(s, "proof", False):
        typer.echo("print file: none (a proof: every page is marked PROOF - NOT FOR MAILING and is not for the printer)")
    else:
        typer.echo(f"print file: {s.print_file or 'none (no piece was rendered)'}")
    typer.echo(f"manifest:   {s.manifest}")
    if s.rejected or s.quarantined:
        typer.secho(f"rejects:    {s.rejects}", fg=typer.colors.YELLOW)
    if s.placeholders:
        typer.secho(f"warning: the collector profile has {len(s.placeholders)} unconfirmed (placeholder) values; "
                    "see `notices collectors show`", fg=typer.colors.YELLOW, err=True)
    for note in s.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
    if not s.balanced:
        typer.secho("error: records in does not equal rendered + rejected + quarantined", fg=typer.colors.RED, err=True)


@app.command()
def blocks(
    collector: str = typer.Option(..., "--collector", "-c"),
    mailing: str = typer.Option("final-notice", "--mailing", "-m"),
    date: str = typer.Option(..., "--date", "-d"),
    as_json: bool = typer.Option(False, "--json"),
    home: Optional[Path] = _home(),
) -> None:
    """List the mandated blocks a mailing carries on a date, in order, with citations."""
    try:
        the_plan = plan(load_collector(collector, home=home_from(home)), mailing, _date(date))
    except NoticesError as exc:
        _fail(exc, as_json)
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
def collectors_list(home: Optional[Path] = _home()) -> None:
    """List the collector profiles, the workspace's and the shipped ones (a broken one is listed with its error; exit 2)."""
    where = home_from(home)
    for c in _profiles(available(home=where), where, "BROKEN"):
        typer.echo(f"{c.id:<20} {c.name:<22} {len(c.confirmed):>3} confirmed {len(c.placeholders):>3} placeholders")


@collectors_app.command("check")
def collectors_check(collector: Optional[str] = typer.Argument(None, help="A collector id; all collectors when left out."),
                     home: Optional[Path] = _home()) -> None:
    """Check profiles against the profile schema and list what is still a placeholder (exit 2 if any is invalid)."""
    where = home_from(home)
    for c in _profiles([collector] if collector else available(home=where), where, "INVALID"):
        typer.echo(f"{c.id}: valid ({c.profile_file}); {len(c.confirmed)} confirmed, {len(c.placeholders)} placeholders")
        for p in c.placeholders:
            typer.echo(f"  - placeholder: {p}")


@collectors_app.command("show")
def collectors_show(collector: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json"),
                    home: Optional[Path] = _home()) -> None:
    """Show a collector profile, marking every value that is a placeholder."""
    try:
        c = load_collector(collector, home=home_from(home))
    except NoticesError as exc:
        _fail(exc, as_json)
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
    from .workspace import init as init_workspace

    try:
        written = init_workspace(home, collector)
    except NoticesError as exc:
        _fail(exc, False)
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"next: fill in the placeholders, then run `notices collectors check {collector} --home {home}`")


@app.command()
def web(
    collector: str = typer.Option(..., "--collector", "-c", help="Collector profile id, e.g. baltimore-city."),
    date: str = typer.Option(..., "--date", "-d", help="The date (YYYY-MM-DD); it selects the inserts and the law in force."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: <document>.fragment.html, index.html, manifest.json."),
    language: str = typer.Option("en", "--language", "-l", help="en or es."),
    force: bool = typer.Option(False, "--force", help="Write into a site folder that holds other files, leaving them as they are."),
    proof: bool = typer.Option(False, "--proof", help="Write although the profile's placeholder values would show, with a visible proof notice on every page."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    home: Optional[Path] = _home(),
) -> None:
    """Write the bill inserts' words for a website (§§ 4-201.1(e), 4-201.2(c)) and the Ombudsman's page block (§ 2-112(d)(4))."""
    from .web import run as run_web

    with _guard(out, as_json):
        summary = run_web(collector, _date(date), out, language, force, home_from(home), proof=proof)
    if as_json:
        _json_ok(summary)
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
    as_json: bool = typer.Option(False, "--json", help="Print the reports as JSON."),
    home: Optional[Path] = _home(),
) -> None:
    """Check finished PDFs against the statute, block by block with citations (exit 0 only when all are compliant)."""
    from .compliance import check_file, target_for

    try:
        target = target_for(collector, mailing, _date(date), home_from(home))
    except NoticesError as exc:
        _fail(exc, as_json)
    documents = [d.strip() for d in document.split(",") if d.strip()] if document else None
    reports: list[Any] = []
    failures: list[tuple[Path, NoticesError]] = []
    for path in pdfs:
        try:
            reports.append(check_file(str(path), target, documents))
        except NoticesError as exc:
            failures.append((path, exc))
    code = EXIT_USAGE if failures else EXIT_OK if all(r.ok for r in reports) else EXIT_COMPLIANCE
    if as_json:
        files = [r.to_dict() for r in reports] + [{"file": str(p), "ok": False, **e.to_dict()} for p, e in failures]
        typer.echo(json.dumps({"ok": code == EXIT_OK, "exit_code": code, "collector": collector, "mailing": mailing,
                               "date": target.day.isoformat(), "edition": target.plan.edition.id, "files": files},
                              indent=1, ensure_ascii=False))
        raise typer.Exit(code)
    typer.echo(f"{target.plan.mailing.title} ({target.plan.mailing.citation}), {target.collector.name}, "
               f"{target.day.isoformat()}: {target.plan.edition.label}")
    for report in reports:
        _print_report(report)
    for _, failure in failures:
        typer.secho(f"\nerror: {failure}", fg=typer.colors.RED, err=True)
    bad = sum(not r.ok for r in reports)
    typer.echo(f"\n{len(reports)} checked: {len(reports) - bad} compliant, {bad} not compliant"
               + (f", {len(failures)} unreadable" if failures else ""))
    raise typer.Exit(code)


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
    home: Optional[Path] = _home(),
) -> None:
    """Serve the designers' preview on 127.0.0.1: pages as they will print, the statute check beside them, live."""
    try:
        from .preview import Preview, address, bind, serve
    except ImportError as exc:
        typer.secho(f"error: the preview needs its extra: pip install -c constraints.txt -e '.[preview]' ({exc})", fg=typer.colors.RED, err=True)
        raise typer.Exit(EXIT_USAGE) from None

    where = home_from(home)
    with _guard(None, False):
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


@app.command()
def proof(
    collector: str = typer.Option(..., "--collector", "-c", help="Collector profile id, e.g. baltimore-city."),
    date: str = typer.Option(..., "--date", "-d", help="The notice date (YYYY-MM-DD); it selects the law in force."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: proof-<collector>-<date>.pdf is written there."),
    home: Optional[Path] = _home(),
) -> None:
    """Write a proof pack: every variant of the collector's final notice, each after a title page with its check result."""
    from .proof import build

    with _guard(out, False):
        pdf, results = build(collector, _date(date), home_from(home))
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"proof-{collector}-{date}.pdf"
        if target.exists():
            raise BatchError("The proof pack exists already; notices does not overwrite it", file=str(target),
                             hint="remove it or choose another folder")
        target.write_bytes(pdf)
    for result in results:
        verdict = "ok  " if result.ok else "FAIL"
        typer.echo(f"  {verdict} {result.variant.name:<22} {result.error}")
    typer.echo(f"proof pack: {target} ({len(results)} variants)")
    raise typer.Exit(EXIT_OK if all(r.ok for r in results) else EXIT_COMPLIANCE)


@app.command()
def version() -> None:
    """Print the versions of notices and WeasyPrint."""
    from .render import WEASYPRINT_VERSION

    typer.echo(f"notices {__version__}, WeasyPrint {WEASYPRINT_VERSION}")


def main() -> None:
    app()


@envelopes_app.command("list")
def envelopes_list() -> None:
    """List the envelope stocks a profile or --envelope may name."""
    from .postal import envelopes

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
    from .postal import envelopes

    try:
        data = envelopes.stock(stock_id).to_dict()
    except NoticesError as exc:
        _fail(exc, as_json)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"{data['id']}: {data['title']}")
    typer.echo(f"  source: {data['source']}")
    fold = data["fold"]
    typer.echo(f"  fold: first panel {fold['panel_width']} x {fold['panel_height']} in, nominally at "
               f"({fold['insert_left']}, {fold['insert_top']}) in inside the envelope")
    typer.echo(f"  insert shift allowed: {data['shift']['x']} in across, {data['shift']['y']} in up/down "
               f"(a loose insert could move {data['loose_play']['x']} / {data['loose_play']['y']} in)")
    typer.echo(f"  clearance: {data['clearance']} in; address {data['address_pt']:g} pt, up to {data['max_lines']} lines")
    for name in ("return_window", "address_window", "clear_area", "barcode"):
        rect = data[name]
        if rect is None:
            continue
        i, p = rect["inches"], rect["points"]
        typer.echo(f"  {name:15} left {i['left']:.4f} in ({p['left']:.2f} pt)  top {i['top']:.4f} in ({p['top']:.2f} pt)  "
                   f"{i['width']:.4f} x {i['height']:.4f} in ({p['width']:.2f} x {p['height']:.2f} pt)")

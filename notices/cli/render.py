"""Turn `notices render` into a run of a mailing, or of the bill inserts, and its summary."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Optional, cast

import typer

from ..errors import ConfigError, NoticesError
from ..options import CHUNK, PIECE_MEMORY_MB, PIECE_TIMEOUT, Executor, Options
from ..statutes import load_registry
from ..workspace import home_from
from .shared import (
    EXIT_COMPLIANCE,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_REJECTS,
    app,
    fail,
    guard,
    home_option,
    json_ok,
    parse_date,
)


def _after_stop(out: Path) -> str:
    """What a stopped run tells its user: how to go on (a resume makes the same bytes as a run never stopped, tests/test_stop.py)."""
    from ..output import OutputFolder

    if OutputFolder(out).resumable:
        return "the pieces finished so far are kept: run the same command with --resume to finish the run"
    return "nothing was rendered: run the same command again"


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
    chunk: int = typer.Option(CHUNK, "--chunk", help="Pieces per task a worker is handed (and per WeasyPrint call)."),
    resume: bool = typer.Option(False, "--resume", help="Finish an interrupted run in the same folder."),
    shard: Optional[str] = typer.Option(None, "--shard", metavar="I/N", help="Render only the pieces whose seq % N == I-1 (for batch schedulers)."),
    executor: str = typer.Option("local", "--executor", help="local (a process pool) or dask (needs --scheduler and the dask extra)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."),
    piece_timeout: float = typer.Option(PIECE_TIMEOUT, "--piece-timeout", help="Seconds one piece may take; past it the piece is quarantined and its worker replaced."),
    piece_memory: float = typer.Option(PIECE_MEMORY_MB, "--piece-memory", help="MB of memory a worker may reach while rendering; past it, the same."),
    force: bool = typer.Option(False, "--force", help="Write into a folder that holds files notices did not write, leaving them as they are."),
    envelope: Optional[str] = typer.Option(None, "--envelope", metavar="ID", help="An envelope stock (notices envelopes list) instead of the profile's [envelope]."),
    sort: str = typer.Option("input", "--sort", help="The print file's order: input (the export's) or zip (ZIP+4 and delivery point, then input order)."),
    inserter: Optional[str] = typer.Option(None, "--inserter", metavar="ID", help="An inserter profile for OMR marks (notices inserters list) instead of the profile's [print] inserter."),
    serial_range: Optional[str] = typer.Option(None, "--serial-range", metavar="LO-HI|NAME", help="This machine's barcode serials: LO-HI, or a name of the profile's [imb.serial_ranges]."),
    control: Optional[Path] = typer.Option(None, "--control", metavar="FILE", help="The export's record count and control total (records=N and total=1234.56 on two lines, or JSON); the run is refused when the input does not match."),
    expect_records: Optional[int] = typer.Option(None, "--expect-records", metavar="N", help="Accounts the source system exported; the run is refused when the input holds another number."),
    expect_total: Optional[str] = typer.Option(None, "--expect-total", metavar="AMOUNT", help="The sum of every amount the source system exported (e.g. 25123.45); the run is refused when the input does not add up to it."),
    proof: bool = typer.Option(False, "--proof", help="Render although the profile's placeholder values would print: every page marked PROOF - NOT FOR MAILING, no print file."),
    pdf_variant: str = typer.Option("print", "--pdf-variant", metavar="VARIANT", help="The PDF standard of every file: print (default), pdf/a-2b (archive) or pdf/ua-1 (accessible, tagged)."),
    large_print: bool = typer.Option(False, "--large-print", help="Large print for owners who ask for it: every text run at least 18 pt (the envelope window's address at its postal size), checked from the PDF."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (for pipelines)."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: on a terminal)."),
    home: Optional[Path] = home_option(),
) -> None:
    """Render a mailing: one PDF per account, a combined print file in mailing order, a manifest."""
    _variant(pdf_variant, mailing, as_json)
    if not _per_record(mailing, as_json):
        with guard(out, as_json, on_stop=lambda: "run the same command again"):
            _render_inserts(input, collector, mailing, parse_date(date), out, language, as_json, force, home_from(home), proof,
                            large_print)
        return
    if input is None:
        raise typer.BadParameter(f"the {mailing} mailing is made from a roll export: give its file", param_hint="INPUT")
    from ..batch import run

    options = Options(input, out, collector, mailing, parse_date(date), language=language, encoding=encoding, format=format,
                      workers=workers, chunk=chunk, resume=resume, shard=_shard(shard), executor=cast(Executor, executor),
                      scheduler=scheduler, piece_timeout=piece_timeout, piece_memory_mb=piece_memory, force=force,
                      control=control, expect_records=expect_records, expect_total=_amount(expect_total),
                      home=home_from(home), proof=proof, envelope=envelope, sort=sort, inserter=inserter,
                      serial_range=serial_range, pdf_variant=pdf_variant, large_print=large_print)
    show = progress if progress is not None else (sys.stderr.isatty() and not as_json)
    with guard(out, as_json, on_stop=lambda: _after_stop(out)):
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


def _variant(variant: str, mailing: str, as_json: bool) -> None:
    """Refuse (exit 2) a PDF variant that is not one, or one asked of the bill inserts, which are written as print files only."""
    from ..standards import PRINT, check_variant

    try:
        check_variant(variant)
        if variant != PRINT and mailing in ("bill-inserts", "hpp-insert", "installment-insert"):
            raise ConfigError("The bill inserts are written as print files only; --pdf-variant is for the mailings from a roll export",
                              field="pdf_variant", value=variant)
    except NoticesError as exc:
        fail(exc, as_json)


def _per_record(mailing: str, as_json: bool) -> bool:
    """Whether a mailing is made per record from a roll export (an unknown mailing is exit 2)."""
    try:
        return load_registry().mailing(mailing).per_record
    except NoticesError as exc:
        fail(exc, as_json)
        raise  # not reached: _fail exits


def _render_inserts(input: Optional[Path], collector: str, mailing: str, day: dt.date, out: Path, language: str,
                    as_json: bool, force: bool, home: Optional[Path], proof: bool = False,
                    large_print: bool = False) -> None:
    """The bill inserts (§§ 4-201.1, 4-201.2): one PDF per insert in force, made once for every bill."""
    from ..inserts import run as run_inserts

    if input is not None:
        raise typer.BadParameter(f"the {mailing} mailing is the same for every bill and takes no roll export", param_hint="INPUT")
    summary = run_inserts(collector, mailing, day, out, language, force, home, proof=proof, large_print=large_print)
    if as_json:
        json_ok(summary)
    typer.echo(f"{summary.mailing_title} for {summary.collector} on {summary.date}: {len(summary.rendered)} inserts"
               f" ({summary.seconds:.1f} s)")
    typer.echo(f"law: {summary.edition_label}")
    for row in summary.inserts:
        if row.status == "rendered":
            typer.echo(f"  {row.document:<20} {row.file}  ({row.pages} p.; designed by {row.designer}, {row.designer_basis})")
        else:
            typer.echo(f"  {row.document:<20} {row.reason}")
    typer.echo(f"manifest: {summary.manifest}")
    if summary.large_print:
        typer.echo("large print: every text run at least 18 pt, checked")
    if summary.proof:
        typer.secho("proof: every page is marked PROOF - NOT FOR MAILING (the profile has unconfirmed values)",
                    fg=typer.colors.YELLOW, err=True)
    if summary.placeholders:
        typer.secho(f"warning: the collector profile has {len(summary.placeholders)} unconfirmed (placeholder) values; "
                    "see `notices collectors show`", fg=typer.colors.YELLOW, err=True)
    raise typer.Exit(EXIT_OK)


def _print_summary(s: Any) -> None:
    rate = f", {s.rendered / s.seconds:.1f} pieces/s" if s.seconds and s.rendered else ""
    # The pages are the print file's: a proof, or a run of no piece, has none to speak of.
    pages = f"{s.pages} pages to print, " if s.pages else ""
    typer.echo(f"{s.records_in} records in: {s.rendered} rendered, {s.rejected} rejected, {s.quarantined} quarantined"
               f" ({pages}{s.seconds:.1f} s{rate})")
    typer.echo(f"law: {s.edition_label}")
    if getattr(s, "shard", ""):
        typer.echo(f"shard: {s.shard} (the manifest and print file cover this shard's records only)")
    if s.skipped_documents:
        typer.echo(f"not required on this date: {', '.join(s.skipped_documents)}")
    if getattr(s, "large_print", False):
        typer.echo("large print: every text run at least 18 pt (the envelope window's address at its postal size), checked")
    if getattr(s, "proof", False):
        typer.echo("print file: none (a proof: every page is marked PROOF - NOT FOR MAILING and is not for the printer)")
    else:
        empty = "none (every piece goes flat)" if s.flat_print_file else "none (no piece was rendered)"
        typer.echo(f"print file: {s.print_file or empty}")
        if s.flat_print_file:
            typer.echo(f"flat mail:  {s.flat_print_file}")
    if getattr(s, "pdf_variant", "print") != "print":
        typer.echo(f"PDF variant: {s.pdf_variant}")
    if s.over_capacity:
        typer.secho(f"over capacity: {s.over_capacity} pieces have more sheets than the envelope takes (manifest column "
                    "over_capacity)" + ("; printed apart for flat mailing" if s.flat_print_file else ""),
                    fg=typer.colors.YELLOW)
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



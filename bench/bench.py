"""Turn N synthetic Baltimore City accounts into throughput, CPU and memory figures: the project's render against a plain baseline.

Both are measured in the same run, each in a process of its own (so one's memory does not count
against the other's):

* project:  ``notices render`` (notices.batch.run), all cores, as shipped;
* baseline: one WeasyPrint call per piece, the statement and the § 14-812(b) insert in one HTML
  document, composed from the same templates with the same Plan (notices.compose.Composer),
  written with ``weasyprint.HTML(...).write_pdf`` and the project's stylesheets, in one process.
  "naive" builds the stylesheets and font configuration for every piece, as a first script
  would; "tuned" builds them once (``--baseline-style both`` measures the two). The baseline
  does no statute check, no journal and no print file: it only makes the PDFs.

Usage (from the repository root):

    python bench/bench.py --count 1000 --baseline-count 100
    python bench/bench.py --counts 1000,30000                     # memory flatness
    python bench/bench.py --count 1000 --json                     # machine-readable
    python bench/bench.py --count 1000 --rounds 3                 # medians of three rounds, each method in turn
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from notices.options import CHUNK

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

COLLECTOR = "baltimore-city"
MAILING = "final-notice"
DATE = "2027-02-01"


def make_input(count: int, folder: Path, seed: int) -> Path:
    """Write ``count`` synthetic Baltimore City accounts as a CSV roll export."""
    from synthetic import baltimore_city_accounts, write_csv

    path = folder / f"accounts-{count}.csv"
    write_csv(baltimore_city_accounts(count, seed=seed), path)
    return path


# ------------------------------------------------------------------------------------------------
# The project: `notices render`, in a process of its own.


# The shipped profile has placeholders, which a real run refuses; the bench measures a real run (with its
# print file), so its process lets them print, as the tests do. Its main process also times its own
# stages (journal, assembly, manifest: stages.py) and writes them where NOTICES_BENCH_STAGES says.
# Patching means importing the pipeline first, so with workers the process starts their fork server
# before that, as `notices render` does before it imports Typer and the commands (FORK_SERVER).
FORK_SERVER = ("from notices.executors import start_fork_server; from notices.options import WORKER_PRELOAD; "
               "start_fork_server(WORKER_PRELOAD); ")
PROJECT = (
    f"import atexit, json, os, sys; sys.path.insert(0, {str(HERE)!r}); "
    "{fork_server}import notices.batch; notices.batch.refuse_placeholders = lambda *a, **k: None; "
    "from stages import Stages, time_main_process; timed = Stages(); time_main_process(timed); "
    "atexit.register(lambda: open(os.environ['NOTICES_BENCH_STAGES'], 'w').write(json.dumps(timed.seconds))); "
    "from notices.cli import main; main()"
)


def project_command(csv: Path, out: Path, workers: int, chunk: int) -> list[str]:
    """The bench's `notices render` of ``csv`` into ``out``, as a command line for a process of its own."""
    project = PROJECT.replace("{fork_server}", FORK_SERVER if workers != 1 else "")
    command = [sys.executable, "-c", project, "render", str(csv), "-c", COLLECTOR, "-m", MAILING,
               "-d", DATE, "-o", str(out), "--json", "--no-progress", "--chunk", str(chunk)]
    return command + (["--workers", str(workers)] if workers else [])


def measure_project(csv: Path, out: Path, workers: int, chunk: int) -> dict[str, Any]:
    command = project_command(csv, out, workers, chunk)
    stages_file = out.parent / f"{out.name}-stages.json"
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=str(ROOT),
                          env={**os.environ, "NOTICES_BENCH_STAGES": str(stages_file)})
    wall = time.perf_counter() - started
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"notices render failed (exit {done.returncode}):\n{done.stderr[-2000:]}") from None
    pieces = summary["rendered"]
    print_size = Path(summary["print_file"]).stat().st_size
    return {
        "pieces": pieces,
        "exit_code": done.returncode,
        "wall_seconds": round(wall, 3),
        "run_seconds": summary["seconds"],
        "pieces_per_second": round(pieces / wall, 2),
        "cpu_seconds_per_piece": round(summary["cpu_seconds"] / max(pieces, 1), 4),
        "peak_rss_main_mb": summary["peak_rss_main_mb"],
        "peak_rss_workers_mb": summary["peak_rss_workers_mb"],
        "workers": summary["workers"],
        "reused_layouts": summary.get("reused_layouts", 0),
        # Why this machine measured something else than the product (every piece laid out in full, say).
        "notes": summary.get("notes", []),
        "print_file_bytes": print_size,
        "bytes_per_piece": round(print_size / max(pieces, 1)),
        "pages": summary["pages"],
        "print_file": summary["print_file"],
        "main_stages_cpu_per_piece": {k: round(v / max(pieces, 1), 5) for k, v in sorted(
            json.loads(stages_file.read_text()).items())} if stages_file.exists() else {},
    }


# ------------------------------------------------------------------------------------------------
# The project's worker stages, timed in one process that renders the roll as a worker does.


def stages_worker(csv: Path, count: int, chunk: int) -> dict[str, Any]:
    """Run inside its own process (``--_stages``): CPU per piece of each stage of a worker's work."""
    import gc

    from stages import Stages, time_worker

    from notices import Options
    from notices.batch import load
    from notices.job import make_job, shape
    from notices.model import Record
    from notices.piece import render_chunk, render_inserts, warm_up

    day = dt.date.fromisoformat(DATE)
    collector, the_plan, checked = load(Options(csv, Path("unused"), COLLECTOR, MAILING, day))
    records = sorted(((seq, item) for seq, item in checked if isinstance(item, Record)), key=lambda it: (shape(it[1]), it[0]))
    records = records[:count]
    job = make_job(collector, the_plan, "en", reuse_layouts=True)
    job = make_job(collector, the_plan, "en", reuse_layouts=True, inserts=render_inserts(job))
    warm_up(job)
    gc.collect()
    gc.freeze()
    timed = Stages()
    time_worker(timed, job)
    cpu0 = time.process_time()
    rendered = 0
    for start in range(0, len(records), chunk):
        rendered += sum(r.pdf is not None for r in render_chunk(job, records[start:start + chunk]))
    cpu = time.process_time() - cpu0
    per_piece = timed.per_piece(len(records))
    per_piece["other"] = round(cpu / max(len(records), 1) - sum(per_piece.values()), 5)
    # No kept layouts when reuse is off (notices.fields.proven_toolchain: say, no HarfBuzz-subset): all laid out.
    reused, drawn = (job.layouts.reused, job.layouts.drawn) if job.layouts is not None else (0, 0)
    return {"pieces": len(records), "rendered": rendered, "cpu_seconds_per_piece": round(cpu / max(len(records), 1), 5),
            "stages_cpu_per_piece": per_piece, "laid_out": len(records) - reused, "drawn": drawn,
            "laid_out_cpu_per_piece": round(timed.whole.get("laid_out", 0.0) / max(len(records), 1), 5)}


def measure_stages(csv: Path, count: int, chunk: int) -> dict[str, Any]:
    return _child("--_stages", "stage timing", csv, count, chunk)


def _child(flag: str, what: str, *args: object) -> dict[str, Any]:
    """Run one measurement in a process of its own (its memory and CPU are its own) and read its last line as JSON."""
    command = [sys.executable, str(Path(__file__).resolve()), flag, *(str(a) for a in args)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=str(ROOT))
    if done.returncode:
        raise SystemExit(f"{what} failed:\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


# ------------------------------------------------------------------------------------------------
# ReportLab's canvas: the same words at the same places, drawn per piece into one file.


def _page_lines(pdf: bytes) -> list[tuple[float, float, list[tuple[float, float, float, str]]]]:
    """Each page's size and its text runs (x, baseline y, size, text), as PDFium reads them."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    pages = []
    try:
        for index in range(len(document)):
            page = document[index]
            width, height = page.get_size()
            textpage = page.get_textpage()
            runs = []
            for i in range(textpage.count_rects()):
                left, bottom, right, top = textpage.get_rect(i)
                text = textpage.get_text_bounded(left, bottom, right, top).strip()
                if text:
                    size = max(4.0, (top - bottom) * 0.85)
                    runs.append((left, bottom + (top - bottom) * 0.2, size, text))
            pages.append((width, height, runs))
            textpage.close()
            page.close()
    finally:
        document.close()
    return pages


def reportlab_worker(pieces: Path, count: int, out: Path) -> dict[str, Any]:
    """Run inside its own process (``--_reportlab``): draw ``count`` pieces' pages with ReportLab's canvas into one file.

    Every page of a piece (statement, padding, insert) is drawn, as the project writes them.

    The words and places come from the project's own piece files, read before the clock starts:
    the canvas only draws them, with the bundled font embedded (subset), one page after another.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from notices.resources import fonts_dir

    files = sorted(pieces.glob("*.pdf"))[:count]
    prepared = [_page_lines(f.read_bytes()) for f in files]
    pdfmetrics.registerFont(TTFont("NoticesSans", str(fonts_dir() / "DejaVuSansCondensed.ttf")))
    target = out / "reportlab.pdf"
    out.mkdir(parents=True, exist_ok=True)
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    drawing = canvas.Canvas(str(target), invariant=1)
    for piece in prepared:
        for width, height, runs in piece:
            drawing.setPageSize((width, height))
            for x, y, size, text in runs:
                drawing.setFont("NoticesSans", size)
                drawing.drawString(x, y, text)
            drawing.showPage()
    drawing.save()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    n = len(prepared)
    return _figures("reportlab", n, wall, cpu, target.stat().st_size)


def _figures(style: str, n: int, wall: float, cpu: float, total_bytes: int) -> dict[str, Any]:
    """A baseline's figures, in the shape the project's are reported in; its peak is this process's own (VmHWM on Linux)."""
    from notices.executors import peak_rss_kb

    return {
        "style": style,
        "pieces": n,
        "wall_seconds": round(wall, 3),
        "pieces_per_second": round(n / wall, 2),
        "cpu_seconds_per_piece": round(cpu / max(n, 1), 4),
        "peak_rss_main_mb": round(peak_rss_kb() / 1024, 1),
        "peak_rss_workers_mb": [],
        "bytes_per_piece": round(total_bytes / max(n, 1)),
    }


def measure_reportlab(pieces: Path, count: int, out: Path) -> dict[str, Any]:
    return _child("--_reportlab", "ReportLab baseline", pieces, count, out)


def print_file_bound(project: dict[str, Any], out: Path, sample: int) -> dict[str, Any]:
    """The print file against "the statements plus one copy of each insert, plus 10 %", statements sized on a sample."""
    sys.path.insert(0, str(ROOT))
    import io

    from notices.pdfwriter import PdfStreamWriter

    manifest = json.loads((out / "manifest.json").read_text())
    rendered = [p for p in manifest["pieces"] if p["status"] == "rendered"]
    taken = rendered[:sample]
    buffer = io.BytesIO()
    writer = PdfStreamWriter(buffer)
    for piece in taken:
        writer.add_pdf((out / "pieces" / piece["piece_file"]).read_bytes(), range(piece["statement_pages"]))
    writer.close()
    statements_per_piece = len(buffer.getvalue()) / max(len(taken), 1)
    inserts = sum(len(_insert_pdf(doc)) for doc in manifest["summary"]["documents"][1:])
    bound = 1.10 * (statements_per_piece * len(rendered) + inserts)
    return {
        "statement_bytes_per_piece": round(statements_per_piece),
        "insert_bytes_once": inserts,
        "bound_bytes": round(bound),
        "print_file_bytes": project["print_file_bytes"],
        "within_bound": project["print_file_bytes"] <= bound,
    }


_INSERTS: dict[str, bytes] = {}


def _job(day: dt.date) -> Any:
    """The project's own set-up for the bench's collector and mailing: its Plan, Composer and Renderer."""
    from notices.collectors import load_collector
    from notices.job import make_job
    from notices.resolve import plan

    collector = load_collector(COLLECTOR)
    return make_job(collector, plan(collector, MAILING, day), "en", reuse_layouts=False)


def _insert_pdf(document_id: str) -> bytes:
    if not _INSERTS:
        from notices.piece import render_inserts

        _INSERTS.update(render_inserts(_job(dt.date.fromisoformat(DATE))))
    return _INSERTS.get(document_id, b"")


# ------------------------------------------------------------------------------------------------
# The baseline: one WeasyPrint call per piece, statement and insert in one document.


def baseline_worker(csv: Path, count: int, style: str, out: Path) -> dict[str, Any]:
    """Run inside its own process (``--_baseline``): render ``count`` pieces the plain way."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    from notices import Options
    from notices.batch import load
    from notices.deadlines import statement_dates
    from notices.model import Record
    from notices.resources import templates_dir

    day = dt.date.fromisoformat(DATE)
    _, _, checked = load(Options(csv, out, COLLECTOR, MAILING, day))
    records = [(seq, item) for seq, item in checked if isinstance(item, Record)][:count]
    job = _job(day)  # the same Plan and Composer as the project
    statement, insert = job.plan.parts[0], job.plan.parts[1]
    sheets = [templates_dir() / "base" / "style.css"]
    if (job.collector.folder / "style.css").is_file():
        sheets.append(job.collector.folder / "style.css")
    base_url = (templates_dir() / "base").as_uri() + "/"
    # The insert says "page X of N": a first script would lay it out once to learn N, as the project does.
    first_config = FontConfiguration()
    first_html = job.composer.document(insert, [job.composer.fragment(insert, None, seq=0, pages=0)], title="insert")
    insert_pages = len(weasyprint.HTML(string=first_html, base_url=base_url).render(
        stylesheets=[weasyprint.CSS(filename=str(s), font_config=first_config) for s in sheets], font_config=first_config).pages)
    insert_html = job.composer.fragment(insert, None, seq=0, pages=insert_pages)
    tuned_config = FontConfiguration()
    tuned_sheets = [weasyprint.CSS(filename=str(s), font_config=tuned_config) for s in sheets]
    out.mkdir(parents=True, exist_ok=True)
    total_bytes = 0
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    for seq, record in records:
        html = job.composer.document(
            statement,
            [job.composer.fragment(statement, record, seq=seq, pages=1, **statement_dates(job.collector, day, record)), insert_html],
            title=f"Final notice {record.account_id}",
        )
        if style == "naive":
            config = FontConfiguration()
            stylesheets = [weasyprint.CSS(filename=str(s), font_config=config) for s in sheets]
        else:
            config, stylesheets = tuned_config, tuned_sheets
        pdf = weasyprint.HTML(string=html, base_url=base_url).write_pdf(stylesheets=stylesheets, font_config=config)
        (out / f"{seq:06d}.pdf").write_bytes(pdf)
        total_bytes += len(pdf)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    n = len(records)
    return _figures(style, n, wall, cpu, total_bytes)


def measure_baseline(csv: Path, count: int, style: str, out: Path) -> dict[str, Any]:
    return _child("--_baseline", "baseline", csv, count, style, out)


# ------------------------------------------------------------------------------------------------


def _past_startup(project: dict[str, Any], small: dict[str, Any], reportlab: dict[str, Any]) -> dict[str, Any] | None:
    """The pieces of the median run beyond the one-chunk run, and the wall time they added: the rate once started.

    The canvas is timed inside its process, its imports and fonts loaded before the clock starts; a
    ``notices render`` run is timed whole, start-up included (about a quarter of a 1,000-piece run).
    """
    pieces = project["pieces"] - small["pieces"]
    seconds = project["wall_seconds"] - small["wall_seconds"]
    if pieces <= 0 or seconds <= 0:
        return None
    rate = pieces / seconds
    return {"pieces": pieces, "wall_seconds": round(seconds, 3), "pieces_per_second": round(rate, 2),
            "ratio_vs_reportlab": round(rate / reportlab["pieces_per_second"], 2)}


def _growth(peaks: list[float]) -> float | None:
    """The last peak against the first, as a fraction (0.05: 5 % higher); None without a first to compare with."""
    return round(peaks[-1] / peaks[0] - 1, 4) if len(peaks) > 1 and peaks[0] else None


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median pieces per second (the slower middle one of an even number)."""
    ranked = sorted(runs, key=lambda m: m["pieces_per_second"])
    return ranked[(len(ranked) - 1) // 2]


def _each(ratios: list[float]) -> str:
    return f" [{', '.join(f'{r:.2f}x' for r in ratios)}]" if len(ratios) > 1 else ""


def _row(name: str, m: dict[str, Any]) -> str:
    workers = m["peak_rss_workers_mb"]
    worker_text = f"{max(workers):.0f} MB x{len(workers)}" if workers else "-"
    return (f"{name:<18} {m['pieces']:>7} {m['pieces_per_second']:>10.2f} {m['cpu_seconds_per_piece']:>9.4f} "
            f"{m['peak_rss_main_mb']:>9.0f} MB {worker_text:>14} {m['bytes_per_piece']:>11}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--_baseline":
        _, source, number, style, out = argv
        print(json.dumps(baseline_worker(Path(source), int(number), style, Path(out))))
        return 0
    if argv and argv[0] == "--_stages":
        _, source, number, chunk = argv
        print(json.dumps(stages_worker(Path(source), int(number), int(chunk))))
        return 0
    if argv and argv[0] == "--_reportlab":
        _, pieces, number, out = argv
        print(json.dumps(reportlab_worker(Path(pieces), int(number), Path(out))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="pieces for the project's render (default 1000)")
    parser.add_argument("--baseline-count", type=int, default=100, help="pieces for the baseline, rated per piece (default 100)")
    parser.add_argument("--baseline-style", choices=("naive", "tuned", "both"), default="both")
    parser.add_argument("--workers", type=int, default=0, help="project worker processes (0: one per core)")
    parser.add_argument("--chunk", type=int, default=CHUNK, help=f"pieces per task in the project (default {CHUNK}, as notices render)")
    parser.add_argument("--counts", default="", help="memory-flatness mode: comma-separated counts, e.g. 1000,30000")
    parser.add_argument("--size-sample", type=int, default=200, help="pieces used to size the statements for the print-file bound")
    parser.add_argument("--stage-count", type=int, default=-1,
                        help="pieces rendered in one process to split a worker's CPU by stage (default: --count; 0: skip)")
    parser.add_argument("--reportlab-count", type=int, default=0, help="pieces for the ReportLab canvas baseline (default: --count)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure the project and every baseline this many times, in turn, and give the medians (default 1)")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--tmp", default=None, help="working folder (default: a temporary folder, removed after)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        folder = Path(tmp)
        report: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                                  "command": " ".join([Path(sys.argv[0]).name, *argv])}
        if args.counts:
            rows = []
            for count in (int(c) for c in args.counts.split(",")):
                roll = make_input(count, folder, args.seed)
                m = measure_project(roll, folder / f"out-{count}", args.workers, args.chunk)
                rows.append({"count": count, **{k: m[k] for k in ("pieces", "wall_seconds", "pieces_per_second", "cpu_seconds_per_piece",
                                                                   "peak_rss_main_mb", "peak_rss_workers_mb", "bytes_per_piece",
                                                                   "print_file_bytes")}})
            report["memory"] = rows
            report["main_peak_growth"] = _growth([r["peak_rss_main_mb"] for r in rows])
            report["worker_peak_growth"] = _growth([max(r["peak_rss_workers_mb"] or [0]) for r in rows])
            if args.json:
                print(json.dumps(report, indent=1))
                return 0
            print(f"{'pieces':>7} {'wall s':>8} {'pieces/s':>9} {'cpu s/piece':>11} {'main MB':>8} {'bytes/piece':>11}  worker peak MB")
            for r in rows:
                print(f"{r['pieces']:>7} {r['wall_seconds']:>8.0f} {r['pieces_per_second']:>9.2f} {r['cpu_seconds_per_piece']:>11.4f} "
                      f"{r['peak_rss_main_mb']:>8.0f} {r['bytes_per_piece']:>11}  "
                      + ", ".join(f"{w:.0f}" for w in r["peak_rss_workers_mb"]))
            for who in ("main", "worker"):
                growth = report[f"{who}_peak_growth"]
                if growth is not None:
                    print(f"{who} process peak growth from {rows[0]['pieces']} to {rows[-1]['pieces']} pieces: {growth:+.1%}")
            return 0

        roll = make_input(args.count, folder, args.seed)
        styles = ("naive", "tuned") if args.baseline_style == "both" else (args.baseline_style,)
        methods = ("project", *(f"baseline_{style}" for style in styles), "baseline_reportlab")
        runs: dict[str, list[dict[str, Any]]] = {method: [] for method in methods}
        first_out = folder / "project-1"
        for n in range(1, max(1, args.rounds) + 1):
            # Round by round, each method in turn: a drift of the machine's speed falls on all of them alike.
            runs["project"].append(measure_project(roll, folder / f"project-{n}", args.workers, args.chunk))
            for style in styles:
                runs[f"baseline_{style}"].append(measure_baseline(roll, args.baseline_count, style, folder / f"baseline-{style}-{n}"))
            runs["baseline_reportlab"].append(measure_reportlab(first_out / "pieces", args.reportlab_count or args.count,
                                                                folder / f"reportlab-{n}"))
        for method in methods:
            report[method] = _median_run(runs[method])
        project = report["project"]
        report["print_file_bound"] = print_file_bound(runs["project"][0], first_out, args.size_sample)
        for name in (*styles, "reportlab"):
            pairs = zip(runs["project"], runs[f"baseline_{name}"], strict=True)
            ratios = [p["pieces_per_second"] / b["pieces_per_second"] for p, b in pairs]
            report[f"ratio_vs_{name}"] = round(statistics.median(ratios), 2)
            report[f"ratios_vs_{name}"] = [round(r, 2) for r in ratios]
        reportlab = report["baseline_reportlab"]
        if args.rounds > 1:
            report["rounds"] = args.rounds
            report["pieces_per_second_by_round"] = {method: [m["pieces_per_second"] for m in runs[method]] for method in methods}
        # What every run pays whatever its size (the interpreters, WeasyPrint's import, the inserts, the first
        # layouts, the finish): the wall time of a run of one chunk, against which the rounds' rate is read.
        small = measure_project(make_input(args.chunk, folder, args.seed + 1), folder / "project-small", args.workers, args.chunk)
        report["startup"] = {k: small[k] for k in ("pieces", "wall_seconds", "cpu_seconds_per_piece")}
        report["past_startup"] = _past_startup(project, small, reportlab)
        if args.stage_count:
            stage_count = args.count if args.stage_count < 0 else min(args.stage_count, args.count)
            report["worker_stages"] = measure_stages(roll, stage_count, args.chunk)
        if args.json:
            print(json.dumps(report, indent=1))
            return 0
        print(f"{'':<18} {'pieces':>7} {'pieces/s':>10} {'cpu s/pc':>9} {'main peak':>12} {'worker peak':>14} {'bytes/piece':>11}")
        print(_row(f"project ({project['workers']} wkr)", project))
        for style in styles:
            print(_row(f"baseline ({style})", report[f"baseline_{style}"]))
        print(_row("reportlab canvas", reportlab))
        print(f"project: {project['reused_layouts']} of {project['pieces']} pieces written into a layout kept from an earlier piece")
        for note in project["notes"]:
            print(f"project: note: {note}")
        if args.rounds > 1:
            print(f"{args.rounds} rounds, each method in turn; each row is the run with the median pieces/s, each ratio the median "
                  "of the rounds' ratios (in brackets, every round's)")
        for style in styles:
            print(f"ratio project/baseline ({style}), pieces per second: {report[f'ratio_vs_{style}']:.2f}x"
                  f"{_each(report[f'ratios_vs_{style}'])} (issue target vs naive: 30x)")
        print(f"ratio project/ReportLab canvas, pieces per second: {report['ratio_vs_reportlab']:.2f}x"
              f"{_each(report['ratios_vs_reportlab'])} (issue target: at least 1x)")
        small = report["startup"]
        print(f"start-up: a run of {small['pieces']} pieces takes {small['wall_seconds']:.2f} s "
              f"({small['pieces'] * small['cpu_seconds_per_piece']:.2f} s of CPU); the project's median run of "
              f"{project['pieces']} took {project['wall_seconds']:.2f} s")
        past = report["past_startup"]
        if past is not None:
            print(f"past the start-up: the {past['pieces']} pieces more took {past['wall_seconds']:.2f} s more, "
                  f"{past['pieces_per_second']:.2f} a second, {past['ratio_vs_reportlab']:.2f}x the canvas's median run "
                  "(not the issue's measure, which times the whole run: what a larger mailing tends to)")
        main_stages = project["main_stages_cpu_per_piece"]
        print("main process CPU s per piece: " + ", ".join(f"{k} {v:.5f}" for k, v in main_stages.items()))
        if "worker_stages" in report:
            w = report["worker_stages"]
            print(f"worker CPU s per piece ({w['pieces']} pieces in one process, {w['laid_out']} laid out, {w['drawn']} drawn once): "
                  f"{w['cpu_seconds_per_piece']:.5f} = " + ", ".join(f"{k} {v:.5f}" for k, v in w["stages_cpu_per_piece"].items()))
            print(f"  of which the {w['laid_out']} pieces laid out in full, whole (layout, keeping and drawing the layout, "
                  f"writing, check): {w['laid_out_cpu_per_piece']:.5f}")
        bound = report["print_file_bound"]
        print(f"print file: {bound['print_file_bytes']} bytes; statements ({bound['statement_bytes_per_piece']} B/piece) "
              f"+ inserts once ({bound['insert_bytes_once']} B) + 10 % = {bound['bound_bytes']} bytes: "
              f"{'within' if bound['within_bound'] else 'OVER'} the bound")
        return 0


if __name__ == "__main__":  # the guard also keeps worker processes from re-running the benchmark
    raise SystemExit(main())

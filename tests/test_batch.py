"""The batch engine: same bytes whatever the chunking, workers, shard or executor; bounded pieces; a held or changed folder refuses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import CITY_DATE, ROOT, csv_text, row
from typer.testing import CliRunner

from notices import Options, batch, run
from notices.cli import app
from notices.errors import ComplianceError, ConfigError, NoticesError, ResumeMismatch
from notices.executors import LocalPool
from notices.job import shape
from notices.output import OutputFolder

sys.path.insert(0, str(ROOT / "bench"))
from synthetic import baltimore_city_accounts, write_csv

runner = CliRunner()
COUNT = 10


def fingerprint(out: Path) -> dict[str, str]:
    """sha256 of every piece file and of the print file, by name."""
    files = sorted((out / "pieces").glob("*.pdf")) + sorted((out / "print").glob("*.pdf"))
    return {f"{f.parent.name}/{f.name}": hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def options(source: Path, out: Path, **changes: Any) -> Options:
    return Options(source, out, "baltimore-city", "final-notice", CITY_DATE, **{"workers": 1, **changes})


@pytest.fixture(scope="module")
def roll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten synthetic Baltimore City accounts."""
    path = tmp_path_factory.mktemp("roll") / "city.csv"
    write_csv(baltimore_city_accounts(COUNT, seed=7), path)
    return path


@pytest.fixture(scope="module")
def reference(roll: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One uninterrupted run, one piece per WeasyPrint call, in this process: (folder, fingerprint)."""
    out = tmp_path_factory.mktemp("reference")
    summary = run(options(roll, out, chunk=1))
    assert summary.rendered == COUNT, summary
    return out, fingerprint(out)


def with_city_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    """Runs of this test load the City's profile with one template of its own replaced by ``text``."""
    from notices import collectors
    from notices.resources import templates_dir

    root = tmp_path / "templates"
    shutil.copytree(templates_dir() / "base", root / "base")
    shutil.copytree(templates_dir() / "baltimore-city", root / "baltimore-city")
    (root / "baltimore-city" / name).write_text(text)
    real = collectors.load_collector
    monkeypatch.setattr(batch, "load_collector", lambda cid, root_=None, **_workspace: real(cid, root))


def test_bytes_do_not_depend_on_chunk_size_or_worker_count(roll: Path, reference: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Chunks of 4 in this process, and chunks of 3 over a pool of 2 workers, give byte-identical pieces and print file."""
    _, expected = reference
    run(options(roll, tmp_path / "chunk4", chunk=4))
    assert fingerprint(tmp_path / "chunk4") == expected
    summary = run(options(roll, tmp_path / "pool", chunk=3, workers=2))
    assert summary.workers == 2 and len(summary.peak_rss_workers_mb) == 2
    assert fingerprint(tmp_path / "pool") == expected


def test_with_workers_the_main_process_never_loads_weasyprint(roll: Path, reference: tuple[Path, dict[str, str]],
                                                              tmp_path: Path) -> None:
    """The workers lay out the pieces and another process the inserts: the main process of a run with
    workers lays nothing out, so it does not load WeasyPrint (a second of start-up), and the bytes are
    the bytes of a run without workers."""
    out = tmp_path / "pool"
    code = ("import json, sys; from pathlib import Path; import datetime as dt; "
            "import notices.batch; notices.batch.refuse_placeholders = lambda *a, **k: None; "
            "from notices import Options, run; "
            f"s = run(Options(Path({str(roll)!r}), Path({str(out)!r}), 'baltimore-city', 'final-notice', "
            f"dt.date.fromisoformat({CITY_DATE.isoformat()!r}), workers=2, chunk=3)); "
            "print(json.dumps([s.rendered, s.workers, sorted(m for m in sys.modules if m.startswith('weasyprint'))]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [COUNT, 2, []]
    assert fingerprint(out) == reference[1]


def test_an_insert_that_fails_its_check_stops_a_run_with_workers_with_the_error_of_one_without(
        roll: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inserts made beside the main process fail their check: the main process makes them again and stops
    the run with the error, findings and all, a run without workers gives, before any piece."""
    with_city_template(tmp_path, monkeypatch, "tax-sale-insert.html.j2", '<section class="piece insert" id="insert"><p>Pay.</p></section>\n')
    raised = []
    for workers in (1, 2):
        with pytest.raises(ComplianceError) as caught:
            run(options(roll, tmp_path / f"out-{workers}", workers=workers))
        raised.append((str(caught.value), [f.to_dict() for f in caught.value.findings]))
        assert not list((tmp_path / f"out-{workers}" / "pieces").glob("*.pdf"))
    assert raised[0] == raised[1] and "fails the statute check" in raised[0][0]


def test_shards_cover_the_run_once_and_say_so(roll: Path, reference: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Shards 1/3..3/3 render disjoint pieces (seq % 3 == i-1) identical to the whole run's, and each manifest names its shard."""
    _, expected = reference
    pieces: dict[str, str] = {}
    for index in (1, 2, 3):
        out = tmp_path / f"shard{index}"
        summary = run(options(roll, out, shard=(index, 3)))
        assert summary.shard == f"{index}/3"
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["summary"]["shard"] == f"{index}/3"
        assert {p["seq"] % 3 for p in manifest["pieces"]} == {index - 1}
        assert summary.records_in == len(manifest["pieces"]) == len([s for s in range(1, COUNT + 1) if s % 3 == index - 1])
        found = {k: v for k, v in fingerprint(out).items() if k.startswith("pieces/")}
        assert not set(found) & set(pieces), "two shards rendered the same piece"
        pieces.update(found)
    assert pieces == {k: v for k, v in expected.items() if k.startswith("pieces/")}


def test_template_error_stops_the_run_at_the_first_piece(roll: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A statement template that fails for every record stops the run (exit 2) before any piece is written or journaled."""
    with_city_template(tmp_path, monkeypatch, "final-notice-statement.html.j2", "<p>{{ record.no_such_field }}</p>\n")
    with pytest.raises(ConfigError):
        run(options(roll, tmp_path / "out"))
    journal = tmp_path / "out" / ".notices" / "journal.jsonl"
    assert not journal.exists() or journal.read_text() == ""
    assert not list((tmp_path / "out" / "pieces").glob("*.pdf"))
    result = runner.invoke(app, ["render", str(roll), "-c", "baltimore-city", "-d", "2027-02-01", "-o", str(tmp_path / "cli"),
                                 "--workers", "1", "--no-progress"])
    assert result.exit_code == 2, result.output


def test_a_run_whose_first_pieces_all_fail_the_check_stops(roll: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the first 10 finished pieces all fail the statute check, the run stops (exit 3) instead of quarantining them all."""
    from notices import piece
    from notices.piece import PieceResult

    def failing(job: Any, joined: Any, facts: Any) -> PieceResult:
        return PieceResult(joined.seq, joined.record.account_id, None, joined.statement_pages, 0,
                           "piece fails the statute check: tp-14-812-a-2-body: missing")

    monkeypatch.setattr(piece, "_checked", failing)
    result = runner.invoke(app, ["render", str(roll), "-c", "baltimore-city", "-d", "2027-02-01", "-o", str(tmp_path / "out"),
                                 "--workers", "1", "--chunk", "1", "--no-progress"])
    assert result.exit_code == 3, result.output
    assert "first 10 pieces of the run all failed" in result.output
    assert not (tmp_path / "out" / "manifest.csv").exists()


def test_oversized_record_is_rejected_and_the_run_goes_on(tmp_path: Path) -> None:
    """A thousand-line lien list is rejected with its reason; the other account is rendered; exit 1."""
    rows = [row(account_id="01-01-0001-001")] + [row(account_id="01-01-0001-002", period=f"BILL {i}") for i in range(1000)]
    source = tmp_path / "roll.csv"
    source.write_text(csv_text(rows))
    result = runner.invoke(app, ["render", str(source), "-c", "baltimore-city", "-d", "2027-02-01", "-o", str(tmp_path / "out"),
                                 "--workers", "1", "--no-progress", "--json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert (summary["rendered"], summary["rejected"]) == (1, 1)
    assert "tax lines" in (tmp_path / "out" / "rejects.csv").read_text()


def test_a_run_says_when_this_machine_lays_every_piece_out_in_full(roll: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without HarfBuzz-subset every piece gets a full layout (about 30 times slower): the summary says why and how to mend it, unless asked for."""
    from notices import fingerprint

    def full(notes: list[str]) -> list[str]:
        return [n for n in notes if "laid out in full" in n]

    real = fingerprint.toolchain()
    assert not full(run(options(roll, tmp_path / "here")).notes) or fingerprint.reuse_refused(real) is not None
    monkeypatch.setattr(fingerprint, "toolchain", lambda: {**real, "harfbuzz-subset": "absent"})
    said = full(run(options(roll, tmp_path / "without")).notes)
    assert len(said) == 1 and "libharfbuzz-subset0 is not installed" in said[0], said
    assert "apt-get install -y libharfbuzz-subset0" in said[0] and "30 times slower" in said[0], said
    monkeypatch.setattr(fingerprint, "toolchain", lambda: {**real, "weasyprint": "71.0"})
    said = full(run(options(roll, tmp_path / "other")).notes)
    assert len(said) == 1 and "weasyprint 71.0 (proven: 70.0)" in said[0] and "10 times slower" in said[0], said
    # Reuse turned off on purpose: nothing to tell.
    assert not full(run(options(roll, tmp_path / "asked", reuse_layouts=False)).notes)


def test_the_run_and_the_layouts_agree_on_whether_this_toolchain_reuses_layouts() -> None:
    from notices import fingerprint, render
    from notices.fields import proven_toolchain

    assert proven_toolchain() == (fingerprint.reuse_refused(render.toolchain()) is None)
    proven = {"weasyprint": "70.0", "pydyf": "0.13.0", "harfbuzz-subset": "present"}
    assert fingerprint.reuse_refused(proven) is None
    assert "libharfbuzz-subset0" in (fingerprint.reuse_refused({**proven, "harfbuzz-subset": "absent"}) or "")
    assert "weasyprint 71.0 (proven: 70.0)" in (fingerprint.reuse_refused({**proven, "weasyprint": "71.0"}) or "")


def test_the_runs_fingerprint_names_the_zlib_that_compresses_its_streams() -> None:
    """Another zlib may deflate the same operators into other bytes: a resume after it changed is refused, as for a library."""
    import zlib

    from notices import render

    assert render.toolchain()["zlib"] == zlib.ZLIB_RUNTIME_VERSION


def test_second_run_on_a_held_folder_refuses_with_exit_4(roll: Path, tmp_path: Path) -> None:
    """While one run holds the output folder, another exits 4 and writes nothing."""
    holder = OutputFolder(tmp_path / "out")
    holder.lock()
    try:
        result = runner.invoke(app, ["render", str(roll), "-c", "baltimore-city", "-d", "2027-02-01", "-o", str(tmp_path / "out"),
                                     "--workers", "1", "--no-progress"])
    finally:
        holder.unlock()
    assert result.exit_code == 4, result.output
    assert not (tmp_path / "out" / "pieces").exists()


@pytest.mark.parametrize("what", ["input", "templates", "profile", "tool"])
def test_resume_refuses_and_names_what_changed(roll: Path, tmp_path: Path, what: str) -> None:
    """A resume after the input, templates, profile or tool version changed refuses (exit 4) and names the change."""
    source = tmp_path / "roll.csv"
    source.write_text("\n".join(roll.read_text().splitlines()[:4]) + "\n")
    out = tmp_path / "out"
    run(options(source, out))
    if what == "input":
        source.write_text(source.read_text().replace("BALTIMORE", "BALTIMORE CITY", 1))
    else:
        # What the run recorded when it began no longer matches what is installed now.
        state = out / ".notices" / "run.json"
        identity = json.loads(state.read_text())
        identity[what] = "something else"
        state.write_text(json.dumps(identity))
    with pytest.raises(ResumeMismatch, match=what):
        run(options(source, out, resume=True))
    result = runner.invoke(app, ["render", str(source), "-c", "baltimore-city", "-d", "2027-02-01", "-o", str(out),
                                 "--workers", "1", "--no-progress", "--resume"])
    assert result.exit_code == 4 and what in result.output


def test_resume_after_a_crash_gives_the_same_bytes(roll: Path, reference: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """A torn journal, a missing piece, a corrupt piece and a stray temporary file: resume finishes with the same bytes, once each."""
    source, expected = reference
    out = tmp_path / "out"
    shutil.copytree(source, out)
    journal = out / ".notices" / "journal.jsonl"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:6]) + "\n" + lines[6][: len(lines[6]) // 2])  # crash while writing line 7
    first, second = (json.loads(line)["piece_file"] for line in lines[:2])
    (out / "pieces" / first).unlink()  # journaled, then lost
    (out / "pieces" / second).write_bytes(b"%PDF-1.7 torn")  # journaled, then torn by a power cut
    (out / "pieces" / f".{first}.tmp").write_bytes(b"half")
    for leftover in ("manifest.csv", "manifest.json", "rejects.csv"):
        (out / leftover).unlink()
    shutil.rmtree(out / "print")
    summary = run(options(roll, out, resume=True, chunk=3))
    assert summary.resumed_pieces == 4 and summary.rendered == COUNT and summary.balanced
    assert fingerprint(out) == expected
    assert not (out / "pieces" / f".{first}.tmp").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(p["seq"] for p in manifest["pieces"]) == list(range(1, COUNT + 1))


def test_a_full_disk_stops_the_run_and_resume_finishes_it(roll: Path, reference: tuple[Path, dict[str, str]], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills after 4 pieces stops the run with exit 4 and a hint; a resume then gives the same bytes."""
    import errno

    _, expected = reference
    from notices import output

    real = output.atomic_write
    written: list[Path] = []

    def filling(path: Path | str, data: bytes, sync: bool = True) -> None:
        if Path(path).parent.name == "pieces":
            if len(written) >= 4:
                raise OSError(errno.ENOSPC, "No space left on device")
            written.append(Path(path))
        real(path, data, sync)

    monkeypatch.setattr(output, "atomic_write", filling)
    args = ["render", str(roll), "-c", "baltimore-city", "-d", "2027-02-01", "-o", str(tmp_path / "out"), "--workers", "1",
            "--chunk", "1", "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 4 and "No space left on device" in result.output and "--resume" in result.output
    monkeypatch.setattr(output, "atomic_write", real)
    result = runner.invoke(app, [*args, "--resume", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["resumed_pieces"] == 4
    assert fingerprint(tmp_path / "out") == expected


def test_unbalanced_books_never_exit_0(roll: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If a record went missing between input and manifest, the CLI exits 5, not 0."""
    real = batch._render_all

    def lose_one(options: Any, job: Any, index: Any, *args: Any) -> Any:
        stats = real(options, job, index, *args)
        index.forget(index.last_outcome())
        return stats

    monkeypatch.setattr(batch, "_render_all", lose_one)
    result = runner.invoke(app, ["render", str(roll), "-c", "baltimore-city", "-d", "2027-02-01", "-o", str(tmp_path / "out"),
                                 "--workers", "1", "--no-progress", "--json"])
    assert result.exit_code == 5, result.output
    assert json.loads(result.stdout)["balanced"] is False


def test_dask_executor_makes_the_same_bytes(roll: Path, reference: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """A local Dask cluster on loopback renders the same bytes as the local pool."""
    distributed = pytest.importorskip("distributed")
    _, expected = reference
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster:
        summary = run(options(roll, tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address, chunk=3, workers=0))
    assert summary.executor == "dask" and summary.rendered == COUNT
    assert fingerprint(tmp_path / "dask") == expected


# --------------------------------------------------------------------------------------------
# The local pool on its own, with toy work (forked workers, so these functions need no import).


def _toy_init() -> None:
    pass


def _toy_work(items: list[str]) -> list[str]:
    for item in items:
        if item == "slow":
            time.sleep(30)
        elif item == "hog":
            hog = bytearray(700 * 1024 * 1024)  # touched below, so it is resident
            for i in range(0, len(hog), 4096):
                hog[i] = 1
            time.sleep(30)
        elif item == "crash":
            os._exit(9)
        elif item == "fatal":
            raise ConfigError("Template error: every piece would fail")
    return [f"done {item}" for item in items]


def _toy_fail(item: str, reason: str) -> str:
    return f"gave up {item}: {reason}"


def _pool(item_timeout: float = 60.0, memory_mb: float = 1024.0, **kwargs: Any) -> LocalPool:
    return LocalPool(2, _toy_init, (), _toy_work, _toy_fail, context="fork", item_timeout=item_timeout, memory_mb=memory_mb, **kwargs)


def test_shapes_are_handed_out_kind_by_kind_the_kind_with_fewest_pieces_first() -> None:
    """The largest kind comes last, where both workers meet on it; a shape of no kind is a kind of its own."""
    from notices.batch import render_order

    kinds = {(1, 1, 0): 0, (2, 1, 0): 0, (6, 1, 0): 1, (7, 2, 0): 1, (11, 2, 0): 2}
    counts = {(1, 1, 0): 500, (2, 1, 0): 270, (6, 1, 0): 150, (7, 2, 0): 60, (11, 2, 0): 18, (3, 1, 1): 30}
    assert render_order(kinds, counts) == [(11, 2, 0), (3, 1, 1), (6, 1, 0), (7, 2, 0), (1, 1, 0), (2, 1, 0)]
    assert render_order({}, {(2, 1, 0): 5, (1, 1, 0): 5}) == [(1, 1, 0), (2, 1, 0)]  # a tie: the smaller shape first


def test_each_worker_is_given_the_first_piece_of_the_kind_it_is_likely_to_be_handed_first(tmp_path: Path) -> None:
    """The first record of each kind, kinds in the order they are handed out: the pool's first worker takes the first
    kind, the next one the next kind (one no other worker is on); a shape with no record in the run gives none."""
    from notices.batch import first_pieces, load
    from notices.model import Record

    _, _, checked = load(Options(ROOT / "samples" / "baltimore-city-final-notices.csv", tmp_path, "baltimore-city",
                                 "final-notice", CITY_DATE))
    firsts: dict[tuple[int, int, int], tuple[int, Record]] = {}
    for seq, item in checked:
        if isinstance(item, Record):
            firsts.setdefault(shape(item), (seq, item))
    kinds = {(1, 1, 0): 0, (2, 1, 0): 0, (6, 1, 0): 1, (3, 1, 0): 1, (11, 2, 0): 2}
    counts = {(1, 1, 0): 500, (2, 1, 0): 270, (6, 1, 0): 150, (3, 1, 0): 20, (11, 2, 0): 18, (7, 2, 0): 30}
    # Handed out: (11, 2, 0) (no record of it here), (7, 2, 0) (a kind of its own), kind 1 from (3, 1, 0), kind 0 from (1, 1, 0).
    given = first_pieces(kinds, counts, sorted(firsts.values()))
    assert [seq for seq, _ in given] == [firsts[(7, 2, 0)][0], firsts[(3, 1, 0)][0], firsts[(1, 1, 0)][0]]


def test_the_first_workers_started_are_given_their_own_initializer_arguments(tmp_path: Path) -> None:
    """One set of extra arguments for each of the first workers, in the order they start; a worker started later gets none."""
    notes = tmp_path / "notes"
    notes.mkdir()
    pool = LocalPool(2, _note_init, (str(notes),), _toy_work, _toy_fail, context="fork", item_timeout=60.0, memory_mb=0,
                     first_args=[("first",), ("second",)])
    pool.start()
    pool._start()  # as one started in a dead worker's place
    assert list(pool.map([["a"], ["b"], ["c"]]))  # every worker set up (and stopped at the end)
    assert sorted(p.read_text() for p in notes.iterdir()) == ["-", "first", "second"]


def _note_init(folder: str, first: str = "-") -> None:
    Path(folder, str(os.getpid())).write_text(first)


def test_a_new_shape_is_composed_for_the_pages_of_the_nearest_smaller_shape_seen() -> None:
    """Within a kind, pieces come smallest shape first: a shape's page count is guessed from the one before, so it is seldom laid out twice."""
    from conftest import job_for

    job = job_for("baltimore-city", "final-notice", CITY_DATE)
    assert job.guess_pages((3, 1, 0)) == 1  # nothing seen yet
    job.page_counts.update({(3, 1, 0): 1, (9, 3, 0): 2, (4, 1, 1): 3})
    assert job.guess_pages((3, 1, 0)) == 1  # seen: as seen
    assert job.guess_pages((8, 2, 0)) == 1  # 10 rows and sources: the largest seen below is (3, 1)
    assert job.guess_pages((10, 4, 0)) == 2  # past (9, 3), which ran to two pages
    assert job.guess_pages((2, 1, 1)) == 1  # a post-sale notice is guessed from post-sale notices only
    assert job.guess_pages((6, 1, 1)) == 3


def test_a_new_shape_is_composed_for_the_pages_of_a_shape_of_its_skeleton_kind() -> None:
    """Shapes of one kind lay out alike: eight rows from five sources, of the kind of six rows, is guessed as six rows
    ran, not as eleven rows from two sources (as many rows and sources), which ran to two pages."""
    from conftest import job_for

    from notices.batch import _spec

    job = job_for("baltimore-city", "final-notice", CITY_DATE)
    kinds = {(6, 1, 0): 1, (8, 5, 0): 1, (11, 2, 0): 2, (12, 1, 0): 2}
    options = Options(ROOT / "samples" / "baltimore-city-final-notices.csv", Path("unused"), "baltimore-city", "final-notice",
                      CITY_DATE)
    job = _spec(options, job.collector, job.plan, kinds=kinds).early().build()  # what a worker is given
    assert job.kinds == kinds
    job.page_counts.update({(11, 2, 0): 2, (6, 1, 0): 1})
    assert job.guess_pages((8, 5, 0)) == 1
    assert job.guess_pages((12, 1, 0)) == 2
    assert job.guess_pages((9, 9, 0)) == 2  # of no kind: from the nearest smaller shape seen, as before


def test_a_wrong_page_guess_costs_a_layout_never_a_byte(tmp_path: Path) -> None:
    """A piece composed for the wrong page count is laid out again for the right one: the same bytes as a right first guess."""
    from conftest import job_for

    from notices.batch import load
    from notices.job import shape
    from notices.model import Record
    from notices.piece import render_chunk

    source = ROOT / "samples" / "baltimore-city-final-notices.csv"
    _, _, checked = load(Options(source, tmp_path, "baltimore-city", "final-notice", CITY_DATE))
    records = [(seq, item) for seq, item in checked if isinstance(item, Record)][:6]
    made = {}
    for guess in (1, 3):
        job = job_for("baltimore-city", "final-notice", CITY_DATE, with_inserts=True)
        job.page_counts.update({shape(record): guess for _, record in records})
        made[guess] = [result.pdf for result in render_chunk(job, records)]
    assert made[1] == made[3] and all(made[1])


def test_shapes_whose_statements_share_a_skeleton_are_one_kind_for_the_pool(tmp_path: Path) -> None:
    """Two shapes of one skeleton sent to two workers would be laid out twice: the pool sees them as one kind."""
    from notices.batch import _ChunkKind, compose_firsts, layout_kinds, load
    from notices.compose import skeleton
    from notices.model import Record

    given = Options(ROOT / "samples" / "baltimore-city-final-notices.csv", tmp_path, "baltimore-city", "final-notice", CITY_DATE)
    collector, the_plan, checked = load(given)
    _, firsts = compose_firsts(collector, the_plan, given, checked)
    kinds = layout_kinds(firsts)
    assert set(kinds) == set(firsts)
    for one, html in firsts.items():
        for other, other_html in firsts.items():
            assert (kinds[one] == kinds[other]) == (skeleton(html)[0] == skeleton(other_html)[0]), (one, other)
    # One to five rows, from any number of sources: one skeleton (each line carries its own telephone number,
    # and blank rows fill the table to five). Six rows are not five: the rows add to the statement.
    assert kinds[(1, 1, 0)] == kinds[(2, 2, 0)] == kinds[(5, 1, 0)] == kinds[(5, 3, 0)] != kinds[(6, 1, 0)]
    assert kinds[(6, 1, 0)] == kinds[(9, 4, 0)] != kinds[(53, 5, 0)]
    assert '<td class="num"><span class="field">\u00a0</span></td>' in firsts[(1, 1, 0)]  # the blank rows ([statement] blank_rows = 5)
    assert len(set(kinds.values())) < len(kinds)
    record = next(item for _, item in checked if isinstance(item, Record))
    assert _ChunkKind(kinds)([(1, record)]) == ("skeleton", kinds[shape(record)])
    assert _ChunkKind({})([(1, record)]) == shape(record)  # a shape not composed up front: its own kind


def test_without_blank_rows_in_its_profile_each_row_count_is_a_skeleton_of_its_own(tmp_path: Path) -> None:
    """Baltimore County's profile fills no blank rows (its Spanish statement would need a second page at six rows):
    its statements of one to five rows keep their own heights, so their own skeletons."""
    from notices.batch import compose_firsts, layout_kinds, load

    given = Options(ROOT / "samples" / "baltimore-county-final-notices.csv", tmp_path, "baltimore-county", "final-notice",
                    dt.date(2027, 3, 1), proof=True)
    collector, the_plan, checked = load(given)
    _, firsts = compose_firsts(collector, the_plan, given, checked)
    kinds = layout_kinds(firsts)
    assert collector.get("statement.blank_rows") == 0
    assert len({kinds[found] for found in firsts if found[0] <= 5}) == len({found[0] for found in firsts if found[0] <= 5}) >= 4
    assert all('class="num"><span class="field">\u00a0</span>' not in html for html in firsts.values())


@pytest.mark.parametrize("changes", [{"large_print": True}, {"pdf_variant": "pdf/ua-1"}, {"pdf_variant": "pdf/a-2b"}])
def test_large_print_and_the_standards_fill_no_blank_rows_whatever_the_profile_asks(tmp_path: Path, changes: dict[str, Any]) -> None:
    """Large print's page holds fewer rows (the City's blank rows gave a statement of one to three rows a third page);
    a standard's pieces are laid out one by one, so blank rows would share nothing, and a screen reader would read them."""
    from notices.batch import compose_firsts, load

    given = Options(ROOT / "samples" / "baltimore-city-final-notices.csv", tmp_path, "baltimore-city", "final-notice", CITY_DATE,
                    **changes)
    collector, the_plan, checked = load(given)
    _, firsts = compose_firsts(collector, the_plan, given, checked)
    assert collector.get("statement.blank_rows") == 5
    assert all('class="num"><span class="field">\u00a0</span>' not in html for html in firsts.values())


def test_a_proof_leaves_out_of_the_kinds_a_first_statement_it_cannot_compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A proof checks no placeholders, so a record whose statement cannot be composed is left to its worker to quarantine;
    a run, whose placeholder check needs every shape, stops as before, and a template's error stops either."""
    from notices.batch import compose_firsts, load
    from notices.compose import Composer
    from notices.errors import LawError, RecordError

    given = Options(ROOT / "samples" / "baltimore-city-final-notices.csv", tmp_path, "baltimore-city", "final-notice", CITY_DATE)
    collector, the_plan, checked = load(given)
    composed = Composer.fragment
    failure: list[Exception] = [RecordError("an amount the locale cannot print")]

    def fragment(self: Composer, part: Any, record: Any, **kwargs: Any) -> str:
        if record is not None and shape(record) == (2, 1, 0):
            raise failure[0]
        return composed(self, part, record, **kwargs)

    monkeypatch.setattr(Composer, "fragment", fragment)
    proof = dataclasses.replace(given, proof=True)
    _, firsts = compose_firsts(collector, the_plan, proof, checked)
    assert (2, 1, 0) not in firsts and (2, 2, 0) in firsts
    with pytest.raises(RecordError):
        compose_firsts(collector, the_plan, given, checked)
    failure[0] = LawError("no words in force")
    with pytest.raises(LawError):
        compose_firsts(collector, the_plan, proof, checked)


def test_a_worker_set_up_early_then_told_the_inserts_and_serials_renders_what_a_whole_spec_does(tmp_path: Path) -> None:
    """Workers start before the inserts and serials exist (JobSpec.early) and are told them later: the pieces are the
    bytes of a worker started from the whole spec, barcodes included, and it was warmed up once, not twice."""
    from notices import workers
    from notices.batch import _spec, load
    from notices.job import make_job
    from notices.model import Record
    from notices.piece import render_chunk, render_inserts
    from notices.postal.imb import SerialBlock

    source = ROOT / "samples" / "baltimore-city-final-notices.csv"
    options = Options(source, tmp_path, "baltimore-city", "final-notice", CITY_DATE)
    collector, the_plan, checked = load(options)
    records = [(seq, item) for seq, item in checked if isinstance(item, Record)][:4]
    inserts = tuple(render_inserts(make_job(collector, the_plan, "en", reuse_layouts=True)))
    whole = _spec(options, collector, the_plan, inserts, SerialBlock(first=500, count=100, low=1, last=999_999))
    workers.init_worker(whole.early())
    early_job = workers._LOCAL[0][1]
    workers.init_worker(whole)
    told = workers._LOCAL[0][1]
    assert told.layouts is early_job.layouts and told.renderer is early_job.renderer  # kept, not built again
    assert told.serials == whole.serials and [p.document.id for p, _ in told.inserts] == [d for d, _ in inserts]
    assert told.production.barcode(*records[0]) is not None  # the serials are drawn into these pieces
    fresh = whole.build()
    assert [r.pdf for r in render_chunk(told, records)] == [r.pdf for r in render_chunk(fresh, records)]
    workers._LOCAL.clear()


def test_a_worker_given_its_first_piece_lays_it_out_early_and_writes_it_as_a_worker_without_it(tmp_path: Path) -> None:
    """A worker set up with the piece it is likely to be handed first lays that piece's statement out and keeps it while
    the inserts are made: told them, it writes that piece into the kept layout, with the bytes of a worker never given it."""
    from notices import workers
    from notices.batch import _spec, load
    from notices.job import make_job
    from notices.model import Record
    from notices.piece import render_chunk, render_inserts

    source = ROOT / "samples" / "baltimore-city-final-notices.csv"
    options = Options(source, tmp_path, "baltimore-city", "final-notice", CITY_DATE)
    collector, the_plan, checked = load(options)
    records = [(seq, item) for seq, item in checked if isinstance(item, Record)][:4]
    inserts = tuple(render_inserts(make_job(collector, the_plan, "en", reuse_layouts=True)))
    whole = _spec(options, collector, the_plan, inserts)
    workers.init_worker(whole.early(), records[0])
    workers.init_worker(whole)
    told = workers._LOCAL[0][1]
    assert told.page_counts == {shape(records[0][1]): 1}  # laid out once, before the chunk
    early = render_chunk(told, records)
    fresh = render_chunk(whole.build(), records)
    assert early[0].reused and not fresh[0].reused  # laid out before its chunk came
    assert [r.pdf for r in early] == [r.pdf for r in fresh]
    workers._LOCAL.clear()


def _whose(items: list[str]) -> list[tuple[str, int]]:
    time.sleep(0.02 * len(items))  # long enough that both workers are busy at once
    return [(item, os.getpid()) for item in items]


def test_pool_hands_each_kind_of_chunk_to_one_worker() -> None:
    """Chunks of one kind (a statement shape) go to the worker already on it, so each shape is laid out once, not once per worker.

    Only at the end may an idle worker share the last kind rather than wait; every item still comes back once.
    """
    chunks = [[f"{kind}{n}-{i}" for i in range(3)] for kind in "ABCDEF" for n in range(4)]
    pool = LocalPool(2, _toy_init, (), _whose, _toy_fail, context="fork", item_timeout=60.0, memory_mb=0,
                     affinity=lambda chunk: chunk[0][0])
    done = [pair for chunk in pool.map(chunks) for pair in chunk]
    assert sorted(item for item, _ in done) == sorted(item for chunk in chunks for item in chunk)
    workers_of = {kind: {pid for item, pid in done if item[0] == kind} for kind in "ABCDEF"}
    assert len({pid for _, pid in done}) == 2
    assert sum(len(pids) for pids in workers_of.values()) <= len(workers_of) + 1, workers_of


_SET_UP: list[str] = []


def _set_up_with(tag: str) -> None:
    if tag == "broken":
        raise ConfigError("Template error: cannot set up")
    _SET_UP.append(tag)


def _tagged(items: list[str]) -> list[str]:
    if "crash" in items:
        os._exit(9)
    return [f"{item} {'+'.join(_SET_UP)}" for item in items]


def test_workers_started_early_take_the_later_arguments_before_any_chunk() -> None:
    """A pool started before the run's inserts exist is set up again with them; a worker started after (a crash's
    replacement) starts from them at once, and every item still comes back once."""
    pool = LocalPool(2, _set_up_with, ("early",), _tagged, _toy_fail, context="fork", item_timeout=60.0, memory_mb=0)
    pool.start()
    pool.set_up(("whole",))
    done = sorted(item for chunk in pool.map([["a", "b"], ["crash"], ["c"], ["d"]]) for item in chunk)
    assert done[0] == "a early+whole" and done[1] == "b early+whole"  # the first chunk ran after the set-up
    assert done[2] in ("c early+whole", "c whole") and done[3] in ("d early+whole", "d whole")  # "whole" alone: the replacement
    assert done[4] == "gave up crash: the worker process died (exit code 9) while rendering"


def test_a_set_up_that_fails_in_a_worker_stops_the_run_with_its_error() -> None:
    pool = LocalPool(1, _set_up_with, ("early",), _tagged, _toy_fail, context="fork", item_timeout=60.0, memory_mb=0)
    pool.start()
    pool.set_up(("broken",))
    with pytest.raises(ConfigError, match="cannot set up"):
        list(pool.map([["a"]]))


def _slow_set_up() -> None:
    time.sleep(30)


def test_a_file_that_cannot_be_read_starts_no_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inserts' process starts once the roll is read: a bad file stops the run first, without waiting on the fork server."""
    started: list[object] = []
    monkeypatch.setattr(batch, "Aside", lambda *args: started.append(args))
    monkeypatch.setattr(batch, "LocalPool", lambda *args, **kwargs: started.append(args))
    bad = tmp_path / "roll.csv"
    bad.write_text("foo,bar\n1,2\n", "utf-8")
    with pytest.raises(NoticesError, match="Missing required column"):
        run(options(bad, tmp_path / "out", workers=2))
    assert started == [] and not (tmp_path / "out").exists()


def test_the_inserts_process_starts_once_the_file_is_read_before_its_accounts_are_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inserts are made beside the accounts' validation, and a run stopped there stops their process unasked."""
    order: list[str] = []

    class Recorded:
        def __init__(self, *_: object) -> None:
            order.append("inserts started")

        def close(self) -> None:
            order.append("inserts stopped")

    def checking(*_: object) -> None:
        order.append("accounts checked")
        raise ConfigError("stopped while checking the accounts")

    monkeypatch.setattr(batch, "Aside", Recorded)
    monkeypatch.setattr(batch, "check_input", checking)
    source = tmp_path / "roll.csv"
    write_csv(baltimore_city_accounts(3, seed=5), source)
    with pytest.raises(ConfigError, match="stopped while checking"):
        run(options(source, tmp_path / "out", workers=2))
    assert order == ["inserts started", "accounts checked", "inserts stopped"]


def test_a_run_that_ends_before_its_chunks_stops_its_early_workers_within_seconds() -> None:
    """A refused run (a locked folder) does not wait out workers still setting themselves up: killed after a short grace."""
    pool = LocalPool(2, _slow_set_up, (), _tagged, _toy_fail, context="fork", item_timeout=60.0, memory_mb=0)
    pool.start()
    processes = [worker.process for worker in pool._live]
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < 5 and not pool._live
    assert not any(process.is_alive() for process in processes)


def test_a_worker_takes_its_own_kind_then_one_nobody_is_on_then_any() -> None:
    from notices.executors import _Source

    source = _Source([["a1"], ["a2"], ["b1"], ["a3"], ["c1"]], affinity=lambda chunk: chunk[0][0])
    assert source.take(None, set(), limit=8).items == ["a1"]  # the first worker: in order
    assert source.take(None, {"a"}, limit=8).items == ["b1"]  # the second: past "a", which the first is on
    assert source.take("a", {"b"}, limit=8).items == ["a2"]  # read ahead before: its own kind first
    assert source.take("b", {"a"}, limit=8).items == ["c1"]  # no "b" left: a kind nobody is on, reading past "a3"
    assert source.take("c", {"a"}, limit=8).items == ["a3"]  # only another worker's kind is left: shared, not waited for
    assert source.take("c", set(), limit=8) is None and source.done()


def test_a_worker_reads_ahead_only_so_far_for_a_kind_of_its_own() -> None:
    from notices.executors import _Source

    source = _Source([[f"a{n}"] for n in range(10)] + [["b1"]], affinity=lambda chunk: chunk[0][0])
    assert source.take(None, set(), limit=3).items == ["a0"]
    assert source.take(None, {"a"}, limit=3).items == ["a1"]  # three read ahead, all the other worker's: it shares
    assert len(source.pending) == 2


def test_pool_gives_up_a_slow_item_replaces_its_worker_and_goes_on() -> None:
    """An item past its time bound is given up with that reason; its chunk-mates and the other chunks still finish."""
    pool = _pool(item_timeout=1.0)
    results = sorted(r for chunk in pool.map([["a", "slow", "b"], ["c"], ["d", "e"]]) for r in chunk)
    assert results == ["done a", "done b", "done c", "done d", "done e", "gave up slow: render exceeded the time bound of 1 s"]
    assert pool.replaced == 2  # the chunk's worker, then the worker that had "slow" alone


def test_pool_gives_up_an_item_past_the_memory_bound() -> None:
    """An item whose worker grows past the memory bound is given up with that reason, and the run goes on."""
    from notices.executors import _rss_bytes

    now_mb = (_rss_bytes(os.getpid()) or 0) / 1024 / 1024
    pool = _pool(item_timeout=60.0, memory_mb=now_mb + 300)
    results = sorted(r for chunk in pool.map([["hog"], ["a"]]) for r in chunk)
    assert results[0] == "done a" and results[1].startswith("gave up hog: render exceeded the memory bound")


def test_pool_gives_up_an_item_that_kills_its_worker() -> None:
    """A worker that dies on an item is replaced; only that item is given up."""
    results = sorted(r for chunk in _pool().map([["a", "crash"], ["b"]]) for r in chunk)
    assert results[:2] == ["done a", "done b"] and results[2].startswith("gave up crash: the worker process died")


def test_pool_stops_at_a_fatal_error() -> None:
    """An error that would fail every item (a template error) is raised, not given up item by item."""
    with pytest.raises(ConfigError, match="every piece would fail"):
        list(_pool().map([["a"], ["fatal"], ["b"]]))


def test_a_small_run_of_two_skeletons_gets_a_worker_for_each(tmp_path: Path) -> None:
    """Fewer pieces than one chunk holds, but of two skeletons (one row, six rows): two chunks, laid out on two workers at once."""
    rows = [row(account_id="01-01-0001-001"), row(account_id="01-01-0001-002")]
    rows += [row(account_id="01-01-0001-003", period=f"FY {2020 + i}") for i in range(6)]
    source = tmp_path / "roll.csv"
    source.write_text(csv_text(rows))
    summary = run(options(source, tmp_path / "out", workers=2))
    assert (summary.rendered, summary.workers) == (3, 2)


@pytest.mark.slow
def test_a_pathological_record_is_quarantined_for_time_and_the_run_goes_on(tmp_path: Path) -> None:
    """A 200-line lien list of the longest fields (26 pages, ~8 s) breaks a 1 s bound: quarantined with that reason, the rest rendered."""
    long_source = ("Special assessment for alley footway paving and repair " * 2)[:80]
    rows = [row(account_id=f"01-01-0001-{n:03d}") for n in range(1, 4)]
    rows += [row(account_id="01-01-0001-099", source=long_source, period=f"BILL {i:03d} " + "X" * 30, amount="10.00",
                 interest="1.00", penalty="1.00") for i in range(200)]
    rows += [row(account_id=f"01-01-0001-{n:03d}") for n in range(4, 7)]
    source = tmp_path / "roll.csv"
    source.write_text(csv_text(rows))
    result = runner.invoke(app, ["render", str(source), "-c", "baltimore-city", "-d", "2027-02-01", "-o", str(tmp_path / "out"),
                                 "--workers", "2", "--chunk", "3", "--piece-timeout", "1.0", "--no-progress", "--json"])
    assert result.exit_code == 3, result.output
    summary = json.loads(result.stdout)
    # Its worker is replaced once if it sits alone in its chunk (pieces go out shape by shape), twice if
    # its chunk had neighbours (the chunk is retried one piece at a time first).
    assert (summary["rendered"], summary["quarantined"]) == (6, 1) and summary["workers_replaced"] in (1, 2)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    slow = next(p for p in manifest["pieces"] if p["account_id"] == "01-01-0001-099")
    assert slow["status"] == "quarantined" and "time bound of 1 s" in slow["reason"]


def test_pool_recycles_a_worker_after_its_share_of_items() -> None:
    """A worker is replaced by a fresh process after `recycle_after` items; nothing is lost or done twice."""
    pool = _pool(recycle_after=3)
    results = sorted(r for chunk in pool.map([[f"i{n}"] for n in range(10)]) for r in chunk)
    assert results == sorted(f"done i{n}" for n in range(10))
    assert pool.recycled >= 2 and pool.replaced == 0

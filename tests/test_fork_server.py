"""The fork server: the processes it forks leave what it preloaded alone and start with the barcode encoder and the caches
every one of them would fill alike, and it ends at once when its caller has."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from notices import render
from notices.options import WORKER_PRELOAD

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fork server on Windows")

# Preloaded after notices.serverexit: it notes whether the server ran its exit handlers, and whether it
# tore its objects down (a module global's __del__ runs only in the teardown).
_PROBE = textwrap.dedent("""
    import atexit, os

    def _note(word):
        with open(os.environ["PROBE_NOTES"], "a") as notes:
            notes.write(word + "\\n")

    atexit.register(_note, "exit handlers")

    class _TornDown:
        # What it needs is bound now: the teardown may have emptied the modules it would look in.
        def __del__(self, _open=open, _path=os.environ["PROBE_NOTES"]):
            with _open(_path, "a") as notes:
                notes.write("teardown\\n")

    kept = _TornDown()
""")

_CALLER = textwrap.dedent("""
    import gc, multiprocessing, os, sys
    from notices.executors import start_fork_server

    def frozen():
        with open(os.environ["PROBE_FROZEN"], "w") as note:
            note.write(f"{gc.get_freeze_count()} {os.environ['PROBE_MODULE'] in sys.modules}")

    if __name__ == "__main__":
        start_fork_server(tuple(sys.argv[1:]))
        worker = multiprocessing.get_context("forkserver").Process(target=frozen)
        worker.start()
        worker.join()
        print("done", os.environ["PROBE_MODULE"] in sys.modules, flush=True)
""")

_ENCODER = "reportlab.graphics.barcode.usps4s"


def _server_notes(tmp_path: Path, preload: Sequence[str]) -> tuple[list[str], int, tuple[bool, bool]]:
    """What a fork server with this preload noted at its end, how many objects a process it forked found frozen, and
    whether the barcode encoder was loaded in that process and in the caller; returned once the caller's output is
    closed, which the server holds open until it is gone."""
    (tmp_path / "probe_module.py").write_text(_PROBE)
    caller = tmp_path / "caller.py"
    caller.write_text(_CALLER)
    notes = tmp_path / "notes.txt"
    notes.unlink(missing_ok=True)
    frozen = tmp_path / "frozen.txt"
    env = {**os.environ, "PROBE_NOTES": str(notes), "PROBE_FROZEN": str(frozen), "PROBE_MODULE": _ENCODER,
           "PYTHONPATH": os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, str(caller), *preload], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    said, in_caller = done.stdout.split()
    assert said == "done"
    count, in_child = frozen.read_text().split()
    return (notes.read_text().splitlines() if notes.exists() else []), int(count), (in_child == "True", in_caller == "True")


def test_the_fork_server_runs_its_exit_handlers_and_skips_the_teardown(tmp_path: Path) -> None:
    assert WORKER_PRELOAD[0] == "notices.serverexit"
    notes, _, _ = _server_notes(tmp_path, ("notices.serverexit", "probe_module"))
    assert notes == ["exit handlers"]


def test_without_it_the_fork_server_tears_everything_down_first(tmp_path: Path) -> None:
    # The control: the probe does see a teardown, so the test above can fail.
    notes, _, _ = _server_notes(tmp_path, ("probe_module",))
    assert notes == ["exit handlers", "teardown"]


def test_a_forked_process_finds_what_the_server_preloaded_frozen(tmp_path: Path) -> None:
    assert WORKER_PRELOAD[-1] == "notices.serverfreeze"
    _, frozen, _ = _server_notes(tmp_path, ("probe_module", "notices.serverfreeze"))
    _, control, _ = _server_notes(tmp_path, ("probe_module",))
    assert control == 0
    assert frozen > 10_000  # the interpreter's, the package's and the probe's objects


@pytest.mark.parametrize("module", ["serverexit", "serverfreeze", "serverwarm"])
def test_imported_anywhere_else_they_change_nothing(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import gc, sys, notices.{module} as s; print(s.ACTIVE, gc.get_freeze_count()); sys.exit(3)"],
        capture_output=True, text=True, timeout=60,
    )
    assert (done.returncode, done.stdout.strip()) == (3, "False 0")


def test_a_worker_starts_with_the_barcode_encoder_its_first_barcode_would_import(tmp_path: Path) -> None:
    # Imported once in the server (0.07 to 0.1 s, ReportLab's barcode package imports all its widgets),
    # not again in every worker on its first piece; and the caller, which draws no barcode, never imports it.
    assert _ENCODER in WORKER_PRELOAD
    _, _, loaded = _server_notes(tmp_path, WORKER_PRELOAD)
    _, _, control = _server_notes(tmp_path, [m for m in WORKER_PRELOAD if m != _ENCODER])
    assert (loaded, control) == ((True, False), (False, False))


_WARMED = textwrap.dedent("""
    import multiprocessing, os, sys
    from notices.executors import start_fork_server

    def warmed():
        from weasyprint.text.ffi import ffi
        from notices import pdfwriter, render
        from notices.postal import envelopes
        types = os.environ["PROBE_TYPES"].split(";")  # not from render: the test names them
        found = [all(name in ffi._parsed_types for name in types), envelopes.address_face.cache_info().currsize,
                 pdfwriter.blank_page_words.cache_info().currsize, render._version.cache_info().currsize]
        with open(os.environ["PROBE_WARMED"], "w") as note:
            note.write(" ".join(map(str, found)))

    if __name__ == "__main__":
        start_fork_server(tuple(sys.argv[1:]))
        worker = multiprocessing.get_context("forkserver").Process(target=warmed)
        worker.start()
        worker.join()
""")


def _warmed(tmp_path: Path, preload: Sequence[str]) -> str:
    """What a process forked from a server with this preload finds done: the C types parsed, the face's measures,
    the padding words and the versions cached (how many of each)."""
    caller = tmp_path / "warmed.py"
    caller.write_text(_WARMED)
    note = tmp_path / "warmed.txt"
    done = subprocess.run([sys.executable, str(caller), *preload], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PROBE_WARMED": str(note), "PROBE_TYPES": ";".join(render.C_TYPES)})
    assert done.returncode == 0, done.stderr
    return note.read_text()


def test_a_worker_starts_with_the_c_types_the_face_and_the_versions_its_set_up_would_work_out(tmp_path: Path) -> None:
    # Worked out once in the server (about 0.04 s), not in the inserts' process, which every worker waits for, and in
    # each worker again.
    assert WORKER_PRELOAD.index("notices.serverwarm") == len(WORKER_PRELOAD) - 2  # frozen with the rest
    assert _warmed(tmp_path, WORKER_PRELOAD) == "True 1 1 7"
    assert _warmed(tmp_path, [m for m in WORKER_PRELOAD if m != "notices.serverwarm"]) == "False 0 0 0"


def test_the_padding_words_are_drawn_alike_whatever_measured_the_face_before() -> None:
    # The server reads the envelope's measures and draws the padding words in one process, a worker
    # may do either first: measuring a glyph changes fontTools' copy of it, so each reads a face of its own.
    draw = "from notices.pdfwriter import blank_page_words; print(blank_page_words(612.0, 792.0).hex())"
    alone, after = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
                    for code in (draw, "from notices.postal.envelopes import address_face; address_face().reach; " + draw))
    assert alone and alone == after

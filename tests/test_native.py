"""WeasyPrint's native libraries, found from the system's library cache (notices.native): the same files, no compiler run."""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.exists("/sbin/ldconfig"),
                                reason="the library cache is glibc's ldconfig")

# What a process loaded: the files of WeasyPrint's libraries it mapped, and whether a compiler was asked.
_LOADED = """
import ctypes.util, json, sys
asked = []
for step in ("_findLib_gcc", "_findLib_ld"):
    real = getattr(ctypes.util, step)
    setattr(ctypes.util, step, lambda name, real=real, step=step: asked.append(step) or real(name))
{before}
import {module}
import weasyprint, weasyprint.text.ffi as ffi
whole = all(hasattr(weasyprint, a) for a in ("HTML", "CSS", "urls", "css", "text"))
maps = open("/proc/self/maps").read().split()
names = ("libgobject", "libpango-", "libpangoft2", "libharfbuzz", "libfontconfig")
files = sorted({{w for w in maps if w.startswith("/") and any(n in w for n in names)}})
print(json.dumps({{"files": files, "asked": asked, "subset": ffi.harfbuzz_subset is not None, "whole": whole}}))
"""


def _loaded(module: str, before: str = "") -> dict[str, object]:
    code = _LOADED.format(module=module, before=before)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def usual() -> dict[str, object]:
    """What a plain ``import weasyprint`` loads, WeasyPrint's own way."""
    return _loaded("weasyprint")


def test_a_name_the_cache_holds_is_found_as_ctypes_finds_it_first() -> None:
    from notices import native

    for name in ("c", "m", "gobject-2.0", "pango-1.0", "fontconfig", "harfbuzz", "no-such-library-anywhere", "libpango-1.0-0"):
        assert native.from_cache(name) == ctypes.util._findSoname_ldconfig(name), name  # type: ignore[attr-defined]


def test_weasyprint_loads_the_same_library_files_without_running_a_compiler(usual: dict[str, object]) -> None:
    cached = _loaded("notices.native")
    assert cached["files"] == usual["files"] and cached["files"] and cached["whole"]
    assert cached["subset"] == usual["subset"]
    assert usual["asked"], "the usual way asks the compiler (else this test shows nothing)"
    assert cached["asked"] == []


def test_with_an_empty_cache_each_library_still_loads_by_its_soname(usual: dict[str, object]) -> None:
    no_cache = ("import subprocess\n"
                "real = subprocess.run\n"
                "subprocess.run = lambda args, **kw: (subprocess.CompletedProcess(args, 0, b'', b'')\n"
                "                                     if args[:1] == ['/sbin/ldconfig'] else real(args, **kw))\n")
    empty = _loaded("notices.native", before=no_cache)
    assert empty["files"] == usual["files"] and empty["asked"] == []


def test_a_library_the_cache_cannot_give_is_loaded_the_usual_way_and_weasyprint_is_whole(usual: dict[str, object]) -> None:
    # As if a library were found only on the compiler's search path: opening fails while the cache answers.
    before = (
        "import cffi, ctypes.util\n"
        "real_dlopen = cffi.FFI.dlopen\n"
        "def dlopen(self, name, flags=0):\n"
        "    if ctypes.util.find_library.__name__ == 'from_cache' and 'pango-1.0' in str(name):\n"
        "        raise OSError('not here')\n"
        "    return real_dlopen(self, name, flags)\n"
        "cffi.FFI.dlopen = dlopen\n"
    )
    fallen_back = _loaded("notices.native", before=before)
    assert fallen_back["files"] == usual["files"] and fallen_back["whole"]
    assert fallen_back["asked"], "loaded the usual way: the compiler was asked"

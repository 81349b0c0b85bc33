"""Turn the system's library cache into WeasyPrint's native libraries, loaded without running a compiler.

WeasyPrint tries several names for each library (Pango, HarfBuzz, fontconfig...), and cffi asks
``ctypes.util.find_library`` for each name it cannot open directly. On Linux that runs
``ldconfig -p``, and for a name the cache does not hold, ``gcc`` and ``ld`` too: two of the three
names WeasyPrint tries first for each library are such names, and the compiler runs cost about
0.14 s of every process that loads WeasyPrint (the fork server's, on the way to a run's first piece).

Importing this module loads WeasyPrint with ``find_library`` answering from one reading of the
cache, as its first step does: the same file for every name the cache holds. A name it does not
hold is tried no further, and WeasyPrint goes on to its next name, the library's soname, which
loads directly. Should a library then be missing (one only the compiler's search path finds),
WeasyPrint is loaded again the usual way, compiler runs and all, and its own error stands.
Elsewhere than Linux with glibc's ldconfig, WeasyPrint is loaded the usual way.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import functools
import io
import os
import re
import struct
import subprocess
import sys

LDCONFIG = "/sbin/ldconfig"
# The ABI tag ldconfig prints for this machine's libraries, as ctypes.util reads it.
_ABI = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
        "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}


@functools.cache
def _cache() -> bytes:
    """``ldconfig -p``: every library the dynamic linker's cache holds, read once (none, should it hang: the sonames still load)."""
    try:
        done = subprocess.run([LDCONFIG, "-p"], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, env={"LC_ALL": "C", "LANG": "C"}, check=False, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return b""
    return done.stdout


def from_cache(name: str) -> str | None:
    """The library file ``find_library(name)`` gives from the cache (its first step), or None when the cache has none."""
    machine = os.uname().machine + ("-32" if struct.calcsize("l") == 4 else "-64")
    pattern = os.fsencode(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({_ABI.get(machine, 'libc6')}")
    found = re.search(pattern, _cache())
    return os.fsdecode(found.group(1)) if found else None


def load() -> None:
    """Load WeasyPrint's libraries from the cache when this system has one; else (or should that fail) as WeasyPrint does."""
    if "weasyprint.text.ffi" in sys.modules or not sys.platform.startswith("linux") or not os.path.exists(LDCONFIG):
        import weasyprint.text.ffi  # noqa: PLC0415 - loaded here, whatever the way
        return
    usual, before = ctypes.util.find_library, set(sys.modules)
    ctypes.util.find_library = from_cache
    try:
        # WeasyPrint prints a message before it gives up on a library: not for this attempt.
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint.text.ffi  # noqa: PLC0415
    except OSError:
        # What of WeasyPrint did load is loaded again with it, so the package is whole.
        for name in [m for m in sys.modules if m not in before and (m == "weasyprint" or m.startswith("weasyprint."))]:
            del sys.modules[name]
    finally:
        ctypes.util.find_library = usual
    import weasyprint.text.ffi  # noqa: F401, PLC0415 - the usual way, when the cache's way failed


load()

"""Turn what every process forked for a run would first work out for itself, the same in each, into caches the fork server fills once.

The inserts' process and each worker start as copies of the fork server. Each used to begin by
parsing the same C types for cffi (WeasyPrint names them as strings, and cffi parses each with
pycparser on first use, 2 to 3 ms apiece), reading the bundled face for the envelope window's
measures and the padding page's words (fontTools), and asking the installed libraries' versions:
about 0.04 s of the inserts' process, on the way to every worker's first piece, and 0.04 s of
each worker's start. None of it depends on the run; done here, before the server forks, it is
done once. Imported anywhere else, it does nothing.
"""

from __future__ import annotations

import contextlib

from .pdfwriter import blank_page_words
from .postal.envelopes import address_face
from .render import parse_c_types, toolchain
from .serverexit import in_fork_server

LETTER = (612.0, 792.0)  # the page the padding page's words are centred on, in points


def warm() -> None:
    """Fill the caches: the C types, the bundled face's measures and a letter page's padding words, the versions."""
    parse_c_types()
    address_face()
    blank_page_words(*LETTER)
    toolchain()


ACTIVE = in_fork_server()
if ACTIVE:
    # An error here would end the server every worker forks from: the first uses fill the caches instead.
    with contextlib.suppress(Exception):
        warm()

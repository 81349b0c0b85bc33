"""Turn what the fork server has preloaded into frozen objects, which the processes it forks leave alone.

A worker, or the inserts' process, starts as a copy of the server. Python's cycle collector walks
every object it tracks: in a fresh child, everything the server preloaded (WeasyPrint, the package,
their modules), once in each full collection and in the worker's own collection after its warm-up
(``workers.init_worker``), touching, and so copying, the pages they sit on. Frozen in the server
first, they are never walked: in a child forked from a preloaded process, its collection took
0.003-0.005 s instead of 0.039-0.042, and making its renderer 0.046-0.061 s instead of 0.081-0.100
(three children each way); a 16-piece run took 0.96 of the wall time (1.31 s against 1.36 s, medians of
fifteen pairs), a 1,000-piece run too little less to tell from the machine's noise. They were never to be
collected anyway: they live as long as the server.

Imported by the fork server's preload (``options.WORKER_PRELOAD``), last, so that everything preloaded
is frozen. Imported anywhere else, it does nothing.
"""

from __future__ import annotations

import gc

from . import trace
from .serverexit import in_fork_server

ACTIVE = in_fork_server()
if ACTIVE:
    # Not collected first: what the imports left as garbage is little, and a collection here would be
    # paid on the way to the first piece, by the server every process waits for.
    gc.freeze()
    trace.mark("fork server ready")  # the last module it preloads: it forks from now on

"""Turn chunks of work items into results on local worker processes, with time and memory bounds.

``Aside`` makes one call in a process of its own while the caller goes on (a run's inserts).

This pool and the Dask executor (``notices.cluster``) take an iterable of chunks (lists of items) and yield one list of results per chunk,
in the order chunks finish; every item of every chunk comes back exactly once. The work function
must be a pure function of its items (plus what the initializer set up), so where it runs, and how
often it is tried, does not change the bytes it returns.

The local pool is built on plain ``multiprocessing`` rather than ``ProcessPoolExecutor`` because it
must be able to kill one worker (a piece that runs past its time or memory bound) and replace it
without losing the rest of the run. A chunk whose worker is killed or dies is retried one item at a
time, so only the item that caused it is given up, with the reason.

Nothing here needs a POSIX-only module to import: ``resource`` is asked for where it is used, and
where a platform cannot report a figure the functions below say what they return instead.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from .errors import RenderError

Fail = Callable[[Any, str], Any]
"""Build the result for an item that was given up, from the item and the reason."""

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_POLL = 0.25  # seconds between checks of the workers' deadlines and memory
_STOP_GRACE = 2.0  # seconds a process told to stop may take to end by itself (a chunk it is on) before it is killed
DEPTH = 2  # chunks queued at each worker: one running, one waiting
LOOKAHEAD = 16  # chunks read ahead per worker to find one of a kind no other worker is on
Usage = tuple[int, float]  # (peak RSS KiB, CPU seconds) as a worker reports them with every message


def peak_rss_kb() -> int:
    """This process's peak resident set size in KiB, or 0 where the platform does not report it.

    On Linux it is the kernel's high-water mark of this program's own memory (``VmHWM``):
    ``getrusage`` there keeps the peak of the process it was started from across ``exec``, so a run
    launched by a large parent (a pipeline, a test runner) would report the parent's size. Elsewhere
    it comes from ``getrusage``, which macOS reports in bytes. Windows has no ``resource`` module,
    and reading the peak there would take a dependency (psutil) this tool does not have: there 0
    means "not measured", not "no memory".
    """
    own = _own_peak_kb()
    if own is not None:
        return own
    try:
        import resource  # noqa: PLC0415 - POSIX only: the package must import on Windows too
    except ImportError:
        return 0
    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak // 1024 if sys.platform == "darwin" else peak


def _own_peak_kb() -> int | None:
    """Linux's ``VmHWM`` for this process in KiB; None where there is no /proc to read it from."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds() -> float:
    """CPU time (user + system, all threads) this process has used, on every platform.

    ``time.process_time`` is the same sum ``getrusage`` gives, without needing ``resource``.
    """
    return time.process_time()


def _usage() -> Usage:
    return peak_rss_kb(), cpu_seconds()


def _rss_bytes(pid: int) -> int | None:
    """The current resident set size of a process, or None where /proc is not available (or the process is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def start_fork_server(preload: Sequence[str]) -> None:
    """Start the fork server now, preloading these modules, so its start-up runs beside the caller's own work.

    Workers fork from this small clean server (not from the main process, which holds the run's
    state), so their memory does not grow with the mailing; preloading WeasyPrint there makes
    starting or replacing a worker cheap. Starting it is not waiting for it: the server imports
    the modules while the caller goes on, and a worker asked for meanwhile waits only for the rest.

    Python 3.11's fork server is started with ``-c`` and ignores the parent's sys.path, so the working
    folder comes first there: run from a source checkout beside an installed copy (the README's quick
    start), it would preload the checkout's package, whose data folders are not the installed one's.
    PYTHONSAFEPATH (Python 3.11+) keeps the working folder out of that one process's path.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))
    previous = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if previous is None:
            del os.environ["PYTHONSAFEPATH"]
        else:
            os.environ["PYTHONSAFEPATH"] = previous


def _aside_main(conn: Connection, function: Callable[..., Any], args: Sequence[Any]) -> None:
    """An ``Aside`` process: call once, send (True, result, usage) or (False, None, usage), and end."""
    _leave_the_terminal_to_the_caller()
    try:
        answer: tuple[bool, Any] = (True, function(*args))
    except BaseException:  # noqa: BLE001 - the caller does the call itself and meets the error there, whole
        answer = (False, None)
    try:
        conn.send((*answer, _usage()))
    except OSError:
        pass  # the caller has gone
    except Exception:  # noqa: BLE001 - a value that cannot be sent is a failure like any other
        with contextlib.suppress(OSError):
            conn.send((False, None, _usage()))
    conn.close()


class Aside:
    """One call made in a process forked from the fork server while this process goes on with its own work.

    ``result()`` waits for it and gives its value, or None when the call raised or its process died:
    the caller then makes the call itself and meets the error there, with every detail, so only a
    success ever crosses over. The call must be a pure function of its arguments (its value is the
    same wherever it is made). Without a fork server (Windows, macOS' spawn) nothing is started and
    ``result()`` is None at once: a spawned process would import everything again, which is slower
    than the call.
    """

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.cpu_seconds = 0.0
        self.peak_kb = 0
        self._conn: Connection | None = None
        self._process: Any = None
        self._starting: threading.Thread | None = None
        if "forkserver" not in multiprocessing.get_all_start_methods():
            return
        ctx: Any = multiprocessing.get_context("forkserver")
        self._conn, sender = ctx.Pipe(duplex=False)
        # Daemonic: should this process stop before asking for the result, the call is not waited for.
        self._process = ctx.Process(target=_aside_main, args=(sender, function, args), daemon=True)
        # Starting it waits for the fork server, which may still be loading its modules (a tenth of a
        # second, early in a run): a thread of this process waits, while the caller goes on.
        self._starting = threading.Thread(target=self._start, args=(sender,), name="aside-start", daemon=True)
        self._starting.start()

    def _start(self, sender: Connection) -> None:
        # Not started (an exception): result() finds the pipe closed and gives None.
        with contextlib.suppress(Exception):
            self._process.start()
        sender.close()

    def result(self) -> Any:
        """The call's value, or None (it raised, or its process died, or none was started); asked once."""
        if self._conn is None:
            return None
        try:
            ok, value, (self.peak_kb, self.cpu_seconds) = self._conn.recv()
        except (EOFError, OSError):
            ok, value = False, None
        finally:
            self._end(wait=5.0)  # it has answered (or died): it ends at once
        return value if ok else None

    def close(self) -> None:
        """Stop the process if it still runs: the caller will not ask for its result (a run stopped early).

        Its pipe is closed first: a call still running ends when it tries to send its result, as a
        process should (its scratch folders removed); one still running after ``_STOP_GRACE`` seconds is killed.
        """
        self._end(wait=_STOP_GRACE)

    def _end(self, wait: float) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None and self._process.pid is not None:  # None: it never started
            if wait:
                self._process.join(timeout=wait)
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process = None


def _worker_main(conn: Connection, initializer: Callable[..., None], initargs: Sequence[Any], function: Callable[[Any], Any]) -> None:
    """A worker's life: set up, then run one chunk per message until told to stop or the main process is gone.

    A message with no key carries new initializer arguments (``LocalPool.set_up``): the initializer
    runs again with them before the chunks sent after it.
    """
    _leave_the_terminal_to_the_caller()
    if not _set_up(conn, initializer, initargs) or not _send(conn, ("ready", None, None, _usage())):
        return
    # Chunks are read as they arrive, by a thread of their own: the main process may queue the next
    # chunk while this one's results are being sent, and neither side must wait on the other's pipe.
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def read() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                message = None
            inbox.put(message)
            if message is None:
                return

    threading.Thread(target=read, name="chunks-in", daemon=True).start()
    while True:
        message = inbox.get()
        if message is None:
            return
        key, items = message
        if key is None:
            if not _set_up(conn, initializer, items):
                return
            continue
        try:
            answer: tuple[str, Any, Any, Usage] = ("done", key, function(items), _usage())
        except BaseException as exc:  # noqa: BLE001 - a fatal error travels to the parent, which stops the run
            answer = ("error", key, exc, _usage())
        if not _send(conn, answer):
            return


def _leave_the_terminal_to_the_caller() -> None:
    """Ignore SIGINT and SIGHUP: Ctrl-C at a terminal, and the terminal closing, reach every process of the command,
    and the main process alone decides what they mean (it stops this one, which then ends as a process should, its
    scratch folders removed)."""
    for name in ("SIGINT", "SIGHUP"):
        with contextlib.suppress(ValueError, OSError, AttributeError):  # not the main thread, or no such signal here
            signal.signal(getattr(signal, name), signal.SIG_IGN)


def _set_up(conn: Connection, initializer: Callable[..., None], initargs: Sequence[Any]) -> bool:
    """Run the initializer; on failure tell the main process (which decides what it means) and say False."""
    try:
        initializer(*initargs)
    except BaseException as exc:  # noqa: BLE001 - the parent decides what an init failure means
        _send(conn, ("init-error", None, exc, _usage()))
        return False
    return True


def _send(conn: Connection, message: tuple[str, Any, Any, Usage]) -> bool:
    """Send a message to the main process; False when it is gone, so the worker's loop just ends.

    A main process that was killed leaves nobody to answer and nothing to clean up; the worker
    returns from its loop (and so exits), instead of raising out of library code.
    """
    try:
        conn.send(message)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False
    except Exception as exc:  # noqa: BLE001 - an exception or result that does not pickle: say so rather than hang
        kind, key, _, usage = message
        # The message is pickled whole before a byte is written, so the pipe is still clean for this one.
        unsent = ("error", key, RuntimeError(f"worker could not send its {kind} message: {exc}"), usage)
    try:
        conn.send(unsent)
    except OSError:
        return False
    return True


@dataclass
class _Task:
    key: int
    items: list[Any]
    deadline: float | None = None
    kind: Hashable = None  # the pool's ``affinity`` of its items: chunks of one kind go to one worker


class _Source:
    """The chunks still to hand out: those read ahead (or given back) first, then the rest, read only when needed."""

    def __init__(self, chunks: Iterable[list[Any]], affinity: Callable[[list[Any]], Hashable] | None) -> None:
        self.chunks = iter(chunks)
        self.affinity = affinity
        self.pending: deque[_Task] = deque()
        self.counter = 0
        self.exhausted = False

    def _read(self) -> _Task | None:
        if self.exhausted:
            return None
        try:
            items = list(next(self.chunks))
        except StopIteration:
            self.exhausted = True
            return None
        task = _Task(self.counter, items, kind=self.affinity(items) if self.affinity else None)
        self.counter += 1
        return task

    def take(self, kind: Hashable, taken: set[Hashable], limit: int) -> _Task | None:
        """A chunk of ``kind`` (what the worker is on), else of a kind no other worker is on (``taken``), else any.

        Reads ahead at most ``limit`` chunks to find one: a worker lays out each kind once, and a
        kind with more chunks than that is shared rather than waited for. Without affinity, in order.
        """
        if self.affinity is None:
            return self.pending.popleft() if self.pending else self._read()
        for task in self.pending:
            if task.kind == kind and kind is not None:
                self.pending.remove(task)
                return task
        for task in self.pending:
            if task.kind not in taken:
                self.pending.remove(task)
                return task
        while len(self.pending) < limit:
            ahead = self._read()
            if ahead is None:
                break
            if ahead.kind == kind or ahead.kind not in taken:
                return ahead
            self.pending.append(ahead)
        return self.pending.popleft() if self.pending else None

    def give_back(self, tasks: Iterable[_Task]) -> None:
        """Chunks to hand out again before any other (retries, or those queued behind a killed worker)."""
        self.pending.extendleft(reversed(list(tasks)))

    def done(self) -> bool:
        return self.exhausted and not self.pending


@dataclass
class _Worker:
    process: Any
    conn: Connection
    ready: bool = False
    tasks: deque[_Task] = field(default_factory=deque)  # sent, not yet answered; the first is running
    peak_kb: int = 0
    cpu: float = 0.0
    started: float = field(default_factory=time.monotonic)
    done: int = 0  # items answered
    draining: bool = False  # gets no new chunks; replaced once its last one is answered
    kind: Hashable = None  # the affinity of the last chunk it was given


class LocalPool:
    """Worker processes on this machine, each item bounded in time and memory; a killed worker is replaced.

    ``item_timeout`` (seconds per item) and ``memory_mb`` (a worker's resident memory; 0: no bound)
    have no defaults here: the caller's options hold them, so they are set in one place. The memory
    bound needs each worker's current memory, read from /proc: where there is none (Windows, macOS)
    it cannot be enforced, and ``memory_enforced`` is False with ``memory_note`` saying so, for the
    caller to report; the time bound holds everywhere.
    """

    def __init__(
        self,
        workers: int,
        initializer: Callable[..., None],
        initargs: Sequence[Any],
        function: Callable[[list[Any]], list[Any]],
        fail: Fail,
        *,
        item_timeout: float,
        memory_mb: float,
        start_timeout: float = 180.0,
        context: str = "forkserver",
        preload: Sequence[str] = (),
        recycle_after: int = 0,
        affinity: Callable[[list[Any]], Hashable] | None = None,
        first_args: Sequence[Sequence[Any]] = (),
    ) -> None:
        self.workers = max(1, workers)
        self.initializer = initializer
        self.initargs = tuple(initargs)
        self.function = function
        self.fail = fail
        self.item_timeout = item_timeout
        self.memory_bytes = memory_mb * 1024 * 1024 if memory_mb else None
        # Measured on this process: a platform that can read its own memory can read its workers'.
        self.memory_enforced = self.memory_bytes is not None and _rss_bytes(os.getpid()) is not None
        self.memory_note = ""
        if self.memory_bytes is not None and not self.memory_enforced:
            self.memory_note = (f"the memory bound of {memory_mb:g} MB is not enforced: this platform does not "
                                "report a worker's memory (no /proc); the time bound still is")
        self.start_timeout = start_timeout
        if context not in multiprocessing.get_all_start_methods():
            context = "spawn"
        self.ctx: Any = multiprocessing.get_context(context)  # Any: typeshed's BaseContext lacks the Process it has
        if context == "forkserver" and preload:
            start_fork_server(preload)  # a no-op when the caller started it earlier
        self.peaks_kb: list[int] = []  # the peak RSS of every worker that has finished, in KiB
        self.cpu_seconds = 0.0  # CPU time of every worker that has finished (as last reported)
        self.replaced = 0
        # A worker is retired after this many items (0: never) and a fresh one takes over: whatever a
        # long run leaves behind in a process (allocator fragments, library caches) cannot pile up.
        self.recycle_after = recycle_after
        self.recycled = 0
        self._live: list[_Worker] = []
        # Chunks of one kind (``affinity(chunk)``) go to the worker already on that kind, where the
        # work keeps something per kind (a statement shape's layout): each kind is set up once, not once per worker.
        self.affinity = affinity
        # More initializer arguments for the first workers started, one set each (what each is likely to be handed first).
        self.first_args = deque(tuple(args) for args in first_args)

    # -- workers ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers now, so their start-up runs beside the caller's (``map`` starts any not started)."""
        while len(self._live) < self.workers:
            self._start()

    def set_up(self, initargs: Sequence[Any]) -> None:
        """Set every worker up with new initializer arguments: those running run it again before their next chunk.

        For what is only known once the workers have started: the initializer sees the new arguments
        and may keep what it built from the old ones.
        """
        self.initargs = tuple(initargs)
        for worker in self._live:
            # A worker that is gone already is found so, and replaced with these arguments, when sent its first chunk.
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send((None, self.initargs))

    def _start(self) -> _Worker:
        parent, child = self.ctx.Pipe(duplex=True)
        initargs = self.initargs + (self.first_args.popleft() if self.first_args else ())
        process = self.ctx.Process(target=_worker_main, args=(child, self.initializer, initargs, self.function), daemon=True)
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self._live.append(worker)
        return worker

    def _retire(self, worker: _Worker, kill: bool) -> None:
        if kill and worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=10)
        worker.conn.close()
        if worker.ready:  # one that never started reports nothing worth counting
            self.peaks_kb.append(worker.peak_kb)
        self.cpu_seconds += worker.cpu
        self._live.remove(worker)

    def _recycle(self, worker: _Worker, replace: bool = True) -> None:
        """Stop an idle worker politely and (while work remains) start a fresh one in its place."""
        with contextlib.suppress(OSError, ValueError):  # it may be gone already
            worker.conn.send(None)
        worker.process.join(timeout=5)
        self._retire(worker, kill=True)  # by force only if it has not stopped by now
        self.recycled += 1
        if replace:
            self._start()

    def close(self) -> None:
        """Stop every worker: at the end of ``map`` (every chunk answered, or the run stopped: an error, Ctrl-C).

        Each is told to stop and its pipe closed: one between chunks ends at once, one on a chunk when
        it sends results nobody reads any more. Either way it ends as a process should, its exit
        handlers removing its scratch folders (``render.fonts_folder``); one still running after
        ``_STOP_GRACE`` seconds is killed (the next process to lay out pages sweeps its folders).

        Also for a run that ends before or without its chunks (an error, nothing left to render).
        """
        for worker in self._live:
            with contextlib.suppress(OSError, ValueError):  # it may be gone already
                worker.conn.send(None)
            worker.conn.close()
        deadline = time.monotonic() + _STOP_GRACE
        for worker in list(self._live):
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            self._retire(worker, kill=True)

    # -- the run ---------------------------------------------------------------------------------
    def map(self, chunks: Iterable[list[Any]]) -> Iterator[list[Any]]:
        """Yield the results of each chunk as it finishes; give up single items that break their bound."""
        source = _Source(chunks, self.affinity)
        try:
            self.start()
            while True:
                # Keep DEPTH chunks queued at each worker, so it never waits for this process between
                # chunks; read ahead only that far (and LOOKAHEAD for affinity), so memory stays flat.
                dead = []
                for worker in self._live:
                    while len(worker.tasks) < DEPTH and not worker.draining:
                        taken = {w.kind for w in self._live if w is not worker and w.tasks}
                        task = source.take(worker.kind, taken, LOOKAHEAD * self.workers)
                        if task is None:
                            break
                        try:
                            worker.conn.send((task.key, task.items))
                        except OSError:
                            # It died on the chunk it holds, before we read that: the chunk goes back, and
                            # the death is handled as if read (the item that killed it is given up).
                            source.give_back([task])
                            dead.append(worker)
                            break
                        worker.tasks.append(task)
                        worker.kind = task.kind
                        self._arm(worker)
                for worker in dead:
                    if not worker.tasks:
                        self._retire(worker, kill=True)
                        self._start()
                    elif worker in self._live:
                        yield from self._receive(worker, source)
                busy = [w for w in self._live if w.tasks]
                if not busy:
                    if source.done():
                        return
                    continue
                for conn in wait([w.conn for w in busy], timeout=_POLL):
                    worker = next(w for w in busy if w.conn is conn)
                    if worker in self._live:
                        yield from self._receive(worker, source)
                for worker in [w for w in self._live if w.draining and not w.tasks]:
                    self._recycle(worker, replace=not source.done())
                now = time.monotonic()
                for worker in [w for w in self._live if w.tasks]:
                    head = worker.tasks[0]
                    if not worker.ready and now - worker.started > self.start_timeout:
                        raise RenderError(f"a worker process did not start within {self.start_timeout:.0f} s")
                    if head.deadline is not None and now > head.deadline:
                        yield from self._give_up(worker, source, f"render exceeded the time bound of {self.item_timeout:g} s")
                    # A worker that has just died has no /proc entry (None, so 0): its death is read from its pipe.
                    elif self.memory_enforced and self.memory_bytes and (_rss_bytes(worker.process.pid) or 0) > self.memory_bytes:
                        limit = self.memory_bytes / 1024 / 1024
                        yield from self._give_up(worker, source, f"render exceeded the memory bound of {limit:.0f} MB")
        finally:
            self.close()

    def _arm(self, worker: _Worker) -> None:
        """Start the clock of the chunk the worker is on, once it is ready (start-up is not the piece's time)."""
        if worker.ready and worker.tasks and worker.tasks[0].deadline is None:
            worker.tasks[0].deadline = time.monotonic() + self.item_timeout * len(worker.tasks[0].items)

    def _receive(self, worker: _Worker, source: _Source) -> Iterator[list[Any]]:
        try:
            kind, _key, payload, (rss, cpu) = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            if not worker.ready:
                # Not a piece's fault: replacing it would fail the same way, for ever.
                raise RenderError(f"a worker process failed to start (exit code {code})") from None
            yield from self._give_up(worker, source, f"the worker process died (exit code {code}) while rendering")
            return
        worker.peak_kb = max(worker.peak_kb, rss)
        worker.cpu = cpu
        if kind == "init-error":
            raise payload
        if kind == "ready":
            worker.ready = True
            self._arm(worker)
            return
        if kind == "error":
            raise payload
        task = worker.tasks.popleft()
        worker.done += len(task.items)
        if self.recycle_after and worker.done >= self.recycle_after:
            worker.draining = True
        self._arm(worker)
        yield payload

    def _give_up(self, worker: _Worker, source: _Source, reason: str) -> Iterator[list[Any]]:
        """Kill the worker, start another, and retry its chunk one item at a time; a single item is given up."""
        head, *queued = worker.tasks
        worker.tasks.clear()
        self._retire(worker, kill=True)
        self.replaced += 1
        self._start()
        waiting = [_Task(task.key, task.items, kind=task.kind) for task in queued]  # untouched, their clocks unset
        if len(head.items) > 1:
            # Its chunk one item at a time, then the chunks that were waiting behind it, at the front.
            source.give_back([*(_Task(head.key, [item], kind=head.kind) for item in head.items), *waiting])
            return
        source.give_back(waiting)
        yield [self.fail(head.items[0], reason)]

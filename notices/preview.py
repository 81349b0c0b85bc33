"""Turn a workspace and the shipped templates into a local web page that shows a mailing as it will print, live.

The page (``preview.html``) asks this app for views (``notices.views``): the pages as PNG, the
statute check's report, the placeholders. Rendering runs in one child process with a time bound,
so a template that never finishes is stopped and the server lives on. The workspace and the
shipped templates are watched (watchfiles); each change is told to the page over Server-Sent
Events, and the page asks again. The server answers on 127.0.0.1 only, to requests naming that
host (a web page elsewhere cannot reach it through a rebound DNS name), with small bounded requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import multiprocessing
import socket
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from watchfiles import awatch

from .collectors import available
from .proof import build as build_proof
from .resources import templates_dir
from .views import LANGUAGES, MAILINGS, SCALE, THUMB, Ask, Sample, View, differences, error_dict, make_view, samples, website_zip

HOST = "127.0.0.1"  # never 0.0.0.0: the preview reads the workspace and runs its templates
HOSTS = ("127.0.0.1", "localhost")
BODY_LIMIT = 8 * 1024  # every endpoint is a GET: a body is never needed
QUERY_LIMIT = 2048  # 24 collector ids and two dates fit easily
RENDER_TIMEOUT = 60.0  # seconds for one view (a piece takes about one)
PROOF_TIMEOUT = 300.0  # a proof pack renders a dozen variants
MAX_COLUMNS = 24  # side by side: every collector the law binds
KEPT_VIEWS = 64  # views kept for their images and PDF

T = TypeVar("T")


class RenderTimeout(Exception):
    """A render ran past its bound and its process was stopped."""


class Worker:
    """Runs renders one at a time in a child process; a render past its bound stops the process, and the next starts a new one.

    ``in_process`` renders in the server's own process, without a bound (for tests of the endpoints).
    """

    def __init__(self, in_process: bool = False) -> None:
        self.in_process = in_process
        self._pool: Any = None
        self._lock: asyncio.Lock | None = None

    async def call(self, fn: Callable[..., T], *args: Any, timeout: float = RENDER_TIMEOUT) -> T:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.in_process:
                return fn(*args)
            if self._pool is None:
                # spawn: a fork of a server with threads may inherit a held lock; recycled now and then, as a
                # long session's WeasyPrint process creeps.
                self._pool = multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=200)
            pending = self._pool.apply_async(fn, args)
            try:
                result: T = await anyio.to_thread.run_sync(pending.get, timeout)
            except multiprocessing.TimeoutError:
                self.close()
                raise RenderTimeout(f"the render took longer than {timeout:.0f} s and was stopped") from None
            return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


class Bounds:
    """Refuses a request body over BODY_LIMIT and a query string over QUERY_LIMIT before any route sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            length = headers.get(b"content-length", b"0")
            too_long = not length.isdigit() or int(length) > BODY_LIMIT or b"chunked" in headers.get(b"transfer-encoding", b"")
            if too_long:
                await JSONResponse({"error": "request body too large"}, status_code=413)(scope, receive, send)
                return
            if len(scope.get("query_string", b"")) > QUERY_LIMIT:
                await JSONResponse({"error": "query too long"}, status_code=414)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BadAsk(Exception):
    """A request naming a collector, mailing, date, language or sample the preview does not offer."""


class Preview:
    """The preview's state: the workspace, the watcher's generation, the views made so far."""

    def __init__(self, home: Path | None = None, collector: str | None = None, worker: Worker | None = None,
                 watch: bool = True, samples_folder: Path | None = None) -> None:
        self.home = home
        self.collector = collector
        self.worker = worker or Worker()
        self.watch = watch
        self.samples_folder = samples_folder
        self.samples: list[Sample] = samples(samples_folder)
        self.generation = 0
        self.changed: list[str] = []
        self.views: OrderedDict[str, View] = OrderedDict()
        self.condition: asyncio.Condition | None = None
        self.stop = asyncio.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    # What the page may ask for.

    def collectors(self) -> list[str]:
        return available(home=self.home)

    def ask(self, params: Any, collector: str | None = None, day: str | None = None) -> Ask:
        collector = collector or params.get("collector") or self.collector or "baltimore-city"
        if collector not in self.collectors():
            raise BadAsk(f"unknown collector {collector!r}")
        mailing = params.get("mailing", "final-notice")
        if mailing not in MAILINGS:
            raise BadAsk(f"unknown mailing {mailing!r}: one of {', '.join(MAILINGS)}")
        language = params.get("language", "en")
        if language not in LANGUAGES:
            raise BadAsk(f"unknown language {language!r}")
        try:
            when = dt.date.fromisoformat(day or params.get("date", ""))
        except ValueError:
            raise BadAsk("the date is YYYY-MM-DD") from None
        large_print = params.get("large_print", "0")
        if large_print not in ("0", "1"):
            raise BadAsk("large_print is 0 or 1")
        sample, account = params.get("sample", ""), params.get("account", "")
        if mailing == "bill-inserts":
            sample = account = ""
        elif not any(s.file == sample and (not account or s.account == account) for s in self.samples):
            raise BadAsk(f"unknown sample {sample!r} / account {account!r}")
        return Ask(collector, mailing, when, language, sample, account, self.home, large_print == "1")

    # Views, kept by a key that changes with every change to the watched files.

    async def view(self, ask: Ask, scale: float = SCALE) -> tuple[str, View]:
        key = hashlib.sha256(repr((ask, scale, self.generation)).encode()).hexdigest()[:24]
        if key not in self.views:
            try:
                made = await self.worker.call(make_view, ask, scale, self.samples_folder)
            except Exception as exc:  # noqa: BLE001 - whatever a render raised is shown on the page; the server goes on
                made = View(ask, error=error_dict(exc))
            self.views[key] = made
            while len(self.views) > KEPT_VIEWS:
                self.views.popitem(last=False)
        self.views.move_to_end(key)
        return key, self.views[key]

    def described(self, key: str, view: View) -> dict[str, Any]:
        return {**view.summary(), "id": key, "generation": self.generation,
                "images": [f"/api/view/{key}/page/{n}.png?g={self.generation}" for n in range(1, len(view.pages) + 1)],
                "pdf": f"/api/view/{key}.pdf" if view.download else None}

    # The watcher and the page's event stream.

    async def notify(self, files: Sequence[str]) -> None:
        assert self.condition is not None
        async with self.condition:
            self.generation += 1
            self.changed = sorted(files)
            self.condition.notify_all()

    async def watch_files(self) -> None:
        paths = [p for p in (self.home, templates_dir()) if p is not None and p.is_dir()]
        async for changes in awatch(*paths, stop_event=self.stop, debounce=200):
            await self.notify([Path(path).name for _, path in changes])

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self.condition = asyncio.Condition()
        self.loop = asyncio.get_running_loop()
        task = asyncio.create_task(self.watch_files()) if self.watch else None
        try:
            yield
        finally:
            await self.end_streams()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.worker.close()

    async def end_streams(self) -> None:
        """Stop the watcher and end every event stream: an open stream would hold the server's shutdown."""
        self.stop.set()
        if self.condition is not None:
            async with self.condition:
                self.condition.notify_all()

    def closing(self) -> None:
        """Called from the server's signal handler, outside the event loop."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.end_streams()))

    async def events(self) -> AsyncIterator[str]:
        assert self.condition is not None
        seen = -1
        while not self.stop.is_set():
            async with self.condition:
                # A default argument pins the generation seen; mypy cannot type a lambda's default (the ignore).
                await self.condition.wait_for(lambda last=seen: self.generation != last or self.stop.is_set())  # type: ignore[misc]
            if self.stop.is_set():
                return
            seen = self.generation
            yield f"event: change\ndata: {json.dumps({'generation': seen, 'files': self.changed})}\n\n"


def _bad(exc: Exception, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=status)


def create_app(preview: Preview, hosts: Sequence[str] = HOSTS) -> Starlette:
    """The ASGI app for one Preview; ``hosts`` are the Host names it answers to."""
    page = (Path(__file__).resolve().parent / "preview.html").read_text(encoding="utf-8")

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers={"Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                           "script-src 'self' 'unsafe-inline'; img-src 'self'"})

    async def options(request: Request) -> Response:
        return JSONResponse({"collectors": preview.collectors(), "collector": preview.collector, "mailings": list(MAILINGS),
                             "languages": list(LANGUAGES), "samples": [s.to_dict() for s in preview.samples],
                             "generation": preview.generation, "workspace": preview.home is not None})

    async def view(request: Request) -> Response:
        try:
            ask = preview.ask(request.query_params)
        except BadAsk as exc:
            return _bad(exc)
        key, made = await preview.view(ask)
        return JSONResponse(preview.described(key, made))

    async def compare(request: Request) -> Response:
        params = request.query_params
        collectors = [c for c in params.get("collectors", "").split(",") if c]
        dates = [d for d in params.get("dates", "").split(",") if d]
        try:
            if collectors and not dates and 1 <= len(collectors) <= MAX_COLUMNS:
                asks = [preview.ask(params, collector=c) for c in collectors]
            elif dates and not collectors and 1 <= len(dates) <= 2:
                asks = [preview.ask(params, day=d) for d in dates]
            else:
                raise BadAsk(f"compare up to {MAX_COLUMNS} collectors, or one collector on two dates")
        except BadAsk as exc:
            return _bad(exc)
        columns = []
        views = []
        for ask in asks:
            key, made = await preview.view(ask, THUMB)
            views.append(made)
            columns.append(preview.described(key, made))
        return JSONResponse({"columns": columns, "rows": differences(views)})

    def kept(request: Request) -> View | None:
        return preview.views.get(request.path_params["key"])

    async def image(request: Request) -> Response:
        made, number = kept(request), request.path_params["number"]
        if made is None or not 1 <= number <= len(made.pages):
            return _bad(Exception("no such page (the view was replaced: ask again)"), 404)
        return Response(made.pages[number - 1], media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    async def pdf(request: Request) -> Response:
        made = kept(request)
        if made is None or made.download is None:
            # A failing render's pages are shown as images only: its PDF is not handed out, as `render` quarantines it.
            return _bad(Exception("no PDF for this view"), 404)
        large = "-large-print" if made.ask.large_print else ""
        name = f"{made.ask.mailing}-{made.ask.collector}-{made.ask.day.isoformat()}-{made.ask.language}{large}.pdf"
        return Response(made.download, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def website(request: Request) -> Response:
        try:
            ask = preview.ask(request.query_params)
            data = await preview.worker.call(website_zip, ask.collector, ask.day, ask.language, ask.home)
        except BadAsk as exc:
            return _bad(exc)
        except Exception as exc:  # noqa: BLE001 - a broken template's error goes to the page, not the server's log
            return JSONResponse({"error": str(exc), "detail": error_dict(exc)}, status_code=422)
        name = f"website-{ask.collector}-{ask.day.isoformat()}-{ask.language}.zip"
        return Response(data, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def proof(request: Request) -> Response:
        try:
            ask = preview.ask({**request.query_params, "mailing": "bill-inserts"})
            data, _ = await preview.worker.call(build_proof, ask.collector, ask.day, ask.home, timeout=PROOF_TIMEOUT)
        except BadAsk as exc:
            return _bad(exc)
        except Exception as exc:  # noqa: BLE001 - as above
            return JSONResponse({"error": str(exc), "detail": error_dict(exc)}, status_code=422)
        name = f"proof-{ask.collector}-{ask.day.isoformat()}.pdf"
        return Response(data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def events(request: Request) -> Response:
        return StreamingResponse(preview.events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    routes = [
        Route("/", index),
        Route("/api/options", options),
        Route("/api/view", view),
        Route("/api/view/{key:str}/page/{number:int}.png", image),
        Route("/api/view/{key:str}.pdf", pdf),
        Route("/api/compare", compare),
        Route("/api/website.zip", website),
        Route("/api/proof.pdf", proof),
        Route("/api/events", events),
    ]
    middleware = [Middleware(Bounds), Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))]
    return Starlette(routes=routes, middleware=middleware, lifespan=preview.lifespan)


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: any free port), bound before the server starts so its address is known."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    return sock


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}/"


def serve(preview: Preview, sock: socket.socket) -> None:
    """Answer on the bound socket until interrupted."""
    config = uvicorn.Config(create_app(preview), log_level="warning", lifespan="on", timeout_graceful_shutdown=2,
                            limit_concurrency=32, timeout_keep_alive=5)
    _Server(config, preview).run(sockets=[sock])


class _Server(uvicorn.Server):
    """uvicorn's server, ending the page's event streams as soon as it is told to stop (it waits for open responses)."""

    def __init__(self, config: uvicorn.Config, preview: Preview) -> None:
        super().__init__(config)
        self.preview = preview

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.preview.closing()
        super().handle_exit(sig, frame)

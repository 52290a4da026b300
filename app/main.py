"""The application factory: engine, routers, middleware, error handlers and docs."""

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError
from starlette.middleware import Middleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES

from . import __version__
from .api import TAGS, collections, include_api, item_keys
from .api.dispatch import dispatch_by_collection
from .api.exports import ExportSlots
from .api.lanes import read, unavailable
from .api.reads import in_database
from .api.responses import (
    RawJSON,
    problem_responses,
)
from .api.routing import negotiation
from .api.service import SERVICE_TAG, Health, Index, Readiness
from .archives import Archives
from .caching import CacheHeadersMiddleware, CachePolicy
from .config import Settings, get_settings
from .db import build_engine, is_sqlite
from .docs import install_docs, install_openapi
from .errors import (
    PROBLEM_TYPES,
    ProblemError,
    UnexpectedErrorMiddleware,
    install_error_handlers,
)
from .explorer import explorer_page, prefers_html
from .facts.files import UNCOMPRESSED
from .facts.version import UNVERSIONED, read_version
from .faults import explain, redacted
from .middleware import (
    ConditionalGetMiddleware,
    DatasetVersionMiddleware,
    HeadMiddleware,
    OriginMiddleware,
    PinnedVersionMiddleware,
    RequestChecksMiddleware,
)
from .migrate import head_revision, is_behind
from .models import tables as t
from .nodes import Node, Nodes, keep_checking, replica_problem
from .paths import API_PREFIX
from .query.budget import Lane, Lanes, watch_sqlite, watch_statements
from .security import OpenCORSMiddleware, SecurityHeadersMiddleware
from .seeding.archive import database_folder
from .seeding.secrets import read_secret
from .server import start_up_frozen

logger = logging.getLogger("atlas")

DESCRIPTION = """
Regional innovation data for China (places, industrial clusters, programs, organizations
and sourced metrics), every number traceable to a character span of its source document.

Every list endpoint shares one query language: `field=value`, `field__gt|gte|lt|lte=value`,
`field__in=a,b`, `field__contains=text`; `sort=a,-b`; `limit` (at most 500); `cursor` from
`meta.next_cursor`; `fields=a,b`; `count=true`. Errors are RFC 9457 problem details. Every
GET route also answers HEAD. A browser opening `/` gets the explorer, a page over this API.

Every answer is read from one version of the data, named in `X-Atlas-Dataset-Version`. A
cursor continues at the version its walk began on, or is refused with 409
`cursor-version-gone` once no database holds it (restart the walk from the first page): a
walk never mixes two versions. `version=` pins any request to a version while a database
holds it (else 409 `version-gone`). ETags derive from the version and the normalised request,
so a matching `If-None-Match` is answered 304 without a query.
"""


class DatabaseNotReady(RuntimeError):
    """The database cannot be reached or has not been loaded; the server refuses to start."""


class SchemaBehind(RuntimeError):
    """The database's schema is older than this code's queries."""


def readiness(connection: Connection) -> dict[str, Any]:
    """What `/readyz` and the startup check read: the schema revision and the sources, so
    the answer depends on the data being readable (and of the shape the queries expect),
    not just on a connection."""
    schema = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if is_behind(schema):
        at = "has no schema revision" if schema is None else f"is at schema revision {schema}"
        raise SchemaBehind(
            f"it {at}, older than this server's {head_revision()}; run `atlas load` to migrate it"
        )
    sources = connection.execute(select(func.count()).select_from(t.source)).scalar_one()
    return {"status": "ready", "schema": schema, "sources": sources}


def check_database(engine: Engine, url: str) -> None:
    """Refuse to start on a database that cannot be reached or has not been loaded, in one
    line naming the database, the cause and the fix, rather than answering 503 to every
    request. (A SQLite file a writer left mid-transaction is rolled back and served.)"""
    try:
        read(engine, readiness)
    except DBAPIError as error:
        raise DatabaseNotReady(explain(error, url)) from None
    except SchemaBehind as behind:
        raise DatabaseNotReady(f"cannot serve from {redacted(url)}: {behind}") from None


def cursor_secret(engine: Engine, settings: Settings) -> str:
    """The key that signs cursors: ATLAS_CURSOR_SECRET, else the one `atlas load` stored."""
    if settings.cursor_secret:
        return settings.cursor_secret
    try:
        stored = read(engine, read_secret)
    except DBAPIError as error:
        raise DatabaseNotReady(explain(error, settings.database_url)) from None
    if stored is None:
        raise DatabaseNotReady(
            f"cannot serve from {redacted(settings.database_url)}: it holds no cursor-signing key;"
            " run `atlas load` to generate one, or set ATLAS_CURSOR_SECRET"
        )
    return stored


def _lane(name: str, settings: Settings, url: str, threads: int, budget_ms: int) -> Lane:
    """A lane of `threads` connections to `url` whose statements stop at `budget_ms`."""
    engine = build_engine(
        url,
        read_only=True,
        pool_size=threads,
        pool_timeout=settings.pool_timeout,
        statement_timeout_ms=budget_ms,
        ping=False,  # a read that finds its connection dead runs again (app.api.lanes.read)
    )
    if is_sqlite(url):
        watch_sqlite(engine)
    watch_statements(engine)
    return Lane(name, engine, anyio.CapacityLimiter(threads), budget_ms / 1000)


def _no_lock_waits(dbapi_connection: Any, _record: Any) -> None:
    """The inline lane's SQLite connection fails at once on a locked file instead of waiting
    up to busy_timeout (a load's commit) on the event loop's thread; the fast lane then
    reads, and waits, in its own."""
    dbapi_connection.execute("PRAGMA busy_timeout = 0")


def build_lanes(settings: Settings, url: str | None = None) -> Lanes:
    """The fast lane every request starts in and the slow lane for work that overruns it
    (app.query.budget), each with its own connections and threads, on `url` (by default
    the primary); on SQLite also the inline lane, one connection the event loop's thread
    reads quick shapes on."""
    url = url or settings.database_url
    fast_threads = settings.db_threads or (1 if is_sqlite(url) else settings.pool_size)
    inline = None
    if is_sqlite(url) and settings.inline_budget_ms:
        inline = _lane("inline", settings, url, 1, settings.inline_budget_ms)
        event.listen(inline.engine, "connect", _no_lock_waits)
    return Lanes(
        fast=_lane("fast", settings, url, fast_threads, settings.fast_budget_ms),
        slow=_lane("slow", settings, url, settings.slow_threads, settings.query_budget_ms),
        inline=inline,
    )


def build_nodes(settings: Settings) -> Nodes:
    """The primary and each replica, with lanes of their own (app.nodes)."""
    problem = replica_problem(settings)
    if problem is not None:
        raise DatabaseNotReady(problem)
    return Nodes(
        primary=Node("primary", settings.database_url, build_lanes(settings), replica=False),
        replicas=[
            Node(f"replica-{n}", url, build_lanes(settings, url), replica=True)
            for n, url in enumerate(settings.replicas, start=1)
        ],
        max_lag_ms=settings.replica_max_lag_ms,
        archives=Archives(
            settings.archives_dir,
            partial(build_lanes, settings),
            settings.database_url,
            wait=settings.restore_wait_ms / 1000,
        ),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    nodes = build_nodes(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Start-up reads run outside the lanes' time budgets, which are for requests.
        startup = build_engine(settings.database_url, read_only=True, pool_size=1)
        try:
            check_database(startup, settings.database_url)
            app.state.cursor_secret = cursor_secret(startup, settings)
            if nodes.archives is not None:  # this database's kept releases, by its own key
                own = read(startup, read_secret)
                nodes.archives.folder = database_folder(settings.archives_dir, own or "")
            nodes.primary.observe(read(startup, read_version), time.monotonic())
        finally:
            startup.dispose()
        with start_up_frozen():
            async with keep_checking(nodes, settings.version_refresh_ms / 1000):
                yield
        nodes.dispose()

    app = FastAPI(
        title="Innovation Atlas",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        default_response_class=RawJSON,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.nodes = nodes
    app.state.export_slots = ExportSlots(settings.export_slots)
    install_error_handlers(app)
    exportable = include_api(app)
    _install_service_routes(app)
    install_docs(app)
    install_openapi(app)
    dispatch_by_collection(app.router)  # every route is in by now
    # The whole stack, in order (this replaces the one entry install_error_handlers adds)
    app.user_middleware = middleware_stack(settings, exportable)
    return app


def middleware_stack(settings: Settings, exportable: Callable[[str], bool]) -> list[Middleware]:
    """Every middleware, outermost first (as Starlette builds them): a request passes down
    this list to the routes, and its response back up.

    The public origin is set before anything builds a link; cache headers and the dataset
    version wrap every response, refusals included; security headers and CORS wrap the
    request checks, so a refusal carries them; HEAD and gzip sit outside the pinned version
    and the validators, which see the body as the route made it; innermost, the last net for
    an error no handler answered."""
    return [
        Middleware(OriginMiddleware, public_url=settings.public_url),
        Middleware(
            CacheHeadersMiddleware,
            policy=cache_policy(settings),
            negotiated=exportable,
            item_keys=item_keys(),
        ),
        Middleware(DatasetVersionMiddleware),
        Middleware(SecurityHeadersMiddleware),
        Middleware(
            OpenCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=[
                "ETag",
                "Retry-After",
                "Link",
                "X-Atlas-Query",
                "X-Atlas-Dataset-Version",
                "X-Atlas-Node",
                "X-Atlas-Sources",
                "X-Atlas-Sources-Complete",
            ],
            max_age=600,
        ),
        Middleware(RequestChecksMiddleware, exportable=exportable),
        Middleware(HeadMiddleware),
        Middleware(
            GZipMiddleware,
            minimum_size=500,
            compresslevel=5,  # not 9: a 448 KB page in 2.9 ms of CPU, not 7.3, and no larger
            exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, *UNCOMPRESSED),
        ),
        Middleware(PinnedVersionMiddleware, prefix=API_PREFIX),
        Middleware(
            ConditionalGetMiddleware,
            max_age=settings.cache_max_age,
            representation=negotiation(exportable),
        ),
        Middleware(UnexpectedErrorMiddleware),
    ]


def cache_policy(settings: Settings) -> CachePolicy:
    return CachePolicy(
        max_age=settings.cache_max_age,
        stale_while_revalidate=settings.cache_stale_while_revalidate,
        stale_if_error=settings.cache_stale_if_error,
        problem_max_age=settings.cache_problem_max_age,
    )


def _install_service_routes(app: FastAPI) -> None:
    @app.get(
        f"{API_PREFIX}",
        operation_id="api_index",
        summary="Index of resources",
        description="The same index as `/`, at the root of the versioned API.",
        tags=[SERVICE_TAG.name],
        response_class=RawJSON,
        responses={200: {"model": Index}},
    )
    async def api_index() -> RawJSON:
        return RawJSON(index_body())

    @app.get(
        "/",
        operation_id="index",
        summary="Index of resources, or the explorer",
        description="API clients get the JSON index of the collections and the documentation."
        " A browser (an Accept header ranking `text/html` above JSON) gets the explorer, a page"
        " to search and browse the data.",
        tags=[SERVICE_TAG.name],
        response_class=RawJSON,
        responses={
            200: {
                "model": Index,
                "description": "The index, or the explorer's page for a browser.",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
        },
    )
    async def index(request: Request) -> Response:
        vary = {"Vary": "Accept"}
        if prefers_html(request.headers.get("accept")):
            return HTMLResponse(explorer_page(), headers=vary)
        return RawJSON(index_body(), headers=vary)

    def index_body() -> dict[str, Any]:
        served = app.state.nodes.primary.version  # as last seen: the index reads nothing
        download = f"{API_PREFIX}/releases/{served}/download" if served else None
        return {
            "name": app.title,
            "version": app.version,
            "resources": collections(),
            "download": None if served == UNVERSIONED else download,
            "docs": "/docs",
            "redoc": "/redoc",
            "openapi": "/openapi.json",
        }

    no_store = {"Cache-Control": "no-store"}

    @app.get(
        "/healthz",
        operation_id="health",
        summary="Liveness: the process answers",
        description="Touches no database: restart the process only if this fails. Use"
        " `/readyz` to decide whether to send it traffic.",
        tags=[SERVICE_TAG.name],
        response_class=RawJSON,
        responses={200: {"model": Health}},
    )
    async def liveness() -> RawJSON:
        return RawJSON({"status": "ok"}, headers=no_store)

    @app.get(
        "/readyz",
        operation_id="readiness",
        summary="Readiness: the data can be served",
        description="Reads the schema revision and counts the sources through the same pool"
        " as every data endpoint: 200 when data can be served, 503 with Retry-After whenever"
        " data endpoints would fail.",
        tags=[SERVICE_TAG.name],
        response_class=RawJSON,
        responses={200: {"model": Readiness}, **problem_responses(503)},
    )
    async def ready(request: Request) -> RawJSON:
        try:
            state = await in_database(request, readiness)
        except ProblemError:
            raise
        except SchemaBehind as behind:
            raise unavailable(f"the database is not ready: {behind}") from None
        except Exception as error:  # not ready is the answer, whatever the reason
            logger.warning("not ready: %s", " ".join(str(error).split())[:300])
            raise unavailable("the data cannot be read") from None
        nodes: Nodes = request.app.state.nodes
        return RawJSON({**state, "nodes": nodes.readiness()}, headers=no_store)

    @app.get("/problems/{name}", include_in_schema=False)
    async def problem_type(name: str) -> RawJSON:
        if name not in PROBLEM_TYPES:
            raise ProblemError(404, "not-found", f"no problem type {name!r}")
        known = PROBLEM_TYPES[name]
        return RawJSON({"type": f"/problems/{name}", "title": known.title,
                        "status": known.status, "description": known.description})  # fmt: skip

"""The application factory: engine, routers, middleware, error handlers and docs."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app import __version__
from app.api import include_api, tables
from app.api.deps import in_database
from app.api.responses import JSONBody, problem_responses
from app.api.schemas import Problem
from app.api.shapes import API_PREFIX
from app.config import Settings, get_settings
from app.db import build_engine, is_sqlite
from app.docs import install_docs
from app.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, ProblemError, install_error_handlers
from app.middleware import (
    ConditionalGetMiddleware,
    RequestChecksMiddleware,
    SecurityHeadersMiddleware,
)
from app.query.budget import Lane, Lanes, watch_sqlite

logger = logging.getLogger("atlas")

DESCRIPTION = """
Regional innovation data for China (places, industrial clusters, programs, organizations
and sourced metrics), every number traceable to a character span of its source document.

Every list endpoint shares one query language: `field=value`, `field__gt|gte|lt|lte=value`,
`field__in=a,b`, `field__contains=text`; `sort=a,-b`; `limit` (at most 500); `cursor` from
`links.next`; `fields=a,b`; `count=true`. Errors are RFC 9457 problem details.
"""

TAGS = [
    {"name": "places", "description": "Cities, provinces, districts and their nested views."},
    {"name": "clusters", "description": "Industrial clusters."},
    {"name": "programs", "description": "Policies, pilots, plans and strategies."},
    {"name": "organizations", "description": "Enterprises, universities, institutes, agencies."},
    {"name": "indicators", "description": "What is measured."},
    {"name": "sources", "description": "Where the facts come from."},
    {"name": "metrics", "description": "Observations with full provenance."},
    {"name": "service", "description": "Health and index."},
]


class DatabaseNotReady(RuntimeError):
    """The database cannot be reached or has not been loaded; the server refuses to start."""


def check_database(engine: Engine, url: str) -> None:
    """Refuse to start on a database that cannot be reached or has not been loaded, saying
    which and what to do, rather than answering 503 to every request."""
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        hint = " (run `atlas load` to create it)" if is_sqlite(url) else ""
        raise DatabaseNotReady(f"cannot connect to {shown}: {exc.orig}{hint}") from None
    with connection:
        try:
            connection.execute(select(tables.source.c.id).limit(1)).all()
        except DBAPIError as exc:
            raise DatabaseNotReady(
                f"{shown} is not loaded: {exc.orig} (run `atlas load`)"
            ) from None


def _lane(name: str, settings: Settings, threads: int, budget_ms: int) -> Lane:
    engine = build_engine(
        settings.database_url,
        read_only=True,
        pool_size=threads,
        pool_timeout=settings.pool_timeout,
        statement_timeout_ms=budget_ms,
    )
    if is_sqlite(settings.database_url):
        watch_sqlite(engine)
    return Lane(name, engine, anyio.CapacityLimiter(threads), budget_ms / 1000)


def build_lanes(settings: Settings) -> Lanes:
    """The fast lane every request starts in and the slow lane for work that overruns it
    (app.query.budget), each with its own connections and threads."""
    sqlite = is_sqlite(settings.database_url)
    fast_threads = settings.db_threads or (1 if sqlite else settings.pool_size)
    return Lanes(
        fast=_lane("fast", settings, fast_threads, settings.fast_budget_ms),
        slow=_lane("slow", settings, settings.slow_threads, settings.query_budget_ms),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    lanes = build_lanes(settings)
    engine = lanes.fast.engine

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        check_database(engine, settings.database_url)
        yield
        lanes.dispose()

    app = FastAPI(
        title="Innovation Atlas",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        default_response_class=JSONBody,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.lanes = lanes
    install_error_handlers(app)
    include_api(app)
    _install_service_routes(app)
    install_docs(app)
    _install_openapi(app)
    app.add_middleware(ConditionalGetMiddleware, max_age=settings.cache_max_age)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(RequestChecksMiddleware)  # inside CORS, so refusals carry its headers
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["ETag", "Retry-After"],
        max_age=600,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def _install_service_routes(app: FastAPI) -> None:
    @app.get(
        "/",
        operation_id="index",
        summary="Index of resources",
        tags=["service"],
        response_class=JSONBody,
    )
    async def index() -> JSONBody:
        resources = (
            "cities",
            "places",
            "clusters",
            "programs",
            "organizations",
            "indicators",
            "sources",
            "metrics",
        )
        return JSONBody(
            {
                "name": app.title,
                "version": app.version,
                "resources": {name: f"{API_PREFIX}/{name}" for name in resources},
                "docs": "/docs",
                "redoc": "/redoc",
                "openapi": "/openapi.json",
            }
        )

    @app.get(
        "/healthz",
        operation_id="health",
        summary="Health check",
        tags=["service"],
        response_class=JSONBody,
        responses=problem_responses(503),
    )
    async def health(request: Request) -> JSONBody:
        await in_database(request, lambda connection: connection.exec_driver_sql("SELECT 1"))
        return JSONBody({"status": "ok"})

    @app.get("/problems/{name}", include_in_schema=False)
    async def problem_type(name: str) -> JSONBody:
        if name not in PROBLEM_TYPES:
            raise ProblemError(404, "not-found", f"no problem type {name!r}")
        return JSONBody({"type": f"/problems/{name}", "description": PROBLEM_TYPES[name]})


def _document_refusals(schema: dict[str, Any]) -> None:
    """Some requests are refused before any endpoint runs; document those on every operation:
    a request the HTTP server cannot parse, or whose target or head is too large (app.server),
    one that carries content or accepts no JSON (app.middleware)."""
    refusals = {
        "400": "Unknown query parameter, invalid cursor, or a request that is not valid HTTP.",
        "406": "The Accept header rules out JSON.",
        "414": "The request target is longer than the server accepts.",
        "415": "The request carries content; no endpoint takes any.",
        "431": "The request line and headers are larger than the server accepts.",
    }
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in schema["paths"].values():
        for operation in path.values():
            for status, description in refusals.items():
                operation["responses"].setdefault(status, {"description": description})
                operation["responses"][status]["content"] = problem


def _install_openapi(app: FastAPI) -> None:
    """Generate the document once, with the Problem schema every error response refers to."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            _document_refusals(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""Dependencies shared by the routers: the database connection and the settings."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.config import Settings
from app.errors import ParameterError, ProblemError

RETRY_AFTER_SECONDS = "2"


def unavailable(why: str) -> ProblemError:
    return ProblemError(
        503, "service-unavailable", why, headers={"Retry-After": RETRY_AFTER_SECONDS}
    )


def get_connection(request: Request) -> Iterator[Connection]:
    """A pooled connection for one request. A full pool or an unreachable database is a 503
    with Retry-After after at most the pool timeout, never a hang or a 500."""
    engine: Engine = request.app.state.engine
    try:
        connection = engine.connect()
    except PoolTimeout:
        raise unavailable("all database connections are busy; retry shortly") from None
    except DBAPIError:
        raise unavailable("the database is unreachable; retry shortly") from None
    with connection:
        yield connection


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def no_query_parameters(request: Request) -> None:
    """Detail endpoints take no query parameters; an unexpected one is a 400, not ignored."""
    names = sorted({key for key, _ in request.query_params.multi_items()})
    if names:
        raise ProblemError(
            400,
            "unknown-parameter",
            f"unknown query parameter(s) {', '.join(map(repr, names))}; this endpoint takes none",
            [ParameterError(name, "not a parameter of this endpoint") for name in names],
        )


ConnectionDep = Annotated[Connection, Depends(get_connection)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

"""RFC 9457 problem details: one exception type, one body shape, handlers for everything.

Every error a client can see goes through `problem_response`, so no stack trace or
framework-specific body ever leaves the server.
"""

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from .asgi import HTTPMiddleware

logger = logging.getLogger("atlas")

PROBLEM_MEDIA_TYPE = "application/problem+json"
ALLOWED_METHODS = "GET, HEAD, OPTIONS"


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem: always answered with the same status and title.

    The rule between 400 and 422: a request this API cannot read as asked is 400 (a
    parameter no route here takes, an operator a filter does not take, a cursor not issued
    here, a request that is not valid HTTP); a request it reads but cannot honour is 422 (a
    value out of range or of the wrong kind, a name that names nothing, a parameter given
    twice, a pair of values that cannot go together, a query over its time budget).
    """

    status: int
    title: str
    description: str


# The problem types this API uses: `type` is a relative reference to `/problems/{name}`.
PROBLEM_TYPES: dict[str, ProblemType] = {
    "unknown-parameter": ProblemType(
        400, "Unknown parameter", "A query parameter (or an operator) is not one this"
        " endpoint accepts; the detail lists those it does."),
    "invalid-cursor": ProblemType(
        400, "Invalid cursor", "A pagination cursor is malformed, tampered with, or belongs"
        " elsewhere."),
    "malformed-request": ProblemType(
        400, "Malformed request", "The HTTP server could not parse the request."),
    "invalid-parameter": ProblemType(
        422, "Invalid parameter", "A query or path parameter is well formed but has a value"
        " the endpoint cannot honour: out of range, naming nothing (with suggestions), or"
        " given twice."),
    "query-too-expensive": ProblemType(
        422, "Query too expensive", "The query ran past its time budget; narrow it with a"
        " selective filter."),
    "not-found": ProblemType(404, "Not found", "No resource exists at this URL."),
    "method-not-allowed": ProblemType(
        405, "Method not allowed", "The resource exists but does not accept this HTTP"
        " method."),
    "not-acceptable": ProblemType(
        406, "Not acceptable", "The request asked for a representation the server cannot"
        " produce."),
    "request-timeout": ProblemType(
        408, "Request timeout", "The request head did not arrive within the server's time"
        " limit."),
    "version-gone": ProblemType(
        409, "Dataset version gone", "The dataset version asked for (a pin, or the one this"
        " answer began reading) is not served by any database now; the detail names the"
        " versions served."),
    "cursor-version-gone": ProblemType(
        409, "Cursor's dataset version gone", "The cursor's walk started on a dataset version"
        " no database serves any longer; restart the walk from the first page."),
    "version-retired": ProblemType(
        410, "Dataset version no longer kept", "The dataset version asked for was a release"
        " here, older than the releases this server keeps; the detail names the oldest"
        " kept."),
    "uri-too-long": ProblemType(
        414, "Request target too long", "The request target exceeds the server's limit."),
    "unsupported-media-type": ProblemType(
        415, "Unsupported media type", "The request carries content; no endpoint here takes"
        " any."),
    "too-many-exports": ProblemType(
        429, "Too many exports", "This worker runs as many CSV and NDJSON exports as it"
        " allows at once; retry after the pause Retry-After names."),
    "request-too-large": ProblemType(
        431, "Request head too large", "The request line and headers exceed the server's"
        " limits."),
    "internal-error": ProblemType(
        500, "Internal error", "The server failed unexpectedly; the error has been logged."),
    "service-unavailable": ProblemType(
        503, "Service unavailable", "The database could not be reached in time; retry after"
        " a pause."),
    "release-restoring": ProblemType(
        503, "Release being restored", "The kept release asked for is being rebuilt from the"
        " kept releases (seconds of work, once); retry after the pause Retry-After names."),
    "server-busy": ProblemType(
        503, "Server busy", "The server holds as many connections as it accepts; retry"
        " after a pause."),
}  # fmt: skip
KIND_BY_STATUS = {
    404: "not-found", 405: "method-not-allowed", 406: "not-acceptable", 415:
    "unsupported-media-type", 422: "invalid-parameter",
}  # fmt: skip

SHOWN = 200  # characters of a value a message repeats; a longer one is cut, and says so


def shown(value: str) -> str:
    """A value as a message quotes it: whole up to SHOWN characters, else cut and counted."""
    if len(value) <= SHOWN:
        return repr(value)
    return f"{value[:SHOWN]!r}… ({len(value)} characters)"


@dataclass
class InvalidParameter:
    """One parameter a problem names and what was wrong with it; the body's `errors` entry
    (the `ParameterError` schema of app.api.responses)."""

    parameter: str
    detail: str
    location: str = "query"
    suggestions: list[str] = field(default_factory=list)  # what a value may have meant

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"parameter": self.parameter, "in": self.location}
        body["detail"] = self.detail
        if self.suggestions:
            body["suggestions"] = self.suggestions
        return body


@dataclass
class ProblemError(Exception):
    """Raise from anywhere to answer with a problem-details body."""

    status: int
    kind: str
    detail: str
    errors: list[InvalidParameter] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        expected = PROBLEM_TYPES[self.kind].status
        assert self.status == expected, f"{self.kind} is a {expected}, not a {self.status}"

    def __str__(self) -> str:
        return f"{self.status} {self.kind}: {self.detail}"


@dataclass
class Moved(Exception):
    """Raise where a path key named its row another way than by its key (`/places/Hefei`):
    the answer is a 308 to the same URL with the canonical key in the `parameter` segment."""

    parameter: str
    key: str
    note: str | None = None  # why the key given names that row, when it is not plain


def parameter_problem(parameter: str, detail: str, *, location: str = "query") -> ProblemError:
    """A well-formed parameter whose value cannot be honoured (422 `invalid-parameter`)."""
    return ProblemError(
        422, "invalid-parameter", f"{parameter}: {detail}",
        [InvalidParameter(parameter, detail, location)],
    )  # fmt: skip


def problem_body(
    *,
    status: int,
    kind: str,
    detail: str,
    instance: str,
    errors: list[InvalidParameter] | None = None,
) -> bytes:
    problem_type = PROBLEM_TYPES[kind]
    assert status == problem_type.status, f"{kind} is a {problem_type.status}, not a {status}"
    body: dict[str, Any] = {
        "type": f"/problems/{kind}",
        "title": problem_type.title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = [error.as_dict() for error in errors]
    return orjson.dumps(body)


def problem_response(
    *,
    status: int,
    kind: str,
    detail: str,
    instance: str,
    errors: list[InvalidParameter] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem_body(status=status, kind=kind, detail=detail, instance=instance, errors=errors)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _instance(request: Request) -> str:
    return request.url.path


async def _problem_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        status=exc.status,
        kind=exc.kind,
        detail=exc.detail,
        instance=_instance(request),
        errors=exc.errors,
        headers=exc.headers,
    )


async def _moved(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Moved)
    template = request.scope["route"].path.split("/")
    segments = request.url.path.split("/")  # the route's, below any prefix it is mounted at
    at = len(segments) - len(template) + template.index(f"{{{exc.parameter}}}")
    segments[at] = quote(exc.key)
    location = "/".join(segments) + (f"?{request.url.query}" if request.url.query else "")
    if exc.note is None:
        return Response(status_code=308, headers={"Location": location})
    body = {"location": location, "detail": exc.note}
    return Response(orjson.dumps(body), status_code=308,
                    headers={"Location": location}, media_type="application/json")  # fmt: skip


async def _validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own validation (path parameters): name each parameter and what was wrong."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        location, *rest = (str(part) for part in error.get("loc", ("query",)))
        errors.append(InvalidParameter(".".join(rest) or location, str(error["msg"]), location))
    detail = "; ".join(f"{e.parameter}: {e.detail}" for e in errors) or "invalid request"
    return problem_response(
        status=422,
        kind="invalid-parameter",
        detail=detail,
        instance=_instance(request),
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind = KIND_BY_STATUS.get(exc.status_code, "malformed-request")
    status = PROBLEM_TYPES[kind].status
    detail = {
        404: f"nothing at {request.url.path}",
        405: f"{request.method} is not allowed here",
    }.get(exc.status_code, str(exc.detail))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # every route is a GET, and HEAD and OPTIONS are served
        headers["Allow"] = ALLOWED_METHODS
    return problem_response(
        status=status,
        kind=kind,
        detail=detail,
        instance=_instance(request),
        headers=headers,
    )


async def _data_error(request: Request, exc: Exception) -> Response:
    """The database refused a value (out of its column's range, say): the request's fault,
    never a 500. The parser bounds values first; this is the net under it."""
    logger.warning("database refused a value on %s: %s", request.url.path, exc)
    return problem_response(
        status=422, kind="invalid-parameter", detail="a parameter value is out of range",
        instance=_instance(request),
    )  # fmt: skip


def _internal_error(method: str, path: str, exc: BaseException) -> Response:
    logger.error("unhandled error on %s %s", method, path, exc_info=exc)
    return problem_response(
        status=500,
        kind="internal-error",
        detail="the server failed; the error has been logged",
        instance=path,
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    """The last net, for an error raised by a middleware itself."""
    return _internal_error(request.method, _instance(request), exc)


class UnexpectedErrorMiddleware(HTTPMiddleware):
    """Answers an exception no handler took with a 500 problem document, and keeps the
    connection open.

    Starlette's outermost error handler sends its 500 and then re-raises, and uvicorn closes
    the connection of an application that raised, even after a complete response. A
    keep-alive client that had already sent its next request on it got no answer at all:
    with PostgreSQL backends terminated under 16 clients, every 500 cost a second request
    closed without a response (8 and 8). Here the error is answered inside the middleware
    stack, which also gives the 500 its security and CORS headers.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:  # a response cut short: closing is the only way to say so
                raise
            response = _internal_error(scope["method"], scope["path"], exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(Moved, _moved)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected_error)

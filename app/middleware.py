"""HTTP behaviour common to every response, as pure ASGI middleware (no per-request
BaseHTTPMiddleware task overhead): request checks, validators for GET, HEAD, the public
origin, and the dataset version served or pinned. The security headers and CORS are in
app.security; the order of the whole stack is app.main.middleware_stack."""

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__
from .asgi import BODILESS, HTTPMiddleware, set_headers
from .errors import InvalidParameter, problem_response, shown
from .explorer import prefers_html
from .facts.version import UNVERSIONED
from .paths import AS_OF_PATTERN, RELEASE_FILE_PATH

JSON_RANGES = frozenset({"*/*", "application/*", "application/json", "application/problem+json"})
EXPORT_RANGES = frozenset({"text/csv", "application/x-ndjson"})  # list routes only
HTML_PATHS = ("/docs", "/redoc", "/static/")
FILE_PATH = re.compile(RELEASE_FILE_PATH)  # a file answers in its own type, whatever Accept


class RequestChecksMiddleware:
    """Refuses, as problem details, what no endpoint here can serve: content on a request
    (every endpoint is GET, HEAD or OPTIONS, none takes a body) is 415, and an Accept header
    that rules out JSON is 406 (the docs pages, which are HTML, are exempt; the list routes,
    `exportable`, also serve CSV and NDJSON)."""

    def __init__(self, app: ASGIApp, exportable: Callable[[str], bool] = lambda _p: False) -> None:
        self.app = app
        self.exportable = exportable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = _refusal(scope, self.exportable)
            if refusal is not None:
                status, kind, detail = refusal
                response = problem_response(
                    status=status, kind=kind, detail=detail, instance=scope["path"]
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _refusal(scope: Scope, exportable: Callable[[str], bool]) -> tuple[int, str, str] | None:
    headers = Headers(scope=scope)
    has_content = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    if has_content and scope["method"] in ("GET", "HEAD", "OPTIONS"):
        return 415, "unsupported-media-type", f"{scope['method']} requests take no content"
    accept = headers.get("accept")
    if accept is None or scope["path"].startswith(HTML_PATHS) or _accepts(accept, JSON_RANGES):
        return None
    if FILE_PATH.match(scope["path"]) is not None:
        return None
    if scope["path"] == "/" and prefers_html(accept):
        return None  # the explorer
    if exportable(scope["path"]):
        if _accepts(accept, EXPORT_RANGES):
            return None
        why = "this list answers application/json, text/csv and application/x-ndjson only"
        return 406, "not-acceptable", why
    return 406, "not-acceptable", "this endpoint answers application/json only"


def _accepts(accept: str, ranges: frozenset[str]) -> bool:
    for item in accept.split(","):
        media_range, *parameters = (part.strip() for part in item.split(";"))
        if media_range.lower() in ranges and not any(map(_is_q_zero, parameters)):
            return True
    return False


def _is_q_zero(parameter: str) -> bool:
    name, _, value = parameter.partition("=")
    if name.strip().lower() != "q":
        return False
    try:
        return float(value) == 0
    except ValueError:
        return False


class ConditionalGetMiddleware:
    """A weak ETag and Cache-Control on successful GET/HEAD responses, and 304 for a
    matching If-None-Match, answered before any query runs.

    The validator is a hash of the dataset version, the code's version and the normalised
    request (path, sorted query parameters, scheme and host, which absolute links carry,
    and the representation negotiated from `format`/Accept): an answer is a function of
    those, so equal validators mean equal answers, on any worker or host. A conditional
    request is compared with the validators of the versions the fit databases hold now
    (app.nodes' board, refreshed every `ATLAS_VERSION_REFRESH_MS`), so a 304 costs no
    query; otherwise the response carries the validator of the version its snapshot read.
    Weak (`W/`): the same validator covers the gzip and identity encodings of one answer,
    which are equivalent but not byte-equal. Health checks always answer (never 304), and
    static files keep their own validators.

    `If-None-Match: *` matches only a current representation (RFC 9110, 13.1.2): the
    request runs, a 2xx becomes a 304 with its validator and no body (an export stops at
    its headers), and anything else (404, 400, 422) is answered as it is.
    """

    def __init__(
        self, app: ASGIApp, *, max_age: int, representation: Callable[[Scope], str | None]
    ) -> None:
        self.app = app
        self.cache_control = f"public, max-age={max_age}"
        self.representation = representation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        request = self.normalised(scope)
        if_none_match = Headers(scope=scope).get("if-none-match")
        if request is None or scope["path"].startswith(ANSWERED_NOW):
            if_none_match = None
        any_current = if_none_match is not None and if_none_match.strip() == "*"
        if request is not None and if_none_match is not None and not any_current:
            for version in versions_served(scope):
                etag = version_etag(version, request)
                if _matches(if_none_match, etag):
                    scope.setdefault("state", {})["dataset_version"] = version
                    await send(self.not_modified(etag))
                    await send({"type": "http.response.body", "body": b""})
                    return
        if any_current:
            scope = {**scope, BODILESS: True}
        not_modified = False

        async def validated(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = MutableHeaders(scope=message)
                if request is not None and "etag" not in headers:
                    headers["etag"] = version_etag(dataset_version(scope), request)
                headers.setdefault("cache-control", self.cache_control)
                if any_current:
                    not_modified = True
                    message = self.not_modified(headers["etag"])
            elif not_modified and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, validated)

    def normalised(self, scope: Scope) -> bytes | None:
        """The request as far as it decides the answer, or None when it cannot be told."""
        representation = self.representation(scope)
        if representation is None:
            return None
        headers = Headers(scope=scope)
        query = sorted(parse_qsl(scope.get("query_string", b"").decode("latin-1"), True))
        return orjson.dumps(
            [
                scope["path"],
                query,
                scope.get("scheme", "http"),
                headers.get("host", ""),
                representation,
                __version__,
            ]
        )

    def not_modified(self, etag: str) -> Message:
        headers = MutableHeaders()
        headers["etag"] = etag
        headers["cache-control"] = self.cache_control
        headers["vary"] = "Accept"
        return {"type": "http.response.start", "status": 304, "headers": headers.raw}


# Answers of the moment (health) and files with validators of their own: never a 304 here.
ANSWERED_NOW = ("/healthz", "/readyz", "/static/")


def version_etag(version: str, request: bytes) -> str:
    digest = hashlib.blake2b(version.encode() + b"\0" + request, digest_size=16).hexdigest()
    return f'W/"{digest}"'


def _matches(header: str, etag: str) -> bool:
    opaque = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))


class HeadMiddleware:
    """HEAD on every GET route: the request is answered as GET, with the same status and
    headers (Content-Length included) and no body. The scope says so (`BODILESS`), so an
    export computes its headers from its first page and stops: without it, a HEAD walked
    the whole table (12 s of CPU at 279k rows) for bytes that were thrown away."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET", BODILESS: True}, receive, without_body)


def dataset_version(scope: Scope) -> str:
    """The version this response was read from, or, for one that read nothing, the
    primary's as last seen."""
    read_at = scope.get("state", {}).get("dataset_version")
    if read_at:
        return str(read_at)
    nodes = getattr(getattr(scope.get("app"), "state", None), "nodes", None)
    version = nodes.primary.version if nodes is not None else None
    return str(version or UNVERSIONED)


def versions_served(scope: Scope) -> list[str]:
    """The versions an answer to this request could come from now: the pinned one when
    it is served, else those of the databases reads may go to."""
    nodes = getattr(getattr(scope.get("app"), "state", None), "nodes", None)
    if nodes is None:
        return []
    pinned = scope.get("state", {}).get("pinned_version")
    if pinned is not None:
        return [pinned] if nodes.has(pinned) else []
    return sorted(nodes.served_versions())


class OriginMiddleware(HTTPMiddleware):
    """The origin absolute links are built on, fixed before anything reads the request.

    With `public_url` set, the request's scheme, Host and server are replaced by it, so no
    header a client sends (Host, or forwarded headers a trusted proxy passed on) changes a
    body, a validator or a cache key. Without it, links follow the request, and a scheme
    other than http or https (uvicorn believes `X-Forwarded-Proto: ws` from a trusted
    proxy) is read as its HTTP counterpart: a link is never `ws://`."""

    def __init__(self, app: ASGIApp, *, public_url: str | None) -> None:
        super().__init__(app)
        self.origin: tuple[str, bytes, tuple[str, int]] | None = None
        if public_url is not None:
            parts = urlsplit(public_url)
            assert parts.hostname is not None  # Settings checked it
            port = parts.port or (443 if parts.scheme == "https" else 80)
            self.origin = (parts.scheme, parts.netloc.encode("latin-1"), (parts.hostname, port))

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.origin is not None:
            scheme, host, server = self.origin
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            scope = {
                **scope,
                "scheme": scheme,
                "server": server,
                "headers": [(b"host", host), *headers],
            }
        elif scope.get("scheme") not in ("http", "https"):
            scope = {**scope, "scheme": "https" if scope.get("scheme") == "wss" else "http"}
        await self.app(scope, receive, send)


class DatasetVersionMiddleware(HTTPMiddleware):
    """`X-Atlas-Dataset-Version` on every response: the content hash of the seeds the
    answer was read from (app.query.snapshot), and `X-Atlas-Node`, the database that
    served it (for diagnostics: `primary`, `replica-1`, ...)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})  # shared by every scope copied from this one

        async def with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                version = [(b"x-atlas-dataset-version", dataset_version(scope).encode("latin-1"))]
                if "node" in state:
                    version.append((b"x-atlas-node", state["node"].encode("latin-1")))
                set_headers(message, version)
            await send(message)

        await self.app(scope, receive, with_version)


class PinnedVersionMiddleware:
    """`version=<dataset version>` or `as_of=<date>` on any data route: answer from that
    version (or the release current at that date) or not at all.

    The parameters are taken off the query before the endpoint reads it (every endpoint
    accepts them) and kept in the request's state, where app.api.reads reads them; a
    database holding another version is passed over, and when none holds it the answer is
    410 `version-retired` for a release no longer kept, else 409 `version-gone`. A version
    is named by its first 12 or more hexadecimal digits (a citation prints 16), as long as
    no two versions served share them; a date is `YYYY-MM-DD` (the end of that day, UTC)
    or a timestamp with its offset."""

    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app = app
        self.prefix = prefix  # the data routes; elsewhere `version` means nothing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"")
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")  # the router answers 405 first
            or (b"version=" not in query and b"as_of=" not in query)
            or not scope["path"].startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        pins = {name: [v for n, v in pairs if n == name] for name in PIN_PARAMETERS}
        if not any(pins.values()):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        problem = _pin(pins["version"], pins["as_of"], state)
        if problem is not None:
            name, why = problem
            response = problem_response(
                status=422, kind="invalid-parameter", detail=f"{name}: {why}",
                instance=scope["path"], errors=[InvalidParameter(name, why)],
            )  # fmt: skip
            await response(scope, receive, send)
            return
        rest = urlencode([(name, value) for name, value in pairs if name not in PIN_PARAMETERS])
        await self.app({**scope, "query_string": rest.encode("latin-1")}, receive, send)


PIN_PARAMETERS = ("version", "as_of")


def _pin(versions: list[str], dates: list[str], state: dict[str, Any]) -> tuple[str, str] | None:
    """Record the pin in the request's state, or say which parameter is wrong and why."""
    for name, given in (("version", versions), ("as_of", dates)):
        if len(given) > 1:
            return name, "given more than once"
    if versions and dates:
        return "as_of", "give version or as_of, not both: each names the version to read"
    if versions:
        if VERSION_PATTERN.fullmatch(versions[0]) is None:
            return "version", (
                "expected a dataset version: 12 to 64 of its hexadecimal digits (the 16 a"
                f" citation prints will do), as X-Atlas-Dataset-Version; got {shown(versions[0])}"
            )
        state["pinned_version"] = versions[0]
        return None
    at = _moment(dates[0])
    if at is None:
        return "as_of", (
            "expected a date (2026-12-01, meaning the end of that day in UTC) or a timestamp"
            f" with its offset (2026-12-01T08:00:00Z); got {shown(dates[0])}"
        )
    state["as_of"] = (at, dates[0])
    return None


def _moment(value: str) -> datetime | None:
    if AS_OF.fullmatch(value) is None:
        return None
    try:
        if len(value) == len("2026-12-01"):
            day = date.fromisoformat(value) + timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=UTC)  # the day's end
        return datetime.fromisoformat(value)
    except ValueError:  # a month 13, a day 32
        return None


AS_OF = re.compile(AS_OF_PATTERN)


VERSION_PATTERN = re.compile(r"[0-9a-f]{12,64}|unversioned")

"""HTTP behaviour common to every response, as pure ASGI middleware (no per-request
BaseHTTPMiddleware task overhead): request checks, validators and caching for GET, and
security headers."""

import hashlib
from collections.abc import Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.asgi import HTTPMiddleware
from app.errors import problem_response
from app.explorer import prefers_html

Headerish = MutableMapping[str, Any]

API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:;"
    " frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

# The explorer's page at `/`: its own script and styles only, and the API on this origin.
EXPLORER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

JSON_RANGES = frozenset({"*/*", "application/*", "application/json", "application/problem+json"})
EXPORT_RANGES = frozenset({"text/csv", "application/x-ndjson"})  # list routes only
HTML_PATHS = ("/docs", "/redoc", "/static/")


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
    """Adds a weak ETag and Cache-Control to successful GET/HEAD responses and answers a
    matching If-None-Match with 304. Bodies are bounded (pages are capped), so buffering
    them to hash is cheap."""

    def __init__(self, app: ASGIApp, *, max_age: int) -> None:
        self.app = app
        self.cache_control = f"public, max-age={max_age}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] != 200 or _is_stream(message):
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            # the dataset version is part of the basis: a reload that changes the data
            # changes every validator, even of a body that happens to be the same
            basis = dataset_version(scope).encode() + b"\0" + body
            etag = 'W/"' + hashlib.blake2b(basis, digest_size=16).hexdigest() + '"'
            headers = MutableHeaders(scope=start)
            headers["etag"] = etag
            headers.setdefault("cache-control", self.cache_control)
            if if_none_match is not None and _matches(if_none_match, etag):
                del headers["content-length"]
                if "content-type" in headers:
                    del headers["content-type"]
                await send({**start, "status": 304})
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffer)


def _is_stream(start: Message) -> bool:
    """An export, streamed without a length: buffering it to hash would hold every row."""
    return "content-length" not in Headers(raw=start["headers"])


def _matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))


class HeadMiddleware:
    """HEAD on every GET route: the request is answered as GET, with the same status and
    headers (Content-Length included) and no body."""

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

        await self.app({**scope, "method": "GET"}, receive, without_body)


def dataset_version(scope: Scope) -> str:
    app = scope.get("app")
    return str(getattr(getattr(app, "state", None), "dataset_version", "unversioned"))


class ResponseHeadersMiddleware(HTTPMiddleware):
    """Sets the headers `headers_for` gives a request on its response."""

    def headers_for(self, scope: Scope) -> dict[str, str]:
        raise NotImplementedError

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = self.headers_for(scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(headers)
            await send(message)

        await self.app(scope, receive, with_headers)


class DatasetVersionMiddleware(ResponseHeadersMiddleware):
    """`X-Atlas-Dataset-Version` on every response: the content hash of the seeds the
    database was loaded from, read at start-up."""

    def headers_for(self, scope: Scope) -> dict[str, str]:
        return {"x-atlas-dataset-version": dataset_version(scope)}


class SecurityHeadersMiddleware(ResponseHeadersMiddleware):
    """nosniff, a restrictive CSP (looser only for the docs pages' own assets), no referrer."""

    def headers_for(self, scope: Scope) -> dict[str, str]:
        path: str = scope["path"]
        csp = DOCS_CSP if path in ("/docs", "/redoc") or path.startswith("/static/") else API_CSP
        if path == "/":
            csp = EXPLORER_CSP
        return {
            "x-content-type-options": "nosniff",
            "content-security-policy": csp,
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
        }

"""What every response tells a browser: a restrictive content security policy (looser for
the docs pages and the explorer, which load their own assets) and the other security
headers, and CORS open to every origin, without credentials (docs/security.md)."""

from functools import cached_property

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from .asgi import HTTPMiddleware, encoded, set_headers

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

EXPLORER_PATH = "/static/explorer/"  # its page and assets, also served at `/`


class SecurityHeadersMiddleware(HTTPMiddleware):
    """nosniff, a restrictive CSP (looser only for the docs pages' own assets; the explorer's
    own, wherever its page is served), no referrer."""

    def headers_for(self, path: str) -> tuple[tuple[bytes, bytes], ...]:
        if path == "/" or path.startswith(EXPLORER_PATH):
            return EXPLORER_HEADERS
        if path in ("/docs", "/redoc") or path.startswith("/static/"):
            return DOCS_HEADERS
        return API_HEADERS

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = self.headers_for(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                set_headers(message, headers)
            await send(message)

        await self.app(scope, receive, with_headers)


def _security_headers(csp: str) -> tuple[tuple[bytes, bytes], ...]:
    return encoded(
        {
            "x-content-type-options": "nosniff",
            "content-security-policy": csp,
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
        }
    )


API_HEADERS = _security_headers(API_CSP)
DOCS_HEADERS = _security_headers(DOCS_CSP)
EXPLORER_HEADERS = _security_headers(EXPLORER_CSP)


class OpenCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except with every origin allowed (`*`, no credentials): then the
    CORS headers are the same on every response, whether the request names an Origin or
    not, so nothing varies on Origin. Starlette's `Vary: Origin` there split every shared
    cache entry by the requesting site for one and the same answer."""

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        if (
            message["type"] != "http.response.start"
            or not self.allow_all_origins
            or self.allow_credentials
        ):
            await super().send(message, send, request_headers)
            return
        set_headers(message, self._encoded_simple)
        await send(message)

    @cached_property
    def _encoded_simple(self) -> tuple[tuple[bytes, bytes], ...]:
        return encoded(self.simple_headers)

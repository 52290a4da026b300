"""What every response tells a browser: a restrictive content security policy (looser for
the docs pages and the explorer, which load their own assets) and the other security
headers, and CORS open to every origin, without credentials (docs/security.md)."""

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from .asgi import HTTPMiddleware

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


class SecurityHeadersMiddleware(ResponseHeadersMiddleware):
    """nosniff, a restrictive CSP (looser only for the docs pages' own assets; the explorer's
    own, wherever its page is served), no referrer."""

    def headers_for(self, scope: Scope) -> dict[str, str]:
        path: str = scope["path"]
        csp = DOCS_CSP if path in ("/docs", "/redoc") or path.startswith("/static/") else API_CSP
        if path == "/" or path.startswith(EXPLORER_PATH):
            csp = EXPLORER_CSP
        return {
            "x-content-type-options": "nosniff",
            "content-security-policy": csp,
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
        }


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
        message.setdefault("headers", [])
        MutableHeaders(scope=message).update(self.simple_headers)
        await send(message)

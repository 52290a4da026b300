"""The base of the app's own middleware (`HTTPMiddleware`: HTTP requests are its business,
the lifespan and any other scope pass straight through), and the scope key that tells a
streamed response it goes out without a body. A leaf module: app.errors, app.middleware and
the exports import it, and it imports nothing of the app. Also the header helpers the layers
share (read one, set several in one pass, encode constant ones once)."""

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Set in a request's scope when its answer goes out without a body (HEAD, or a 304 for
# `If-None-Match: *`): a streamed response stops at its headers instead of producing a body
# no one will receive.
BODILESS = "atlas.bodiless"


class HTTPMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def header(message: Message, name: bytes) -> str | None:
    """A response header's first value (`name` in lowercase), or None."""
    for key, value in message.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def set_headers(message: Message, headers: Sequence[tuple[bytes, bytes]]) -> None:
    """Set headers (names in lowercase) on a response's start, each replacing any of its
    name. One pass over the list: Starlette's MutableHeaders scans it once per header set,
    and a response passes through five layers that set a dozen."""
    names = {name for name, _ in headers}
    kept = [pair for pair in message.get("headers", ()) if pair[0] not in names]
    message["headers"] = [*kept, *headers]


def encoded(headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    """Headers as a response's start carries them: lowercase latin-1 names and values."""
    return tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())

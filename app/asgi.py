"""The base of the app's own middleware (`HTTPMiddleware`: HTTP requests are its business,
the lifespan and any other scope pass straight through), and the scope key that tells a
streamed response it goes out without a body. A leaf module: app.errors, app.middleware and
the exports import it, and it imports nothing of the app."""

from starlette.types import ASGIApp, Receive, Scope, Send

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

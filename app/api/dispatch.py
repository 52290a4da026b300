"""How a request finds its route: by its collection first, then among that collection's
few routes.

FastAPI 0.165 keeps an included router as one entry that re-matches its own routes, with
per-candidate scope bookkeeping, once to match and again to handle. With sixteen routers
under one prefix, a request for `/api/v1/metrics/KEY` tried eight of them (about 0.1 ms
of Python, a tenth of a detail read). So the API's routers carry the prefix themselves
and their routes go straight into the app's list (`flat_routes`), and the router is
wrapped (`dispatch_by_collection`, inside the exception handlers, as Starlette's router
middleware sits) in a layer that tries only the routes of the request path's first
segment. What that cannot settle (a wrong method, a path no route takes, a trailing
slash) falls through to the framework's matching, which answers it as before.
"""

from collections.abc import Iterable

from fastapi import APIRouter
from starlette._utils import get_route_path  # the path routes match: without root_path
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from ..paths import API_PREFIX
from .responses import RawJSON


def api_router(*tags: str) -> APIRouter:
    """A router whose routes carry the API prefix and the app's response class, so they
    can sit in the app's own list as they are (see `flat_routes`)."""
    return APIRouter(prefix=API_PREFIX, tags=list(tags), default_response_class=RawJSON)


def flat_routes(routers: Iterable[APIRouter]) -> list[BaseRoute]:
    """The routes of routers made by `api_router`, for the app's list: unlike
    `include_router`, which would wrap each router in an entry that matches again."""
    routes = [route for router in routers for route in router.routes]
    strays = [r for r in routes if not getattr(r, "path", "").startswith(API_PREFIX + "/")]
    if strays:
        raise ValueError(f"routes outside {API_PREFIX}: {strays}")
    return routes


def collection_of(path: str) -> str:
    """The first segment under the API prefix, without a format suffix: `metrics` for
    `/api/v1/metrics.csv` and `/api/v1/metrics/KEY`; '' outside the API."""
    if not path.startswith(API_PREFIX + "/"):
        return ""
    return path[len(API_PREFIX) + 1 :].partition("/")[0].partition(".")[0]


def by_collection(routes: Iterable[BaseRoute]) -> dict[str, list[BaseRoute]]:
    """The routes grouped by collection, each group in the app's order; those outside the
    API (the index, health, docs, static files) are the group ''. A route whose first
    segment is a parameter could match any collection's paths; there is none, and one
    added would be refused here rather than silently skipped."""
    groups: dict[str, list[BaseRoute]] = {}
    for route in routes:
        path = getattr(route, "path", "")
        name = collection_of(path)
        if name and ("{" in name or not isinstance(route, Route)):
            raise ValueError(f"{path}: the collection dispatch needs a literal first segment")
        groups.setdefault(name, []).append(route)
    return groups


def dispatch_by_collection(router: Router) -> None:
    """Put `ByCollection` in front of the router's own matching."""
    router.middleware_stack = ByCollection(router.middleware_stack, router)


class ByCollection:
    """A request whose path and method a route of its collection takes goes straight to
    that route; any other goes on to `app`, the router's own matching."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router
        self.groups: dict[str, list[BaseRoute]] | None = None

    def route_for(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        if self.groups is None:  # the routes are all added by the first request
            self.groups = by_collection(self.router.routes)
        for route in self.groups.get(collection_of(get_route_path(scope)), ()):
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                return route, child_scope
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.route_for(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        route, child_scope = found
        scope.setdefault("router", self.router)
        scope.update(child_scope)
        await route.handle(scope, receive, send)

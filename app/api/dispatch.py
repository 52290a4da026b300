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

Every data endpoint takes the request and returns a Response: it parses its own parameters
(app.query) and writes its own body. For those (`direct_endpoint`), the dispatch calls the
endpoint itself: FastAPI's per-request machinery around it (dependency solving, two exit
stacks, a second exception wrapper) was a sixth of a detail read's Python and did nothing
for them. Their exceptions go to the same handlers, through the app's ExceptionMiddleware,
with the request the dispatch matched (an export twin, which hands a copy of its scope to
the list, wraps that call itself: app.api.export_twins). A direct call does not consult
`app.dependency_overrides`; the app sets none (and the routes, made by `api_router`, never
had the app as their overrides provider).
"""

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette._utils import get_route_path  # the path routes match: without root_path
from starlette.requests import Request
from starlette.responses import Response
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


Endpoint = Callable[[Request], Awaitable[Response]]


def _takes_only_the_request(dependant: Dependant) -> bool:
    """A coroutine whose one parameter is the request: nothing for FastAPI to solve."""
    fields = (dependant.path_params, dependant.query_params, dependant.header_params,
              dependant.cookie_params, dependant.body_params)  # fmt: skip
    others = (dependant.websocket_param_name, dependant.http_connection_param_name,
              dependant.response_param_name, dependant.background_tasks_param_name,
              dependant.security_scopes_param_name)  # fmt: skip
    return (
        dependant.request_param_name is not None
        and not any(fields)
        and all(name is None for name in others)
        and inspect.iscoroutinefunction(dependant.call)
    )


def direct_endpoint(route: BaseRoute) -> Endpoint | None:
    """The endpoint of a route FastAPI need not call: it and its checks (route-level
    dependencies) each take only the request, and nothing validates its response. None
    for any other route, which FastAPI calls as usual."""
    if not isinstance(route, APIRoute) or route.response_model is not None:
        return None
    dependant = route.dependant
    checks = dependant.dependencies
    if not _takes_only_the_request(dependant) or not all(
        _takes_only_the_request(check) and not check.dependencies for check in checks
    ):
        return None
    calls: list[tuple[Any, str]] = [(c.call, str(c.request_param_name)) for c in checks]
    endpoint: Any = dependant.call
    name = str(dependant.request_param_name)

    async def call(request: Request) -> Response:
        for check, check_name in calls:
            await check(**{check_name: request})
        response = await endpoint(**{name: request})
        if not isinstance(response, Response):
            raise TypeError(f"{route.path} returned {type(response).__name__}, not a Response")
        return response

    return call


def dispatch_by_collection(router: Router) -> None:
    """Put `ByCollection` in front of the router's own matching. Called once every route
    is added: a route added later is still served, by the framework's matching."""
    router.middleware_stack = ByCollection(router.middleware_stack, router)


class ByCollection:
    """A request whose path and method a route of its collection takes goes straight to
    that route; any other goes on to `app`, the router's own matching, as does every
    request FastAPI's telemetry observes (it names the span after the route it selects)."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router
        self.groups = {
            name: [(route, direct_endpoint(route)) for route in routes]
            for name, routes in by_collection(router.routes).items()
        }

    def route_for(self, scope: Scope) -> tuple[BaseRoute, Scope, Endpoint | None] | None:
        """The route that takes the request, what matching it adds to the scope, and the
        endpoint to call directly if it has one (`direct_endpoint`)."""
        for route, endpoint in self.groups.get(collection_of(get_route_path(scope)), ()):
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                return route, child_scope, endpoint
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        observed = scope.get("fastapi.telemetry") is not None
        found = self.route_for(scope) if scope["type"] == "http" and not observed else None
        if found is None:
            await self.app(scope, receive, send)
            return
        route, child_scope, endpoint = found
        scope.setdefault("router", self.router)
        scope.update(child_scope)
        if endpoint is None:
            await route.handle(scope, receive, send)
            return
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

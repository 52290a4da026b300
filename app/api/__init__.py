"""The URL map: every resource, the nested lists and views each offers, and the tags, as data.

Routes, operation ids, the `/` index, a detail's links and counts and the OpenAPI tests
all read this one table (a resource missing here has no routes at all). Each router's routes
go into the app's own list, and a request is matched among its collection's only
(app.api.dispatch).
"""

import re
from collections.abc import Callable
from enum import StrEnum

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import compile_path

from ..paths import API_PREFIX
from . import comparisons, downloads, rankings, search, series
from .clusters import CLUSTERS
from .comparisons import COMPARISON
from .dispatch import api_router, collection_of, flat_routes
from .downloads import DOWNLOAD
from .export_twins import exportable as takes_format
from .export_twins import twin_routes
from .exports import ExportFile, ExportFormat
from .indicators import INDICATORS
from .metrics import METRICS
from .organizations import ORGANIZATIONS, RELATIONS
from .places import CITIES, PLACES
from .programs import PROGRAMS
from .rankings import RANKINGS_TAG
from .releases import CHANGES, RELEASES
from .resource import Mount, Nested
from .routing import add_resource_routes, item_model_of
from .search import SEARCH_TAG
from .service import SERVICE_TAG
from .sources import SOURCES
from .standings import STANDINGS


def _in_place(filter_name: str) -> tuple[Nested, ...]:
    """What a place offers below it: its metrics, clusters, programs and organizations."""
    return tuple(
        Nested(child, filter_name) for child in (METRICS, CLUSTERS, PROGRAMS, ORGANIZATIONS)
    )


URL_MAP: tuple[Mount, ...] = (
    Mount(CITIES, _in_place("city")),
    Mount(PLACES, _in_place("within"), views=(STANDINGS,)),
    Mount(CLUSTERS, (Nested(METRICS, "cluster"),)),
    Mount(PROGRAMS, (Nested(METRICS, "program", "List a program's metrics (its terms)"),)),
    Mount(ORGANIZATIONS),
    Mount(INDICATORS, (Nested(METRICS, "indicator", "List an indicator's metrics"),)),
    Mount(SOURCES, (Nested(METRICS, "source", "List the metrics a source states"),)),
    Mount(METRICS, views=(COMPARISON,)),
    Mount(RELATIONS),
    Mount(RELEASES, (Nested(CHANGES, "release", "List a release's changes"),), (DOWNLOAD,)),
    Mount(CHANGES),
)
# Routes that are not a resource's: they answer across resources.
OTHER_ROUTERS = (
    search.router,
    series.router,
    rankings.router,
    comparisons.router,
    downloads.router,
)

# The OpenAPI tags: the resources' own, in map order, then those of the other routes.
TAGS = [
    {"name": tag.name, "description": tag.description}
    for tag in dict.fromkeys(
        (*(mount.resource.tag for mount in URL_MAP), SEARCH_TAG, RANKINGS_TAG, SERVICE_TAG)
    )
]


def collections() -> dict[str, str]:
    """Each collection's URL, for the index at `/` and `/api/v1`."""
    return {mount.resource.name: f"{API_PREFIX}/{mount.resource.name}" for mount in URL_MAP}


def item_keys() -> dict[str, str]:
    """The surrogate key of an item by collection (`places` -> `place`), for the caches."""
    return {
        mount.resource.name: item
        for mount in URL_MAP
        if (item := mount.resource.cache_item) is not None
    }


def item_models() -> tuple[type[BaseModel], ...]:
    """The item of each resource's pages (a `fields=` page has a subset of it)."""
    return tuple(dict.fromkeys(item_model_of(mount.resource.page) for mount in URL_MAP))


def vocabularies() -> tuple[type[StrEnum], ...]:
    """The closed vocabularies query parameters take (every list filter's choices, the
    export formats), each one shared schema of the document that the parameters refer to."""
    found = (flt.vocabulary for mount in URL_MAP for flt in mount.resource.spec.filters)
    return tuple(dict.fromkeys(v for v in (*found, ExportFormat, ExportFile) if v is not None))


def include_api(app: FastAPI) -> Callable[[str], bool]:
    """Include every route under the API prefix, with the export twin of each list
    (app.api.export_twins), and return whether a path is one of the list routes or their
    twins, which also answer CSV and NDJSON (those documenting `format=`)."""
    routers = [*(api_router(mount.resource.tag.name) for mount in URL_MAP), *OTHER_ROUTERS]
    for router, mount in zip(routers, URL_MAP, strict=False):
        add_resource_routes(router, mount)
    routes = flat_routes(routers)
    app.router.routes.extend(routes)
    lists = [route.path for route in routes if isinstance(route, APIRoute) and takes_format(route)]
    twins = twin_routes(lists, app.router)
    app.router.routes.extend(twins)
    patterns = [compile_path(path)[0] for path in lists] + [twin.path_regex for twin in twins]
    by_collection: dict[str, list[re.Pattern[str]]] = {}
    for path, pattern in zip([*lists, *(twin.path for twin in twins)], patterns, strict=True):
        by_collection.setdefault(collection_of(path), []).append(pattern)

    def exportable(path: str) -> bool:
        """Asked on every request (the validators key the representation by it): only
        the patterns of the path's own collection are tried, not all fifty."""
        candidates = by_collection.get(collection_of(path), ())
        return any(pattern.match(path) for pattern in candidates)

    return exportable

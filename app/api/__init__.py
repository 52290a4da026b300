"""The URL map: one line per resource, all under /api/v1.

Each resource router is included into the app directly (not through an intermediate
router), so matching a request walks one level of routes.
"""

from fastapi import FastAPI

from app.api import (
    clusters,
    comparisons,
    indicators,
    metrics,
    organizations,
    places,
    programs,
    rankings,
    relations,
    search,
    series,
    sources,
)

API_PREFIX = "/api/v1"
ROUTERS = (
    metrics.router,
    places.router,
    clusters.router,
    programs.router,
    organizations.router,
    indicators.router,
    sources.router,
    relations.router,
    search.router,
    series.router,
    rankings.router,
    comparisons.router,
)


def include_api(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)

"""The URL map: one include line per resource, all under /api/v1."""

from fastapi import APIRouter

from app.api import clusters, indicators, metrics, organizations, places, programs, sources

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(places.router)
api_router.include_router(clusters.router)
api_router.include_router(programs.router)
api_router.include_router(organizations.router)
api_router.include_router(indicators.router)
api_router.include_router(sources.router)
api_router.include_router(metrics.router)

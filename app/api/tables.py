"""The Core tables, as the routers name them (`t.place`); defined in app.query.tables."""

from app.query.tables import (
    cluster,
    indicator,
    observation,
    organization,
    place,
    place_ancestor,
    program,
    program_place,
    relation,
    source,
)

__all__ = [
    "cluster",
    "indicator",
    "observation",
    "organization",
    "place",
    "place_ancestor",
    "program",
    "program_place",
    "relation",
    "source",
]

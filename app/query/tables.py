"""The Core `Table` objects the read API queries (it builds SQL, not ORM objects, so rows
go straight to JSON). Here, not under app.api, so the query modules can read them without
importing the API package, whose routers import those modules."""

from sqlalchemy import Table
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables on the metadata)


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


cluster = _table("cluster")
indicator = _table("indicator")
observation = _table("observation")
organization = _table("organization")
place = _table("place")
place_ancestor = _table("place_ancestor")
program = _table("program")
program_place = _table("program_place")
relation = _table("relation")
source = _table("source")

"""The Core tables, as the routers name them (`t.place`; defined in app.query.tables), and
the tables whose rows are facts taken from a source."""

from sqlalchemy import Table
from sqlmodel import SQLModel

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
    "FACT_TABLES",
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


def _cites_source(table: Table) -> bool:
    return "source_id" in table.c and any(
        key.column.table.name == "source" for key in table.c.source_id.foreign_keys
    )


# The tables whose rows are facts taken from a source, by the plural a source's detail
# counts them under: a new kind of fact is counted (and documented) without a mention here.
FACT_TABLES: dict[str, Table] = {
    f"{table.name}s": table for table in SQLModel.metadata.sorted_tables if _cites_source(table)
}

"""The Core `Table` objects that queries and the loader's marking statements use (they
build SQL, not ORM objects, so rows go straight to JSON), as `t.place` and so on, and the
tables whose rows are facts taken from a source. Importing this module imports app.models,
which registers every table on the metadata."""

from sqlalchemy import Table
from sqlmodel import SQLModel


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


cluster = _table("cluster")
former_code = _table("former_code")
indicator = _table("indicator")
observation = _table("observation")
organization = _table("organization")
place = _table("place")
place_ancestor = _table("place_ancestor")
program = _table("program")
program_place = _table("program_place")
relation = _table("relation")
release = _table("release")
release_change = _table("release_change")
release_file = _table("release_file")
release_source = _table("release_source")
release_table = _table("release_table")
source = _table("source")


def _cites_source(table: Table) -> bool:
    return "source_id" in table.c and any(
        key.column.table.name == "source" for key in table.c.source_id.foreign_keys
    )


# The tables whose rows are facts taken from a source, by the name a source's detail counts
# them under (each table states it: app.models.evidence.counted_as), so a new kind of fact
# is counted and documented without a mention here.
FACT_TABLES: dict[str, Table] = {
    table.info["plural"]: table for table in SQLModel.metadata.sorted_tables if _cites_source(table)
}

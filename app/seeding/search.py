"""The search entries, rebuilt from the loaded rows: one per place, cluster, program,
organization, indicator and source, and per metric stated in a document's sentence, with
every name folded for matching."""

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlmodel import SQLModel

from ..facts.names import squash
from ..facts.search import SEARCHED, Searched, fold, shown_name

BATCH = 2000


def _entries(connection: Connection) -> Iterator[dict[str, Any]]:
    tables = SQLModel.metadata.tables
    for searched in SEARCHED:
        kind, key, name, local = searched.kind, searched.key, searched.name, searched.name_local
        table = tables[searched.table]
        columns = [table.c[key].label("key"), table.c[name].label("name")]
        if local is not None:
            columns.append(table.c[local].label("name_local"))
        if kind != "source":
            columns.append(table.c.id.label("entity_id"))
        columns += [table.c[column].label(f"also_{column}") for column in searched.also]
        elsewhere = _names_elsewhere(connection, searched)
        statement = select(*columns).order_by(table.c[key])
        if searched.only_with is not None:
            statement = statement.where(table.c[searched.only_with].is_not(None))
        for row in connection.execute(statement).mappings():
            if row["name"] is None:
                continue  # an untitled source has no name to find it by
            name_local = row.get("name_local")
            names = [fold(row["name"]), fold(name_local),
                     fold(row["key"]) if searched.keyed else None,
                     *(fold(row[f"also_{column}"]) for column in searched.also),
                     *elsewhere.get(row.get("entity_id"), ())]  # fmt: skip
            # and each squashed as a query is (app.query.search.squashed): "Chang zhi" and
            # "hefei city" find Changzhi and Hefei
            names += [squash(n)[0] for n in names if n]
            yield {
                "kind": kind,
                "key": row["key"],
                "entity_id": row.get("entity_id"),
                "name": shown_name(row["name"]),
                "name_local": name_local,
                "name_folded": fold(shown_name(row["name"])),
                "local_folded": fold(name_local),
                "folded": "\n".join(dict.fromkeys(n for n in names if n)),
            }


def _names_elsewhere(connection: Connection, searched: Searched) -> dict[Any, list[str]]:
    """What other tables know each record by (`Searched.also_in`), by the record's id."""
    names: dict[Any, list[str]] = {}
    for table_name, refers, column in searched.also_in:
        table = SQLModel.metadata.tables[table_name]
        statement = select(table.c[refers], table.c[column]).order_by(table.c[column])
        for record_id, name in connection.execute(statement):
            names.setdefault(record_id, []).append(fold(name) or "")
    return names


ENTRY_COLUMNS = (
    "kind", "key", "entity_id", "name", "name_local", "name_folded", "local_folded", "folded",
)  # fmt: skip


def rebuild_search(connection: Connection) -> int:
    """Make the search entries those the tables imply, and return how many were written or
    removed.

    Only the entries that changed are: an unchanged entry keeps its row and id, so a load
    that changed nothing leaves the database as it was, and a kept release's delta
    (app.seeding.archive) holds only the entries that changed. Then the SQLite FTS5 index
    (external content) is rebuilt from them: a few thousand rows, well under a second."""
    table = SQLModel.metadata.tables["search_entry"]
    present = connection.execute(select(table.c.id, *(table.c[n] for n in ENTRY_COLUMNS))).all()
    unchanged: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for row in present:  # compared in Python's order, not the database collation's
        unchanged[tuple(row[1:])].append(row[0])
    fresh = []
    for entry in _entries(connection):
        ids = unchanged.get(tuple(entry[n] for n in ENTRY_COLUMNS))
        if ids:
            ids.pop()
        else:
            fresh.append(entry)
    stale = [id_ for ids in unchanged.values() for id_ in ids]
    if not stale and not fresh:
        return 0
    for start in range(0, len(stale), BATCH):
        connection.execute(delete(table).where(table.c.id.in_(stale[start : start + BATCH])))
    for start in range(0, len(fresh), BATCH):
        connection.execute(insert(table), fresh[start : start + BATCH])
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            "INSERT INTO search_entry_fts(search_entry_fts) VALUES('rebuild')"
        )
    return len(stale) + len(fresh)

"""Path keys: the one rule for a key in a path, the row it names (or the 308 to its
canonical URL, or the one 404), and how the key is documented, for detail, nested list and
nested view routes alike."""

import re
from typing import Any

from sqlalchemy import Connection, select
from sqlmodel import SQLModel

from ..errors import InvalidParameter, Moved, ProblemError, shown
from ..query.names import (
    SUGGESTIONS,
    Candidate,
    candidate,
    closest,
    memoised,
    same,
)
from ..query.statements import fetch_all, fetch_one, slot
from .resource import SLUG_PATTERN, Found, PathKey, Resource

SLUG_PATTERN_RE = re.compile(SLUG_PATTERN)


def key_doc(resource: Resource) -> str:
    key = resource.path_key
    alias = f", or its {key.alias}" if key.alias else ""
    prefix = f", or its first {key.prefix} or more characters" if key.prefix else ""
    return f"The {resource.noun}'s {key.column}{alias}{prefix}."


def check_path_key(key: PathKey, value: str, name: str) -> str:
    """The one rule for a key in a path, before any database is read: a value longer than
    any key or name names nothing (404 without a search for what it meant)."""
    if len(value) > key.max_length or not value.isprintable():
        raise ProblemError(
            404, "not-found", f"{name}: {shown(value)} names nothing here",
            [InvalidParameter(name, f"more than {key.max_length} characters, or not printable",
                            "path")],
        )  # fmt: skip
    return value


def find(connection: Connection, resource: Resource, value: str, name: str) -> Found:
    """The row a path key names by its key; a key given another way (capitals, a name in
    either script, a division code) is a 308 to the canonical URL when it names one row,
    and a 404 listing the rows it names, or the nearest, otherwise."""
    key = resource.path_key
    if SLUG_PATTERN_RE.match(value) is not None:
        row = _by_column(connection, resource, key.column, value)
        if row is not None:
            return Found(row["id"], row["key"])
        if key.prefix and len(value) >= key.prefix:
            rows = _by_prefix(connection, resource, value)
            if len(rows) == 1:
                return Found(rows[0]["id"], rows[0]["key"])
    if key.alias is not None and re.fullmatch(key.alias_pattern or "", value) is not None:
        row = _by_column(connection, resource, key.alias, value)
        if row is not None:
            raise Moved(name, row["key"])
        if key.former is not None:
            moved = _former(connection, resource, key.former, value, name)
            if moved is not None:
                raise moved
    lowered = value.strip().lower()
    if lowered != value and SLUG_PATTERN_RE.match(lowered) is not None:
        row = _by_column(connection, resource, key.column, lowered)
        if row is not None:
            raise Moved(name, row["key"])
    raise _named(connection, resource, value, name)


def _by_column(connection: Connection, resource: Resource, column: str, value: str) -> Any:
    def build() -> Any:
        table = resource.table
        return (
            select(table.c.id, table.c[resource.path_key.column].label("key"))
            .where(table.c[column] == slot("key"), *resource.spec.scope)
            .limit(1)
        )

    return fetch_one(connection, ("find", resource.name, column), build, {"key": value})


def _former(
    connection: Connection, resource: Resource, former: str, value: str, name: str
) -> Moved | ProblemError | None:
    """What an old code names today, saying so: a 308 to the one row whose area had it, or
    a 404 listing the rows it was split among; None when no row had it. A code given to
    several divisions in turn (362302: 鹰潭市, then 德兴市) answers for its latest use."""
    table, old = resource.table, SQLModel.metadata.tables[former]

    def build() -> Any:
        return (
            select(table.c[resource.path_key.column].label("key"),
                   table.c[resource.path_key.alias or ""].label("now"),
                   old.c.name_local, old.c.year, old.c.valid_from, old.c.valid_to,
                   old.c.change, old.c.source_id, old.c.locator_row)
            .join(old, old.c.place_id == table.c.id)
            .where(old.c.code == slot("code"), *resource.spec.scope)
            .order_by(old.c.year.desc(), old.c.source_id, old.c.locator_row,
                      table.c[resource.path_key.column])
            .limit(50)
        )  # fmt: skip

    rows = fetch_all(connection, ("former", resource.name), build, {"code": value})
    if not rows:
        return None
    latest = rows[0]
    use = [
        r
        for r in rows
        if (r["source_id"], r["locator_row"]) == (latest["source_id"], latest["locator_row"])
    ]
    keys = list(dict.fromkeys(row["key"] for row in use))
    if len(keys) == 1:
        note = f"{value} is a former code: {_was(latest, rows)}; {_now(latest, resource.noun)}"
        return Moved(name, latest["key"], note)
    listed = ", ".join(keys[:MAX_LISTED]) + (", …" if len(keys) > MAX_LISTED else "")
    why = f"{value} is a former code: {_was(latest, rows)}; its area is now in {listed}"
    return ProblemError(404, "not-found", f"{name}: {why}",
                        [InvalidParameter(name, why, "path", keys[:MAX_LISTED])])  # fmt: skip


def _was(latest: Any, rows: list[Any]) -> str:
    """What the source of the code's latest use says of it: the years the history gives,
    or the years of the tables that give the same division under it."""
    if latest["valid_from"] is not None:
        return (
            f"{latest['source_id']} gives {latest['name_local']} under it from"
            f" {latest['valid_from']} until {latest['valid_to']}"
        )
    tables = {
        row["year"] for row in rows if row["valid_from"] is None and row["key"] == latest["key"]
    }
    years = " and ".join(str(year) for year in sorted(tables))
    return f"{latest['source_id']} gives {latest['name_local']} under it in {years}"


_NOW = {
    "recoded": "that {noun} is {key}, code {now} today",
    "merged": "it was merged into {key}, code {now} today",
    "split": "part of it is {key}, code {now} today",
}


def _now(row: Any, noun: str) -> str:
    return _NOW.get(row["change"], _NOW["recoded"]).format(
        noun=noun, key=row["key"], now=row["now"]
    )


def _by_prefix(connection: Connection, resource: Resource, value: str) -> list[Any]:
    """The rows whose key starts with `value` (two at most: one is an answer, two are not)."""

    def build() -> Any:
        table, column = resource.table, resource.table.c[resource.path_key.column]
        return (
            select(table.c.id, column.label("key"))
            .where(column.startswith(slot("key"), escape="\\"), *resource.spec.scope)
            .limit(2)
        )

    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return fetch_all(connection, ("prefix", resource.name), build, {"key": escaped})


def _named(connection: Connection, resource: Resource, value: str, name: str) -> Exception:
    """What a value that is no key names among the resource's rows, by the search entries:
    a `Moved` for one row, a 404 listing the rows (several) or the nearest (none)."""
    searched = resource.search
    if searched is None:
        return _no_such(resource, value, name, [])
    table, entry = resource.table, SQLModel.metadata.tables["search_entry"]

    def build() -> Any:
        return (
            select(entry.c.key, entry.c.name, entry.c.name_local, entry.c.folded)
            .join(table, table.c[resource.path_key.column] == entry.c.key)
            .where(entry.c.kind == slot("kind"), *resource.spec.scope)
        )

    def read() -> list[Candidate]:
        rows = fetch_all(connection, ("named", resource.name), build, {"kind": searched.kind})
        return [
            candidate(r["key"], [r["name"], r["name_local"], *r["folded"].split("\n")])
            for r in rows
        ]

    ranked = closest(value, memoised(connection, ("named", resource.name), read))
    named = same(ranked)
    if len(named) == 1:
        return Moved(name, named[0])
    if named:
        listed = ", ".join(named[:MAX_LISTED]) + (", …" if len(named) > MAX_LISTED else "")
        why = f"{shown(value)} names {len(named)} {resource.name}: {listed}"
        return ProblemError(404, "not-found", f"{name}: {why}",
                            [InvalidParameter(name, why, "path", named[:MAX_LISTED])])  # fmt: skip
    return _no_such(resource, value, name, [key for _, key in ranked[:SUGGESTIONS]])


MOVED_NOTE = (
    "Given another way (capitals, a name in English or Chinese, a division code) the key"
    " answers 308 to the canonical URL when it names one row, else 404 listing the rows it"
    " names or the nearest."
)
MAX_LISTED = 20  # rows a 404 lists for a name several share (there are many 朝阳区)


def _no_such(resource: Resource, value: str, name: str, near: list[str]) -> ProblemError:
    why = f"no {resource.noun} {shown(value)}"
    if near:
        why += f"; did you mean {' or '.join(near)}?"
    return ProblemError(404, "not-found", why, [InvalidParameter(name, why, "path", near)])


def path_parameter_doc(key: PathKey, name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"{description} {MOVED_NOTE}",
        "schema": {"type": "string", "minLength": 1, "maxLength": key.max_length},
        "example": key.example,
    }

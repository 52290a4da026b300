"""Filter clauses that go through another table: slugs to ids, places to their ancestors.

Each returns `column IN (subquery)`, which keeps the outer query on its own indexes.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Table, select

from app.api import tables

Clause = Callable[[str, list[Any]], ColumnElement[bool]]


def by_key(
    column: ColumnElement[Any], table: Table, key: str = "slug", *, unique: bool = True
) -> Clause:
    """`column` references `table.id`; match rows whose referenced `key` is one of the values.
    `unique` says `key` identifies one row (a slug, a code), not a group (a category)."""

    def clause(_operator: str, values: list[Any]) -> ColumnElement[bool]:
        if unique and len(values) == 1:
            # Equality with a scalar subquery lets a composite index on `column` also give
            # the sort order; IN (subquery) would make SQLite sort the matches itself.
            return column == select(table.c.id).where(table.c[key] == values[0]).scalar_subquery()
        return column.in_(select(table.c.id).where(table.c[key].in_(values)))

    return clause


def within(place_column: ColumnElement[Any], levels: tuple[str, ...] | None = None) -> Clause:
    """Places that are one of the named places or lie inside them (optionally of given levels)."""

    def clause(_operator: str, values: list[Any]) -> ColumnElement[bool]:
        ancestor = tables.place.alias("ancestor")
        places = (
            select(tables.place_ancestor.c.place_id)
            .join(ancestor, ancestor.c.id == tables.place_ancestor.c.ancestor_id)
            .where(ancestor.c.slug.in_(values))
        )
        if levels is not None:
            places = places.where(ancestor.c.level.in_(levels))
        return place_column.in_(places)

    return clause

"""The lists of records that have a home place and a source: clusters, programs and
organizations.

Each such record is read the same way (slug, name, its own columns, its place, the source's
provenance) and its list has the same frame: search, slug and name first, then its own
filters, then the four filters on its place; sorted by name, slug or one field of its own;
counted by its own fields, its place and that place's province. Only what differs is given
by each resource.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.sql import FromClause

from ..facts.search import BY_KIND
from ..models import tables as t
from ..paths import API_PREFIX
from ..query import TEXT_OPERATORS, Filter, ListSpec, Sort
from ..query.facets import Facet, province_facet
from ..query.lookups import place_filters
from ..query.search import search_filter
from .shapes import Row, labelled, provenance, provenance_columns


@dataclass(frozen=True)
class HomePlace:
    """How one list speaks of its records' home place: the descriptions of its `place`,
    `city` and `within` filters, their examples and the `province` one's, and what its
    `place` facet counts by."""

    place: str
    city: str
    anywhere: str
    examples: tuple[str, str, str, str]  # place, city, province, within
    facet: str


def located_filters(column: ColumnElement[Any], home: HomePlace) -> tuple[Filter, ...]:
    """`place`, the home place exactly; `city`, `province` and `within`, that place or one
    inside it."""
    place, city, province, anywhere = home.examples
    return place_filters(
        column,
        (
            ("place", home.place, place),
            ("city", home.city, city),
            ("province", "Province slug.", province),
            ("within", home.anywhere, anywhere),
        ),
    )


def located_select(
    table: Table, home: FromClause, *own: ColumnElement[Any], optional: bool = False
) -> Select[Any]:
    """The record's slug, name and `own` columns, its home place (`home`, an alias of the
    place table, as `place_*`) and its source's provenance. A record whose place is
    `optional` is kept without one."""
    at_home = home.c.id == table.c.place_id
    placed = table.outerjoin(home, at_home) if optional else table.join(home, at_home)
    return select(
        table.c.slug,
        table.c.name,
        *own,
        *labelled("place", home, "slug", "name", "level"),
        *provenance_columns(table, t.source),
    ).select_from(placed.join(t.source, t.source.c.id == table.c.source_id))


def located_item(row: Row, collection: str, **own: Any) -> dict[str, Any]:
    """A record as its list serves it: slug and name, its `own` fields in the order given
    (its place among them), then its provenance and its URL."""
    return {
        "slug": row["slug"],
        "name": row["name"],
        **own,
        "provenance": provenance(row),
        "url": f"{API_PREFIX}/{collection}/{row['slug']}",
    }


@dataclass(frozen=True)
class Located:
    """What one list of located records declares beyond the shared frame."""

    name: str  # the collection: clusters
    noun: str  # one record, as the search and the slug filter name it: cluster
    table: Table
    base: Callable[[], Select[Any]]
    schema: type[BaseModel]
    serialize: Callable[[Row], dict[str, Any]]
    examples: tuple[str, str]  # of the slug and name filters
    home: HomePlace
    own: tuple[Filter, ...]  # between `name` and the place filters
    sort: Sort  # the third sort, after name and slug
    facets: tuple[Facet, ...]  # before the place and province ones
    more: tuple[Filter, ...] = ()  # after the place filters


def located_spec(located: Located) -> ListSpec:
    """The list of `located` records, in the shared frame."""
    table, (slug_example, name_example) = located.table, located.examples
    column = table.c.place_id
    return ListSpec(
        name=located.name,
        base=located.base,
        id_column=table.c.id,
        filters=(
            search_filter(BY_KIND[located.noun], table.c.id),
            Filter(
                "slug",
                f"{located.noun.capitalize()} slug.",
                column=table.c.slug,
                example=slug_example,
            ),
            Filter(
                "name", "Name.", operators=TEXT_OPERATORS, column=table.c.name, example=name_example
            ),
            *located.own,
            *located_filters(column, located.home),
            *located.more,
        ),
        sorts=(Sort("name", table.c.name, str), Sort("slug", table.c.slug, str), located.sort),
        default_sort=("name",),
        fields=tuple(located.schema.model_fields),
        serialize=located.serialize,
        facets=(
            *located.facets,
            Facet("place", located.home.facet, column, labels=t.place),
            province_facet(column, t.place),
        ),
    )

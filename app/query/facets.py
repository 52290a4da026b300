"""Facets: how many rows of a list have each value of a field, under the list's filters.

`facets=indicator,year` on a list adds, for each named facet, its most frequent values
with their counts (Datasette-style), so a client can build filter menus that show what a
choice would leave. Bounded three ways: at most FACET_ROWS matching rows are counted (past
that the counts are lower bounds, `exact: false`), at most FACET_SIZE values are returned
per facet (`truncated` says there were more), and the whole request runs under the list's
time budget. Facets whose values are ids (a place, an indicator) are labelled with the
key and name a client filters by.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    FromClause,
    Select,
    Table,
    case,
    func,
    select,
)

from ..errors import parameter_problem
from ..models.vocabulary import PROVINCE_LEVELS
from .expressions import IdSet
from .plan import Term
from .spec import Condition, ListSpec
from .statements import STATEMENTS, fetch, slot
from .terms import NothingMatches, id_set_value, terms_for

FACET_ROWS = 100_000
FACET_SIZE = 30
MAX_FACETS = 6


@dataclass(frozen=True)
class Facet:
    """A field to count by: `value` (on the list's table, or on tables `joins` adds), and
    for ids, the `labels` table whose `key` and name say what the id is."""

    name: str
    description: str
    value: ColumnElement[Any]
    joins: Callable[[FromClause], FromClause] | None = None
    labels: Table | None = None
    key: str = "slug"


def parse_facets(spec_facets: Sequence[Facet], raw: str | None) -> list[Facet]:
    if raw is None:
        return []
    names = list(dict.fromkeys(name.strip() for name in raw.split(",")))
    by_name = {facet.name: facet for facet in spec_facets}
    unknown = [name for name in names if name not in by_name]
    if unknown or not names:
        allowed = ", ".join(by_name) or "none"
        raise parameter_problem(
            "facets", f"unknown facet(s) {', '.join(map(repr, unknown))}; facets here: {allowed}"
        )
    if len(names) > MAX_FACETS:
        raise parameter_problem("facets", f"at most {MAX_FACETS} facets at once")
    return [by_name[name] for name in names]


def _statement(spec: ListSpec, facet: Facet, terms: Sequence[Term]) -> Select[Any]:
    table = spec.id_column.table
    source: FromClause = table if facet.joins is None else facet.joins(table)
    conditions = [*spec.scope, *(term.condition(True) for term in terms)]
    inner = (
        select(facet.value.label("value"))
        .select_from(source)
        .where(*conditions)
        .limit(slot("facet_rows"))
        .subquery()
    )
    count = func.count().label("count")
    return (
        select(inner.c.value, count)
        .group_by(inner.c.value)
        .order_by(count.desc(), inner.c.value)
        .limit(slot("facet_size"))
    )


def _labels(connection: Connection, facet: Facet, ids: list[Any]) -> dict[Any, dict[str, Any]]:
    table = facet.labels
    if table is None or not ids:
        return {}
    label = "title" if "name" not in table.c else "name"
    prepared = STATEMENTS.get(
        connection,
        ("facet-labels", table.name, facet.key),
        lambda: select(table.c.id, table.c[facet.key].label("key"), table.c[label].label("name"))
        .where(IdSet(table.c.id, slot("ids"))),
    )  # fmt: skip
    rows = fetch(connection, prepared, {"ids": id_set_value(connection, ids)})
    return {row["id"]: {"key": row["key"], "name": row["name"]} for row in rows}


def _matching_rows(
    connection: Connection, spec: ListSpec, terms: Sequence[Term], values: dict[str, Any]
) -> int:
    """How many rows match, counting no further than FACET_ROWS + 1."""

    def build() -> Select[Any]:
        table = spec.id_column.table
        conditions = [*spec.scope, *(term.condition(True) for term in terms)]
        inner = select(table.c.id).where(*conditions).limit(slot("facet_rows")).subquery()
        return select(func.count().label("total")).select_from(inner)

    shape = ("facet-rows", spec.name, tuple(t.key for t in terms))
    prepared = STATEMENTS.get(connection, shape, build)
    return int(fetch(connection, prepared, {**values, "facet_rows": FACET_ROWS + 1})[0]["total"])


def _values(
    connection: Connection, facet: Facet, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    if facet.labels is None:
        # a boolean column reads as 0 and 1 on SQLite: counted by true and false on both
        flag = isinstance(facet.value.type, Boolean)
        return [
            {"value": _flag(row["value"]) if flag else row["value"], "count": int(row["count"])}
            for row in rows
        ]
    labels = _labels(connection, facet, [r["value"] for r in rows if r["value"] is not None])
    items = []
    for row in rows:
        label = labels.get(row["value"], {"key": None, "name": None})
        items.append({"value": label["key"], "name": label["name"], "count": int(row["count"])})
    return items


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def count_facets(
    connection: Connection,
    spec: ListSpec,
    filters: Sequence[Condition],
    facets: Sequence[Facet],
) -> dict[str, Any]:
    """Each facet's most frequent values and their counts under `filters` (with the fixed
    ones of a nested view), over at most FACET_ROWS matching rows."""
    try:
        terms = terms_for(connection, spec, filters)
    except NothingMatches:
        empty = {"values": [], "truncated": False}
        return {"rows": 0, "exact": True, "counts": {f.name: empty for f in facets}}
    values = {name: value for term in terms for name, value in term.values.items()}
    rows_matched = _matching_rows(connection, spec, terms, values)
    counts: dict[str, Any] = {}
    for facet in facets:
        prepared = STATEMENTS.get(
            connection,
            ("facet", spec.name, facet.name, tuple(t.key for t in terms)),
            lambda facet=facet: _statement(spec, facet, terms),  # type: ignore[misc]
        )
        limits = {"facet_rows": FACET_ROWS, "facet_size": FACET_SIZE + 1}
        rows = fetch(connection, prepared, {**values, **limits})
        counts[facet.name] = {
            "values": _values(connection, facet, rows[:FACET_SIZE]),
            "truncated": len(rows) > FACET_SIZE,
        }
    return {
        "rows": min(rows_matched, FACET_ROWS),
        "exact": rows_matched <= FACET_ROWS,
        "counts": counts,
    }


def facets_parameter(facets: Sequence[Facet]) -> list[dict[str, Any]]:
    """The OpenAPI description of `facets=` for a list that has facets."""
    if not facets:
        return []
    names = "|".join(f.name for f in facets)
    listed = "; ".join(f"`{f.name}`: {f.description}" for f in facets)
    return [
        {
            "name": "facets",
            "in": "query",
            "required": False,
            "description": f"Count the matching rows by these fields (comma-separated, at most"
            f" {MAX_FACETS}), returned in `meta.facets`: the {FACET_SIZE} most frequent values"
            f" of each, over at most {FACET_ROWS:,} matching rows (JSON pages only). {listed}.",
            "schema": {
                "type": "string",
                "pattern": f"^({names})(,({names})){{0,{MAX_FACETS - 1}}}$",
            },
            "example": ",".join(f.name for f in facets[:2]),
        }
    ]


def province_of(place: Any) -> ColumnElement[Any]:
    """The province of a place row: itself for a province, as the `province` filter has it."""
    return case((place.c.level.in_(PROVINCE_LEVELS), place.c.id), else_=place.c.province_id)


def province_facet(place_id: ColumnElement[Any], places: Table) -> Facet:
    """Counts by the province of the place in `place_id`."""
    home = places.alias("facet_home")
    return Facet(
        "province",
        "the province the row's place lies in",
        province_of(home),
        joins=lambda table: table.join(home, home.c.id == place_id),
        labels=places,
    )

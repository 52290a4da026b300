"""Lookup filters: keys of other tables, resolved to the ids the list's own column holds.

Each helper returns a `Lookup` whose statement, given the filter's values as bound
parameters, selects the matching ids, labelled `id`.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, literal_column, select, union
from sqlmodel import SQLModel

from .. import models  # noqa: F401  (registers the tables)
from ..facts.search import SEARCHED
from ..models.vocabulary import CITY_LEVELS, PROVINCE_LEVELS, PlaceLevel
from .names import Names
from .spec import Filter, Keys, Lookup

# The search entries' kind of each searched table, for the suggestions of a refusal.
_SEARCH_KINDS = {(entry.table, entry.key): entry.kind for entry in SEARCHED}


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def names(table: Table, key: str = "slug", noun: str | None = None) -> Names:
    """Rows of `table` named by `key`, suggested from the search entries when it is the key
    they are searched by (a group, such as a category, from its own values)."""
    search = _SEARCH_KINDS.get((table.name, key))
    return Names(table.name, key, noun or table.name, search)


def by_key(table: Table, key: str = "slug", noun: str | None = None) -> Lookup:
    """Rows of `table` whose `key` is one of the values (a slug, a code, or a group such as an
    indicator category, `noun` naming it)."""

    def ids(keys: Keys) -> Select[Any]:
        return select(table.c.id.label("id")).where(table.c[key].in_(keys))

    return Lookup(ids, names(table, key, noun), lambda: select(table.c.id.label("id")))


def within(levels: tuple[str, ...] | None = None) -> Lookup:
    """Places that are one of the named places or lie inside them; with `levels`, only named
    places of those levels count (a `city=` filter names cities)."""

    def ids(keys: Keys) -> Select[Any]:
        place, place_ancestor = _table("place"), _table("place_ancestor")
        ancestor = place.alias("ancestor")
        statement = (
            select(place_ancestor.c.place_id.label("id"))
            .join(ancestor, ancestor.c.id == place_ancestor.c.ancestor_id)
            .where(ancestor.c.slug.in_(keys))
        )
        if levels is not None:
            statement = statement.where(ancestor.c.level.in_(levels))
        return statement

    nouns: dict[tuple[str, ...], str] = {CITY_LEVELS: "city", PROVINCE_LEVELS: "province"}
    noun = nouns.get(levels or (), "place")
    named = Names("place", "slug", noun, "place", None if levels is None else tuple(levels))
    return Lookup(ids, named, lambda: select(_table("place").c.id.label("id")))


# The filters on a place column, each named for how the place it names relates to the
# row's: `place`, the row's place itself; `city`, `province` and `within`, a place (of those
# levels, or of any) that the row's place is or lies in.
_PLACE_RELATIONS: dict[str, tuple[PlaceLevel, ...] | None] = {
    "city": CITY_LEVELS,
    "province": PROVINCE_LEVELS,
    "within": None,
}


def place_lookup(relation: str) -> Lookup:
    """How the filter named for `relation` (`place`, `city`, `province` or `within`) looks
    up the places its slugs name."""
    if relation == "place":
        return by_key(_table("place"))
    return within(_PLACE_RELATIONS[relation])


def place_filters(
    column: ColumnElement[Any], described: Sequence[tuple[str, str, str]]
) -> tuple[Filter, ...]:
    """Filters on the place in `column`, given as (relation, description, example)."""
    return tuple(
        Filter(relation, text, column=column, lookup=place_lookup(relation), example=example)
        for relation, text, example in described
    )


def through(
    target: ColumnElement[Any],
    link: ColumnElement[Any],
    other: Table,
    key: str,
    *conditions: ColumnElement[bool],
) -> Lookup:
    """The `target` ids of linking rows whose `link` column points at a row of `other` with
    one of the values as its `key`, under `conditions` (a role, say)."""

    def ids(keys: Keys) -> Select[Any]:
        return (
            select(target.label("id"))
            .join(other, other.c.id == link)
            .where(other.c[key].in_(keys), *conditions)
        )

    return Lookup(ids, names(other, key))


def covering() -> Lookup:
    """Programs that cover one of the named places: located at the place, at a place that
    contains it (a national program covers Hubei) or inside it (Daye's plan concerns
    Hubei), or linked to any of those places (a candidate, a participant, a scope)."""

    def ids(keys: Keys) -> Select[Any]:
        named = select(_table("place").c.id).where(_table("place").c.slug.in_(keys))
        return programs_at(covered_places(named))

    return Lookup(ids, names(_table("place")))


def coverage(named: Select[Any]) -> Select[Any]:
    """Each (program `id`, `via`) by which a program covers one of the `named` places: at
    it (`place`), at a place inside it (`inside`) or containing it (`ancestor`), or linked
    in a role (`candidate`, `participant`, `scope`) to it or a place around it. A program
    covering a place several ways has a row for each."""
    closure, program, link = _table("place_ancestor"), _table("program"), _table("program_place")
    inside = select(closure.c.place_id).where(closure.c.ancestor_id.in_(named))
    around = select(closure.c.ancestor_id).where(closure.c.place_id.in_(named))
    located = [
        select(program.c.id.label("id"), literal_column(f"'{via}'").label("via")).where(
            program.c.place_id.in_(places), *([] if via == "place" else
                                              [program.c.place_id.not_in(named)]))
        for via, places in (("place", named), ("inside", inside), ("ancestor", around))
    ]  # fmt: skip
    linked = select(link.c.program_id.label("id"), link.c.role.label("via")).where(
        link.c.place_id.in_(select(covered_places(named).c.id))
    )
    return select(union(*located, linked).subquery("coverage"))


def covering_via() -> Lookup:
    """`via=` beside `covers=`: the programs that cover the places `covers` names in one of
    the ways named (app.models.vocabulary.CoverageVia)."""
    place = _table("place")

    def paired(ways: Keys, places: Keys) -> Select[Any]:
        ways_of = coverage(select(place.c.id).where(place.c.slug.in_(places))).subquery()
        return select(ways_of.c.id).where(ways_of.c.via.in_(ways))

    def unpaired(_keys: Keys) -> Select[Any]:
        raise AssertionError("via= is resolved with covers=")

    return Lookup(unpaired, needs="covers", paired=paired)


def covered_places(named: Select[Any]) -> Any:
    """The named places, the places containing them and the places inside them, as one
    subquery of ids (each half read on an index of the closure table)."""
    closure = _table("place_ancestor")
    around = select(closure.c.ancestor_id.label("id")).where(closure.c.place_id.in_(named))
    inside = select(closure.c.place_id.label("id")).where(closure.c.ancestor_id.in_(named))
    return around.union(inside).subquery("covered")


def programs_at(places: Any) -> Select[Any]:
    """Programs located at one of `places`, or linked to one of them."""
    program, link = _table("program"), _table("program_place")
    located = select(program.c.id.label("id")).where(program.c.place_id.in_(select(places.c.id)))
    linked = select(link.c.program_id.label("id")).where(link.c.place_id.in_(select(places.c.id)))
    return select(located.union(linked).subquery().c.id)

"""`/places` (every level) and `/cities` (municipalities, prefecture and county-level cities),
with a place's detail. Their nested views (metrics, clusters, ... of a place) are in the URL
map, app.api."""

from typing import Any

from pydantic import Field
from sqlalchemy import Connection, Select, Table, select
from sqlalchemy.sql import ClauseElement

from ..facts.search import BY_KIND
from ..models import tables as t
from ..models.vocabulary import CITY_LEVELS, CodeChange, CoverageVia, PlaceLevel
from ..paths import API_PREFIX
from ..query import SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort, choice_filter
from ..query.facets import Facet, province_of
from ..query.lookups import by_key, coverage, place_filters
from ..query.search import search_filter
from ..query.statements import fetch_all, slot
from .resource import Detail, DetailContext, Found, PathKey, Resource, Tag
from .shapes import PlaceRef, Ref, Row, Schema, labelled, page_of, place_ref

PLACES_TAG = Tag("places", "Cities, provinces, districts and their nested views.")


class Coordinates(Schema):
    longitude: float
    latitude: float


class Place(Schema):
    slug: str = Field(examples=["hefei"])
    name: str = Field(examples=["Hefei"])
    name_local: str | None = Field(examples=["合肥市"])
    level: PlaceLevel
    code: str | None = Field(description="GB/T 2260 division code.", examples=["340100"])
    coordinates: Coordinates | None
    parent: PlaceRef | None
    province: PlaceRef | None
    source: str = Field(description="Id of the source of this place.")
    url: str


PlacePage = page_of(Place, "PlacePage")


class PlaceCounts(Schema):
    metrics: int
    clusters: int
    programs: int
    organizations: int


class PlaceLinks(Schema):
    metrics: str
    clusters: str
    programs: str
    organizations: str


class CoveringProgram(Ref):
    via: list[CoverageVia] = Field(
        description="Every way the program covers the place: place, inside, ancestor (a"
        " program of a place containing this one), or the role of a link: candidate,"
        " participant, scope.",
        examples=[["ancestor", "participant"]],
    )


class FormerCode(Schema):
    code: str = Field(examples=["610624"])
    name_local: str = Field(description="The division's name under the code.",
                            examples=["安塞县"])  # fmt: skip
    year: int = Field(
        description="A year the code was in use: the table's year, or the last year before the"
        " code was changed or abolished.",
        examples=[2010],
    )
    valid_from: int | None = Field(
        description="The first year the code was in use (the history of the codes gives it;"
        " a table, only its year).",
        examples=[1996],
    )
    valid_to: int | None = Field(
        description="The year the code was changed or abolished.", examples=[2016]
    )
    change: CodeChange = Field(
        description="How the division under the code relates to this place: `recoded`, the"
        " same division under another code or name (its figures continue the place's"
        " series); `merged`, part of this place with other divisions; `split`, shared among"
        " this place and others.",
        examples=["recoded"],
    )
    source: str = Field(description="Id of the table or history that gives the code.")
    locator: str = Field(description="The code's cell in the table (RFC 7111).",
                         examples=["cell=2432,1"])  # fmt: skip


class PlaceDetail(Place):
    former_codes: list[FormerCode] = Field(
        description="Division codes the place, or part of its area, had and no longer has (a"
        " county made a district takes a new code; counties merge; a district is split),"
        " from the census tables and the history of the codes, oldest first, at most 100."
        " A path or search by one finds the place."
    )
    children: list[PlaceRef]
    clusters: list[Ref] = Field(description="At most 100, by name.")
    programs: list[Ref] = Field(description="At most 100, by name.")
    programs_covering: list[CoveringProgram] = Field(
        description="Programs that cover the place: its own, those of places inside it, those of"
        " places containing it, and those linked to it (candidacy, participation, scope)."
    )
    counts: PlaceCounts
    links: PlaceLinks


place = t.place
parent = t.place.alias("parent")
province = t.place.alias("province")
CITY_LEVEL_VALUES = tuple(level.value for level in CITY_LEVELS)


def places_select() -> Select[Any]:
    return select(
        place.c.slug,
        place.c.name,
        place.c.name_local,
        place.c.level,
        place.c.code,
        place.c.longitude,
        place.c.latitude,
        place.c.source_id,
        *labelled("parent", parent, "slug", "name", "level"),
        *labelled("province", province, "slug", "name", "level"),
    ).select_from(
        place.outerjoin(parent, parent.c.id == place.c.parent_id).outerjoin(
            province, province.c.id == place.c.province_id
        )
    )


def cities_select() -> Select[Any]:
    return places_select().where(place.c.level.in_(CITY_LEVEL_VALUES))


def serialize_place(row: Row) -> dict[str, Any]:
    return {
        "slug": row["slug"],
        "name": row["name"],
        "name_local": row["name_local"],
        "level": row["level"],
        "code": row["code"],
        "coordinates": (
            None
            if row["longitude"] is None
            else {"longitude": row["longitude"], "latitude": row["latitude"]}
        ),
        "parent": place_ref(row, "parent"),
        "province": place_ref(row, "province"),
        "source": row["source_id"],
        "url": f"{API_PREFIX}/places/{row['slug']}",
    }


# The filters on the places a place lies in (or is): (relation, description, example).
AROUND_PLACE_FILTERS = (
    ("province", "Slug of the province the place lies in.", "hubei"),
    ("within", "Slug of any place the place lies in (or is).", "china"),
)


def _place_spec(name: str, base: Any, levels: tuple[str, ...] | None = None) -> ListSpec:
    return ListSpec(
        name=name,
        base=base,
        id_column=place.c.id,
        filters=(
            search_filter(BY_KIND["place"], place.c.id),
            Filter("slug", "Place slug.", column=place.c.slug, example="daye"),
            Filter(
                "code",
                "GB/T 2260 division code (six digits).",
                operators=SET_OPERATORS,
                column=place.c.code,
                example="420281",
            ),
            Filter(
                "name",
                "English name.",
                operators=TEXT_OPERATORS,
                column=place.c.name,
                example="Daye",
            ),
            Filter(
                "name_local",
                "Chinese name, as written locally.",
                operators=TEXT_OPERATORS,
                column=place.c.name_local,
                example="合肥",
            ),
            choice_filter("level", place.c.level, PlaceLevel, "prefecture_city"),
            Filter(
                "parent",
                "Slug of the parent place.",
                column=place.c.parent_id,
                lookup=by_key(t.place),
                example="huangshi",
            ),
            *place_filters(place.c.id, AROUND_PLACE_FILTERS),
        ),
        sorts=(
            Sort("name", place.c.name, str),
            Sort("slug", place.c.slug, str),
            Sort("level", place.c.level, str),
        ),
        default_sort=("name",),
        fields=tuple(Place.model_fields),
        serialize=serialize_place,
        scope=() if levels is None else (place.c.level.in_(levels),),
        facets=(
            Facet("level", "the place's level", place.c.level),
            Facet("province", "the province the place lies in", province_of(place), labels=t.place),
            Facet("parent", "the place's parent", place.c.parent_id, labels=t.place),
        ),
    )


PLACE_SPEC = _place_spec("places", places_select)
CITY_SPEC = _place_spec("cities", cities_select, CITY_LEVEL_VALUES)


def _around(
    connection: Connection, found: Found, _item: dict[str, Any], _context: DetailContext
) -> dict[str, Any]:
    """What a place's detail adds: its children, the clusters and programs in it, and the
    programs that cover it."""
    inside = select(t.place_ancestor.c.place_id).where(t.place_ancestor.c.ancestor_id == slot("id"))
    children = select(place.c.slug, place.c.name, place.c.level).where(
        place.c.parent_id == slot("id")
    )
    return {
        "former_codes": _former_codes(connection, found.id),
        "children": _refs(connection, "places", children.order_by(place.c.name), found.id),
        "clusters": _refs(connection, "clusters", _named_in(t.cluster, inside), found.id),
        "programs": _refs(connection, "programs", _named_in(t.program, inside), found.id),
        "programs_covering": _covering_programs(connection, found.id),
    }


def _former_codes(connection: Connection, place_id: int) -> list[dict[str, Any]]:
    former = t.former_code
    statement = (
        select(former.c.code, former.c.name_local, former.c.year, former.c.valid_from,
               former.c.valid_to, former.c.change, former.c.source_id,
               former.c.locator_row, former.c.locator_column)
        .where(former.c.place_id == slot("id"))
        .order_by(former.c.year, former.c.code, former.c.source_id)
        .limit(100)
    )  # fmt: skip
    rows = fetch_all(connection, ("around a place", "former codes"), lambda: statement,
                     {"id": place_id})  # fmt: skip
    return [
        {"code": row["code"], "name_local": row["name_local"], "year": row["year"],
         "valid_from": row["valid_from"], "valid_to": row["valid_to"], "change": row["change"],
         "source": row["source_id"],
         "locator": f"cell={row['locator_row']},{row['locator_column']}"}
        for row in rows
    ]  # fmt: skip


def _named_in(table: Table, inside: Select[Any]) -> Select[Any]:
    """The first 100 of `table`'s rows at a place `inside`, by name."""
    return (
        select(table.c.slug, table.c.name)
        .where(table.c.place_id.in_(inside))
        .order_by(table.c.name)
        .limit(100)
    )


def _refs(
    connection: Connection, name: str, statement: ClauseElement, place_id: int
) -> list[dict[str, Any]]:
    """Rows of `statement` for the place, each with the URL of the record it names (the
    collection comes first in `name`)."""
    collection = name.split()[0]
    rows = fetch_all(connection, ("around a place", name), lambda: statement, {"id": place_id})
    return [{**row, "url": f"{API_PREFIX}/{collection}/{row['slug']}"} for row in rows]


def _covering_programs(connection: Connection, place_id: int) -> list[dict[str, Any]]:
    """The programs that cover the place, once each, with every way it does (in the order
    of CoverageVia): `place` (located at it), `inside` (at a place inside it), `ancestor`
    (at a place containing it), or the role of a link to the place or a place around it
    (`candidate`, `participant`, `scope`)."""
    programs: dict[str, dict[str, Any]] = {}
    for row in _refs(connection, "programs covering", _covering_statement(), place_id):
        programs.setdefault(row["slug"], {**row, "via": []})["via"].append(row["via"])
    order = list(CoverageVia)
    for program in programs.values():
        program["via"].sort(key=lambda via: order.index(CoverageVia(via)))
    return list(programs.values())[:100]


def _covering_statement() -> ClauseElement:
    program = t.program
    ways = coverage(select(place.c.id).where(place.c.id == slot("id"))).subquery()
    return (
        select(program.c.slug, program.c.name, ways.c.via)
        .join(ways, ways.c.id == program.c.id)
        .order_by(program.c.slug, ways.c.via)
        .limit(600)
    )


def _resource(name: str, noun: str, spec: ListSpec, summaries: tuple[str, str], *, nested: str,
              description: str, detail: str) -> Resource:  # fmt: skip
    return Resource(
        name=name, noun=noun, tag=PLACES_TAG, table=t.place, search=BY_KIND["place"],
        item_key="place",
        key=PathKey("slug", "slug", nested, "daye", alias="code", alias_pattern=r"\d{6}",
                    former="former_code"),
        spec=spec, page=PlacePage, summary=summaries[0], description=description,
        detail=Detail(
            PlaceDetail, summary=summaries[1],
            description=f"{detail}; by slug or by its six-digit GB/T 2260 code.",
            more=_around, counts=True,
        ),
    )  # fmt: skip


CITIES = _resource(
    "cities", "city", CITY_SPEC, ("List cities", "Get a city"), nested="city_slug",
    description="Municipalities, prefecture-level and county-level cities.",
    detail="A city with its province, its districts, and its clusters, programs and metrics",
)  # fmt: skip
PLACES = _resource(
    "places", "place", PLACE_SPEC, ("List places", "Get a place"), nested="place_slug",
    description="Places of every level: country, provinces, cities, districts.",
    detail="A place of any level with its parent, children, clusters and programs",
)  # fmt: skip

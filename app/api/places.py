"""`/places` (every level) and `/cities` (municipalities, prefecture and county-level cities),
with a place's detail. Their nested views (metrics, clusters, ... of a place) are in the URL
map, app.api."""

from typing import Any

from sqlalchemy import Connection, Select, case, literal, select

from app.api import tables as t
from app.api.resource import Detail, DetailContext, Found, PathKey, Resource
from app.api.schemas import Place, PlaceDetail, PlacePage
from app.api.shapes import API_PREFIX, Row, labelled, place_ref
from app.models.vocabulary import CITY_LEVELS, PROVINCE_LEVELS, PlaceLevel
from app.query import SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort
from app.query.execute import materialise
from app.query.facets import Facet, province_of
from app.query.relations import by_key, covered_places, within
from app.query.search import search_filter

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


def _place_spec(name: str, base: Any, levels: tuple[str, ...] | None = None) -> ListSpec:
    return ListSpec(
        name=name,
        base=base,
        id_column=place.c.id,
        filters=(
            search_filter("place", place.c.id),
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
            Filter(
                "level",
                "country, province, municipality, sar, prefecture_city, prefecture, county_city,"
                " county or district.",
                operators=SET_OPERATORS,
                column=place.c.level,
                choices=tuple(PlaceLevel),
                example="prefecture_city",
            ),
            Filter(
                "parent",
                "Slug of the parent place.",
                column=place.c.parent_id,
                relation=by_key(t.place),
                example="huangshi",
            ),
            Filter(
                "province",
                "Slug of the province the place lies in.",
                column=place.c.id,
                relation=within(PROVINCE_LEVELS),
                example="hubei",
            ),
            Filter(
                "within",
                "Slug of any place the place lies in (or is).",
                column=place.c.id,
                relation=within(),
                example="china",
            ),
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


def _place_detail(connection: Connection, found: Found, _context: DetailContext) -> dict[str, Any]:
    (row,) = materialise(connection, PLACE_SPEC, [found.id])
    inside = select(t.place_ancestor.c.place_id).where(t.place_ancestor.c.ancestor_id == found.id)
    children = connection.execute(
        select(place.c.slug, place.c.name, place.c.level)
        .where(place.c.parent_id == found.id)
        .order_by(place.c.name)
    ).mappings()
    clusters = connection.execute(
        select(t.cluster.c.slug, t.cluster.c.name)
        .where(t.cluster.c.place_id.in_(inside))
        .order_by(t.cluster.c.name)
        .limit(100)
    ).mappings()
    programs = connection.execute(
        select(t.program.c.slug, t.program.c.name)
        .where(t.program.c.place_id.in_(inside))
        .order_by(t.program.c.name)
        .limit(100)
    ).mappings()
    return {
        **serialize_place(row),
        "children": [{**dict(c), "url": f"{API_PREFIX}/places/{c['slug']}"} for c in children],
        "clusters": [{**dict(c), "url": f"{API_PREFIX}/clusters/{c['slug']}"} for c in clusters],
        "programs": [{**dict(p), "url": f"{API_PREFIX}/programs/{p['slug']}"} for p in programs],
        "programs_covering": _covering_programs(connection, found.id),
    }


def _covering_programs(connection: Connection, place_id: int) -> list[dict[str, Any]]:
    """The programs that cover the place, each with how: `place` (located at it), `inside`
    (at a place inside it), `ancestor` (at a place containing it), or the role of a link
    to the place or a place around it (`candidate`, `participant`, `scope`)."""
    closure, program, link = t.place_ancestor, t.program, t.program_place
    covered = select(covered_places(select(literal(place_id))).c.id)
    inside = select(closure.c.place_id).where(closure.c.ancestor_id == place_id)
    via = case(
        (program.c.place_id == place_id, "place"),
        (program.c.place_id.in_(inside), "inside"),
        else_="ancestor",
    )
    located = select(program.c.slug, program.c.name, via.label("via")).where(
        program.c.place_id.in_(covered)
    )
    linked = (
        select(program.c.slug, program.c.name, link.c.role.label("via"))
        .join(link, link.c.program_id == program.c.id)
        .where(link.c.place_id.in_(covered))
    )
    rows = connection.execute(located.union(linked).order_by("slug", "via").limit(200)).mappings()
    return [{**dict(row), "url": f"{API_PREFIX}/programs/{row['slug']}"} for row in rows]


CITIES = Resource(
    name="cities",
    noun="city",
    tag="places",
    table=t.place,
    key=PathKey("slug", "slug", "city_slug", "daye", alias="code", alias_pattern=r"\d{6}"),
    spec=CITY_SPEC,
    page=PlacePage,
    summary="List cities",
    description="Municipalities, prefecture-level and county-level cities.",
    detail=Detail(
        _place_detail,
        PlaceDetail,
        summary="Get a city",
        description="A city with its province, its districts, and its clusters, programs and"
        " metrics; by slug or by its six-digit GB/T 2260 code.",
        counts=True,
    ),
)
PLACES = Resource(
    name="places",
    noun="place",
    tag="places",
    table=t.place,
    key=PathKey("slug", "slug", "place_slug", "daye", alias="code", alias_pattern=r"\d{6}"),
    spec=PLACE_SPEC,
    page=PlacePage,
    summary="List places",
    description="Places of every level: country, provinces, cities, districts.",
    detail=Detail(
        _place_detail,
        PlaceDetail,
        summary="Get a place",
        description="A place of any level with its parent, children, clusters and programs;"
        " by slug or by its six-digit GB/T 2260 code.",
        counts=True,
    ),
)

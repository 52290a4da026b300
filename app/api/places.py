"""`/places` (every level) and `/cities` (municipalities, prefecture and county-level cities),
with a place's detail and its nested metrics, clusters, programs and organizations."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import Connection, Select, case, func, literal, select

from app.api import tables as t
from app.api.clusters import CLUSTER_SPEC
from app.api.deps import in_database, no_query_parameters
from app.api.metrics import METRIC_SPEC
from app.api.organizations import ORGANIZATION_SPEC
from app.api.programs import PROGRAM_SPEC
from app.api.responses import RawJSON, problem_responses, to_json
from app.api.routing import SLUG_PATTERN, add_list_route, add_nested_list_route, exists_in
from app.api.schemas import (
    ClusterPage,
    MetricPage,
    OrganizationPage,
    Place,
    PlaceDetail,
    PlacePage,
    ProgramPage,
)
from app.api.shapes import API_PREFIX, Row, labelled, place_ref
from app.errors import ProblemError
from app.models.vocabulary import CITY_LEVELS, PROVINCE_LEVELS, PlaceLevel
from app.query import SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort
from app.query.facets import Facet, province_of
from app.query.relations import by_key, covered_places, within
from app.query.search import search_filter

p = t.place
parent = t.place.alias("parent")
province = t.place.alias("province")
CITY_LEVEL_VALUES = tuple(level.value for level in CITY_LEVELS)


def places_select() -> Select[Any]:
    return select(
        p.c.slug,
        p.c.name,
        p.c.name_local,
        p.c.level,
        p.c.code,
        p.c.longitude,
        p.c.latitude,
        p.c.source_id,
        *labelled("parent", parent, "slug", "name", "level"),
        *labelled("province", province, "slug", "name", "level"),
    ).select_from(
        p.outerjoin(parent, parent.c.id == p.c.parent_id).outerjoin(
            province, province.c.id == p.c.province_id
        )
    )


def cities_select() -> Select[Any]:
    return places_select().where(p.c.level.in_(CITY_LEVEL_VALUES))


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
        id_column=p.c.id,
        filters=(
            search_filter("place", p.c.id),
            Filter("slug", "Place slug.", column=p.c.slug, example="daye"),
            Filter(
                "code",
                "GB/T 2260 division code (six digits).",
                operators=SET_OPERATORS,
                column=p.c.code,
                example="420281",
            ),
            Filter(
                "name", "English name.", operators=TEXT_OPERATORS, column=p.c.name, example="Daye"
            ),
            Filter(
                "name_local",
                "Chinese name, as written locally.",
                operators=TEXT_OPERATORS,
                column=p.c.name_local,
                example="合肥",
            ),
            Filter(
                "level",
                "country, province, municipality, sar, prefecture_city, prefecture, county_city,"
                " county or district.",
                operators=SET_OPERATORS,
                column=p.c.level,
                choices=tuple(PlaceLevel),
                example="prefecture_city",
            ),
            Filter(
                "parent",
                "Slug of the parent place.",
                column=p.c.parent_id,
                relation=by_key(t.place),
                example="huangshi",
            ),
            Filter(
                "province",
                "Slug of the province the place lies in.",
                column=p.c.id,
                relation=within(PROVINCE_LEVELS),
                example="hubei",
            ),
            Filter(
                "within",
                "Slug of any place the place lies in (or is).",
                column=p.c.id,
                relation=within(),
                example="china",
            ),
        ),
        sorts=(
            Sort("name", p.c.name, str),
            Sort("slug", p.c.slug, str),
            Sort("level", p.c.level, str),
        ),
        default_sort=("name",),
        fields=tuple(Place.model_fields),
        serialize=serialize_place,
        scope=() if levels is None else (p.c.level.in_(levels),),
        facets=(
            Facet("level", "the place's level", p.c.level),
            Facet("province", "the province the place lies in", province_of(p), labels=t.place),
            Facet("parent", "the place's parent", p.c.parent_id, labels=t.place),
        ),
    )


PLACE_SPEC = _place_spec("places", places_select)
CITY_SPEC = _place_spec("cities", cities_select, CITY_LEVEL_VALUES)

router = APIRouter(tags=["places"])

add_list_route(
    router,
    "/cities",
    CITY_SPEC,
    operation_id="list_cities",
    summary="List cities",
    description="Municipalities, prefecture-level and county-level cities.",
    page_model=PlacePage,
)
add_list_route(
    router,
    "/places",
    PLACE_SPEC,
    operation_id="list_places",
    summary="List places",
    description="Places of every level: country, provinces, cities, districts.",
    page_model=PlacePage,
)

_city_exists = exists_in(t.place, level=CITY_LEVEL_VALUES)
_place_exists = exists_in(t.place)

for collection, exists, filter_name, noun in (
    ("cities", _city_exists, "city", "city"),
    ("places", _place_exists, "within", "place"),
):
    for child, spec, page, child_filter in (
        ("metrics", METRIC_SPEC, MetricPage, filter_name),
        ("clusters", CLUSTER_SPEC, ClusterPage, filter_name),
        ("programs", PROGRAM_SPEC, ProgramPage, filter_name),
        ("organizations", ORGANIZATION_SPEC, OrganizationPage, filter_name),
    ):
        add_nested_list_route(
            router,
            f"/{collection}/{{{noun}_slug}}/{child}",
            spec,
            fixed_filter=child_filter,
            parent=noun,
            path_parameter=f"{noun}_slug",
            exists=exists,
            operation_id=f"list_{noun}_{child}",
            summary=f"List a {noun}'s {child}",
            page_model=page,
        )


def _place_detail(connection: Connection, slug: str, *, city_only: bool) -> dict[str, Any]:
    base = cities_select() if city_only else places_select()
    by_code = len(slug) == 6 and slug.isdigit()  # a GB/T 2260 code; no slug is six digits
    match = p.c.code == slug if by_code else p.c.slug == slug
    row = connection.execute(base.where(match).add_columns(p.c.id)).mappings().first()
    if row is None:
        raise ProblemError(404, "not-found", f"no {'city' if city_only else 'place'} {slug!r}")
    place_id = row["id"]
    inside = select(t.place_ancestor.c.place_id).where(t.place_ancestor.c.ancestor_id == place_id)
    children = connection.execute(
        select(p.c.slug, p.c.name, p.c.level).where(p.c.parent_id == place_id).order_by(p.c.name)
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

    covering = _covering_programs(connection, place_id)

    def count(table: Any) -> int:
        return int(
            connection.execute(
                select(func.count()).select_from(table).where(table.c.place_id.in_(inside))
            ).scalar_one()
        )

    collection = "cities" if city_only else "places"
    base_url = f"{API_PREFIX}/{collection}/{row['slug']}"
    return {
        **serialize_place(row),
        "children": [{**dict(c), "url": f"{API_PREFIX}/places/{c['slug']}"} for c in children],
        "clusters": [{**dict(c), "url": f"{API_PREFIX}/clusters/{c['slug']}"} for c in clusters],
        "programs": [{**dict(g), "url": f"{API_PREFIX}/programs/{g['slug']}"} for g in programs],
        "programs_covering": covering,
        "counts": {
            "metrics": count(t.observation),
            "clusters": count(t.cluster),
            "programs": count(t.program),
            "organizations": count(t.organization),
        },
        "links": {
            child: f"{base_url}/{child}"
            for child in ("metrics", "clusters", "programs", "organizations")
        },
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


SlugPath = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=64, examples=["daye"])]
DETAIL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": PlaceDetail},
    **problem_responses(400, 404, 422, 503),
}


@router.get(
    "/cities/{slug}",
    operation_id="get_city",
    summary="Get a city",
    description="A city with its province, its districts, and its clusters, programs and metrics;"
    " by slug or by its six-digit GB/T 2260 code.",
    response_class=RawJSON,
    responses=DETAIL_RESPONSES,
    dependencies=[Depends(no_query_parameters)],
)
async def get_city(request: Request, slug: SlugPath) -> RawJSON:
    return RawJSON(
        await in_database(request, lambda c: to_json(_place_detail(c, slug, city_only=True)))
    )


@router.get(
    "/places/{slug}",
    operation_id="get_place",
    summary="Get a place",
    description="A place of any level with its parent, children, clusters and programs;"
    " by slug or by its six-digit GB/T 2260 code.",
    response_class=RawJSON,
    responses=DETAIL_RESPONSES,
    dependencies=[Depends(no_query_parameters)],
)
async def get_place(request: Request, slug: SlugPath) -> RawJSON:
    return RawJSON(
        await in_database(request, lambda c: to_json(_place_detail(c, slug, city_only=False)))
    )

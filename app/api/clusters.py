"""`/clusters`: industrial clusters with their place, and the organizations that anchor them."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import Connection, Select, select

from app.api import tables as t
from app.api.deps import in_database, no_query_parameters
from app.api.metrics import METRIC_SPEC
from app.api.organizations import relation_views
from app.api.responses import RawJSON, problem_responses, to_json
from app.api.routing import SLUG_PATTERN, add_list_route, add_nested_list_route, exists_in
from app.api.schemas import Cluster, ClusterDetail, ClusterPage, MetricPage
from app.api.shapes import API_PREFIX, Row, labelled, place_ref, provenance, provenance_columns
from app.errors import ProblemError
from app.models.vocabulary import CITY_LEVELS, PROVINCE_LEVELS, ClusterStatus
from app.query import SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort
from app.query.facets import Facet, province_facet
from app.query.relations import by_key, within
from app.query.search import search_filter

c = t.cluster
cluster_place = t.place.alias("cluster_place")


def clusters_select() -> Select[Any]:
    return select(
        c.c.slug,
        c.c.name,
        c.c.sector,
        c.c.status,
        c.c.description,
        *labelled("place", cluster_place, "slug", "name", "level"),
        *provenance_columns(c, t.source),
    ).select_from(
        c.join(cluster_place, cluster_place.c.id == c.c.place_id).join(
            t.source, t.source.c.id == c.c.source_id
        )
    )


def serialize_cluster(row: Row) -> dict[str, Any]:
    return {
        "slug": row["slug"],
        "name": row["name"],
        "sector": row["sector"],
        "status": row["status"],
        "description": row["description"],
        "place": place_ref(row, "place"),
        "provenance": provenance(row),
        "url": f"{API_PREFIX}/clusters/{row['slug']}",
    }


CLUSTER_SPEC = ListSpec(
    name="clusters",
    base=clusters_select,
    id_column=c.c.id,
    filters=(
        search_filter("cluster", c.c.id),
        Filter("slug", "Cluster slug.", column=c.c.slug, example="hefei-intelligent-voice"),
        Filter("name", "Name.", operators=TEXT_OPERATORS, column=c.c.name, example="voice"),
        Filter(
            "sector",
            "Sector.",
            operators=TEXT_OPERATORS,
            column=c.c.sector,
            example="intelligent voice",
        ),
        Filter(
            "status",
            "established, developing or aspired.",
            operators=SET_OPERATORS,
            column=c.c.status,
            choices=tuple(ClusterStatus),
            example="established",
        ),
        Filter(
            "place",
            "Slug of the cluster's place.",
            column=c.c.place_id,
            relation=by_key(t.place),
            example="chaoyang-beijing",
        ),
        Filter(
            "city",
            "City slug: clusters in the city or inside it.",
            column=c.c.place_id,
            relation=within(CITY_LEVELS),
            example="beijing",
        ),
        Filter(
            "province",
            "Province slug.",
            column=c.c.place_id,
            relation=within(PROVINCE_LEVELS),
            example="anhui",
        ),
        Filter(
            "within",
            "Slug of any place the cluster lies in.",
            column=c.c.place_id,
            relation=within(),
            example="china",
        ),
    ),
    sorts=(
        Sort("name", c.c.name, str),
        Sort("slug", c.c.slug, str),
        Sort("sector", c.c.sector, str),
    ),
    default_sort=("name",),
    fields=tuple(Cluster.model_fields),
    serialize=serialize_cluster,
    facets=(
        Facet("sector", "the cluster's sector", c.c.sector),
        Facet("status", "the cluster's status", c.c.status),
        Facet("place", "the cluster's place", c.c.place_id, labels=t.place),
        province_facet(c.c.place_id, t.place),
    ),
)

router = APIRouter(tags=["clusters"])

add_nested_list_route(
    router,
    "/clusters/{cluster_slug}/metrics",
    METRIC_SPEC,
    fixed_filter="cluster",
    parent="cluster",
    path_parameter="cluster_slug",
    exists=exists_in(t.cluster),
    operation_id="list_cluster_metrics",
    summary="List a cluster's metrics",
    page_model=MetricPage,
)
add_list_route(
    router,
    "/clusters",
    CLUSTER_SPEC,
    operation_id="list_clusters",
    summary="List clusters",
    description="Named industrial clusters with their sector, status and place.",
    page_model=ClusterPage,
)


@router.get(
    "/clusters/{slug}",
    operation_id="get_cluster",
    summary="Get a cluster",
    description="A cluster with its anchor organizations and a link to its metrics.",
    response_class=RawJSON,
    responses={200: {"model": ClusterDetail}, **problem_responses(400, 404, 422, 503)},
    dependencies=[Depends(no_query_parameters)],
)
async def get_cluster(
    request: Request,
    slug: Annotated[
        str, Path(pattern=SLUG_PATTERN, max_length=64, examples=["hefei-intelligent-voice"])
    ],
) -> RawJSON:
    return RawJSON(await in_database(request, lambda c: to_json(_cluster_detail(c, slug))))


def _cluster_detail(connection: Connection, slug: str) -> dict[str, Any]:
    row = (
        connection.execute(clusters_select().add_columns(c.c.id).where(c.c.slug == slug))
        .mappings()
        .first()
    )
    if row is None:
        raise ProblemError(404, "not-found", f"no cluster {slug!r}")
    return {
        **serialize_cluster(row),
        "organizations": relation_views(connection, t.relation.c.cluster_id == row["id"]),
        "links": {"metrics": f"{API_PREFIX}/clusters/{slug}/metrics"},
    }

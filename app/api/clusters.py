"""`/clusters`: industrial clusters with their place, and the organizations that anchor them."""

from typing import Any

from sqlalchemy import Connection, Select, select

from app.api.places import located_filters
from app.api.relations import RelationView, relation, relation_views
from app.api.resource import Detail, DetailContext, Found, PathKey, Resource, Tag
from app.api.shapes import (
    MetricsLink,
    PlaceRef,
    Provenance,
    Row,
    Schema,
    labelled,
    page_of,
    place_ref,
    provenance,
    provenance_columns,
)
from app.facts.search import BY_KIND
from app.models import tables as t
from app.models.vocabulary import ClusterStatus
from app.paths import API_PREFIX
from app.query import SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort
from app.query.facets import Facet, province_facet
from app.query.search import search_filter
from app.query.statements import slot

CLUSTERS_TAG = Tag("clusters", "Industrial clusters.")


class Cluster(Schema):
    slug: str
    name: str
    sector: str
    status: ClusterStatus
    description: str | None
    place: PlaceRef
    provenance: Provenance
    url: str


ClusterPage = page_of(Cluster, "ClusterPage")


class ClusterDetail(Cluster):
    organizations: list[RelationView]
    links: MetricsLink


cluster = t.cluster
cluster_place = t.place.alias("cluster_place")


def clusters_select() -> Select[Any]:
    return select(
        cluster.c.slug,
        cluster.c.name,
        cluster.c.sector,
        cluster.c.status,
        cluster.c.description,
        *labelled("place", cluster_place, "slug", "name", "level"),
        *provenance_columns(cluster, t.source),
    ).select_from(
        cluster.join(cluster_place, cluster_place.c.id == cluster.c.place_id).join(
            t.source, t.source.c.id == cluster.c.source_id
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
    id_column=cluster.c.id,
    filters=(
        search_filter(BY_KIND["cluster"], cluster.c.id),
        Filter("slug", "Cluster slug.", column=cluster.c.slug, example="hefei-intelligent-voice"),
        Filter("name", "Name.", operators=TEXT_OPERATORS, column=cluster.c.name, example="voice"),
        Filter(
            "sector",
            "Sector.",
            operators=TEXT_OPERATORS,
            column=cluster.c.sector,
            example="intelligent voice",
        ),
        Filter(
            "status",
            "established, developing or aspired.",
            operators=SET_OPERATORS,
            column=cluster.c.status,
            choices=tuple(ClusterStatus),
            example="established",
        ),
        *located_filters(
            cluster.c.place_id,
            place="Slug of the cluster's place.",
            city="City slug: clusters in the city or inside it.",
            anywhere="Slug of any place the cluster lies in.",
            examples=("chaoyang-beijing", "beijing", "anhui", "china"),
        ),
    ),
    sorts=(
        Sort("name", cluster.c.name, str),
        Sort("slug", cluster.c.slug, str),
        Sort("sector", cluster.c.sector, str),
    ),
    default_sort=("name",),
    fields=tuple(Cluster.model_fields),
    serialize=serialize_cluster,
    facets=(
        Facet("sector", "the cluster's sector", cluster.c.sector),
        Facet("status", "the cluster's status", cluster.c.status),
        Facet("place", "the cluster's place", cluster.c.place_id, labels=t.place),
        province_facet(cluster.c.place_id, t.place),
    ),
)


def _anchors(
    connection: Connection, found: Found, _item: dict[str, Any], _context: DetailContext
) -> dict[str, Any]:
    where = relation.c.cluster_id == slot("id")
    return {"organizations": relation_views(connection, "cluster", where, found.id)}


CLUSTERS = Resource(
    name="clusters",
    noun="cluster",
    tag=CLUSTERS_TAG,
    search=BY_KIND["cluster"],
    table=t.cluster,
    key=PathKey("slug", "slug", "cluster_slug", "hefei-intelligent-voice"),
    spec=CLUSTER_SPEC,
    page=ClusterPage,
    summary="List clusters",
    description="Named industrial clusters with their sector, status and place.",
    detail=Detail(
        ClusterDetail,
        summary="Get a cluster",
        description="A cluster with its anchor organizations and a link to its metrics.",
        more=_anchors,
    ),
)

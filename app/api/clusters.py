"""`/clusters`: industrial clusters with their place, and the organizations that anchor them."""

from typing import Any

from sqlalchemy import Connection, Select

from ..facts.search import BY_KIND
from ..models import tables as t
from ..models.vocabulary import ClusterStatus
from ..query import TEXT_OPERATORS, Filter, Sort, choice_filter
from ..query.facets import Facet
from ..query.statements import slot
from .located import HomePlace, Located, located_item, located_select, located_spec
from .relations import RelationView, relation, relation_views
from .resource import Detail, DetailContext, Found, PathKey, Resource, Tag
from .shapes import MetricsLink, PlaceRef, Provenance, Row, Schema, page_of, place_ref

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
    own = (cluster.c.sector, cluster.c.status, cluster.c.description)
    return located_select(cluster, cluster_place, *own)


def serialize_cluster(row: Row) -> dict[str, Any]:
    return located_item(
        row,
        "clusters",
        sector=row["sector"],
        status=row["status"],
        description=row["description"],
        place=place_ref(row, "place"),
    )


CLUSTER_SPEC = located_spec(
    Located(
        name="clusters",
        noun="cluster",
        table=cluster,
        base=clusters_select,
        schema=Cluster,
        serialize=serialize_cluster,
        examples=("hefei-intelligent-voice", "voice"),
        home=HomePlace(
            place="Slug of the cluster's place.",
            city="City slug: clusters in the city or inside it.",
            anywhere="Slug of any place the cluster lies in.",
            examples=("chaoyang-beijing", "beijing", "anhui", "china"),
            facet="the cluster's place",
        ),
        own=(
            Filter(
                "sector",
                "Sector.",
                operators=TEXT_OPERATORS,
                column=cluster.c.sector,
                example="intelligent voice",
            ),
            choice_filter("status", cluster.c.status, ClusterStatus, "established"),
        ),
        sort=Sort("sector", cluster.c.sector, str),
        facets=(
            Facet("sector", "the cluster's sector", cluster.c.sector),
            Facet("status", "the cluster's status", cluster.c.status),
        ),
    )
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

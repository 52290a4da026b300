"""Response shapes, for the OpenAPI document and generated clients.

The endpoints serialize rows straight to JSON; these models describe that JSON. Item
fields have defaults because `fields=` may leave any of them out.
"""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(Schema):
    """An RFC 9457 problem details object."""

    type: str = Field(examples=["/problems/invalid-parameter"])
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["limit: expected an integer from 1 to 500, got 0"])
    instance: str = Field(examples=["/api/v1/metrics"])
    errors: list[dict[str, str]] | None = None


class PlaceRef(Schema):
    slug: str = Field(examples=["daye"])
    name: str = Field(examples=["Daye"])
    level: str = Field(examples=["county_city"])
    url: str = Field(examples=["/api/v1/places/daye"])


class Ref(Schema):
    slug: str
    name: str
    url: str


class SourceRef(Schema):
    id: str = Field(examples=["std-2024-03-25-daye"])
    title: str | None
    publisher: str | None
    published_on: date | None
    url: str


class Provenance(Schema):
    source: SourceRef
    locator: str | None = Field(
        description="RFC 5147 character span of the source text: char=START,END.",
        examples=["char=2115,2158"],
    )
    quote: str | None = Field(description="The text the locator covers.")


class IndicatorRef(Schema):
    code: str = Field(examples=["high_tech_enterprises"])
    name: str
    unit: str = Field(examples=["count"])


class Subject(Schema):
    kind: str = Field(examples=["place"], description="place, cluster or program")
    slug: str
    name: str
    url: str


class Period(Schema):
    label: str | None = Field(examples=["2023"])
    start: date | None
    end: date | None
    precision: str = Field(examples=["year"], description="day, month, year, range or unknown")
    year: int | None


class Metric(Schema):
    key: str | None = Field(default=None, examples=["daye-high-tech-enterprises-2023"])
    indicator: IndicatorRef | None = None
    subject: Subject | None = None
    place: PlaceRef | None = None
    period: Period | None = None
    value: float | None = Field(default=None, examples=[333], description="Normalized value.")
    unit: str | None = Field(default=None, examples=["count"])
    stated: str | None = Field(default=None, description="The value as the document states it.")
    qualifier: str | None = Field(
        default=None,
        description="exact, approximate, more_than, at_least, less_than or up_to",
    )
    derived: bool | None = None
    formula: str | None = None
    ambiguity: str | None = None
    note: str | None = None
    provenance: Provenance | None = None
    url: str | None = None


class Coordinates(Schema):
    longitude: float
    latitude: float


class Place(Schema):
    slug: str | None = None
    name: str | None = None
    name_local: str | None = None
    level: str | None = None
    code: str | None = Field(default=None, description="GB/T 2260 division code.")
    coordinates: Coordinates | None = None
    parent: PlaceRef | None = None
    province: PlaceRef | None = None
    source: str | None = Field(default=None, description="Id of the source of this place.")
    url: str | None = None


class Cluster(Schema):
    slug: str | None = None
    name: str | None = None
    sector: str | None = None
    status: str | None = None
    description: str | None = None
    place: PlaceRef | None = None
    provenance: Provenance | None = None
    url: str | None = None


class Program(Schema):
    slug: str | None = None
    name: str | None = None
    kind: str | None = None
    place: PlaceRef | None = None
    announced_on: date | None = None
    announced_precision: str | None = None
    eligibility: str | None = None
    funding: str | None = None
    description: str | None = None
    ambiguity: str | None = None
    provenance: Provenance | None = None
    url: str | None = None


class Organization(Schema):
    slug: str | None = None
    name: str | None = None
    kind: str | None = None
    place: PlaceRef | None = None
    place_source: str | None = Field(
        default=None,
        description="Id of the reference source of the home place when the document omits it.",
    )
    description: str | None = None
    provenance: Provenance | None = None
    url: str | None = None


class Indicator(Schema):
    code: str | None = None
    name: str | None = None
    unit: str | None = None
    category: str | None = None
    description: str | None = None
    url: str | None = None


class Source(Schema):
    id: str | None = None
    kind: str | None = None
    title: str | None = None
    publisher: str | None = None
    author: str | None = None
    published_on: date | None = None
    date_note: str | None = None
    file_name: str | None = None
    sha256: str | None = None
    treatment: str | None = None
    url: str | None = None


class AppliedFilter(Schema):
    field: str
    operator: str
    value: Any


class FacetValue(Schema):
    value: Any = Field(description="The value (for a place, indicator or source: its key).")
    name: str | None = Field(default=None, description="The name of a keyed value.")
    count: int


class FacetCounts(Schema):
    values: list[FacetValue] = Field(description="The most frequent values, most frequent first.")
    truncated: bool = Field(description="More values exist than are listed.")


class Facets(Schema):
    rows: int = Field(description="The matching rows counted.")
    exact: bool = Field(description="False when more rows matched than were counted.")
    counts: dict[str, FacetCounts]


class Meta(Schema):
    returned: int
    limit: int
    sort: list[str]
    filters: list[AppliedFilter]
    total: int | None = Field(default=None, description="Present when `count=true`.")
    total_relation: Literal["eq", "gte"] | None = Field(
        default=None,
        description="Present with `total`: `eq` when it is exact, `gte` when more rows match"
        " than were counted.",
    )
    facets: Facets | None = Field(default=None, description="Present when `facets=` is given.")


class Links(Schema):
    self: str
    next: str | None = Field(description="The next page, or null on the last page.")


def page_of(item: type[BaseModel], name: str) -> type[BaseModel]:
    items: Any = list[item]  # type: ignore[valid-type]
    return create_model(
        name, __base__=Schema, data=(items, ...), meta=(Meta, ...), links=(Links, ...)
    )


MetricPage = page_of(Metric, "MetricPage")
PlacePage = page_of(Place, "PlacePage")
ClusterPage = page_of(Cluster, "ClusterPage")
ProgramPage = page_of(Program, "ProgramPage")
OrganizationPage = page_of(Organization, "OrganizationPage")
IndicatorPage = page_of(Indicator, "IndicatorPage")
SourcePage = page_of(Source, "SourcePage")


class RelationView(Schema):
    key: str
    role: str
    organization: Ref
    target_kind: str
    target: Ref
    note: str | None
    provenance: Provenance


class Counts(Schema):
    metrics: int
    clusters: int | None = None
    programs: int | None = None
    organizations: int | None = None


class CoveringProgram(Ref):
    via: str = Field(
        description="place, inside, ancestor (a program of a place containing this one), or"
        " the role of a link: candidate, participant, scope."
    )


class PlaceDetail(Place):
    children: list[PlaceRef] = []
    clusters: list[Ref] = []
    programs: list[Ref] = []
    programs_covering: list[CoveringProgram] = []
    counts: Counts | None = None
    links: dict[str, str] = {}


class ClusterDetail(Cluster):
    organizations: list[RelationView] = []
    links: dict[str, str] = {}


class ProgramPlaceView(Schema):
    place: PlaceRef
    role: str
    note: str | None
    provenance: Provenance


class ProgramDetail(Program):
    issuers: list[RelationView] = []
    places: list[ProgramPlaceView] = []
    terms: list[Metric] = []
    links: dict[str, str] = {}


class OrganizationDetail(Organization):
    relations: list[RelationView] = []


class IndicatorDetail(Indicator):
    counts: Counts | None = None
    links: dict[str, str] = {}


class Citation(Schema):
    csl: dict[str, Any] = Field(description="CSL-JSON, for Zotero, Pandoc or citeproc.")
    bibtex: str


class SourceDetail(Source):
    facts: dict[str, int] = {}
    citation: Citation | None = None
    links: dict[str, str] = {}


class SearchMatch(Schema):
    field: str = Field(description="name, name_local, or key (slug, code or id).")
    value: str | None = None
    highlighted: str | None = Field(
        default=None, description="The value, HTML-escaped, with each match in <mark>."
    )


class SearchResult(Schema):
    kind: str
    key: str = Field(description="The slug (code for indicators, id for sources).")
    name: str
    name_local: str | None = None
    rank: int
    match: str = Field(description="exact, prefix, contains or other (matched by key).")
    matched: list[SearchMatch]
    url: str


class SearchMeta(Schema):
    q: str = Field(description="The query as matched (case-folded).")
    kinds: list[str]
    returned: int
    limit: int


class SearchLinks(Schema):
    self: str


class SearchPage(Schema):
    data: list[SearchResult]
    meta: SearchMeta
    links: SearchLinks


class SeriesPoint(Schema):
    key: str
    period: Period
    value: float | int
    qualifier: str
    stated: str | None = None
    derived: bool
    url: str
    not_after: date | None = Field(
        default=None, description="Undated points: the date the fact is known by."
    )


class SeriesSubject(Schema):
    kind: str
    slug: str
    name: str | None = None
    url: str


class Series(Schema):
    subject: SeriesSubject
    points: list[SeriesPoint] = Field(description="Dated facts, ordered by period.")
    undated: list[SeriesPoint] = Field(description="Facts whose period is unknown.")


class SeriesMeta(Schema):
    indicator: dict[str, Any]
    subjects: int
    points: int
    undated: int
    rule: str


class SeriesPage(Schema):
    data: list[Series]
    meta: SeriesMeta
    links: SearchLinks


class RelationItem(Schema):
    """A relation in a list: every field optional, since `fields=` may leave any out."""

    key: str | None = None
    role: str | None = None
    organization: Ref | None = None
    target_kind: str | None = None
    target: Ref | None = None
    note: str | None = None
    provenance: Provenance | None = None


RelationPage = page_of(RelationItem, "RelationPage")

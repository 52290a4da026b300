"""Response shapes, for the OpenAPI document and generated clients.

The endpoints serialize rows straight to JSON; these models describe that JSON exactly:
a field is required when every response carries it, and nullable only when the data can
lack it. Closed vocabularies are enums. A list asked for a subset with `fields=` returns
items of the `<Item>Fields` shape (the same properties, none required), which
`app.main` derives from the item schemas so the two cannot drift.
"""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from app.api.tables import FACT_TABLES
from app.models.vocabulary import (
    ClusterStatus,
    OrganizationKind,
    PeriodPrecision,
    PlaceLevel,
    ProgramKind,
    ProgramPlaceRole,
    Qualifier,
    RelationRole,
    SourceKind,
    SubjectKind,
    Unit,
)


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParameterError(Schema):
    """One parameter a request got wrong."""

    parameter: str = Field(examples=["limit"])
    in_: Literal["query", "path", "header", "body"] = Field(alias="in", examples=["query"])
    detail: str = Field(examples=["expected an integer from 1 to 500, got 0"])


class Problem(Schema):
    """An RFC 9457 problem details object."""

    type: str = Field(
        description="Relative reference to `/problems/{name}`, which explains the type.",
        examples=["/problems/invalid-parameter"],
    )
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(ge=400, le=599, examples=[422])
    detail: str = Field(examples=["limit: expected an integer from 1 to 500, got 0"])
    instance: str = Field(examples=["/api/v1/metrics"])
    errors: list[ParameterError] | None = Field(
        default=None, description="Present when particular parameters are at fault."
    )


class PlaceRef(Schema):
    slug: str = Field(examples=["daye"])
    name: str = Field(examples=["Daye"])
    level: PlaceLevel
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


class Cell(Schema):
    """The cell of a published table a value was read from, with what the cell is about."""

    row: int = Field(description="Row of the CSV file, the header line being row 1.")
    column: int = Field(description="Column of the CSV file, from 1.")
    row_label: str = Field(examples=["北京 2023"], description="The row's place and year.")
    column_label: str = Field(examples=["R&D经费"], description="The column's header.")
    unit: str = Field(examples=["亿元"], description="The unit the table states.")
    table: str | None = Field(examples=["R&D expenditure by region"])


class Provenance(Schema):
    source: SourceRef
    locator: str | None = Field(
        description="Where in the source: an RFC 5147 character span of a document"
        " (char=START,END) or an RFC 7111 cell of a table (cell=ROW,COLUMN).",
        examples=["char=2115,2158", "cell=12,5"],
    )
    quote: str | None = Field(description="The text the locator covers: a span or a cell.")
    cell: Cell | None = Field(
        default=None, description="For a value read from a table: the cell and its labels."
    )


class IndicatorRef(Schema):
    code: str = Field(examples=["high_tech_enterprises"])
    name: str
    unit: Unit = Field(examples=["count"])


class Subject(Schema):
    kind: SubjectKind
    slug: str
    name: str
    url: str


class Period(Schema):
    label: str | None = Field(examples=["2023"])
    start: date | None
    end: date | None
    precision: PeriodPrecision
    year: int | None


class DenominatorFact(Schema):
    key: str
    value: float
    year: int | None
    place: PlaceRef | None
    provenance: Provenance
    url: str


class PerValue(Schema):
    """A value divided by a fact of the same place (`per=`), computed on request."""

    denominator: str = Field(examples=["10k_people"], description="What `per=` asked for.")
    value: float | None = Field(description="The quotient; null when there is no denominator.")
    unit: str = Field(examples=["CNY per 10,000 people"])
    computed: bool = Field(description="Always true: computed on request, never stored.")
    formula: str | None = Field(
        examples=["{beijing-rd-expenditure-2023} / {census-city-population-beijing-2020} * 10000"],
        description="Over the keys of both inputs.",
    )
    year_rule: str | None = Field(
        examples=["same_year", "nearest_census_year"],
        description="How the denominator's year was chosen (same_year, nearest_census_year;"
        " ', sum of subdivisions' when it adds the subdivisions' values).",
    )
    denominator_facts: list[DenominatorFact]
    reason: str | None = Field(description="Why there is no value, when there is none.")


class Metric(Schema):
    key: str = Field(examples=["daye-high-tech-enterprises-2023"])
    indicator: IndicatorRef
    subject: Subject
    place: PlaceRef | None = Field(description="The place the subject lies in.")
    period: Period
    value: float = Field(examples=[333], description="Normalized value, in `unit`.")
    unit: Unit = Field(examples=["count"])
    stated: str | None = Field(description="The value as the document states it.")
    qualifier: Qualifier
    derived: bool
    formula: str | None
    ambiguity: str | None
    note: str | None
    provenance: Provenance
    conflicts_with: list[str] = Field(
        examples=[[]],
        description="Keys of facts about the same subject, indicator and known period that"
        " give another value (empty: none). Both are served; latest values, rankings and a"
        " series' preferred point pick one: stated over derived, then a table's cell over a"
        " document, then the newer source.",
    )
    url: str
    per: PerValue | None = Field(default=None, description="With `per=` only.")


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


class Cluster(Schema):
    slug: str
    name: str
    sector: str
    status: ClusterStatus
    description: str | None
    place: PlaceRef
    provenance: Provenance
    url: str


class Program(Schema):
    slug: str
    name: str
    kind: ProgramKind
    place: PlaceRef
    announced_on: date | None
    announced_precision: PeriodPrecision
    eligibility: str | None
    funding: str | None
    description: str | None
    ambiguity: str | None
    provenance: Provenance
    url: str


class Organization(Schema):
    slug: str
    name: str
    kind: OrganizationKind
    place: PlaceRef | None
    place_source: str | None = Field(
        description="Id of the reference source of the home place when the document omits it.",
    )
    description: str | None
    provenance: Provenance
    url: str


class Indicator(Schema):
    code: str
    name: str
    unit: Unit
    category: str
    description: str
    url: str


class Source(Schema):
    id: str
    kind: SourceKind
    title: str | None
    publisher: str | None
    author: str | None
    published_on: date | None
    date_note: str | None
    file_name: str | None
    sha256: str | None
    treatment: str | None
    edition: str | None = Field(description="A table's edition of its publication.")
    table_title: str | None = Field(description="Which table of the publication.")
    table_title_local: str | None = Field(description="The table's title as published.")
    licence: str | None = Field(description="The licence the table's data is shared under.")
    dataset_repository: str | None = Field(
        description="The public repository (or package) the table was converted from.",
        examples=["huhuaping/techme"],
    )
    dataset_commit: str | None = Field(description="Its commit (or the package's version).")
    dataset_path: str | None = Field(description="The upstream file in it.")
    url: str


FilterValue = str | int | float | bool | list[str | int | float]


class AppliedFilter(Schema):
    field: str = Field(examples=["year"])
    operator: Literal["exact", "ne", "gt", "gte", "lt", "lte", "in", "contains", "isnull"]
    value: FilterValue = Field(description="A list for `in`, otherwise one value.")


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
    returned: int = Field(ge=0)
    limit: int = Field(ge=1)
    sort: list[str]
    filters: list[AppliedFilter]
    next_cursor: str | None = Field(
        description="The `cursor` of the next page, or null on the last page."
    )
    total: int | None = Field(
        default=None,
        description="Present when `count=true`: the number of matching rows, counted up to 10,000.",
    )
    total_relation: Literal["eq", "gte"] | None = Field(
        default=None,
        description="Present when `count=true`: `eq` when `total` is exact, `gte` when the"
        " count stopped at its bound.",
    )
    facets: Facets | None = Field(default=None, description="Present when `facets=` is given.")


class SubsetMeta(Meta):
    fields: list[str] = Field(
        description="The fields asked for with `fields=`: each item has these and no others.",
        examples=[["key", "value"]],
    )


class Links(Schema):
    self: str
    next: str | None = Field(description="The next page, or null on the last page.")


def page_of(item: type[BaseModel], name: str) -> type[BaseModel]:
    items: Any = list[item]  # type: ignore[valid-type]
    return create_model(
        name,
        __base__=Schema,
        __doc__=f"A page of whole {item.__name__} items (no `fields=`).",
        data=(items, ...),
        meta=(Meta, ...),
        links=(Links, ...),
    )


def subset_page_schema(item: str) -> dict[str, Any]:
    """`<Item>FieldsPage`: a page asked for `fields=`, whose items are `<Item>Fields` and
    whose `meta.fields` names them (a page of whole items has no `meta.fields`, so clients
    can tell the two apart)."""
    return {
        "type": "object",
        "title": f"{item}FieldsPage",
        "description": f"A page of {item} items reduced by `fields=` to `meta.fields`.",
        "properties": {
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}Fields"}},
            "meta": {"$ref": "#/components/schemas/SubsetMeta"},
            "links": {"$ref": "#/components/schemas/Links"},
        },
        "required": ["data", "meta", "links"],
        "additionalProperties": False,
    }


MetricPage = page_of(Metric, "MetricPage")
PlacePage = page_of(Place, "PlacePage")
ClusterPage = page_of(Cluster, "ClusterPage")
ProgramPage = page_of(Program, "ProgramPage")
OrganizationPage = page_of(Organization, "OrganizationPage")
IndicatorPage = page_of(Indicator, "IndicatorPage")
SourcePage = page_of(Source, "SourcePage")


class RelationView(Schema):
    key: str
    role: RelationRole
    organization: Ref
    target_kind: Literal["cluster", "program", "organization", "place"]
    target: Ref
    note: str | None
    provenance: Provenance


class PlaceCounts(Schema):
    metrics: int
    clusters: int
    programs: int
    organizations: int


class IndicatorCounts(Schema):
    metrics: int


class PlaceLinks(Schema):
    metrics: str
    clusters: str
    programs: str
    organizations: str


class MetricsLink(Schema):
    metrics: str


class CoveringProgram(Ref):
    via: str = Field(
        description="place, inside, ancestor (a program of a place containing this one), or"
        " the role of a link: candidate, participant, scope."
    )


class PlaceDetail(Place):
    children: list[PlaceRef]
    clusters: list[Ref] = Field(description="At most 100, by name.")
    programs: list[Ref] = Field(description="At most 100, by name.")
    programs_covering: list[CoveringProgram] = Field(
        description="Programs that cover the place: its own, those of places inside it, those of"
        " places containing it, and those linked to it (candidacy, participation, scope)."
    )
    counts: PlaceCounts
    links: PlaceLinks


class ClusterDetail(Cluster):
    organizations: list[RelationView]
    links: MetricsLink


class ProgramPlaceView(Schema):
    place: PlaceRef
    role: ProgramPlaceRole
    note: str | None
    provenance: Provenance


class ProgramDetail(Program):
    issuers: list[RelationView]
    places: list[ProgramPlaceView]
    terms: list[Metric]
    links: MetricsLink


class OrganizationDetail(Organization):
    relations: list[RelationView]


class IndicatorDetail(Indicator):
    counts: IndicatorCounts
    links: MetricsLink


SourceFacts = create_model(
    "SourceFacts",
    __base__=Schema,
    **dict.fromkeys(FACT_TABLES, (int, ...)),  # type: ignore[call-overload]
)


class Citation(Schema):
    csl: dict[str, Any] = Field(description="CSL-JSON, for Zotero, Pandoc or citeproc.")
    bibtex: str


class SourceDetail(Source):
    facts: SourceFacts
    citation: Citation
    links: MetricsLink


class Index(Schema):
    name: str = Field(examples=["Innovation Atlas"])
    version: str
    resources: dict[str, str] = Field(
        description="Each collection's URL.", examples=[{"cities": "/api/v1/cities"}]
    )
    docs: str
    redoc: str
    openapi: str


class Health(Schema):
    status: Literal["ok"]


class NodeState(Schema):
    """A database this worker reads from, as its last background check found it."""

    name: str = Field(description="`primary`, or `replica-1`, `replica-2`, ...")
    role: Literal["primary", "replica"]
    reachable: bool = Field(description="Whether the last check or read reached it.")
    fit: bool = Field(
        description="Whether reads go to it (the primary serves when no replica is fit)."
    )
    dataset_version: str | None = Field(description="The dataset version it holds.")
    lag_ms: int | None = Field(description="Replay lag behind the primary (replicas).")
    busy: int = Field(ge=0, description="Requests reading from it now, in this worker.")
    problem: str | None = Field(description="Why it is not fit, when it is not.")


class Readiness(Schema):
    status: Literal["ready"]
    schema_: str = Field(alias="schema", description="The database's schema revision.")
    sources: int = Field(ge=0)
    nodes: list[NodeState] = Field(description="The databases reads may go to.")


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
    conflicts_with: list[str] = Field(
        description="Keys of facts of the same period that give another value."
    )
    preferred: bool = Field(
        description="False when a conflicting fact is picked over this"
        " one (stated over derived, then a table's cell over a document, then the newer source)."
    )
    url: str
    not_after: date | None = Field(
        default=None, description="Undated points: the date the fact is known by."
    )
    per: PerValue | None = Field(default=None, description="With `per=` only.")


class SeriesSubject(Schema):
    kind: str
    slug: str
    name: str | None = None
    url: str


class Series(Schema):
    subject: SeriesSubject
    points: list[SeriesPoint] = Field(description="Dated facts, ordered by period.")
    undated: list[SeriesPoint] = Field(description="Facts whose period is unknown.")


class PerMeta(Schema):
    denominator: str = Field(examples=["10k_people"])
    year_rule: str = Field(description="How each denominator's year is chosen.")


class SeriesMeta(Schema):
    indicator: dict[str, Any]
    subjects: int
    points: int
    undated: int
    rule: str
    per: PerMeta | None = Field(default=None, description="With `per=` only.")


class SeriesPage(Schema):
    data: list[Series]
    meta: SeriesMeta
    links: SearchLinks


class Relation(RelationView):
    """A relation in the relations list (`fields=` gives a `RelationFieldsPage`)."""


RelationPage = page_of(Relation, "RelationPage")


class RankingEntry(Schema):
    rank: int = Field(examples=[1], description="Competition rank: ties share the best rank.")
    percentile: float | None = Field(
        examples=[100.0], description="Share of the other peers ranked below (null: no peer)."
    )
    place: PlaceRef
    key: str = Field(description="The fact ranked.", examples=["daye-high-tech-enterprises-2023"])
    value: float | int = Field(examples=[333])
    unit: str
    stated: str | None
    qualifier: Qualifier
    derived: bool
    period: Period
    conflicts_with: list[str]
    url: str


class RankingPeers(Schema):
    group: str = Field(examples=["places in hubei"])
    size: int = Field(description="Peers with a value for the period.", examples=[1])


class RankingMeta(Schema):
    indicator: IndicatorRef
    year: int | None
    peers: RankingPeers
    order: Literal["desc", "asc"]
    ties: str
    percentile: str
    pick: str
    conflicts: str
    computed: Literal[True]
    place: RankingEntry | None = Field(description="The standing of `place`, when named.")
    place_note: str | None = Field(description="Why `place` is not ranked, when it is not.")
    returned: int
    limit: int
    offset: int


class PageLinks(Schema):
    self: str
    next: str | None


class RankingPage(Schema):
    data: list[RankingEntry]
    meta: RankingMeta
    links: PageLinks


class ComparisonInput(Schema):
    key: str = Field(examples=["hunan-private-trade-share-2018"])
    period: Period
    value: float | int
    unit: str
    stated: str | None
    qualifier: Qualifier
    derived: bool
    formula: str | None
    source: str
    conflicts_with: list[str]
    url: str


class ComputedValue(Schema):
    value: float | int = Field(examples=[1.1])
    unit: str = Field(examples=["percentage_point"])
    formula: str = Field(
        examples=["{hunan-private-trade-share-2018} - {hunan-private-trade-share-2017}"]
    )
    qualifier: Qualifier


class Comparison(Schema):
    computed: Literal[True]
    inputs: list[str] = Field(description="The keys of the two facts, earlier first.")
    change: ComputedValue
    growth: ComputedValue | None
    no_growth: str | None = Field(description="Why there is no growth rate, when there is none.")
    subject: Subject
    indicator: IndicatorRef
    from_: ComparisonInput = Field(alias="from")
    to: ComparisonInput


class ComparisonMeta(Schema):
    computed: Literal[True]
    rule: str


class ComparisonPage(Schema):
    data: Comparison
    meta: ComparisonMeta
    links: SearchLinks


class PlaceStanding(RankingEntry):
    indicator: IndicatorRef
    peers: int = Field(description="Peers with a value of the indicator for the period.")
    ranking: str = Field(
        description="The whole ranking.",
        examples=[
            "/api/v1/rankings?indicator=high_tech_enterprises&place=changzhi&peers=same_level"
        ],
    )


class PlaceRankingMeta(Schema):
    year: int | None
    peers: str = Field(examples=["places at changzhi's level (prefecture_city)"])
    ties: str
    percentile: str
    pick: str
    conflicts: str
    computed: Literal[True]
    returned: int
    note: str | None = Field(
        description="Why nothing is ranked, when the place lies outside the peer group."
    )


class PlaceRankingPage(Schema):
    data: list[PlaceStanding]
    meta: PlaceRankingMeta
    links: SearchLinks

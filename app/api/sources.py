"""`/sources`: the documents and published tables facts come from, with their checksums,
treatment notes and, for a table, the dataset it was converted from."""

from datetime import date
from typing import Any, Literal

from pydantic import Field, create_model
from sqlalchemy import Connection, Select, Table, func, select

from ..facts.search import BY_KIND
from ..models import tables as t
from ..models.tables import FACT_TABLES
from ..models.vocabulary import SourceKind
from ..paths import API_PREFIX
from ..query import (
    RANGE_OPERATORS,
    TEXT_OPERATORS,
    Filter,
    ListSpec,
    Sort,
    choice_filter,
)
from ..query.facets import Facet
from ..query.search import search_filter
from ..query.statements import fetch_one, slot
from .citations import bibtex, csl_json
from .resource import Detail, DetailContext, Found, PathKey, Resource, Tag
from .shapes import MetricsLink, Row, Schema, page_of

SOURCES_TAG = Tag("sources", "Where the facts come from.")


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


SourcePage = page_of(Source, "SourcePage")


SourceFacts = create_model(
    "SourceFacts",
    __base__=Schema,
    **dict.fromkeys(FACT_TABLES, (int, ...)),  # type: ignore[call-overload]
)


class CslName(Schema):
    literal: str = Field(description="The author, as the source names it.")


class CslDate(Schema):
    date_parts: list[list[int]] = Field(
        alias="date-parts", description="[[year, month, day]].", examples=[[[2024, 3, 25]]]
    )


class CslItem(Schema):
    """A CSL-JSON item: the fields a citation of a source fills (absent when unknown)."""

    id: str = Field(examples=["std-2024-03-25-daye"])
    type: Literal["article-newspaper", "dataset"]
    title: str | None = None
    container_title: str | None = Field(default=None, alias="container-title")
    publisher: str | None = None
    note: str = Field(description="The dataset version the facts were taken from.")
    author: list[CslName] | None = None
    issued: CslDate | None = None
    URL: str | None = Field(default=None, description="The source's own address.")


class Citation(Schema):
    csl: CslItem = Field(description="CSL-JSON, for Zotero, Pandoc or citeproc.")
    bibtex: str


class SourceDetail(Source):
    facts: SourceFacts
    citation: Citation
    links: MetricsLink


source = t.source
_COLUMNS = tuple(name for name in Source.model_fields if name != "url")  # the table's


def sources_select() -> Select[Any]:
    return select(*(source.c[name] for name in _COLUMNS))


def serialize_source(row: Row) -> dict[str, Any]:
    return {**{name: row[name] for name in _COLUMNS}, "url": f"{API_PREFIX}/sources/{row['id']}"}


SOURCE_SPEC = ListSpec(
    name="sources",
    base=sources_select,
    id_column=source.c.id,
    filters=(
        search_filter(BY_KIND["source"], source.c.id),
        Filter("id", "Source id.", column=source.c.id, example="std-2024-03-25-daye"),
        choice_filter("kind", source.c.kind, SourceKind, "document"),
        Filter(
            "publisher",
            "Publisher.",
            operators=TEXT_OPERATORS,
            column=source.c.publisher,
            example="China Daily",
        ),
        Filter("title", "Title.", operators=("contains",), column=source.c.title, example="pilot"),
        Filter(
            "published",
            "Publication date.",
            date,
            RANGE_OPERATORS,
            column=source.c.published_on,
            example="2024-03-25",
        ),
    ),
    sorts=(
        Sort("id", source.c.id, str),
        Sort("title", source.c.title, str),
        Sort("published", source.c.published_on, date, nullable=True),
    ),
    default_sort=("id",),
    fields=tuple(Source.model_fields),
    serialize=serialize_source,
    facets=(
        Facet("kind", "the source's kind", source.c.kind),
        Facet("publisher", "the source's publisher", source.c.publisher),
    ),
)


def _facts_and_citation(
    connection: Connection, found: Found, item: dict[str, Any], context: DetailContext
) -> dict[str, Any]:
    original = fetch_one(
        connection, "source url", lambda: select(source.c.url).where(source.c.id == slot("id")),
        {"id": found.id},
    )  # fmt: skip
    assert original is not None
    cited = {**item, "original_url": original["url"]}
    return {
        "facts": {name: _facts(connection, table, found.id) for name, table in FACT_TABLES.items()},
        "citation": {
            "csl": csl_json(cited, context.version),
            "bibtex": bibtex(cited, context.version),
        },
    }


def _facts(connection: Connection, table: Table, source_id: str) -> int:
    def build() -> Select[Any]:
        return select(func.count().label("n")).where(table.c.source_id == slot("id"))

    counted = fetch_one(connection, ("facts", table.name), build, {"id": source_id})
    assert counted is not None
    return int(counted["n"])


SOURCES = Resource(
    name="sources",
    noun="source",
    tag=SOURCES_TAG,
    search=BY_KIND["source"],
    table=t.source,
    key=PathKey("id", "id", "source_id", "std-2024-03-25-daye"),
    spec=SOURCE_SPEC,
    page=SourcePage,
    summary="List sources",
    description="Documents and references, with checksums and how each capture was treated.",
    detail=Detail(
        SourceDetail,
        summary="Get a source",
        description="A source with the number of facts of each kind taken from it.",
        more=_facts_and_citation,
    ),
)

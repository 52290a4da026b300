"""The shapes of the seed files, validated before anything is written.

Every model forbids unknown fields. Numbers are strict (a quoted "333" is refused) and
strings are never made from numbers, so a value of the wrong type is an error that names
the file, record and field.
"""

import re
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..models.vocabulary import (
    PlaceLevel,
    SourceKind,
    Unit,
)

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=120)]
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)]
Text = Annotated[str, Field(min_length=1)]
PeriodLabel = Annotated[
    str, Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?(/\d{4})?$", examples=["2023", "2024-04"])
]
LOCATOR = re.compile(r"^char=(\d+),(\d+)$")


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidenced(Record):
    """A record stated in a document: `at` is an RFC 5147 span, `quote` the text it covers."""

    at: str | None = None
    quote: str | None = Field(default=None, min_length=1, max_length=400)

    @model_validator(mode="after")
    def _span_matches_quote(self) -> Self:
        if (self.at is None) != (self.quote is None):
            raise ValueError("'at' and 'quote' go together")
        if self.at is not None and self.quote is not None:
            start, end = parse_locator(self.at)
            if end - start != len(self.quote):
                raise ValueError(
                    f"locator {self.at} spans {end - start} characters"
                    f" but the quote has {len(self.quote)}"
                )
        return self

    @property
    def span(self) -> tuple[int, int] | None:
        return parse_locator(self.at) if self.at is not None else None


def parse_locator(locator: str) -> tuple[int, int]:
    match = LOCATOR.match(locator)
    if match is None:
        raise ValueError(f"locator {locator!r} is not of the form char=START,END")
    start, end = int(match.group(1)), int(match.group(2))
    if end <= start:
        raise ValueError(f"locator {locator!r} ends before it starts")
    return start, end


class SourceRecord(Record):
    id: Slug
    kind: SourceKind
    title: Text | None = None
    publisher: str | None = None
    author: str | None = None
    published_on: date | None = None
    date_note: str | None = None
    url: str | None = None
    file: str | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    treatment: str | None = None

    @model_validator(mode="after")
    def _documents_have_files(self) -> Self:
        if self.kind == SourceKind.document and (self.file is None or self.sha256 is None):
            raise ValueError("a document source needs 'file' and 'sha256'")
        if self.title is None and self.date_note is None:
            raise ValueError("a source without a title says why in 'date_note'")
        return self


class SourcesFile(Record):
    sources: list[SourceRecord]


class UpstreamDataset(Record):
    """The public dataset a table was converted from: a repository at a commit (or a
    package at a version) and the path of the upstream file in it."""

    repository: Text | None = None
    commit: str | None = Field(default=None, pattern=r"^[0-9a-f]{40}$")
    package: Text | None = None
    version: Text | None = None
    path: Text

    @model_validator(mode="after")
    def _repository_or_package(self) -> Self:
        if (self.repository is None) == (self.package is None):
            raise ValueError("name either a repository (with its commit) or a package")
        if (self.repository is None) != (self.commit is None):
            raise ValueError("a repository goes with the commit the file was taken at")
        if (self.package is None) != (self.version is None):
            raise ValueError("a package goes with its version")
        return self

    @property
    def at(self) -> str:
        return self.commit or self.version or ""


class TableSourceRecord(Record):
    """A published statistical table, committed as CSV under seeds/tables/ with the list
    of facts read from its cells."""

    id: Slug
    kind: Literal[SourceKind.table]
    title: Text
    table: Text
    table_local: str | None = None
    publisher: Text
    edition: Text
    url: str | None = None
    licence: Text
    dataset: UpstreamDataset
    file: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*\.csv$")]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    facts: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*\.csv$")]
    notes: Text


class TablesFile(Record):
    tables: list[TableSourceRecord]


class PlaceRecord(Record):
    slug: Slug
    name: Text
    name_local: str | None = None
    level: PlaceLevel
    parent: Slug | None = None
    code: str | None = Field(default=None, pattern=r"^\d{6}$", description="GB/T 2260 code.")

    @model_validator(mode="after")
    def _slug_is_not_a_code(self) -> Self:
        if re.fullmatch(r"\d{6}", self.slug):
            raise ValueError("a place's slug is not six digits: the API reads those as codes")
        return self


class PlacesFile(Record):
    source: Slug
    places: list[PlaceRecord]


class IndicatorRecord(Record):
    code: Code
    name: Text
    unit: Unit
    category: Code
    description: Text


class IndicatorsFile(Record):
    indicators: list[IndicatorRecord]

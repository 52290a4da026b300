from datetime import date

from sqlalchemy import CheckConstraint, Text
from sqlmodel import Column, Field, SQLModel

from .vocabulary import SourceKind, check_in


class Source(SQLModel, table=True):
    """A document, a published statistical table (or an editorial reference) that facts are
    taken from. A table names the publication (`title`), which of its tables (`table_title`),
    the edition, and the public dataset it was taken from: repository and commit (or package
    and version) and the path of the upstream file the committed CSV was converted from."""

    __table_args__ = (CheckConstraint(check_in("kind", SourceKind), name="kind"),)

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)
    title: str | None = Field(default=None, max_length=300)
    publisher: str | None = Field(default=None, max_length=200)
    author: str | None = Field(default=None, max_length=200)
    published_on: date | None = None
    date_note: str | None = Field(default=None, max_length=400)
    url: str | None = Field(default=None, max_length=500)
    file_name: str | None = Field(default=None, max_length=200)
    sha256: str | None = Field(default=None, max_length=64)
    language: str = Field(default="en", max_length=8)
    treatment: str | None = Field(default=None, sa_column=Column(Text))
    edition: str | None = Field(default=None, max_length=200)
    table_title: str | None = Field(default=None, max_length=300)
    table_title_local: str | None = Field(default=None, max_length=300)
    licence: str | None = Field(default=None, max_length=100)
    dataset_repository: str | None = Field(default=None, max_length=200)
    dataset_commit: str | None = Field(default=None, max_length=64)
    dataset_path: str | None = Field(default=None, max_length=300)

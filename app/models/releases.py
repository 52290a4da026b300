"""Releases: every load that changed the data, what it was loaded from, its tables' counts,
its change log by natural key, and the files it was written as. Written by the loader in
the load's own transaction (app.seeding.releases), read by `/releases`."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Text
from sqlmodel import Column, Field, SQLModel

from .vocabulary import ChangeKind, check_in


class Release(SQLModel, table=True):
    """One load that changed the data, named by the dataset version it left."""

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=64, unique=True)
    previous_version: str | None = Field(default=None, max_length=64)
    loaded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    seeds: str = Field(max_length=500, description="The seed directory it was loaded from.")


class ReleaseTable(SQLModel, table=True):
    """A loaded table in a release: its rows after the load and what the load did to it."""

    __tablename__ = "release_table"

    release_id: int = Field(foreign_key="release.id", primary_key=True)
    name: str = Field(primary_key=True, max_length=32)
    rows: int
    added: int
    changed: int
    retracted: int
    # Whether the change log lists the table's rows: not when it was empty before the load
    # (every row added), nor for the place hierarchy's closure (derived from the places).
    listed: bool


class ReleaseSource(SQLModel, table=True):
    """A published table a release was loaded from, as its manifest records it."""

    __tablename__ = "release_source"

    release_id: int = Field(foreign_key="release.id", primary_key=True)
    source_id: str = Field(primary_key=True, max_length=64)
    file: str = Field(max_length=200)
    sha256: str = Field(max_length=64)


class ReleaseChange(SQLModel, table=True):
    """One entry of a release's change log: a row added or retracted by its natural key, or
    one field of a row changed, with its old and new value as text (references to other
    rows by their natural keys)."""

    __tablename__ = "release_change"
    __table_args__ = (
        CheckConstraint(check_in("kind", ChangeKind), name="kind"),
        Index("ix_release_change_release_id_id", "release_id", "id"),
        Index("ix_release_change_release_table_key", "release_id", "table_name", "key", "id"),
        Index("ix_release_change_release_kind", "release_id", "kind", "id"),
        Index("ix_release_change_table_key", "table_name", "key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="release.id")
    table_name: str = Field(max_length=32)
    key: str = Field(max_length=200)
    kind: str = Field(max_length=10)
    field: str | None = Field(default=None, max_length=64)
    old: str | None = Field(default=None, sa_column=Column(Text))
    new: str | None = Field(default=None, sa_column=Column(Text))


class ReleaseFile(SQLModel, table=True):
    """A file the release was written as (the SQLite database, a Parquet file per table,
    the CSV bundle, their data package), stored under the releases directory."""

    __tablename__ = "release_file"

    release_id: int = Field(foreign_key="release.id", primary_key=True)
    name: str = Field(primary_key=True, max_length=100)
    media_type: str = Field(max_length=100)
    bytes: int
    sha256: str = Field(max_length=64)

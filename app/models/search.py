from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel


class SearchEntry(SQLModel, table=True):
    """One searchable name: a place, cluster, program, organization, indicator or source.

    Written by the loader from the rows it has just loaded (never edited by hand). `folded`
    holds every name of the entry, lower-cased, one per line: the text matched, served by
    an FTS5 trigram table on SQLite (`search_entry_fts`, created by the migration) and a
    pg_trgm GIN index on PostgreSQL, so a Chinese name matches from two characters on.
    """

    __tablename__ = "search_entry"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        Index(
            "ix_search_entry_folded_trgm",
            "folded",
            postgresql_using="gin",
            postgresql_ops={"folded": "gin_trgm_ops"},
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    key: str = Field(max_length=200, description="Slug, code or source id.")
    entity_id: int | None = Field(default=None, description="Row id in the entry's own table.")
    name: str = Field(max_length=300)
    name_local: str | None = Field(default=None, max_length=200)
    name_folded: str = Field(max_length=300)
    local_folded: str | None = Field(default=None, max_length=200)
    folded: str = Field(sa_column=Column(Text, nullable=False))

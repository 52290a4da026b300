"""search entries: every name to search, with a trigram index on each engine; the
dataset version

One row per place, cluster, program, organization, indicator and source, written by the
loader. The names are matched through a trigram index: on PostgreSQL a GIN index with
pg_trgm's operator class (the extension is created here, which needs the owner role); on
SQLite an FTS5 table with the trigram tokenizer (SQLite 3.34 and later) reading its text
from `search_entry` (external content), which the loader rebuilds after writing.
`dataset_version` holds the content hash of the seeds the loader wrote.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "search_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("name_local", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("name_folded", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("local_folded", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("folded", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entry")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_search_entry_kind_key")),
    )
    with op.batch_alter_table("search_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_entry_folded_trgm",
            ["folded"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"folded": "gin_trgm_ops"},
        )
    op.create_table(
        "dataset_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_version")),
    )
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_entry_fts USING fts5(folded, content='search_entry',"
            " content_rowid='id', tokenize='trigram')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_entry_fts")
    with op.batch_alter_table("search_entry", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_search_entry_folded_trgm",
            postgresql_using="gin",
            postgresql_ops={"folded": "gin_trgm_ops"},
        )
    op.drop_table("search_entry")
    op.drop_table("dataset_version")

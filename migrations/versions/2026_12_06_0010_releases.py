"""releases: every load that changed the data, with its counts, sources, change log and files

A load records the release it made in its own transaction (app.seeding.releases): the
version it left, the one before, when, from which seed directory and manifest sources, each
table's rows and changes, the change log by natural key, and the files written for it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 05:18:35
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("previous_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seeds", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release")),
        sa.UniqueConstraint("version", name=op.f("uq_release_version")),
    )
    op.create_table(
        "release_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('added', 'changed', 'retracted')", name=op.f("ck_release_change_kind")
        ),
        sa.ForeignKeyConstraint(
            ["release_id"], ["release.id"], name=op.f("fk_release_change_release_id_release")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_change")),
    )
    with op.batch_alter_table("release_change", schema=None) as batch_op:
        batch_op.create_index("ix_release_change_release_id_id", ["release_id", "id"], unique=False)
        batch_op.create_index(
            "ix_release_change_release_kind", ["release_id", "kind", "id"], unique=False
        )
        batch_op.create_index(
            "ix_release_change_release_table_key",
            ["release_id", "table_name", "key", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_release_change_table_key", ["table_name", "key", "id"], unique=False
        )

    op.create_table(
        "release_file",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["release.id"], name=op.f("fk_release_file_release_id_release")
        ),
        sa.PrimaryKeyConstraint("release_id", "name", name=op.f("pk_release_file")),
    )
    op.create_table(
        "release_source",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("file", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["release.id"], name=op.f("fk_release_source_release_id_release")
        ),
        sa.PrimaryKeyConstraint("release_id", "source_id", name=op.f("pk_release_source")),
    )
    op.create_table(
        "release_table",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("retracted", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["release.id"], name=op.f("fk_release_table_release_id_release")
        ),
        sa.PrimaryKeyConstraint("release_id", "name", name=op.f("pk_release_table")),
    )


def downgrade() -> None:
    op.drop_table("release_table")
    op.drop_table("release_source")
    op.drop_table("release_file")
    with op.batch_alter_table("release_change", schema=None) as batch_op:
        batch_op.drop_index("ix_release_change_table_key")
        batch_op.drop_index("ix_release_change_release_table_key")
        batch_op.drop_index("ix_release_change_release_kind")
        batch_op.drop_index("ix_release_change_release_id_id")

    op.drop_table("release_change")
    op.drop_table("release")

"""deployment secrets: the cursor-signing key `atlas load` generates when
ATLAS_CURSOR_SECRET is not set, shared by every worker and replica through the database

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployment_secret",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_deployment_secret")),
    )


def downgrade() -> None:
    op.drop_table("deployment_secret")

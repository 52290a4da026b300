"""observation marks: `conflict` (another fact of the same subject, indicator and known
period gives another value) and `latest` (the most recent fact of its subject and indicator)

Both are written by the loader after every load (app.facts.conflicts.mark_conflicts,
app.facts.latest.mark_latest), each with an index ending in the id, so `conflict=true` and
`latest=true` read an index range instead of ranking or joining the whole table on every
request: measured on 92k synthetic rows, conflict=true took 1 s and was refused, and
latest=true was refused at ~280k rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("conflict", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("latest", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_observation_conflict_id", ["conflict", "id"], unique=False)
        batch_op.create_index("ix_observation_latest_id", ["latest", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_latest_id")
        batch_op.drop_index("ix_observation_conflict_id")
        batch_op.drop_column("latest")
        batch_op.drop_column("conflict")

"""an index per sort order of the metrics list, and for its few-valued filters

Every sort the metrics list offers (year, value, period_end; id and key have theirs) gets
an index ending in the id that breaks ties, so a page in any of those orders can be read in
index order instead of sorting millions of rows. The single-column year index is replaced
by (year, id): on PostgreSQL ties are otherwise read in heap order and must be sorted.
Qualifier, subject kind and derived have few values, but a rare value must be found (and
counted by the planner's probes) without reading the whole table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 21:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_year")
        batch_op.create_index("ix_observation_year_id", ["year", "id"], unique=False)
        batch_op.create_index("ix_observation_value_id", ["value", "id"], unique=False)
        batch_op.create_index("ix_observation_period_end_id", ["period_end", "id"], unique=False)
        batch_op.create_index("ix_observation_qualifier_id", ["qualifier", "id"], unique=False)
        batch_op.create_index(
            "ix_observation_subject_kind_id", ["subject_kind", "id"], unique=False
        )
        batch_op.create_index("ix_observation_derived_id", ["derived", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_derived_id")
        batch_op.drop_index("ix_observation_subject_kind_id")
        batch_op.drop_index("ix_observation_qualifier_id")
        batch_op.drop_index("ix_observation_period_end_id")
        batch_op.drop_index("ix_observation_value_id")
        batch_op.drop_index("ix_observation_year_id")
        batch_op.create_index("ix_observation_year", ["year"], unique=False)

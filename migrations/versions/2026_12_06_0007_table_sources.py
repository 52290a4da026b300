"""table sources: published statistical tables as sources, values located by cell

A source of kind `table` records the publication, the table, its edition and licence, and
the dataset it was converted from (repository and commit, path of the upstream file). An
observation read from a table carries its cell (RFC 7111 row and column) with the row and
column labels and the unit the table states, instead of a character span. Two units join
the vocabulary: person-years (R&D personnel) and ratio (the census sex ratio).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: a migration keeps the vocabulary of its day.
KINDS = "kind IN ('document', 'table', 'reference', 'synthetic')"
OLD_KINDS = "kind IN ('document', 'reference', 'synthetic')"
UNITS = "unit IN ('CNY', 'count', 'percent', 'percentage_point', 'rank', 'person_years', 'ratio')"
OLD_UNITS = "unit IN ('CNY', 'count', 'percent', 'percentage_point', 'rank')"
ONE_LOCATOR = (
    "(locator_row IS NULL) = (locator_column IS NULL)"
    " AND (locator_row IS NULL OR locator_start IS NULL)"
)
SOURCE_COLUMNS = (
    ("edition", 200),
    ("table_title", 300),
    ("table_title_local", 300),
    ("licence", 100),
    ("dataset_repository", 200),
    ("dataset_commit", 64),
    ("dataset_path", 300),
)


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        for name, length in SOURCE_COLUMNS:
            batch_op.add_column(sa.Column(name, _text(length), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_source_kind"), type_="check")
        batch_op.create_check_constraint("kind", KINDS)
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_indicator_unit"), type_="check")
        batch_op.create_check_constraint("unit", UNITS)
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locator_row", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("locator_column", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("row_label", _text(200), nullable=True))
        batch_op.add_column(sa.Column("column_label", _text(200), nullable=True))
        batch_op.add_column(sa.Column("cell_unit", _text(16), nullable=True))
        batch_op.create_check_constraint("one_locator", ONE_LOCATOR)


def downgrade() -> None:
    # The older schema cannot hold values read from tables, table sources, or indicators in
    # the new units: they are removed (a load after upgrading brings them back).
    op.execute("DELETE FROM observation WHERE locator_row IS NOT NULL")
    op.execute(
        "DELETE FROM observation WHERE indicator_id IN"
        " (SELECT id FROM indicator WHERE unit IN ('person_years', 'ratio'))"
    )
    op.execute("DELETE FROM indicator WHERE unit IN ('person_years', 'ratio')")
    op.execute("DELETE FROM source WHERE kind = 'table'")
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_observation_one_locator"), type_="check")
        for name in ("cell_unit", "column_label", "row_label", "locator_column", "locator_row"):
            batch_op.drop_column(name)
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_indicator_unit"), type_="check")
        batch_op.create_check_constraint("unit", OLD_UNITS)
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_source_kind"), type_="check")
        batch_op.create_check_constraint("kind", OLD_KINDS)
        for name, _ in reversed(SOURCE_COLUMNS):
            batch_op.drop_column(name)
